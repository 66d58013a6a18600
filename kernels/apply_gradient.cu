// The data-parallel step's update: each rank computed its share's gradient sums, NCCL added them up across the
// ranks, and every rank now applies the same sum with the whole batch's m. (Training alone does without it:
// the update rides on the gradient's own SGEMM, gemm_update, and on bias_update.)
#include "cuda_check.hpp"
#include "grid_stride.cuh"
#include "kernels.hpp"
#include "launch.cuh"

namespace sigmanet::kernels {
namespace {

__global__ void apply_gradient_kernel(const float* __restrict__ g, std::size_t n, float scale, float decay,
                                      float* __restrict__ p) {
  for (const std::size_t k : grid_stride(n))
    p[k] = decay * p[k] + -scale * g[k];  // the CPU's sgd_step: decay * w - (eta / m) * g
}

}  // namespace

void apply_gradient(VectorView<const float> gradient, float scale, float decay, VectorView<float> p,
                    cudaStream_t stream) {
  SIGMANET_REQUIRE_SHAPES("kernels::apply_gradient", gradient.size == p.size, gradient, p);
  if (p.size == 0) return;
  require(gradient.data && p.data, "apply_gradient", "null pointer");
  SIGMANET_LAUNCH_ELEMENTWISE(apply_gradient_kernel, p.size, stream, gradient.data, p.size, scale, decay, p.data);
}

}  // namespace sigmanet::kernels
