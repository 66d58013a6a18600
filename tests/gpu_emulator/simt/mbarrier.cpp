// mbarriers and st.async on the SIMT executor (executor.hpp), as PTX defines them for sm_90:
// - an mbarrier in a block's shared memory counts a phase's arrivals and the bytes its asynchronous stores
//   still owe (the tx-count, which may run below zero while stores come before the arrival that expects them);
//   the phase completes when both are done, and the next starts with the arrivals of the init;
// - mbarrier.arrive.expect_tx adds bytes to the tx-count and arrives; it releases what the thread knows;
// - st.async writes another block's shared memory (or the thread's own block's) and completes that many bytes
//   of an mbarrier in the same block; its completion releases what the storing thread knows, and its data is in
//   flight until the phase completes (any access to it before is a race), when it lands;
// - a wait for the phase of one parity returns once that phase has completed, and acquires what the phase's
//   releases carried (running.hpp: the race check then orders those accesses before the waiting thread's).
// The checks: an mbarrier used before its init in this block (synccheck), an arrival on a phase that has none
// left (synccheck), an st.async whose mbarrier is not in its destination's block (memcheck), a wait that can
// never complete (synccheck, when nothing else can run); the accesses themselves go through memory_check.cpp,
// as 8-byte atomics on the mbarrier and a plain write for the store (so another block's shared memory before the
// cluster's first sync is a cluster entry race, as for any access).
#include <cstdint>
#include <cstring>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "../emulator.hpp"
#include "executor.hpp"
#include "running.hpp"

namespace sigmanet::simt {
namespace {

using detail::kMaxClusterBlocks;
using detail::running;

struct MBarrier {
  void* address = nullptr;
  std::uint32_t rank = 0;  // the block that holds it
  unsigned arrivals = 0;   // a phase's, from the init
  unsigned pending = 0;   // arrivals the current phase still needs
  std::int64_t tx = 0;    // bytes the current phase still expects
  std::uint32_t completed = 0;                       // phases completed
  std::uint32_t knows[kMaxClusterBlocks] = {};       // what the current phase's releases carried
  std::uint32_t completed_knows[kMaxClusterBlocks] = {};  // and the last completed phase's
  std::vector<std::pair<void*, std::size_t>> in_flight;    // the current phase's st.async data
};

// By address, for the blocks of the running cluster (each block start forgets its rank's).
std::map<const void*, std::pair<std::uint32_t, MBarrier>> barriers;

MBarrier& initialised(const void* barrier, const char* what) {
  const auto it = barriers.find(barrier);
  if (it == barriers.end())
    detail::report("synccheck", std::string(what) + " on the mbarrier at " + detail::describe_shared(barrier) +
                                    ", which no mbarrier_init of this block initialised");
  return it->second.second;
}

void release_into(MBarrier& b, const std::uint32_t (&knows)[kMaxClusterBlocks]) {
  for (std::uint32_t r = 0; r < kMaxClusterBlocks; ++r) b.knows[r] = std::max(b.knows[r], knows[r]);
}

void complete_if_done(MBarrier& b) {
  if (b.pending != 0 || b.tx != 0) return;
  // The phase's stores land now, written by the receiving block: a waiter knows them from here.
  for (const auto& [address, bytes] : b.in_flight) detail::store_lands(address, bytes);
  b.in_flight.clear();
  detail::store_lands(b.address, 8);  // the remote stores' updates of the mbarrier itself land with them
  b.knows[b.rank] = std::max(b.knows[b.rank], detail::epoch_of(b.rank) + 1);
  ++b.completed;
  b.pending = b.arrivals;
  std::memcpy(b.completed_knows, b.knows, sizeof b.knows);
  std::memset(b.knows, 0, sizeof b.knows);
}

void check_own_shared(const void* barrier, const char* what) {
  if (reinterpret_cast<std::uintptr_t>(barrier) % 8 != 0)
    detail::report("memcheck", std::string(what) + " on an mbarrier at an address not a multiple of 8");
  if (detail::shared_rank_of(barrier) != int(running.rank))
    detail::report("memcheck", std::string(what) + " on an mbarrier outside the block's own shared memory (" +
                                   detail::describe_shared(barrier) + ")");
}

}  // namespace

void detail::begin_block_mbarriers(std::uint32_t rank) {
  std::erase_if(barriers, [rank](const auto& entry) { return entry.second.first == rank; });
}

void mbarrier_init(void* barrier, unsigned arrivals) {
  if (!current) gpu_emulator::fail("mbarrier_init called outside a kernel");
  check_own_shared(barrier, "mbarrier_init");
  if (arrivals == 0) detail::report("synccheck", "mbarrier_init with 0 arrivals a phase");
  check_access(barrier, 8, true);
  MBarrier b;
  b.address = barrier;
  b.rank = running.rank;
  b.arrivals = b.pending = arrivals;
  barriers[barrier] = {running.rank, b};
}

void mbarrier_arrive_expect_tx(void* barrier, unsigned bytes) {
  if (!current) gpu_emulator::fail("mbarrier_arrive_expect_tx called outside a kernel");
  check_own_shared(barrier, "mbarrier_arrive_expect_tx");
  MBarrier& b = initialised(barrier, "mbarrier_arrive_expect_tx");
  atomic_access(barrier, 8);
  if (b.pending == 0)
    detail::report("synccheck", "arrives on the mbarrier at " + detail::describe_shared(barrier) +
                                    " whose phase has no arrivals left");
  std::uint32_t knows[kMaxClusterBlocks];
  detail::knowledge(knows);
  release_into(b, knows);
  b.tx += bytes;
  --b.pending;
  complete_if_done(b);
}

void store_async(void* remote, const void* value, std::size_t bytes, void* remote_barrier) {
  if (!current) gpu_emulator::fail("st.async called outside a kernel");
  if (bytes != 4 && bytes != 8 && bytes != 16) detail::report("memcheck", "st.async of " + std::to_string(bytes) + " bytes");
  if (reinterpret_cast<std::uintptr_t>(remote) % bytes != 0)
    detail::report("memcheck", "st.async of " + std::to_string(bytes) + " bytes to an address not a multiple of them");
  const int rank = detail::shared_rank_of(remote);
  if (rank < 0) detail::report("memcheck", "st.async to an address outside the cluster's shared memory");
  if (detail::shared_rank_of(remote_barrier) != rank)
    detail::report("memcheck", "st.async to " + detail::describe_shared(remote) + " completing an mbarrier at " +
                                   detail::describe_shared(remote_barrier) + ", not in the same block");
  // The write is checked now against what came before it (another thread's read of the last data in this
  // place must be ordered before), then its bytes are in flight until the phase completes.
  check_access(remote, bytes, true);
  raw_copy(remote, value, bytes);
  detail::store_in_flight(remote, bytes);
  MBarrier& b = initialised(remote_barrier, "st.async");
  untraced_access(remote_barrier, 8);
  b.in_flight.emplace_back(remote, bytes);
  std::uint32_t knows[kMaxClusterBlocks];
  detail::knowledge(knows);
  release_into(b, knows);
  b.tx -= std::int64_t(bytes);
  complete_if_done(b);
}

void mbarrier_wait(void* barrier, unsigned parity) {
  if (!current) gpu_emulator::fail("mbarrier_wait called outside a kernel");
  check_own_shared(barrier, "mbarrier_wait");
  MBarrier& b = initialised(barrier, "mbarrier_wait");
  atomic_access(barrier, 8);
  const std::function<bool()> done = [&b, parity] { return (b.completed & 1u) != (parity & 1u); };
  const std::function<std::string()> why = [&b, barrier, parity] {
    return "mbarrier_wait for the phase of parity " + std::to_string(parity) + " of the mbarrier at " +
           detail::describe_shared(barrier) + " never completes: " + std::to_string(b.pending) +
           " arrivals pending, " + std::to_string(b.tx) + " bytes of stores still expected";
  };
  detail::block_until(done, why);
  detail::acquire(b.completed_knows);
}

}  // namespace sigmanet::simt
