// Evaluation's totals: Thrust sums the per-sample results of argmax_cost on the device.
#include <thrust/execution_policy.h>
#include <thrust/reduce.h>

#include "kernels.hpp"
#include "launch.cuh"

namespace sigmanet::kernels {

EvaluationSums sum_evaluation(VectorView<const unsigned> correct, VectorView<const double> cost, cudaStream_t stream) {
  SIGMANET_REQUIRE_SHAPES("kernels::sum_evaluation", correct.size == cost.size, correct, cost);
  EvaluationSums sums;
  const std::size_t count = correct.size;
  if (count == 0) return sums;
  require(correct.data && cost.data, "sum_evaluation", "null pointer");
  // Thrust reports failures as exceptions derived from std::runtime_error; name them as ours.
  try {
    const auto policy = thrust::cuda::par.on(stream);
    sums.correct = thrust::reduce(policy, correct.data, correct.data + count, std::size_t(0));
    sums.cost = thrust::reduce(policy, cost.data, cost.data + count, 0.0);
  } catch (const std::exception& e) {
    throw Error(std::string("kernels::sum_evaluation: Thrust reduction failed: ") + e.what());
  }
  return sums;
}

}  // namespace sigmanet::kernels
