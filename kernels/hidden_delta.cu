// A hidden layer's error: after the cuBLAS SGEMM that computed W^T . delta_above, delta *= sigma'(z) with
// sigma'(z) = a (1 - a); or, for small layers, the whole of it in one kernel, a thread an error, the sum over
// the layer above in order.
#include "cuda_check.hpp"
#include "grid_stride.cuh"
#include "kernels.hpp"
#include "launch.cuh"
#include "neuron_math.cuh"

namespace sigmanet::kernels {
namespace {

__global__ void hidden_delta_kernel(float* __restrict__ delta, const float* __restrict__ a, std::size_t total) {
  for (const std::size_t k : grid_stride(total))
    delta[k] *= sigmoid_prime(a[k]);
}

__global__ void fused_hidden_delta_kernel(const float* __restrict__ w, const float* __restrict__ above, int n,
                                          int n_above, const float* __restrict__ a, std::size_t m,
                                          float* __restrict__ delta) {
  const std::size_t total = m * std::size_t(n);
  for (const std::size_t k : grid_stride(total)) {
    const std::size_t s = k / std::size_t(n), i = k - s * std::size_t(n);
    const float* d = above + s * std::size_t(n_above);
    float back = 0.0f;
    for (int j = 0; j < n_above; ++j) back += w[std::size_t(j) * std::size_t(n) + i] * d[j];
    delta[k] = back * sigmoid_prime(a[k]);
  }
}

}  // namespace

void fused_hidden_delta(WeightView<const float> w, BatchView<const float> delta_above, BatchView<const float> a,
                        BatchView<float> delta, cudaStream_t stream) {
  SIGMANET_REQUIRE_SHAPES("kernels::fused_hidden_delta", w.outputs == delta_above.features, w, delta_above);
  SIGMANET_REQUIRE_SHAPES("kernels::fused_hidden_delta", w.inputs == delta.features, w, delta);
  SIGMANET_REQUIRE_SHAPES("kernels::fused_hidden_delta", a.samples == delta.samples && a.features == delta.features,
                          a, delta);
  SIGMANET_REQUIRE_SHAPES("kernels::fused_hidden_delta", delta_above.samples == delta.samples, delta_above, delta);
  const std::size_t m = delta.samples;
  if (m == 0) return;
  require(w.data && delta_above.data && a.data && delta.data, "fused_hidden_delta", "null pointer");
  const int n = layer_size(delta.features, "fused_hidden_delta"), n_above = layer_size(w.outputs, "fused_hidden_delta");
  SIGMANET_LAUNCH_ELEMENTWISE(fused_hidden_delta_kernel, m * std::size_t(n), stream, w.data, delta_above.data, n,
                              n_above, a.data, m, delta.data);
}

void hidden_delta(BatchView<float> delta, BatchView<const float> a, cudaStream_t stream) {
  SIGMANET_REQUIRE_SHAPES("kernels::hidden_delta", delta.samples == a.samples && delta.features == a.features, delta,
                          a);
  const std::size_t m = delta.samples;
  if (m == 0) return;
  require(delta.data && a.data, "hidden_delta", "null pointer");
  const int n = layer_size(delta.features, "hidden_delta");
  const std::size_t total = m * std::size_t(n);
  SIGMANET_LAUNCH_ELEMENTWISE(hidden_delta_kernel, total, stream, delta.data, a.data, total);
}

}  // namespace sigmanet::kernels
