#pragma once
// The CUDA backend: the oracle's network trained on an NVIDIA GPU with fused kernels and cuBLAS.
// Only in builds with CUDA (SIGMANET_HAVE_CUDA); make_backend() (backends/factory.hpp) is the way in. Its checks
// against the oracle, for `sigmanet verify` and the tests, are cuda_checks/cuda_checks.hpp.
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "sigmanet/backend.hpp"
#include "sigmanet/runs_together.hpp"
#include "sigmanet/cuda/cuda_options.hpp"

namespace sigmanet {

// Whether a GPU is present and this binary has code it can run; if not, *reason says why in one line: "no NVIDIA
// driver found", the runtime's words (e.g. "CUDA driver version is insufficient for CUDA runtime version" for
// an old driver), "no CUDA device", or that this build has no code for the GPU.
bool cuda_device_usable(std::string* reason);

// The current CUDA device, when one is usable.
std::optional<DeviceInfo> cuda_device_info();

// Whether this build can sum gradients between GPUs with NCCL (built with it, and libnccl loads); if not,
// *reason says why.
bool cuda_nccl_available(std::string* reason);

// Makes device local_rank modulo the visible devices the current one, for a rank of a job: one GPU per process
// where a machine shows all its GPUs to each, and device 0 where a launcher shows each rank only its own.
void cuda_use_device_of_local_rank(int local_rank);

// Whether the persistent kernel can hold this network at this batch on the current device, in one block or
// split over a thread-block cluster: of its own choice (blocks 0) or of `blocks`.
bool cuda_persistent_fits(const std::vector<int>& sizes, std::size_t batch, int blocks = 0);

// Float only: Precision::f64 throws InputError (the GPU backend computes in float).
std::unique_ptr<Backend> make_cuda_backend(Precision precision);
std::unique_ptr<Backend> make_cuda_backend(Precision precision, const CudaOptions& options);

// backends/train_together.hpp's can_train_together and train_together for these backends (2 to kMaxRunsTogether):
// false for any that is not a CUDA backend.
bool cuda_can_train_together(std::span<Backend* const> backends, std::size_t batch);
TrainedTogether cuda_train_together(std::span<const RunTogether> runs, std::size_t batch,
                                    const AfterBatch& after_batch);

}  // namespace sigmanet
