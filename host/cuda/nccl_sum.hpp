#pragma once
// Gradient sums between GPUs: one NCCL communicator over the ranks of an MPI job (collective.hpp), each rank on
// its own GPU. The CUDA backend's data-parallel step adds its share's gradients to the other ranks' with it.
#include <cuda_runtime.h>

#include <cstddef>
#include <string>

#include "sigmanet/collective.hpp"

struct ncclComm;

namespace sigmanet::cuda {

class NcclSum {
 public:
  // Joins every rank of job into one communicator on the current GPU: rank 0 draws NCCL's unique id and the
  // job broadcasts it (MPI). Every rank constructs it at the same point. Throws Error when this build has no
  // NCCL, libnccl cannot be loaded, or NCCL refuses (two ranks on one GPU, a lost peer).
  explicit NcclSum(Collective& job);
  ~NcclSum();
  NcclSum(const NcclSum&) = delete;
  NcclSum& operator=(const NcclSum&) = delete;

  // Queues, on stream, values[i] <- the sum over the ranks of their values[i], in place (device memory).
  // NCCL adds in an order fixed by the communicator (its ring or tree over the ranks, chosen by the count and
  // the topology; NVLS, which is not, is kept off): every rank gets the same bits, and the same job on the same
  // machines gets them again, though not rank order's (two ranks: a + b, exactly as rank order). It can be
  // captured into a CUDA graph.
  void sum(float* values, std::size_t count, cudaStream_t stream);

  // "NCCL 2.28.9", for reports.
  std::string version() const;

 private:
  ncclComm* comm_ = nullptr;
};

// Whether this build can sum gradients between GPUs (it has NCCL, and libnccl can be loaded); if not,
// *reason says why.
bool nccl_available(std::string* reason = nullptr);

}  // namespace sigmanet::cuda
