// Bias gradients and the bias update, deterministic: each bias is summed by one thread in sample order,
// the CPU reference's order, with no atomics.
#include "cuda_check.hpp"
#include "kernels.hpp"
#include "launch.cuh"

namespace sigmanet::kernels {
namespace {

__global__ void bias_update_kernel(const float* __restrict__ delta, int n, std::size_t m, float scale,
                                   float* __restrict__ b, float* __restrict__ gradient) {
  for (std::size_t j = blockIdx.x * std::size_t(blockDim.x) + threadIdx.x; j < std::size_t(n);
       j += std::size_t(gridDim.x) * blockDim.x) {
    float g = 0.0f;
    // Neighbouring threads read neighbouring j of the same sample: the loads coalesce.
    for (std::size_t s = 0; s < m; ++s) g += delta[s * std::size_t(n) + j];
    b[j] += -scale * g;  // the CPU's axpy with c = -eta/m
    if (gradient) gradient[j] = g;
  }
}

}  // namespace

void bias_update(const float* delta, int n, std::size_t m, float scale, float* b, float* gradient,
                 cudaStream_t stream) {
  if (m == 0) return;
  require(delta && b, "bias_update", "null pointer");
  require(n > 0, "bias_update", "layer size must be at least 1");
  SIGMANET_LAUNCH(bias_update_kernel, blocks_for(std::size_t(n)), kThreads, 0, stream)(delta, n, m, scale, b, gradient);
  SIGMANET_CUDA_CHECK_LAUNCH("bias_update_kernel");
}

}  // namespace sigmanet::kernels
