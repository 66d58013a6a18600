// The NCCL calls sigmanet makes, on the CPU, for the emulator build of a job under mpirun: each rank is one
// process with its own emulated GPU, a communicator is a duplicate of the MPI job's (the host code joins the job
// before it asks for one), and ncclAllReduce is work queued on the stream like any other, which exchanges the
// ranks' values over MPI when the stream runs. It checks what NCCL would refuse or hang on:
// - every rank must pass the same unique id (rank 0's, broadcast), its own rank and the job's size;
// - two ranks of one machine must not share a GPU (NCCL's "Duplicate GPU detected");
// - the buffers must be device memory, and every byte summed must have been written (initcheck).
// It adds in rank order, as NCCL's ring does for two ranks; it cannot show NCCL's own order for more.
#include <mpi.h>
#include <nccl.h>
#include <unistd.h>

#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "emulator.hpp"

struct ncclComm {
  MPI_Comm mpi = MPI_COMM_NULL;
  int rank = 0, ranks = 0;
};

namespace {

namespace emu = sigmanet::gpu_emulator;

constexpr char kMagic[] = "sigmanet emulated NCCL";
std::string last_error;

ncclResult_t refuse(ncclResult_t result, const std::string& why) {
  last_error = "emulated NCCL: " + why;
  return result;
}

// Stops the process, as NCCL's kernels would fault, when bytes that were never written are summed.
void check_written(const void* p, std::size_t bytes) {
  const emu::DeviceAllocation* a = emu::find_device_allocation(p);
  if (!a) return;  // check_device_range reported it
  const std::size_t offset = std::size_t(static_cast<const char*>(p) - a->base);
  for (std::size_t i = 0; i < bytes; ++i)
    if (!a->written[offset + i])
      emu::fail("initcheck: ncclAllReduce sums byte " + std::to_string(i) + " of its buffer at " +
                emu::address_text(p) + ", which was never written");
}

}  // namespace

extern "C" {

ncclResult_t ncclGetVersion(int* version) {
  if (!version) return refuse(ncclInvalidArgument, "ncclGetVersion: null pointer");
  *version = NCCL_VERSION_CODE;
  return ncclSuccess;
}

ncclResult_t ncclGetUniqueId(ncclUniqueId* id) {
  if (!id) return refuse(ncclInvalidArgument, "ncclGetUniqueId: null pointer");
  std::memset(id->internal, 0, sizeof id->internal);
  std::memcpy(id->internal, kMagic, sizeof kMagic);
  std::random_device random;
  const unsigned draw[2] = {random(), unsigned(getpid())};
  std::memcpy(id->internal + sizeof kMagic, draw, sizeof draw);
  return ncclSuccess;
}

ncclResult_t ncclCommInitRank(ncclComm_t* comm, int ranks, ncclUniqueId id, int rank) {
  if (!comm) return refuse(ncclInvalidArgument, "ncclCommInitRank: null pointer");
  int initialised = 0;
  MPI_Initialized(&initialised);
  if (!initialised) return refuse(ncclInvalidUsage, "it runs on MPI: join the job before making a communicator");
  if (std::memcmp(id.internal, kMagic, sizeof kMagic) != 0)
    return refuse(ncclInvalidArgument, "ncclCommInitRank: the unique id is not one ncclGetUniqueId made");
  int world_rank = 0, world_size = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &world_rank);
  MPI_Comm_size(MPI_COMM_WORLD, &world_size);
  if (ranks != world_size || rank != world_rank)
    return refuse(ncclInvalidArgument, "ncclCommInitRank: rank " + std::to_string(rank) + " of " +
                                           std::to_string(ranks) + ", but this is rank " +
                                           std::to_string(world_rank) + " of a job of " + std::to_string(world_size));
  int device = 0;
  if (cudaGetDevice(&device) != cudaSuccess) return refuse(ncclUnhandledCudaError, "no current device");

  // Every rank's id, machine and device, seen by all.
  struct Seat {
    char id[NCCL_UNIQUE_ID_BYTES];
    char host[MPI_MAX_PROCESSOR_NAME];
    int device;
  };
  Seat mine{};
  std::memcpy(mine.id, id.internal, sizeof mine.id);
  int length = 0;
  MPI_Get_processor_name(mine.host, &length);
  mine.device = device;
  std::vector<Seat> seats(static_cast<std::size_t>(ranks));
  MPI_Allgather(&mine, sizeof mine, MPI_BYTE, seats.data(), sizeof mine, MPI_BYTE, MPI_COMM_WORLD);
  for (int r = 0; r < ranks; ++r) {
    if (std::memcmp(seats[r].id, seats[0].id, sizeof mine.id) != 0)
      return refuse(ncclInvalidArgument, "rank " + std::to_string(r) +
                                             " passed another unique id than rank 0 (was rank 0's broadcast?)");
    for (int q = 0; q < r; ++q)
      if (std::strcmp(seats[q].host, seats[r].host) == 0 && seats[q].device == seats[r].device)
        return refuse(ncclInvalidUsage, "Duplicate GPU detected: rank " + std::to_string(q) + " and rank " +
                                             std::to_string(r) + " both on CUDA device " +
                                             std::to_string(seats[r].device));
  }
  auto* c = new ncclComm;
  c->rank = rank;
  c->ranks = ranks;
  MPI_Comm_dup(MPI_COMM_WORLD, &c->mpi);
  *comm = c;
  return ncclSuccess;
}

// Local, as NCCL's is; the MPI communicator stays until MPI_Finalize (freeing it is collective in MPI's terms,
// and a rank aborting on an error must not wait for the others).
ncclResult_t ncclCommAbort(ncclComm_t comm) {
  delete comm;
  return ncclSuccess;
}

ncclResult_t ncclAllReduce(const void* send, void* receive, size_t count, ncclDataType_t type, ncclRedOp_t op,
                           ncclComm_t comm, cudaStream_t stream) {
  if (!comm) return refuse(ncclInvalidArgument, "ncclAllReduce: null communicator");
  if (type != ncclFloat || op != ncclSum)
    return refuse(ncclInvalidArgument, "ncclAllReduce: the emulator adds floats only (ncclFloat, ncclSum)");
  if (count > std::size_t(INT32_MAX) / std::size_t(comm->ranks))
    return refuse(ncclInvalidArgument, "ncclAllReduce: too many values for the emulator");
  const MPI_Comm mpi = comm->mpi;
  const int ranks = comm->ranks;
  emu::enqueue(stream, "ncclAllReduce", [=] {
    const std::size_t bytes = count * sizeof(float);
    emu::check_device_range(send, bytes, "ncclAllReduce send buffer");
    emu::check_device_range(receive, bytes, "ncclAllReduce receive buffer");
    check_written(send, bytes);
    std::vector<float> all(count * std::size_t(ranks));
    MPI_Allgather(send, int(count), MPI_FLOAT, all.data(), int(count), MPI_FLOAT, mpi);
    float* out = static_cast<float*>(receive);
    for (std::size_t i = 0; i < count; ++i) {
      float s = all[i];
      for (int r = 1; r < ranks; ++r) s += all[std::size_t(r) * count + i];
      out[i] = s;
    }
    emu::mark_written(receive, bytes);
  });
  return ncclSuccess;
}

const char* ncclGetErrorString(ncclResult_t result) {
  switch (result) {
    case ncclSuccess: return "no error";
    case ncclUnhandledCudaError: return "unhandled cuda error";
    case ncclSystemError: return "unhandled system error";
    case ncclInternalError: return "internal error";
    case ncclInvalidArgument: return "invalid argument";
    case ncclInvalidUsage: return "invalid usage";
    case ncclRemoteError: return "remote process exited or there was a network error";
    default: return "unknown result code";
  }
}

const char* ncclGetLastError(ncclComm_t) { return last_error.c_str(); }

}  // extern "C"
