// A rank's NaN/Inf verdict as one float beside its gradient sums, so that NCCL's sum carries it to every rank
// in the same step: all ranks then stop after the same batch, as one process would, even a rank whose share
// of the batch was empty. Both kernels read the device's step counter, so a captured graph serves every batch.
#include "cuda_check.hpp"
#include "kernels.hpp"
#include "launch.cuh"

namespace sigmanet::kernels {
namespace {

__global__ void put_nonfinite_flag_kernel(const unsigned* bad, const unsigned* step, float* flag) {
  *flag = *bad <= *step ? 1.0f : 0.0f;
}

__global__ void take_nonfinite_flag_kernel(const float* flag, const unsigned* step, unsigned* bad) {
  if (!(*flag == 0.0f)) atomicMin(bad, *step);  // a flag of NaN (it cannot be, but) counts as bad
}

}  // namespace

void put_nonfinite_flag(const unsigned* bad, const unsigned* step, float* flag, cudaStream_t stream) {
  require(bad && step && flag, "put_nonfinite_flag", "null pointer");
  SIGMANET_LAUNCH(put_nonfinite_flag_kernel, 1, 1, 0, stream)(bad, step, flag);
  SIGMANET_CUDA_CHECK_LAUNCH("put_nonfinite_flag_kernel");
}

void take_nonfinite_flag(const float* flag, const unsigned* step, unsigned* bad, cudaStream_t stream) {
  require(bad && step && flag, "take_nonfinite_flag", "null pointer");
  SIGMANET_LAUNCH(take_nonfinite_flag_kernel, 1, 1, 0, stream)(flag, step, bad);
  SIGMANET_CUDA_CHECK_LAUNCH("take_nonfinite_flag_kernel");
}

}  // namespace sigmanet::kernels
