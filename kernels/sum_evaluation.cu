// Evaluation's totals: the per-sample results of argmax_cost added up on the device, in a fixed order, into
// a result the caller owns. One block: thread t adds samples t, t + kThreads, ... in order, then a tree over
// the threads' sums in shared memory. No temporary storage, so an evaluation allocates nothing (a library
// reduction allocates and frees its scratch space every call, and the free waits for the whole device).
#include "cuda_check.hpp"
#include "kernels.hpp"
#include "launch.cuh"

namespace sigmanet::kernels {
namespace {

__global__ void __launch_bounds__(kThreads)
    sum_evaluation_kernel(const unsigned* __restrict__ correct, const double* __restrict__ cost, std::size_t m,
                          EvaluationSums* __restrict__ sums) {
  __shared__ std::size_t correct_sum[kThreads];
  __shared__ double cost_sum[kThreads];
  const int t = int(threadIdx.x);
  std::size_t right = 0;
  double c = 0.0;
  for (std::size_t s = std::size_t(t); s < m; s += kThreads) {
    right += correct[s];
    c += cost[s];
  }
  correct_sum[t] = right;
  cost_sum[t] = c;
  __syncthreads();
  for (int half = kThreads / 2; half > 0; half /= 2) {
    if (t < half) {
      correct_sum[t] += correct_sum[t + half];
      cost_sum[t] += cost_sum[t + half];
    }
    __syncthreads();
  }
  if (t == 0) *sums = EvaluationSums{correct_sum[0], cost_sum[0]};
}

}  // namespace

void sum_evaluation(VectorView<const unsigned> correct, VectorView<const double> cost, EvaluationSums* sums,
                    cudaStream_t stream) {
  SIGMANET_REQUIRE_SHAPES("kernels::sum_evaluation", correct.size == cost.size, correct, cost);
  if (correct.size == 0) return;
  require(correct.data && cost.data && sums, "sum_evaluation", "null pointer");
  SIGMANET_LAUNCH(sum_evaluation_kernel, 1, kThreads, 0, stream)(correct.data, cost.data, correct.size, sums);
  SIGMANET_CUDA_CHECK_LAUNCH("sum_evaluation_kernel");
}

}  // namespace sigmanet::kernels
