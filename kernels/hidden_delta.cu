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

void hidden_delta(BatchView<float> delta, BatchView<const float> a, cudaStream_t stream) {
  SIGMANET_REQUIRE_SHAPES("kernels::hidden_delta", delta.samples == a.samples && delta.features == a.features, delta,
                          a);
  const std::size_t m = delta.samples;
  if (m == 0) return;
  require(delta.data && a.data, "hidden_delta", "null pointer");
  const int n = layer_size(delta.features, "hidden_delta");
  const std::size_t total = m * std::size_t(n);
  SIGMANET_LAUNCH(hidden_delta_kernel, blocks_for(total), kThreads, 0, stream)(delta.data, a.data, total);
  SIGMANET_CUDA_CHECK_LAUNCH("hidden_delta_kernel");
}

}  // namespace sigmanet::kernels
