// memcheck, initcheck and racecheck for the kernels on the SIMT executor (see executor.hpp).
//
// The kernel files are compiled with -fsanitize=thread, which makes the compiler call __tsan_read4(address),
// __tsan_write8(address)... before every load and store that is not of a private local. ThreadSanitizer's
// runtime is not linked: the hooks are defined here, do nothing while host code runs, and check every
// access a kernel thread makes.
//
// Shared memory: each byte has a cell saying which thread last wrote it and last read it, in which block and
// at which barrier and warp rendezvous count. An access by another thread with nothing ordering the two
// (running.hpp: a barrier, a rendezvous of both lanes, or between blocks a cluster barrier or an mbarrier wait)
// is a race; a read of a byte this block never wrote is uninitialised. In a cluster each block has its own
// dynamic shared memory, which the others reach through map_shared_rank only after the cluster's first sync
// (before it, the other block may not have started) and only while that block runs: its exit must come after
// every access from another block, ordered by a cluster sync or an mbarrier wait.
// Asynchronous copies (__pipeline_memcpy_async) land when the thread that issued them waits for them
// (__pipeline_wait_prior), not at issue: their destination is off limits to every thread until then.
// Global memory: each byte written by a kernel records the launch, thread and counts, so a later access by
// another thread of the same launch with nothing ordering them is a race; each device byte also has a
// written flag, set by copies, memsets, cuBLAS and kernels, for initcheck.
#include <sys/mman.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "../emulator.hpp"
#include "executor.hpp"
#include "running.hpp"

// The linker's bounds of the section that holds every static __shared__ variable (device.hpp); null when
// no kernel declares one.
extern "C" char __start_sigmanet_simt_shared[] __attribute__((weak));
extern "C" char __stop_sigmanet_simt_shared[] __attribute__((weak));

namespace sigmanet::simt {
namespace {

using detail::running;
using gpu_emulator::DeviceAllocation;
using gpu_emulator::RaceCell;

// One access to a shared-memory byte: by whom (the block's rank in its cluster and the thread) and when.
struct Access {
  std::uint32_t generation = 0;  // of the memory's block when it happened (0: none)
  std::uint32_t rank = 0, thread = 0, block_epoch = 0, warp_count = 0;
};

struct SharedCell {
  Access write;
  // Two reads: the earliest one not yet ordered before now, and the latest. A thread that reads the byte
  // itself before writing it would otherwise hide an earlier reader from the write's check.
  Access first_read, last_read;
  // In flight: the destination of an asynchronous copy not yet waited for, or of an st.async whose mbarrier
  // phase has not completed. The generation then, and the thread that issued it.
  std::uint32_t flight_generation = 0, flight_rank = 0, flight_thread = 0;
  bool flight_store = false;  // st.async, not __pipeline_memcpy_async
};

struct SharedMemory {
  char* low = nullptr;
  std::size_t bytes = 0;
  std::vector<SharedCell> cells;
  std::string name;
  std::uint32_t generation = 0;  // of the block that owns it now
  std::uint32_t rank = 0;        // that block's rank in its cluster
  bool reached = false;          // by another block of the cluster, in this generation
};

// A __pipeline_memcpy_async in flight: the bytes it read at issue, landing at its thread's wait.
struct PendingCopy {
  std::uint32_t rank, thread;
  std::uint64_t batch;  // the thread's commit count that holds it; kUncommitted until its commit
  char* destination;
  std::size_t bytes;
  unsigned char data[16];
};
constexpr std::uint64_t kUncommitted = ~std::uint64_t(0);

constexpr std::size_t kAlign = 16;

// A block's dynamic shared memory: kMaxSharedBytes mapped, then an inaccessible page.
struct DynamicRegion {
  char* mapping = nullptr;
  SharedMemory memory;
};

struct State {
  std::uint32_t block_generation = 0;
  SharedMemory static_shared;
  DynamicRegion dynamic[detail::kMaxClusterBlocks];  // by rank in the cluster
  // The allocations recent global accesses fell in: a kernel reads and writes a few buffers, over and over.
  static constexpr std::size_t kRecent = 8;
  DeviceAllocation* recent[kRecent] = {};
  std::size_t next_recent = 0;
  std::vector<PendingCopy> copies;  // in flight, in the running cluster
  std::vector<std::uint64_t> commits[detail::kMaxClusterBlocks];  // per rank and thread: batches committed
};

State& state() {
  static State s;
  return s;
}

const char* kind(bool write) { return write ? "write" : "read"; }

std::string access_text(std::size_t bytes, bool write) { return std::to_string(bytes) + "-byte " + kind(write); }

// True when the access by `other` of the running block, made at the given counts, is ordered before the
// running thread's now.
bool ordered(std::uint32_t other, std::uint32_t block_epoch, std::uint32_t warp_count) {
  if (other == running.thread || running.block_epoch > block_epoch) return true;
  const std::uint32_t w = running.thread / 32;
  return other / 32 == w && running.warp_syncs[w].met_since(running.thread % 32, other % 32, warp_count);
}

// The same for an access to shared memory by any block of the running cluster.
bool ordered(const Access& a) {
  if (a.rank == running.rank && ordered(a.thread, a.block_epoch, a.warp_count)) return true;
  return a.block_epoch < detail::knows_before(a.rank);  // a cluster barrier, or an mbarrier wait since
}

std::uint32_t warp_count_now() { return running.warp_syncs[running.thread / 32].count; }

// record false: the access is checked for its bounds and what it reads, and leaves no trace for the race check
// (an st.async's update of another block's mbarrier, which lands with the phase: mbarrier.cpp).
void shared_access(SharedMemory& m, std::size_t offset, std::size_t bytes, bool write, bool atomic,
                   bool record = true) {
  if (offset + bytes > m.bytes)
    detail::report("memcheck", access_text(bytes, write) + " at byte " + std::to_string(offset) + " of " + m.name +
                                   " (" + std::to_string(m.bytes) + " bytes) runs " +
                                   std::to_string(offset + bytes - m.bytes) + " bytes past its end");
  const Access now{m.generation, running.rank, running.thread, running.block_epoch, warp_count_now()};
  for (std::size_t i = offset; i < offset + bytes; ++i) {
    SharedCell& c = m.cells[i];
    if (!record) {
      if (c.write.generation != m.generation)
        detail::report("initcheck", access_text(bytes, write) + " of byte " + std::to_string(i) + " of " + m.name +
                                        ", which no thread of its block wrote");
      continue;
    }
    if (c.flight_generation == m.generation)
      detail::report("racecheck",
                     access_text(bytes, write) + " of byte " + std::to_string(i) + " of " + m.name +
                         (c.flight_store ? ", written by an st.async of " +
                                               detail::where_in_cluster(c.flight_rank, c.flight_thread) +
                                               " whose mbarrier phase has not completed: it may not have landed"
                                         : ", the destination of a __pipeline_memcpy_async by " +
                                               detail::where_in_cluster(c.flight_rank, c.flight_thread) +
                                               " that no __pipeline_wait_prior has waited for: it may not have landed"));
    const auto race = [&](const char* earlier, const Access& other) {
      detail::report("racecheck", access_text(bytes, write) + " of byte " + std::to_string(i) + " of " + m.name +
                                      " after a " + earlier + " by " +
                                      detail::where_in_cluster(other.rank, other.thread) +
                                      (other.rank == running.rank ? " with no __syncthreads between them"
                                                                  : " with no cluster sync between them"));
    };
    // Atomics do not race with each other; a plain access after another thread's atomic still does.
    if (!atomic && c.write.generation == m.generation && !ordered(c.write)) race("write", c.write);
    if (write) {
      for (const Access& r : {c.first_read, c.last_read})
        if (!atomic && r.generation == m.generation && !ordered(r)) race("read", r);
      c.write = now;
    } else {
      if (c.write.generation != m.generation)
        detail::report("initcheck", access_text(bytes, write) + " of byte " + std::to_string(i) + " of " + m.name +
                                        ", which no thread of " +
                                        (m.rank == running.rank ? "this block" : "its block") + " wrote");
      const Access& first = c.first_read;
      if (first.generation != m.generation || ordered(first)) c.first_read = now;
      c.last_read = now;
    }
  }
}

DeviceAllocation* allocation_of(State& st, const char* p, std::size_t bytes) {
  for (DeviceAllocation* a : st.recent)
    if (a && !a->freed && p >= a->base && p + bytes <= a->base + a->bytes) return a;
  DeviceAllocation* a = gpu_emulator::find_device_allocation(p);
  if (a && !a->freed) {
    st.recent[st.next_recent] = a;
    st.next_recent = (st.next_recent + 1) % State::kRecent;
  }
  return a;
}

void global_access(const char* p, std::size_t bytes, bool write, bool atomic) {
  State& st = state();
  DeviceAllocation* a = allocation_of(st, p, bytes);
  const auto access = [&] { return access_text(bytes, write); };
  if (!a)
    detail::report("memcheck", access() + " at " + gpu_emulator::address_text(p) +
                                   ", which is neither device memory nor this block's shared memory (a host pointer?)");
  const std::size_t total = a->bytes;
  if (a->freed) detail::report("memcheck", access() + " in a freed " + std::to_string(total) + "-byte device buffer");
  if (p < a->base)
    detail::report("memcheck", access() + " " + std::to_string(a->base - p) + " bytes before the start of a " +
                                   std::to_string(total) + "-byte device allocation");
  const std::size_t offset = std::size_t(p - a->base);
  if (offset + bytes > total)
    detail::report("memcheck", access() + " at byte " + std::to_string(offset) + " of a " + std::to_string(total) +
                                   "-byte device allocation runs " + std::to_string(offset + bytes - total) +
                                   " bytes past its end");
  if (!write)
    for (std::size_t i = offset; i < offset + bytes; ++i)
      if (!a->written[i])
        detail::report("initcheck", access() + " of byte " + std::to_string(i) + " of a " + std::to_string(total) +
                                        "-byte device allocation that nothing wrote");
  // Most reads are of buffers no thread of this launch wrote: nothing to race with.
  if (!write && a->kernel_write_launch != running.launch) return;
  if (write) a->kernel_write_launch = running.launch;
  const std::uint32_t me = running.block_linear * running.block_threads + running.thread;
  for (std::size_t i = offset; i < offset + bytes; ++i) {
    RaceCell& c = a->race[i];
    if (!atomic && c.launch == running.launch && c.writer != me) {
      const std::uint32_t writer_block = c.writer / running.block_threads, writer = c.writer % running.block_threads;
      if (writer_block != running.block_linear || !ordered(writer, c.block_epoch, c.warp_epoch))
        detail::report("racecheck", access() + " of byte " + std::to_string(i) + " of a " + std::to_string(total) +
                                        "-byte device allocation after a write by " +
                                        detail::where(writer_block, writer) +
                                        " in the same launch, with nothing ordering them");
    }
    if (write) {
      a->written[i] = 1;
      c = RaceCell{running.launch, me, running.block_epoch, warp_count_now()};
    }
  }
}

void access(const void* address, std::size_t bytes, bool write, bool atomic, bool record = true) {
  const char* p = static_cast<const char*>(address);
  if (p >= running.stack_low && p < running.stack_high) return;  // the thread's own local memory
  State& st = state();
  if (p >= st.static_shared.low && p < st.static_shared.low + st.static_shared.bytes) {
    // Static __shared__ variables have one address in this process, so a cluster's blocks cannot each have
    // their own.
    if (running.cluster_blocks > 1)
      detail::report("memcheck", access_text(bytes, write) +
                                     " of static __shared__ memory in a cluster launch (on the executor the blocks "
                                     "of a cluster have dynamic shared memory only)");
    return shared_access(st.static_shared, std::size_t(p - st.static_shared.low), bytes, write, atomic, record);
  }
  for (std::uint32_t r = 0; r < running.cluster_blocks; ++r) {
    DynamicRegion& region = st.dynamic[r];
    if (!region.mapping || p < region.mapping || p >= region.mapping + detail::kMaxSharedBytes + 4096) continue;
    SharedMemory& m = region.memory;
    if (r != running.rank) {
      if (detail::block_exited(r))
        detail::report("memcheck", access_text(bytes, write) + " of the shared memory of cluster rank " +
                                       std::to_string(r) + ", whose block has exited (a cluster sync before it "
                                       "leaves keeps it)");
      if (running.cluster_epoch == 0)
        detail::report("racecheck", access_text(bytes, write) + " of the shared memory of cluster rank " +
                                        std::to_string(r) + " before the cluster's first sync: that block may not "
                                        "have started (a cluster entry race)");
      m.reached = true;
    }
    if (p < m.low)
      detail::report("memcheck", access_text(bytes, write) + " " + std::to_string(m.low - p) +
                                     " bytes before the start of " + m.name);
    return shared_access(m, std::size_t(p - m.low), bytes, write, atomic, record);
  }
  global_access(p, bytes, write, atomic);
}

}  // namespace

// The checks' own code can run instrumented code: the linker keeps one copy of each inline function and
// template (std::string's, say), and that may be the copy compiled into a kernel's file. What a check touches
// is not the kernel's doing, and checking it would recurse without end.
namespace {
thread_local bool checking = false;

struct CheckingScope {
  CheckingScope() { checking = true; }
  ~CheckingScope() { checking = false; }
};
}  // namespace

void check_access(const void* address, std::size_t bytes, bool write) {
  if (!current || checking) return;
  const CheckingScope scope;
  access(address, bytes, write, false);
}

void untraced_access(const void* address, std::size_t bytes) {
  if (!current) gpu_emulator::fail("an mbarrier operation outside a kernel");
  if (checking) return;
  const CheckingScope scope;
  access(address, bytes, false, true, false);
}

void atomic_access(const void* address, std::size_t bytes) {
  if (!current) gpu_emulator::fail("an atomic called outside a kernel");
  if (checking) return;
  const CheckingScope scope;
  access(address, bytes, false, true);
  access(address, bytes, true, true);
}

// The running thread's place in State::commits.
std::uint64_t& commits_of_running_thread() {
  std::vector<std::uint64_t>& per_thread = state().commits[running.rank];
  if (per_thread.size() < running.block_threads) per_thread.resize(running.block_threads, 0);
  return per_thread[running.thread];
}

void pipeline_copy(void* destination, const void* source, std::size_t bytes, std::size_t zero_fill) {
  if (!current) gpu_emulator::fail("__pipeline_memcpy_async called outside a kernel");
  const std::string what = "__pipeline_memcpy_async of " + std::to_string(bytes) + " bytes";
  if (bytes != 4 && bytes != 8 && bytes != 16) detail::report("memcheck", what + ": CUDA copies 4, 8 or 16");
  if (zero_fill != 0) detail::report("memcheck", what + " with zero fill, which the executor does not have");
  if ((reinterpret_cast<std::uintptr_t>(destination) | reinterpret_cast<std::uintptr_t>(source)) % bytes != 0)
    detail::report("memcheck", what + " from or to an address not a multiple of them");
  State& st = state();
  char* d = static_cast<char*>(destination);
  SharedMemory& own = st.dynamic[running.rank].memory;
  const bool to_static = d >= st.static_shared.low && d < st.static_shared.low + st.static_shared.bytes;
  if (!to_static && !(d >= own.low && d < own.low + own.bytes))
    detail::report("memcheck", what + " to an address outside the block's shared memory");
  // The copy reads its source and may write its destination any time from now to the wait: both are checked
  // now (the write against earlier accesses by other threads), and the destination stays off limits until then.
  PendingCopy copy{running.rank, running.thread, kUncommitted, d, bytes, {}};
  {
    const CheckingScope scope;
    access(source, bytes, false, false);
    access(destination, bytes, true, false);
  }
  std::memcpy(copy.data, source, bytes);
  SharedMemory& m = to_static ? st.static_shared : own;
  for (std::size_t i = 0; i < bytes; ++i) {
    SharedCell& c = m.cells[std::size_t(d - m.low) + i];
    c.flight_generation = m.generation;
    c.flight_rank = running.rank;
    c.flight_thread = running.thread;
    c.flight_store = false;
  }
  st.copies.push_back(copy);
}

void pipeline_commit() {
  if (!current) gpu_emulator::fail("__pipeline_commit called outside a kernel");
  const std::uint64_t batch = ++commits_of_running_thread();
  for (PendingCopy& c : state().copies)
    if (c.rank == running.rank && c.thread == running.thread && c.batch == kUncommitted) c.batch = batch;
}

void pipeline_wait_prior(std::size_t batches) {
  if (!current) gpu_emulator::fail("__pipeline_wait_prior called outside a kernel");
  State& st = state();
  const std::uint64_t committed = commits_of_running_thread();
  std::vector<PendingCopy> still;
  for (const PendingCopy& c : st.copies) {
    const bool mine = c.rank == running.rank && c.thread == running.thread;
    if (!mine || c.batch == kUncommitted || c.batch + batches > committed) {
      still.push_back(c);
      continue;
    }
    // It lands now: a write by this thread, which other threads see after their next barrier with it.
    SharedMemory& m = c.destination >= st.static_shared.low && c.destination < st.static_shared.low + st.static_shared.bytes
                          ? st.static_shared
                          : st.dynamic[running.rank].memory;
    for (std::size_t i = 0; i < c.bytes; ++i) m.cells[std::size_t(c.destination - m.low) + i].flight_generation = 0;
    std::memcpy(c.destination, c.data, c.bytes);
    const CheckingScope scope;
    access(c.destination, c.bytes, true, false);
  }
  st.copies.swap(still);
}

void* dynamic_shared() { return state().dynamic[running.rank].memory.low; }

namespace detail {

void store_in_flight(void* address, std::size_t bytes) {
  State& st = state();
  const int rank = shared_rank_of(address);
  SharedMemory& m = st.dynamic[rank].memory;
  for (std::size_t i = 0; i < bytes; ++i) {
    SharedCell& c = m.cells[std::size_t(static_cast<char*>(address) - m.low) + i];
    c.flight_generation = m.generation;
    c.flight_rank = running.rank;
    c.flight_thread = running.thread;
    c.flight_store = true;
  }
}

void store_lands(void* address, std::size_t bytes) {
  State& st = state();
  const std::uint32_t owner = std::uint32_t(shared_rank_of(address));
  SharedMemory& m = st.dynamic[owner].memory;
  for (std::size_t i = 0; i < bytes; ++i) {
    SharedCell& c = m.cells[std::size_t(static_cast<char*>(address) - m.low) + i];
    c.flight_generation = 0;
    c.write = Access{m.generation, owner, kLandedThread, epoch_of(owner), 0};
  }
}

int shared_rank_of(const void* address) {
  const State& st = state();
  const char* p = static_cast<const char*>(address);
  if (p >= st.static_shared.low && p < st.static_shared.low + st.static_shared.bytes) return int(running.rank);
  for (std::uint32_t r = 0; r < running.cluster_blocks; ++r) {
    const SharedMemory& m = st.dynamic[r].memory;
    if (p >= m.low && p < m.low + m.bytes) return int(r);
  }
  return -1;
}

std::string describe_shared(const void* address) {
  const State& st = state();
  const char* p = static_cast<const char*>(address);
  if (p >= st.static_shared.low && p < st.static_shared.low + st.static_shared.bytes)
    return "byte " + std::to_string(p - st.static_shared.low) + " of " + st.static_shared.name;
  const int rank = shared_rank_of(address);
  if (rank < 0) return "an address outside every block's shared memory";
  const SharedMemory& m = st.dynamic[rank].memory;
  return "byte " + std::to_string(p - m.low) + " of " + m.name;
}

}  // namespace detail

void* map_shared_rank(const void* address, unsigned rank) {
  if (!current) gpu_emulator::fail("map_shared_rank called outside a kernel");
  if (rank >= running.cluster_blocks)
    detail::report("memcheck", "map_shared_rank to rank " + std::to_string(rank) + " of a cluster of " +
                                   std::to_string(running.cluster_blocks) + " blocks");
  const State& st = state();
  const SharedMemory& own = st.dynamic[running.rank].memory;
  const char* p = static_cast<const char*>(address);
  if (p < own.low || p > own.low + own.bytes)
    detail::report("memcheck", "map_shared_rank of an address outside the block's dynamic shared memory");
  return st.dynamic[rank].memory.low + (p - own.low);
}

namespace detail {

void begin_block_memory(std::uint32_t rank, std::size_t dynamic_shared_bytes) {
  State& st = state();
  ++st.block_generation;
  if (!st.static_shared.low && __start_sigmanet_simt_shared) {
    st.static_shared.low = __start_sigmanet_simt_shared;
    st.static_shared.bytes = std::size_t(__stop_sigmanet_simt_shared - __start_sigmanet_simt_shared);
    st.static_shared.cells.resize(st.static_shared.bytes);
    st.static_shared.name = "static shared memory";
  }
  if (rank == 0) {
    st.static_shared.generation = st.block_generation;
    gpu_emulator::poison(st.static_shared.low, st.static_shared.bytes);
  }
  DynamicRegion& region = st.dynamic[rank];
  if (!region.mapping) {
    void* m = mmap(nullptr, kMaxSharedBytes + 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) gpu_emulator::fail("the SIMT executor could not map shared memory");
    region.mapping = static_cast<char*>(m);
    mprotect(region.mapping + kMaxSharedBytes, 4096, PROT_NONE);
    region.memory.cells.resize(kMaxSharedBytes);
  }
  SharedMemory& m = region.memory;
  m.rank = rank;
  m.reached = false;
  std::erase_if(st.copies, [rank](const PendingCopy& c) { return c.rank == rank; });
  st.commits[rank].assign(st.commits[rank].size(), 0);
  m.name = running.cluster_blocks > 1 ? "dynamic shared memory of cluster rank " + std::to_string(rank)
                                      : std::string("dynamic shared memory");
  m.generation = st.block_generation;
  // Dynamic shared memory ends at the guard page; its start keeps CUDA's 16-byte alignment.
  m.bytes = dynamic_shared_bytes;
  m.low = region.mapping + kMaxSharedBytes - (dynamic_shared_bytes + kAlign - 1) / kAlign * kAlign;
  gpu_emulator::poison(m.low, dynamic_shared_bytes);
}

void thread_exits() {
  std::size_t in_flight = 0;
  for (const PendingCopy& c : state().copies) in_flight += c.rank == running.rank && c.thread == running.thread;
  if (in_flight > 0)
    report("synccheck", "returns with " + std::to_string(in_flight) +
                            " __pipeline_memcpy_async copies no __pipeline_wait_prior waited for");
}

void block_exits(std::uint32_t rank) {
  SharedMemory& m = state().dynamic[rank].memory;
  if (!m.reached) return;
  for (std::size_t i = 0; i < m.bytes; ++i) {
    const SharedCell& c = m.cells[i];
    for (const Access* a : {&c.write, &c.first_read, &c.last_read}) {
      if (a->generation != m.generation || a->rank == rank || a->block_epoch < block_knows_before(rank, a->rank))
        continue;
      report("memcheck", "the block of cluster rank " + std::to_string(rank) + " exits while the " +
                             (a == &c.write ? "write" : "read") + " of byte " + std::to_string(i) + " of " + m.name +
                             " by " + where_in_cluster(a->rank, a->thread) +
                             " is not ordered before its exit (no cluster sync or mbarrier wait after it): its "
                             "shared memory may be gone when that access lands");
    }
  }
}

}  // namespace detail
}  // namespace sigmanet::simt

// The compiler's instrumentation calls (GCC's -fsanitize=thread); ThreadSanitizer's runtime is never linked.
#define SIGMANET_SIMT_HOOK(name, bytes, write) \
  extern "C" void name(void* p) { sigmanet::simt::check_access(p, bytes, write); }
SIGMANET_SIMT_HOOK(__tsan_read1, 1, false)
SIGMANET_SIMT_HOOK(__tsan_read2, 2, false)
SIGMANET_SIMT_HOOK(__tsan_read4, 4, false)
SIGMANET_SIMT_HOOK(__tsan_read8, 8, false)
SIGMANET_SIMT_HOOK(__tsan_read16, 16, false)
SIGMANET_SIMT_HOOK(__tsan_write1, 1, true)
SIGMANET_SIMT_HOOK(__tsan_write2, 2, true)
SIGMANET_SIMT_HOOK(__tsan_write4, 4, true)
SIGMANET_SIMT_HOOK(__tsan_write8, 8, true)
SIGMANET_SIMT_HOOK(__tsan_write16, 16, true)
SIGMANET_SIMT_HOOK(__tsan_unaligned_read2, 2, false)
SIGMANET_SIMT_HOOK(__tsan_unaligned_read4, 4, false)
SIGMANET_SIMT_HOOK(__tsan_unaligned_read8, 8, false)
SIGMANET_SIMT_HOOK(__tsan_unaligned_read16, 16, false)
SIGMANET_SIMT_HOOK(__tsan_unaligned_write2, 2, true)
SIGMANET_SIMT_HOOK(__tsan_unaligned_write4, 4, true)
SIGMANET_SIMT_HOOK(__tsan_unaligned_write8, 8, true)
SIGMANET_SIMT_HOOK(__tsan_unaligned_write16, 16, true)
SIGMANET_SIMT_HOOK(__tsan_volatile_read1, 1, false)
SIGMANET_SIMT_HOOK(__tsan_volatile_read2, 2, false)
SIGMANET_SIMT_HOOK(__tsan_volatile_read4, 4, false)
SIGMANET_SIMT_HOOK(__tsan_volatile_read8, 8, false)
SIGMANET_SIMT_HOOK(__tsan_volatile_write1, 1, true)
SIGMANET_SIMT_HOOK(__tsan_volatile_write2, 2, true)
SIGMANET_SIMT_HOOK(__tsan_volatile_write4, 4, true)
SIGMANET_SIMT_HOOK(__tsan_volatile_write8, 8, true)
#undef SIGMANET_SIMT_HOOK
extern "C" void __tsan_read_range(void* p, unsigned long bytes) { sigmanet::simt::check_access(p, bytes, false); }
extern "C" void __tsan_write_range(void* p, unsigned long bytes) { sigmanet::simt::check_access(p, bytes, true); }
extern "C" void __tsan_init() {}
extern "C" void __tsan_func_entry(void*) {}
extern "C" void __tsan_func_exit() {}
extern "C" void __tsan_vptr_update(void**, void*) {}
extern "C" void __tsan_vptr_read(void**) {}
