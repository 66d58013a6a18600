// memcheck, initcheck and racecheck for the kernels on the SIMT executor (see executor.hpp).
//
// The kernel files are compiled with -fsanitize=thread, which makes the compiler call __tsan_read4(address),
// __tsan_write8(address)... before every load and store that is not of a private local. ThreadSanitizer's
// runtime is not linked: the hooks are defined here, do nothing while host code runs, and check every
// access a kernel thread makes.
//
// Shared memory: each byte has a cell saying which thread last wrote it and last read it, in which block and
// at which barrier and warp rendezvous count. An access by another thread with no barrier (or, within a
// warp, no warp rendezvous) since is a race; a read of a byte this block never wrote is uninitialised. In a
// cluster each block has its own dynamic shared memory, which the others reach through map_shared_rank: an
// access from another block is ordered only by a cluster barrier.
// Global memory: each byte written by a kernel records the launch, thread and counts, so a later access by
// another thread of the same launch with nothing ordering them is a race; each device byte also has a
// written flag, set by copies, memsets, cuBLAS and kernels, for initcheck.
#include <sys/mman.h>

#include <cstdint>
#include <cstdio>
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
  std::uint32_t rank = 0, thread = 0, block_epoch = 0, warp_epoch = 0, cluster_epoch = 0;
};

struct SharedCell {
  Access write;
  // Two reads: the earliest one not yet ordered before now, and the latest. A thread that reads the byte
  // itself before writing it would otherwise hide an earlier reader from the write's check.
  Access first_read, last_read;
};

struct SharedMemory {
  char* low = nullptr;
  std::size_t bytes = 0;
  std::vector<SharedCell> cells;
  std::string name;
  std::uint32_t generation = 0;  // of the block that owns it now
  std::uint32_t rank = 0;        // that block's rank in its cluster
};

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
};

State& state() {
  static State s;
  return s;
}

const char* kind(bool write) { return write ? "write" : "read"; }

std::string access_text(std::size_t bytes, bool write) { return std::to_string(bytes) + "-byte " + kind(write); }

// True when the access by `other` of the running block, made at the given counts, is ordered before the
// running thread's now.
bool ordered(std::uint32_t other, std::uint32_t block_epoch, std::uint32_t warp_epoch) {
  if (other == running.thread || running.block_epoch > block_epoch) return true;
  return other / 32 == running.thread / 32 && running.warp_epochs[running.thread / 32] > warp_epoch;
}

// The same for an access to shared memory by any block of the running cluster.
bool ordered(const Access& a) {
  if (a.rank != running.rank) return running.cluster_epoch > a.cluster_epoch;
  return ordered(a.thread, a.block_epoch, a.warp_epoch);
}

void shared_access(SharedMemory& m, std::size_t offset, std::size_t bytes, bool write, bool atomic) {
  if (offset + bytes > m.bytes)
    detail::report("memcheck", access_text(bytes, write) + " at byte " + std::to_string(offset) + " of " + m.name +
                                   " (" + std::to_string(m.bytes) + " bytes) runs " +
                                   std::to_string(offset + bytes - m.bytes) + " bytes past its end");
  const std::uint32_t me = running.thread;
  const Access now{m.generation,        running.rank,
                   me,                  running.block_epoch,
                   running.warp_epochs[me / 32], running.cluster_epoch};
  for (std::size_t i = offset; i < offset + bytes; ++i) {
    SharedCell& c = m.cells[i];
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
      c = RaceCell{running.launch, me, running.block_epoch, running.warp_epochs[running.thread / 32]};
    }
  }
}

void access(const void* address, std::size_t bytes, bool write, bool atomic) {
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
    return shared_access(st.static_shared, std::size_t(p - st.static_shared.low), bytes, write, atomic);
  }
  for (std::uint32_t r = 0; r < running.cluster_blocks; ++r) {
    DynamicRegion& region = st.dynamic[r];
    if (!region.mapping || p < region.mapping || p >= region.mapping + detail::kMaxSharedBytes + 4096) continue;
    SharedMemory& m = region.memory;
    if (r != running.rank && detail::block_exited(r))
      detail::report("memcheck", access_text(bytes, write) + " of the shared memory of cluster rank " +
                                     std::to_string(r) + ", whose block has exited (a cluster sync before it leaves "
                                     "keeps it)");
    if (p < m.low)
      detail::report("memcheck", access_text(bytes, write) + " " + std::to_string(m.low - p) +
                                     " bytes before the start of " + m.name);
    return shared_access(m, std::size_t(p - m.low), bytes, write, atomic);
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

void atomic_access(const void* address, std::size_t bytes) {
  if (!current) gpu_emulator::fail("an atomic called outside a kernel");
  if (checking) return;
  const CheckingScope scope;
  access(address, bytes, false, true);
  access(address, bytes, true, true);
}

void pipeline_copy(void* destination, const void* source, std::size_t bytes, std::size_t zero_fill) {
  if (!current) gpu_emulator::fail("__pipeline_memcpy_async called outside a kernel");
  const std::string what = "__pipeline_memcpy_async of " + std::to_string(bytes) + " bytes";
  if (bytes != 4 && bytes != 8 && bytes != 16) detail::report("memcheck", what + ": CUDA copies 4, 8 or 16");
  if (zero_fill != 0) detail::report("memcheck", what + " with zero fill, which the executor does not have");
  if ((reinterpret_cast<std::uintptr_t>(destination) | reinterpret_cast<std::uintptr_t>(source)) % bytes != 0)
    detail::report("memcheck", what + " from or to an address not a multiple of them");
  const State& st = state();
  const char* d = static_cast<const char*>(destination);
  const SharedMemory& own = st.dynamic[running.rank].memory;
  const bool to_shared = (d >= st.static_shared.low && d < st.static_shared.low + st.static_shared.bytes) ||
                         (d >= own.low && d < own.low + own.bytes);
  if (!to_shared) detail::report("memcheck", what + " to an address outside the block's shared memory");
  copy_bytes(destination, source, bytes);
}

void* dynamic_shared() { return state().dynamic[running.rank].memory.low; }

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
  m.name = running.cluster_blocks > 1 ? "dynamic shared memory of cluster rank " + std::to_string(rank)
                                      : std::string("dynamic shared memory");
  m.generation = st.block_generation;
  // Dynamic shared memory ends at the guard page; its start keeps CUDA's 16-byte alignment.
  m.bytes = dynamic_shared_bytes;
  m.low = region.mapping + kMaxSharedBytes - (dynamic_shared_bytes + kAlign - 1) / kAlign * kAlign;
  gpu_emulator::poison(m.low, dynamic_shared_bytes);
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
