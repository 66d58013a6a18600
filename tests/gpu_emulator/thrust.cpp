// The Thrust reductions of kernels/sum_evaluation.cu on the CPU: Thrust is a library like cuBLAS, not a kernel
// of ours, so it is emulated by its contract (sums of the per-sample results, on the stream, waited for).
#include <string>

#include "emulator.hpp"
#include "kernels.hpp"
#include "sigmanet/error.hpp"

namespace sigmanet::kernels {

EvaluationSums sum_evaluation(VectorView<const unsigned> correct, VectorView<const double> cost, cudaStream_t stream) {
  SIGMANET_REQUIRE_SHAPES("kernels::sum_evaluation", correct.size == cost.size, correct, cost);
  EvaluationSums sums;
  const std::size_t count = correct.size;
  if (count == 0) return sums;
  if (!correct.data || !cost.data) throw Error("kernels::sum_evaluation: null pointer");
  gpu_emulator::enqueue(stream, "thrust::reduce", [=, &sums] {
    gpu_emulator::check_device_range(correct.data, count * sizeof(unsigned), "thrust::reduce correct");
    gpu_emulator::check_device_range(cost.data, count * sizeof(double), "thrust::reduce cost");
    for (std::size_t s = 0; s < count; ++s) {
      sums.correct += correct.data[s];
      sums.cost += cost.data[s];
    }
  });
  // Thrust waits for its reductions, and reports a failure as an exception.
  const cudaError_t status = cudaStreamSynchronize(stream);
  if (status != cudaSuccess)
    throw Error(std::string("kernels::sum_evaluation: Thrust reduction failed: ") + cudaGetErrorString(status));
  return sums;
}

}  // namespace sigmanet::kernels
