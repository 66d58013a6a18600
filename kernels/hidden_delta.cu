// A hidden layer's error, fused after the cuBLAS SGEMM that computed W^T . delta_above:
// delta *= sigma'(z), with sigma'(z) = a (1 - a).
#include "cuda_check.hpp"
#include "kernels.hpp"
#include "launch.cuh"

namespace sigmanet::kernels {
namespace {

__global__ void hidden_delta_kernel(float* __restrict__ delta, const float* __restrict__ a, std::size_t total) {
  for (std::size_t k = blockIdx.x * std::size_t(blockDim.x) + threadIdx.x; k < total;
       k += std::size_t(gridDim.x) * blockDim.x)
    delta[k] *= a[k] * (1.0f - a[k]);
}

}  // namespace

void hidden_delta(float* delta, const float* a, int n, std::size_t m, cudaStream_t stream) {
  if (m == 0) return;
  require(delta && a, "hidden_delta", "null pointer");
  require(n > 0, "hidden_delta", "layer size must be at least 1");
  const std::size_t total = m * std::size_t(n);
  SIGMANET_LAUNCH(hidden_delta_kernel, blocks_for(total), kThreads, 0, stream)(delta, a, total);
  SIGMANET_CUDA_CHECK_LAUNCH("hidden_delta_kernel");
}

}  // namespace sigmanet::kernels
