// The NCCL calls sigmanet makes, defined here instead of linked from libnccl (cublas_on_demand.cpp says why:
// the same holds for NCCL's 200 MB). Each definition opens libnccl the first time any is called and forwards to
// its function of the same name; the declarations are NCCL's own (nccl.h), so a drifting signature does not
// compile.
#include "cuda_on_demand/nccl_on_demand.hpp"

#include <nccl.h>

#include "cuda_on_demand/library_on_demand.hpp"

namespace sigmanet::cuda {
namespace {

// The toolkit's folder the build used comes second, as for cuBLAS.
const LibraryOnDemand& library() {
  static const LibraryOnDemand lib{"libnccl.so." SIGMANET_NCCL_SOVERSION,
                                   SIGMANET_NCCL_DIR "/libnccl.so." SIGMANET_NCCL_SOVERSION};
  return lib;
}

}  // namespace

bool nccl_library_available(std::string* reason) {
  if (library().loaded()) return true;
  if (reason) *reason = "NCCL could not be loaded (" + library().error() + ")";
  return false;
}

}  // namespace sigmanet::cuda

// Without the library every call says ncclSystemError, which the callers' status checks report;
// nccl_available() says why before any of them is reached.
#define SIGMANET_NCCL_FORWARD(name, params, args)                                     \
  extern "C" ncclResult_t name params {                                               \
    static const auto f = sigmanet::cuda::library().function<decltype(name)>(#name);  \
    return f ? f args : ncclSystemError;                                              \
  }

SIGMANET_NCCL_FORWARD(ncclGetVersion, (int* version), (version))
SIGMANET_NCCL_FORWARD(ncclGetUniqueId, (ncclUniqueId * id), (id))
SIGMANET_NCCL_FORWARD(ncclCommInitRank, (ncclComm_t * comm, int ranks, ncclUniqueId id, int rank),
                      (comm, ranks, id, rank))
SIGMANET_NCCL_FORWARD(ncclCommAbort, (ncclComm_t comm), (comm))
SIGMANET_NCCL_FORWARD(ncclAllReduce,
                      (const void* send, void* receive, size_t count, ncclDataType_t type, ncclRedOp_t op,
                       ncclComm_t comm, cudaStream_t stream),
                      (send, receive, count, type, op, comm, stream))
#undef SIGMANET_NCCL_FORWARD

extern "C" const char* ncclGetErrorString(ncclResult_t result) {
  static const auto f =
      sigmanet::cuda::library().function<decltype(ncclGetErrorString)>("ncclGetErrorString");
  return f ? f(result) : "NCCL could not be loaded";
}

extern "C" const char* ncclGetLastError(ncclComm_t comm) {
  static const auto f = sigmanet::cuda::library().function<decltype(ncclGetLastError)>("ncclGetLastError");
  return f ? f(comm) : "";
}
