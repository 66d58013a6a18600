#pragma once
// The SIMT executor: runs the real kernels of kernels/*.cu, compiled by the host compiler, on the CPU.
//
// Every CUDA thread of a block is a fiber (Boost.Context); one block runs at a time (one thread-block cluster,
// when the launch asks for clusters: its blocks are resident together, as on a GPU), its fibers taking turns
// on one host thread. A fiber runs until it finishes or reaches a rendezvous (__syncthreads, a cluster's
// sync, a warp shuffle, vote or __syncwarp); the rendezvous completes when every thread it names has arrived,
// so barriers and shuffles are real meeting points and the values a shuffle returns are the other lanes'.
// Between two rendezvous the threads run one after another in the order the schedule gives (lanes and blocks
// forward, or both reversed), so a kernel whose result depends on that order shows it as different bits.
//
// The checks (each stops the process with "emulated GPU: <check>: <kernel> block (x,y,z) thread (x,y,z): ..."):
// - memcheck: every load and store of the kernel files goes through memory_check.cpp (the compiler's
//   -fsanitize=thread instrumentation, with our own hooks in place of ThreadSanitizer's runtime) and must
//   fall inside a live device allocation, the block's shared memory or the thread's own stack;
// - initcheck: a load of device or shared memory that nothing wrote;
// - racecheck: two threads touching one shared-memory byte between two barriers, one of them writing (for a
//   byte another block of the cluster reaches through map_shared_rank, between two cluster barriers), and
//   in global memory a write followed by another thread's access in the same launch (running every kernel
//   under both schedules turns a read-then-write into a write-then-read, so both orders are seen);
// - synccheck: a __syncthreads that not every live thread of the block reaches (or threads at different
//   __syncthreads), a cluster sync that not every thread of the cluster reaches, a warp operation whose mask
//   names lanes that exited, wait elsewhere or do not exist,
//   lanes meeting at different warp operations or masks, and a shuffle reading a lane outside its mask.
// See device.hpp for the CUDA features the kernels may use; anything else fails to compile.
#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <source_location>

namespace sigmanet::simt {

// What a running CUDA thread sees as threadIdx, blockIdx, blockDim and gridDim.
struct ThreadContext {
  uint3 thread_idx;
  uint3 block_idx;
  dim3 block_dim;
  dim3 grid_dim;
};

// The running CUDA thread, or null while host code runs.
extern ThreadContext* current;

// threadIdx, blockIdx, blockDim and gridDim, by value: read here rather than in the kernel files, whose every
// load of memory that is not their own is checked (memory_check.cpp).
uint3 thread_index();
uint3 block_index();
dim3 block_dimensions();
dim3 grid_dimensions();

// The order threads and blocks take turns in. Default: SIGMANET_SIMT_SCHEDULE (forward or reverse), else forward.
enum class Schedule { forward, reverse };
void set_schedule(Schedule schedule);
Schedule schedule();

struct LaunchConfig {
  const char* kernel;
  const void* function;  // for the attributes set with cudaFuncSetAttribute
  dim3 grid;
  dim3 block;
  std::size_t dynamic_shared_bytes;
  dim3 cluster = dim3(1, 1, 1);  // blocks a thread-block cluster (cudaLaunchAttributeClusterDimension)
};

// Checks the configuration as CUDA does (an invalid one records cudaErrorInvalidConfiguration or
// cudaErrorInvalidValue for cudaGetLastError and queues nothing), then queues a launch on the stream. When it
// runs, every thread of the grid copies the argument bytes onto its own stack and calls entry with that copy:
// the kernel files then read their arguments from the thread's local memory, as a GPU thread does.
constexpr std::size_t kMaxArgumentBytes = 4096;
void launch(const LaunchConfig& config, cudaStream_t stream, const void* arguments, std::size_t argument_bytes,
            void (*entry)(const void* arguments));

// Rendezvous of the whole block; returns how many threads passed a non-zero predicate. `site` is where the
// kernel's source calls the barrier: threads meeting at two different sites are a divergent barrier. (The
// source line, not the machine address: the host compiler may copy one barrier into two code paths, say
// the threads with and without a label to load, which is no divergence.)
int block_barrier(int predicate, const std::source_location& site);

// Rendezvous of every thread of the running block's cluster (cooperative_groups::cluster_group::sync): a
// barrier for each block too, and what orders one block's accesses to another's shared memory.
void cluster_barrier(const std::source_location& site);
// The block's rank in its cluster, the cluster's size in blocks, and the block's place in the cluster.
unsigned cluster_block_rank();
unsigned cluster_block_count();
dim3 cluster_block_index();
dim3 cluster_dimensions();
// The address in block `rank`'s shared memory of what `address` is in the calling block's
// (cluster_group::map_shared_rank); memcheck stops a rank outside the cluster and an address not in the
// calling block's dynamic shared memory.
void* map_shared_rank(const void* address, unsigned rank);

enum class WarpOp { shfl, shfl_up, shfl_down, shfl_xor, ballot, any, all, syncwarp };
// A warp rendezvous of the lanes in mask. For shuffles value is the lane's bits and the result the source
// lane's; for votes value is the predicate and the result the vote.
std::uint64_t warp_op(WarpOp op, unsigned mask, std::uint64_t value, int lane_arg, int width);
// __activemask: the lanes of the calling warp that reach this call (`site`) together, as a GPU executes them
// converged: the call waits until no lane of the warp can go further without another (a barrier, a warp
// operation, an mbarrier) or has exited, and answers the lanes waiting at this same call. A lane that took
// another branch is not in the mask, even where it has not exited.
unsigned active_mask(const std::source_location& site);

// The launch's dynamic shared memory (SIGMANET_DYNAMIC_SHARED).
void* dynamic_shared();

// Atomics are made of plain loads and stores here (one fiber runs at a time); this checks their address as
// memcheck and initcheck check any other access, and records the write.
void atomic_access(const void* address, std::size_t bytes);

// An access checked for its place and for reading what was written, that the race check does not trace: an
// st.async's update of another block's mbarrier, which lands with the mbarrier's phase (mbarrier.cpp).
void untraced_access(const void* address, std::size_t bytes);

// memcpy, unchecked: for atomics, whose access atomic_access has checked.
void raw_copy(void* destination, const void* source, std::size_t bytes);

// A cooperative copy to shared memory done at once (cooperative_groups::memcpy_async on the executor).
void copy_bytes(void* destination, const void* source, std::size_t bytes);

// __pipeline_memcpy_async on the executor: the size (4, 8 or 16), the alignment and the shared-memory
// destination checked as CUDA asserts them (no zero fill); the source is read now, and the destination written
// when the thread's __pipeline_wait_prior covers the copy's batch (__pipeline_commit closes a batch). Until
// then any access to the destination, by any thread, is a race; a thread that returns with a copy in flight
// is a synccheck error.
void pipeline_copy(void* destination, const void* source, std::size_t bytes, std::size_t zero_fill);
void pipeline_commit();
void pipeline_wait_prior(std::size_t batches);

// mbarriers and st.async (mbarrier.cpp, kernels/cluster.cuh): init by one thread; one arrival that expects
// `bytes` of asynchronous stores; a store of 4, 8 or 16 bytes into a block's shared memory (another's, through
// map_shared_rank) that completes that many bytes of an mbarrier in that block; a wait for the phase of a
// parity to complete (it blocks until another thread completes it, or reports that none can).
void mbarrier_init(void* barrier, unsigned arrivals);
void mbarrier_arrive_expect_tx(void* barrier, unsigned bytes);
void store_async(void* remote, const void* value, std::size_t bytes, void* remote_barrier);
void mbarrier_wait(void* barrier, unsigned parity);

// The hook behind every instrumented load and store (memory_check.cpp).
void check_access(const void* address, std::size_t bytes, bool write);

}  // namespace sigmanet::simt
