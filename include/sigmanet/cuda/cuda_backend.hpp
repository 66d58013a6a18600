#pragma once
// The CUDA backend: the oracle's network trained on an NVIDIA GPU with fused kernels and cuBLAS.
// Only in builds with CUDA (SIGMANET_HAVE_CUDA); make_backend() is the usual way in. Its checks against the
// oracle, for `sigmanet verify` and the tests, are host/cuda_checks/cuda_checks.hpp.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "sigmanet/backend.hpp"

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

// How the CUDA backend computes; the defaults are what the product runs.
struct CudaOptions {
  enum class Forward {
    automatic,  // the fused kernel for small batches, SGEMM + bias/sigmoid epilogue for large ones
    fused,      // always the fused weighted-sum + bias + sigmoid kernel
    gemm,       // always cuBLAS SGEMM + the bias/sigmoid epilogue
  };
  Forward forward = Forward::automatic;
  // How training steps run: one persistent kernel holding the network in shared memory for a chunk of
  // batches, or a CUDA graph of the step's kernels and SGEMMs replayed per batch.
  enum class Kernel {
    automatic,   // persistent when the network and batch fit (see persistent_fits), else graph
    persistent,  // persistent, or InputError when the network and batch do not fit
    graph,
  };
  Kernel kernel = Kernel::automatic;
  // Batches a persistent launch runs at most (0: as many as take about kPersistentChunkSeconds); results
  // do not depend on it.
  std::size_t persistent_chunk = 0;
  // Blocks in the persistent kernel's thread-block cluster, which split the first layer's inputs between
  // them, each on its own SM (0: kernels::persistent_cluster_blocks's choice, 1 on a GPU without clusters;
  // 1 to 8 forces that many, which must fit and needs compute capability 9.0 past 1). Results depend on it.
  int persistent_blocks = 0;
  bool graphs = true;       // capture a full batch's kernels once per train() and replay the graph
  bool allow_tf32 = false;  // let cuBLAS round SGEMM inputs to TF32 (faster, ~1e-3 relative error)
};

// Whether the persistent kernel can hold this network at this batch on the current device, in one block or
// split over a thread-block cluster: of its own choice (blocks 0) or of `blocks`.
bool cuda_persistent_fits(const std::vector<int>& sizes, std::size_t batch, int blocks = 0);

// Float only: Precision::f64 throws InputError (the GPU backend computes in float).
std::unique_ptr<Backend> make_cuda_backend(Precision precision);
std::unique_ptr<Backend> make_cuda_backend(Precision precision, const CudaOptions& options);

}  // namespace sigmanet
