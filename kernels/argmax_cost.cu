// Evaluation on the device: each sample's argmax and cost (sum_evaluation.cu adds them up).
#include <cfloat>

#include "cuda_check.hpp"
#include "grid_stride.cuh"
#include "kernels.hpp"
#include "launch.cuh"

namespace sigmanet::kernels {
namespace {

// ln x for a cost, in double, with an activation that rounded to exactly 0 taken as the smallest normal double
// (ln = -708.4): a saturated output then costs a large finite amount, as the oracle computes it.
__device__ inline double log_of_activation(double x) { return log(fmax(x, DBL_MIN)); }

// The cost is a template parameter, so the quadratic instantiation is the chapter 1 kernel exactly.
template <Cost kCost>
__global__ void argmax_cost_kernel(const float* __restrict__ a, const std::uint8_t* __restrict__ labels, int n,
                                   std::size_t m, unsigned* __restrict__ correct, double* __restrict__ cost) {
  for (const std::size_t s : grid_stride(m)) {
    const float* row = a + s * std::size_t(n);
    const int label = labels[s];
    int best = 0;
    double c = 0.0;
    for (int j = 0; j < n; ++j) {
      if (row[best] < row[j]) best = j;  // std::max_element's test: the first of equal values wins
      if constexpr (kCost == Cost::quadratic) {  // (6): 1/2 ||a - y||^2
        const double e = double(row[j]) - (label == j ? 1.0 : 0.0);
        c += 0.5 * e * e;
      } else if constexpr (kCost == Cost::cross_entropy) {  // (63): -sum [y ln a + (1 - y) ln(1 - a)]
        const double y = label == j ? 1.0 : 0.0, out = double(row[j]);
        c -= y * log_of_activation(out) + (1 - y) * log_of_activation(1 - out);
      } else {  // (80): -ln a_label
        if (label == j) c -= log_of_activation(double(row[j]));
      }
    }
    correct[s] = best == label ? 1u : 0u;
    cost[s] = c;
  }
}

}  // namespace

void argmax_cost(Cost cost_kind, BatchView<const float> a, VectorView<const std::uint8_t> labels,
                 VectorView<unsigned> correct, VectorView<double> cost, cudaStream_t stream) {
  SIGMANET_REQUIRE_SHAPES("kernels::argmax_cost", labels.size == a.samples, labels, a);
  SIGMANET_REQUIRE_SHAPES("kernels::argmax_cost", correct.size == a.samples, correct, a);
  SIGMANET_REQUIRE_SHAPES("kernels::argmax_cost", cost.size == a.samples, cost, a);
  require(cost_kind == Cost::quadratic || cost_kind == Cost::cross_entropy || cost_kind == Cost::log_likelihood,
          "argmax_cost", "unknown cost");
  const std::size_t m = a.samples;
  if (m == 0) return;
  require(a.data && labels.data && correct.data && cost.data, "argmax_cost", "null pointer");
  const int n = layer_size(a.features, "argmax_cost");
  switch (cost_kind) {
    case Cost::quadratic:
      SIGMANET_LAUNCH_ELEMENTWISE(argmax_cost_kernel<Cost::quadratic>, m, stream, a.data, labels.data, n, m,
                                  correct.data, cost.data);
      break;
    case Cost::cross_entropy:
      SIGMANET_LAUNCH_ELEMENTWISE(argmax_cost_kernel<Cost::cross_entropy>, m, stream, a.data, labels.data, n, m,
                                  correct.data, cost.data);
      break;
    case Cost::log_likelihood:
      SIGMANET_LAUNCH_ELEMENTWISE(argmax_cost_kernel<Cost::log_likelihood>, m, stream, a.data, labels.data, n, m,
                                  correct.data, cost.data);
      break;
  }
}

}  // namespace sigmanet::kernels
