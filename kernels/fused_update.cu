// The small-batch update: every layer's weights and biases in one kernel, a thread a parameter, and then the
// step counter. At batch 10 an update SGEMM and a bias kernel a layer are launches more than arithmetic.
#include "cuda_check.hpp"
#include "grid_stride.cuh"
#include "kernels.hpp"
#include "launch.cuh"

namespace sigmanet::kernels {
namespace {

// A parameter's gradient is summed over the batch in sample order; then w <- decay w - (eta/m) g, one FMA after
// decay w (exactly w without L2), and b <- b - (eta/m) g. The thread that takes the last parameter advances the
// counter: every kernel of the step that reads it has finished before this one starts.
__global__ void fused_update_kernel(const __grid_constant__ FusedUpdate update, std::size_t m, float scale, float decay,
                                    unsigned* __restrict__ counter) {
  const std::size_t total = update.first[update.layers];
  for (const std::size_t k : grid_stride(total)) {
    int l = 0;
    while (k >= update.first[l + 1]) ++l;
    const FusedUpdate::Layer& layer = update.layer[l];
    const std::size_t n_in = std::size_t(layer.n_in), n_out = std::size_t(layer.n_out);
    const std::size_t item = k - update.first[l];
    if (item < n_out * n_in) {
      const std::size_t j = item / n_in, i = item - j * n_in;
      float g = 0.0f;
      for (std::size_t s = 0; s < m; ++s) g += layer.delta[s * n_out + j] * layer.in[s * n_in + i];
      layer.w[item] = fmaf(-scale, g, decay * layer.w[item]);
    } else {
      const std::size_t j = item - n_out * n_in;
      float g = 0.0f;
      for (std::size_t s = 0; s < m; ++s) g += layer.delta[s * n_out + j];
      layer.b[j] = fmaf(-scale, g, layer.b[j]);
    }
    if (counter && k + 1 == total) *counter += 1;
  }
}

}  // namespace

void fused_update(const FusedUpdate& update, std::size_t m, float scale, float decay, unsigned* counter,
                  cudaStream_t stream) {
  require(update.layers >= 1 && update.layers <= kFusedUpdateMaxLayers, "fused_update", "1 to 8 layers");
  if (m == 0) return;
  FusedUpdate u = update;
  u.first[0] = 0;
  for (int l = 0; l < u.layers; ++l) {
    const FusedUpdate::Layer& layer = u.layer[l];
    require(layer.w && layer.b && layer.in && layer.delta, "fused_update", "null pointer");
    require(layer.n_in > 0 && layer.n_out > 0, "fused_update", "layer size must be at least 1");
    u.first[l + 1] = u.first[l] + std::size_t(layer.n_out) * (std::size_t(layer.n_in) + 1);
  }
  SIGMANET_LAUNCH_ELEMENTWISE(fused_update_kernel, u.first[u.layers], stream, u, m, scale, decay, counter);
}

}  // namespace sigmanet::kernels
