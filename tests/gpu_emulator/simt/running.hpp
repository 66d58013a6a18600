#pragma once
// What the executor (executor.cpp) tells the memory checks (memory_check.cpp) about the thread running now, and
// what orders two threads' accesses.
//
// Within a block, a __syncthreads (or a cluster barrier) orders everything before it before everything after
// it: an access records the block's barrier count (its epoch). Within a warp, a rendezvous (shuffle, vote,
// __syncwarp) orders the accesses of the lanes that took part in it, and only theirs: WarpSync remembers which
// lanes met when. Between blocks of a cluster, what one block knows of another's accesses (knows_before) grows
// at a cluster barrier (everything before it, in every block) and at an mbarrier wait, which acquires what the
// threads that arrived on that phase knew when they arrived (mbarrier.cpp).
#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace sigmanet::simt::detail {

// The largest dynamic shared memory a launch may ask for (the H200's opt-in limit per block).
constexpr std::size_t kMaxSharedBytes = 227 * 1024;
constexpr std::size_t kDefaultSharedBytes = 48 * 1024;
// The most blocks a cluster may have (CUDA's portable cluster size).
constexpr std::uint32_t kMaxClusterBlocks = 8;

// The warp rendezvous of one warp: a count of them, and which lanes took part in each.
struct WarpSync {
  std::uint32_t count = 0;      // rendezvous completed by the warp
  std::uint32_t last_full = 0;  // the count after the last one every lane of the warp took part in
  std::vector<std::uint32_t> pairs;  // 32 x 32: the count after the last one both lanes took part in (made on
                                     // the warp's first rendezvous of some lanes only)

  // Whether a rendezvous after the count `since` had both lanes in it.
  bool met_since(unsigned lane, unsigned other, std::uint32_t since) const {
    if (last_full > since) return true;
    return !pairs.empty() && pairs[lane * 32 + other] > since;
  }
};

struct Running {
  const char* kernel = "";
  dim3 grid, block;
  std::uint32_t launch = 0;        // counts launches from 1: a race cell from another launch is stale
  std::uint32_t block_linear = 0;  // blockIdx as one number
  std::uint32_t block_threads = 0;
  std::uint32_t rank = 0;           // the block's rank in its cluster (0 without clusters)
  std::uint32_t cluster_blocks = 1;
  std::uint32_t cluster_epoch = 0;  // cluster barriers completed in this cluster so far
  std::uint32_t block_epoch = 0;    // barriers completed in this block so far (its own and the cluster's)
  const WarpSync* warp_syncs = nullptr;  // per warp of the block
  std::uint32_t thread = 0;               // threadIdx as one number
  const char* stack_low = nullptr;        // the running thread's stack: its own local memory
  const char* stack_high = nullptr;
};
extern Running running;

// Accesses by block `rank` of the running cluster made in its epochs before the returned one are ordered
// before the running thread's next access (executor.cpp).
std::uint32_t knows_before(std::uint32_t rank);
// The same for the block of rank `knower` as a whole, when it leaves: what its threads knew.
std::uint32_t block_knows_before(std::uint32_t knower, std::uint32_t rank);
// The barrier count of the block of rank `rank` now.
std::uint32_t epoch_of(std::uint32_t rank);
// What the running thread knows now, its own block's accesses before its last barrier included: what a release
// (an arrival on an mbarrier) carries. And an acquire (an mbarrier wait) of what releases carried.
void knowledge(std::uint32_t (&knows)[kMaxClusterBlocks]);
void acquire(const std::uint32_t (&knows)[kMaxClusterBlocks]);

// Suspends the running thread until done() holds, which the scheduler checks between other threads' turns;
// why() says what it waits for if nothing else can run (a synccheck report).
void block_until(const std::function<bool()>& done, const std::function<std::string()>& why);

// "block (x,y,z) thread (x,y,z)" for a thread of the running launch.
std::string where(std::uint32_t block_linear, std::uint32_t thread);
// The same for a thread of the running block, and of the block of rank `rank` in the running cluster.
std::string where(std::uint32_t thread);
std::string where_in_cluster(std::uint32_t rank, std::uint32_t thread);

// Whether every thread of the running cluster's block of rank `rank` has exited (its shared memory is gone).
bool block_exited(std::uint32_t rank);

// Prints "emulated GPU: <check>: <kernel> <where(running.thread)>: <what>" and stops the process.
[[noreturn]] void report(const char* check, const std::string& what);

// memory_check.cpp: the rank of the block of the running cluster whose shared memory holds `address` (-1:
// none), and "byte N of <that memory>" for messages.
int shared_rank_of(const void* address);
std::string describe_shared(const void* address);

// st.async's data (memory_check.cpp): written now, in flight until its mbarrier phase completes (any access
// before is a race), then landed: a write by the receiving block, at its epoch then, that a thread sees once
// it has waited for that phase (the completion's knowledge includes it).
constexpr std::uint32_t kLandedThread = 0xFFFFFFFFu;  // the writer of landed st.async data
void store_in_flight(void* address, std::size_t bytes);
void store_lands(void* address, std::size_t bytes);

// mbarrier.cpp: the block of rank `rank` starts: the mbarriers of the one before it are gone.
void begin_block_mbarriers(std::uint32_t rank);

// memory_check.cpp: a new block (of rank `rank` in its cluster) starts with its shared memory poisoned and
// unwritten; the running thread's block is running.rank's.
void begin_block_memory(std::uint32_t rank, std::size_t dynamic_shared_bytes);
// memory_check.cpp: the running thread returns from the kernel (no copy of its may still be in flight), and
// the last thread of the block of rank `rank` has returned (no other block's access to its shared memory may
// still be unordered before that).
void thread_exits();
void block_exits(std::uint32_t rank);
}  // namespace sigmanet::simt::detail
