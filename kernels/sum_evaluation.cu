// Evaluation's totals: Thrust sums the per-sample results of argmax_cost on the device.
#include <thrust/execution_policy.h>
#include <thrust/reduce.h>

#include "kernels.hpp"
#include "launch.cuh"

namespace sigmanet::kernels {

EvaluationSums sum_evaluation(const unsigned* correct, const double* cost, std::size_t count, cudaStream_t stream) {
  EvaluationSums sums;
  if (count == 0) return sums;
  require(correct && cost, "sum_evaluation", "null pointer");
  // Thrust reports failures as exceptions derived from std::runtime_error; name them as ours.
  try {
    const auto policy = thrust::cuda::par.on(stream);
    sums.correct = thrust::reduce(policy, correct, correct + count, std::size_t(0));
    sums.cost = thrust::reduce(policy, cost, cost + count, 0.0);
  } catch (const std::exception& e) {
    throw Error(std::string("kernels::sum_evaluation: Thrust reduction failed: ") + e.what());
  }
  return sums;
}

}  // namespace sigmanet::kernels
