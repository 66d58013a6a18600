// The output layer's error, built straight from the label bytes, with the NaN/Inf watch fused in.
#include "cuda_check.hpp"
#include "grid_stride.cuh"
#include "kernels.hpp"
#include "launch.cuh"
#include "neuron_math.cuh"

namespace sigmanet::kernels {
namespace {

// The cost is a template parameter, not a run-time branch: the quadratic instantiation is the chapter 1 kernel
// exactly, and the others are the same loop with one line changed.
template <Cost kCost>
__global__ void output_delta_kernel(const float* __restrict__ a, const std::uint8_t* __restrict__ labels, int n,
                                    std::size_t m, const unsigned* __restrict__ step, unsigned* bad,
                                    float* __restrict__ delta) {
  const std::size_t total = m * std::size_t(n);
  for (const std::size_t k : grid_stride(total)) {
    const std::size_t s = k / std::size_t(n), j = k - s * std::size_t(n);
    const float out = a[k];
    const float y = labels[s] == j ? 1.0f : 0.0f;
    delta[k] = output_error(kCost, out, y);
    // The minimum is the same whatever order the threads arrive in, so this atomic keeps results exact.
    if (bad && !isfinite(out)) atomicMin(bad, step ? *step : 0u);
  }
}

}  // namespace

void output_delta(Cost cost, BatchView<const float> a, VectorView<const std::uint8_t> labels, const unsigned* step,
                  unsigned* bad, BatchView<float> delta, cudaStream_t stream) {
  SIGMANET_REQUIRE_SHAPES("kernels::output_delta", labels.size == a.samples, labels, a);
  SIGMANET_REQUIRE_SHAPES("kernels::output_delta", delta.samples == a.samples && delta.features == a.features, delta,
                          a);
  require(cost == Cost::quadratic || cost == Cost::cross_entropy || cost == Cost::log_likelihood, "output_delta",
          "unknown cost");
  const std::size_t m = a.samples;
  if (m == 0) return;
  require(a.data && labels.data && delta.data, "output_delta", "null pointer");
  const int n = layer_size(a.features, "output_delta");
  const std::size_t total = m * std::size_t(n);
  switch (cost) {
    case Cost::quadratic:
      SIGMANET_LAUNCH_ELEMENTWISE(output_delta_kernel<Cost::quadratic>, total, stream, a.data, labels.data, n, m, step,
                                  bad, delta.data);
      break;
    case Cost::cross_entropy:
      SIGMANET_LAUNCH_ELEMENTWISE(output_delta_kernel<Cost::cross_entropy>, total, stream, a.data, labels.data, n, m,
                                  step, bad, delta.data);
      break;
    case Cost::log_likelihood:
      SIGMANET_LAUNCH_ELEMENTWISE(output_delta_kernel<Cost::log_likelihood>, total, stream, a.data, labels.data, n, m,
                                  step, bad, delta.data);
      break;
  }
}

}  // namespace sigmanet::kernels
