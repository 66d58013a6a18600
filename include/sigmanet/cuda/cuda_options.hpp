#pragma once
// How the CUDA backend computes: its own options, given to make_backend (backends/factory.hpp) beside the device and
// the precision. Plain values, so that every build takes them, one without CUDA included (which refuses any but the
// defaults: they would change nothing on the CPU).
#include <cstddef>
#include <string>

namespace sigmanet {

// The defaults are what the product runs.
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

// Up to this batch Kernel::automatic takes the persistent kernel where it fits (bench/RESULTS.md's model: a
// persistent step grows with the batch, a graph step costs ~11 launches whatever the batch).
constexpr std::size_t kGpuPersistentMaxAutoBatch = 32;

// "auto", "persistent", "graph": the kernel as the settings and the benchmark's backend names spell it.
inline std::string to_string(CudaOptions::Kernel kernel) {
  switch (kernel) {
    case CudaOptions::Kernel::automatic: return "auto";
    case CudaOptions::Kernel::persistent: return "persistent";
    case CudaOptions::Kernel::graph: return "graph";
  }
  return "?";
}

}  // namespace sigmanet
