// Evaluation on the device: per-sample argmax and cost, then Thrust sums them.
#include <thrust/execution_policy.h>
#include <thrust/reduce.h>

#include "cuda_check.hpp"
#include "kernels.hpp"
#include "launch.cuh"

namespace sigmanet::kernels {
namespace {

__global__ void argmax_cost_kernel(const float* __restrict__ a, const std::uint8_t* __restrict__ labels, int n,
                                   std::size_t m, unsigned* __restrict__ correct, double* __restrict__ cost) {
  for (std::size_t s = blockIdx.x * std::size_t(blockDim.x) + threadIdx.x; s < m;
       s += std::size_t(gridDim.x) * blockDim.x) {
    const float* row = a + s * std::size_t(n);
    const int label = labels[s];
    int best = 0;
    double c = 0.0;
    for (int j = 0; j < n; ++j) {
      if (row[best] < row[j]) best = j;  // std::max_element's test: the first of equal values wins
      const double e = double(row[j]) - (label == j ? 1.0 : 0.0);
      c += 0.5 * e * e;
    }
    correct[s] = best == label ? 1u : 0u;
    cost[s] = c;
  }
}

}  // namespace

void argmax_cost(const float* a, const std::uint8_t* labels, int n, std::size_t m, unsigned* correct, double* cost,
                 cudaStream_t stream) {
  if (m == 0) return;
  require(a && labels && correct && cost, "argmax_cost", "null pointer");
  require(n > 0, "argmax_cost", "layer size must be at least 1");
  argmax_cost_kernel<<<blocks_for(m), kThreads, 0, stream>>>(a, labels, n, m, correct, cost);
  SIGMANET_CUDA_CHECK_LAUNCH("argmax_cost_kernel");
}

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
