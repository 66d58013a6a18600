// The epilogue after a cuBLAS SGEMM for large layers: a = sigma(z + b), in place (cuBLASLt has no
// sigmoid epilogue).
#include "cuda_check.hpp"
#include "kernels.hpp"
#include "launch.cuh"

namespace sigmanet::kernels {
namespace {

__global__ void bias_sigmoid_kernel(float* __restrict__ a, const float* __restrict__ b, int n, std::size_t m) {
  const std::size_t total = m * std::size_t(n);
  for (std::size_t k = blockIdx.x * std::size_t(blockDim.x) + threadIdx.x; k < total;
       k += std::size_t(gridDim.x) * blockDim.x)
    a[k] = sigmoid(a[k] + b[k % std::size_t(n)]);
}

}  // namespace

void bias_sigmoid(float* a, const float* b, int n, std::size_t m, cudaStream_t stream) {
  if (m == 0) return;
  require(a && b, "bias_sigmoid", "null pointer");
  require(n > 0, "bias_sigmoid", "layer size must be at least 1");
  SIGMANET_LAUNCH(bias_sigmoid_kernel, blocks_for(m * std::size_t(n)), kThreads, 0, stream)(a, b, n, m);
  SIGMANET_CUDA_CHECK_LAUNCH("bias_sigmoid_kernel");
}

}  // namespace sigmanet::kernels
