// Runs trained in shared launches: the GPU backend's persistent kernel where this build has it, nothing otherwise.
#include "sigmanet/backends/train_together.hpp"

#include "sigmanet/error.hpp"

#ifdef SIGMANET_HAVE_CUDA
#include "cuda/cuda_backend.hpp"
#endif

namespace sigmanet {

bool can_train_together(std::span<Backend* const> backends, std::size_t batch) {
  if (backends.size() < 2 || backends.size() > kMaxRunsTogether) return false;
#ifdef SIGMANET_HAVE_CUDA
  return cuda_can_train_together(backends, batch);
#else
  (void)batch;
  return false;
#endif
}

TrainedTogether train_together(std::span<const RunTogether> runs, std::size_t batch, const AfterBatch& after_batch) {
  std::vector<Backend*> backends;
  for (const RunTogether& run : runs) backends.push_back(run.backend);
  if (!can_train_together(backends, batch))
    throw Error("train_together: these " + std::to_string(runs.size()) + " backends cannot train together");
#ifdef SIGMANET_HAVE_CUDA
  return cuda_train_together(runs, batch, after_batch);
#else
  (void)after_batch;
  return {};  // unreachable: can_train_together is false without CUDA
#endif
}

}  // namespace sigmanet
