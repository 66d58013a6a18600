// NcclSum: NCCL's communicator, bootstrapped through the MPI job. In builds without NCCL (no nccl.h with the
// toolkit, or no MPI to start a job) every way in says so.
#include "nccl_sum.hpp"

#include "sigmanet/error.hpp"

#ifdef SIGMANET_HAVE_NCCL
#include <nccl.h>

#include <cstdlib>
#include <cstring>
#endif
#ifdef SIGMANET_NCCL_ON_DEMAND
#include "cuda_on_demand/nccl_on_demand.hpp"
#endif

namespace sigmanet::cuda {

#ifdef SIGMANET_HAVE_NCCL

namespace {

// NCCL's status, its words for it and, where a communicator has one, its last message.
void check(ncclResult_t status, const char* call, const char* file, int line) {
  if (status == ncclSuccess) return;
  std::string what = std::string(call) + " failed at " + file + ":" + std::to_string(line) + ": " +
                     ncclGetErrorString(status);
  if (const char* last = ncclGetLastError(nullptr); last && *last) what += std::string(" (") + last + ")";
  throw Error(what);
}

#define SIGMANET_NCCL_CHECK(call) check((call), #call, __FILE__, __LINE__)

}  // namespace

// Every failure before NCCL's own collective start is decided by all ranks (Collective::any), so that no rank is
// left waiting in the id's broadcast for one that gave up.
NcclSum::NcclSum(Collective& job) {
  std::string reason;
  const bool available = nccl_available(&reason);
  if (job.any(!available)) throw Error(available ? "another rank could not load NCCL" : reason);
  // NVLink SHARP (NVLS: the sum done in an NVSwitch) is not deterministic from one call to the next, NVIDIA says
  // (github.com/NVIDIA/nccl/issues/1497); the ring and tree algorithms are, and every rank gets the same bits
  // from them. So NVLS stays off unless the person running the job asks for it.
  setenv("NCCL_NVLS_ENABLE", "0", 0);
  ncclUniqueId id;
  std::memset(&id, 0, sizeof id);
  const ncclResult_t drawn = job.rank() == 0 ? ncclGetUniqueId(&id) : ncclSuccess;
  if (job.any(drawn != ncclSuccess)) {
    if (job.rank() == 0) SIGMANET_NCCL_CHECK(drawn);
    throw Error("rank 0 could not draw NCCL's unique id");
  }
  job.broadcast(std::as_writable_bytes(std::span<char>(id.internal, sizeof id.internal)), 0);
  SIGMANET_NCCL_CHECK(ncclCommInitRank(&comm_, job.size(), id, job.rank()));
}

NcclSum::~NcclSum() {
  // Abort rather than destroy: it never waits for peers, which may already have gone (an error on one rank).
  if (comm_) ncclCommAbort(comm_);
}

void NcclSum::sum(float* values, std::size_t count, cudaStream_t stream) {
  SIGMANET_NCCL_CHECK(ncclAllReduce(values, values, count, ncclFloat, ncclSum, comm_, stream));
}

std::string NcclSum::version() const {
  int v = 0;
  SIGMANET_NCCL_CHECK(ncclGetVersion(&v));
  return "NCCL " + std::to_string(v / 10000) + "." + std::to_string(v / 100 % 100) + "." + std::to_string(v % 100);
}

bool nccl_available([[maybe_unused]] std::string* reason) {
#ifdef SIGMANET_NCCL_ON_DEMAND
  return nccl_library_available(reason);
#else
  return true;  // the emulator build's NCCL, on MPI (tests/gpu_emulator/nccl.cpp)
#endif
}

#else

namespace {

constexpr const char* kNoNccl =
    "this sigmanet was built without NCCL (it needs nccl.h with the CUDA toolkit, and MPI), so it cannot sum "
    "gradients between GPUs";

}  // namespace

NcclSum::NcclSum(Collective&) { throw Error(kNoNccl); }
NcclSum::~NcclSum() = default;
void NcclSum::sum(float*, std::size_t, cudaStream_t) { throw Error(kNoNccl); }
std::string NcclSum::version() const { return "none"; }

bool nccl_available(std::string* reason) {
  if (reason) *reason = kNoNccl;
  return false;
}

#endif

}  // namespace sigmanet::cuda
