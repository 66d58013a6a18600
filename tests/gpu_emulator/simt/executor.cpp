// The SIMT executor's scheduling (see executor.hpp): a launch is queued on its emulated stream; when it runs,
// each cluster of blocks in turn (a block alone, without clusters) gets one Boost.Context fiber per thread,
// and the threads take turns until every one has finished, meeting at barriers and warp operations. Measured on this project's 2-core machine: a fiber
// switch there and back costs about 50 ns, ucontext's swapcontext about 770 ns (a system call each time).
#include "executor.hpp"

#include <sys/mman.h>

#include <algorithm>
#include <boost/context/fiber.hpp>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "../emulator.hpp"
#include "running.hpp"

// AddressSanitizer's fiber interface, weak: this file is not instrumented (see CMakeLists.txt), but the
// host code of an ASan build is, and some of it (the runtime's allocation lookup) runs on fiber stacks.
extern "C" void __sanitizer_start_switch_fiber(void** fake_stack_save, const void* bottom, std::size_t size)
    __attribute__((weak));
extern "C" void __sanitizer_finish_switch_fiber(void* fake_stack_save, const void** bottom_old, std::size_t* size_old)
    __attribute__((weak));

namespace sigmanet::simt {

ThreadContext* current = nullptr;

namespace detail {

Running running;

namespace {
std::string triple(const char* what, std::uint32_t linear, const dim3& d) {
  return std::string(what) + " (" + std::to_string(linear % d.x) + "," + std::to_string(linear / d.x % d.y) + "," +
         std::to_string(linear / (d.x * d.y)) + ")";
}
}  // namespace

std::string where(std::uint32_t block_linear, std::uint32_t thread) {
  if (thread == kLandedThread) return triple("block", block_linear, running.grid) + "'s landed st.async data";
  return triple("block", block_linear, running.grid) + " " + triple("thread", thread, running.block);
}

std::string where(std::uint32_t thread) { return where(running.block_linear, thread); }

std::uint32_t block_linear_of_rank(std::uint32_t rank);  // executor.cpp, below

std::string where_in_cluster(std::uint32_t rank, std::uint32_t thread) {
  return where(block_linear_of_rank(rank), thread);
}

void report(const char* check, const std::string& what) {
  std::fprintf(stderr, "emulated GPU: %s: %s %s: %s\n", check, running.kernel, where(running.thread).c_str(),
               what.c_str());
  std::fflush(stderr);
  std::abort();
}

}  // namespace detail

namespace {

namespace ctx = boost::context;
using detail::running;

// ---- fiber stacks: made once, reused by every block ----

constexpr std::size_t kStackBytes = 256 * 1024;  // kernels keep little on their stacks; ASan's frames are larger
constexpr std::size_t kMaxThreads = 1024;
constexpr std::uint32_t kMaxClusterBlocks = detail::kMaxClusterBlocks;

struct Stacks {
  std::vector<char*> low;  // each above one inaccessible guard page, so an overflow faults
  std::size_t page = 4096;
  char* get(std::size_t i) {
    while (low.size() <= i) {
      void* m =
          mmap(nullptr, kStackBytes + page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
      if (m == MAP_FAILED) gpu_emulator::fail("the SIMT executor could not map a fiber stack");
      mprotect(m, page, PROT_NONE);
      low.push_back(static_cast<char*>(m) + page);
    }
    return low[i];
  }
};

Stacks& stacks() {
  static Stacks s;
  return s;
}

// Boost.Context's stack allocator interface over a stack of the pool.
struct PooledStack {
  char* low;
  ctx::stack_context allocate() {
    ctx::stack_context sc;
    sc.sp = low + kStackBytes;
    sc.size = kStackBytes;
    return sc;
  }
  void deallocate(ctx::stack_context&) noexcept {}
};

// ---- AddressSanitizer, where the process has it, must hear of every stack switch ----

const void* scheduler_stack_bottom = nullptr;
std::size_t scheduler_stack_size = 0;
void start_switch(void** fake_stack, const void* bottom, std::size_t size) {
  if (__sanitizer_start_switch_fiber) __sanitizer_start_switch_fiber(fake_stack, bottom, size);
}
void finish_switch(void* fake_stack, bool into_fiber) {
  if (!__sanitizer_finish_switch_fiber) return;
  if (into_fiber)
    __sanitizer_finish_switch_fiber(fake_stack, &scheduler_stack_bottom, &scheduler_stack_size);
  else
    __sanitizer_finish_switch_fiber(fake_stack, nullptr, nullptr);
}

// ---- a block's threads ----

enum class State { ready, at_barrier, at_cluster_barrier, at_warp_op, at_activemask, blocked, exited };

struct Thread {
  ctx::fiber fiber;  // the thread's side: resumed by the scheduler
  ctx::fiber back;   // the scheduler's side: resumed to yield
  ThreadContext context{};
  State state = State::ready;
  bool started = false;
  int barrier_result = 0;
  std::uint64_t warp_result = 0;
  std::source_location site;  // of the __activemask it waits at
  const std::function<bool()>* done = nullptr;  // what a blocked thread waits for (block_until)
  const std::function<std::string()>* why = nullptr;  // and what it says when that never comes
  // What this thread acquired (an mbarrier wait) since its block's last barrier, valid while `acquired` is
  // the block's epoch + 1: accesses of block r before its epoch knows[r] are ordered before this thread.
  std::uint32_t acquired = 0;
  std::uint32_t knows[kMaxClusterBlocks] = {};
  void* fake_stack = nullptr;  // ASan's, while suspended
};

struct Warp {
  unsigned arrived = 0;  // lanes waiting at the pending operation
  WarpOp op = WarpOp::syncwarp;
  unsigned mask = 0;
  int width = 32;
  std::uint64_t value[32] = {};
  int lane_arg[32] = {};
};

const char* op_name(WarpOp op) {
  switch (op) {
    case WarpOp::shfl:
      return "__shfl_sync";
    case WarpOp::shfl_up:
      return "__shfl_up_sync";
    case WarpOp::shfl_down:
      return "__shfl_down_sync";
    case WarpOp::shfl_xor:
      return "__shfl_xor_sync";
    case WarpOp::ballot:
      return "__ballot_sync";
    case WarpOp::any:
      return "__any_sync";
    case WarpOp::all:
      return "__all_sync";
    case WarpOp::syncwarp:
      return "__syncwarp";
  }
  return "a warp operation";
}

std::string hex(unsigned mask) {
  char text[16];
  std::snprintf(text, sizeof text, "0x%08x", mask);
  return text;
}

struct Block {
  std::vector<Thread> threads;
  std::vector<Warp> warps;
  std::vector<detail::WarpSync> warp_syncs;
  std::uint32_t live = 0;  // threads not exited
  std::uint32_t at_barrier = 0;
  int barrier_count = 0;  // threads at the barrier with a non-zero predicate
  std::source_location barrier_site;
  std::uint32_t barrier_first = 0;  // the first thread to reach it
  std::uint32_t epoch = 0;          // barriers completed: its own __syncthreads and the cluster's
  std::uint32_t linear = 0;         // blockIdx as one number
  // What every thread of the block knows since its last barrier: accesses of block r before its epoch
  // knows[r] are ordered before them (detail::knows_before).
  std::uint32_t knows[kMaxClusterBlocks] = {};
  std::vector<std::uint32_t> acquirers;  // threads that acquired since the last barrier
};

// The blocks that run together: a cluster, or one block when the launch has no clusters.
struct Cluster {
  std::vector<Block> blocks;  // by rank
  dim3 dims = dim3(1, 1, 1);
  std::uint32_t threads = 0;     // of all its blocks
  std::uint32_t at_barrier = 0;  // threads at the cluster barrier
  std::source_location barrier_site;
  std::uint32_t barrier_first_rank = 0, barrier_first = 0;
  std::uint32_t epoch = 0;  // cluster barriers completed
  const unsigned char* arguments = nullptr;
  std::size_t argument_bytes = 0;
  void (*entry)(const void*) = nullptr;
};

Cluster cluster;
Schedule chosen_schedule = [] {
  const char* s = std::getenv("SIGMANET_SIMT_SCHEDULE");
  return s && std::strcmp(s, "reverse") == 0 ? Schedule::reverse : Schedule::forward;
}();
std::map<const void*, int> max_dynamic_shared;  // cudaFuncSetAttribute's, per kernel
std::uint32_t launches = 0;

Block& my_block() { return cluster.blocks[running.rank]; }
Thread& me() { return my_block().threads[running.thread]; }

// Whether the thread's acquired knowledge is still its own (no barrier of its block since).
bool acquired_now(const Block& block, const Thread& thread) { return thread.acquired == block.epoch + 1; }

// At a barrier of the block, what any of its threads acquired becomes every thread's.
void absorb_acquired(Block& block) {
  for (const std::uint32_t t : block.acquirers) {
    const Thread& thread = block.threads[t];
    if (!acquired_now(block, thread)) continue;
    for (std::uint32_t r = 0; r < kMaxClusterBlocks; ++r) block.knows[r] = std::max(block.knows[r], thread.knows[r]);
  }
  block.acquirers.clear();
}

// Makes (rank, thread) the one the checks and reports speak of.
void point_at(std::uint32_t rank, std::uint32_t thread) {
  const Block& b = cluster.blocks[rank];
  running.rank = rank;
  running.thread = thread;
  running.block_linear = b.linear;
  running.block_epoch = b.epoch;
  running.warp_syncs = b.warp_syncs.data();
  running.cluster_epoch = cluster.epoch;
}

// Back to the scheduler; returns when the scheduler resumes this thread.
void yield() {
  Thread& t = me();
  start_switch(&t.fake_stack, scheduler_stack_bottom, scheduler_stack_size);
  t.back = std::move(t.back).resume();
  finish_switch(t.fake_stack, true);
}

// Threads named by rank and thread index.
using ThreadId = std::pair<std::uint32_t, std::uint32_t>;

std::string thread_list(const std::vector<ThreadId>& ids) {
  std::string text;
  for (std::size_t i = 0; i < ids.size() && i < 4; ++i)
    text += (i ? ", " : "") + detail::where_in_cluster(ids[i].first, ids[i].second);
  if (ids.size() > 4) text += " and " + std::to_string(ids.size() - 4) + " more";
  return text;
}

void resume(std::uint32_t rank, std::uint32_t t) {
  Block& b = cluster.blocks[rank];
  Thread& thread = b.threads[t];
  point_at(rank, t);
  char* stack = stacks().get(rank * running.block_threads + t);
  running.stack_low = stack;
  running.stack_high = running.stack_low + kStackBytes;
  current = &thread.context;
  if (!thread.started) {
    thread.started = true;
    thread.fiber = ctx::fiber(std::allocator_arg, PooledStack{stack}, [&thread, &b](ctx::fiber&& back) {
      finish_switch(nullptr, true);
      thread.back = std::move(back);
      alignas(std::max_align_t) unsigned char arguments[kMaxArgumentBytes];
      std::memcpy(arguments, cluster.arguments, cluster.argument_bytes);
      cluster.entry(arguments);
      detail::thread_exits();
      thread.state = State::exited;
      if (--b.live == 0) detail::block_exits(running.rank);
      start_switch(nullptr, scheduler_stack_bottom, scheduler_stack_size);  // this fiber's stack is done
      return std::move(thread.back);
    });
  }
  void* scheduler_fake_stack = nullptr;
  start_switch(&scheduler_fake_stack, running.stack_low, kStackBytes);
  thread.fiber = std::move(thread.fiber).resume();
  finish_switch(scheduler_fake_stack, false);
  current = nullptr;
}

// No thread can run and some have not finished: a barrier or warp operation that cannot complete.
[[noreturn]] void report_stuck() {
  for (std::uint32_t r = 0; r < cluster.blocks.size(); ++r)
    for (std::uint32_t t = 0; t < cluster.blocks[r].threads.size(); ++t) {
      const Thread& thread = cluster.blocks[r].threads[t];
      if (thread.state != State::blocked) continue;
      point_at(r, t);
      detail::report("synccheck", (*thread.why)());
    }
  std::vector<ThreadId> exited, at_cluster_barrier;
  for (std::uint32_t r = 0; r < cluster.blocks.size(); ++r)
    for (std::uint32_t t = 0; t < cluster.blocks[r].threads.size(); ++t) {
      const State s = cluster.blocks[r].threads[t].state;
      if (s == State::exited) exited.push_back({r, t});
      if (s == State::at_cluster_barrier) at_cluster_barrier.push_back({r, t});
    }
  for (std::uint32_t r = 0; r < cluster.blocks.size(); ++r) {
    const Block& block = cluster.blocks[r];
    for (std::uint32_t t = 0; t < block.threads.size(); ++t) {
      if (block.threads[t].state != State::at_warp_op) continue;
      const std::uint32_t w = t / 32;
      const Warp& warp = block.warps[w];
      std::vector<ThreadId> missing_exited, missing_barrier;
      for (std::uint32_t lane = 0; lane < 32; ++lane)
        if ((warp.mask >> lane & 1u) && !(warp.arrived >> lane & 1u)) {
          const std::uint32_t other = w * 32 + lane;
          (block.threads[other].state == State::exited ? missing_exited : missing_barrier).push_back({r, other});
        }
      point_at(r, t);
      std::string what = std::string(op_name(warp.op)) + " with mask " + hex(warp.mask) + " never completes: ";
      if (!missing_exited.empty()) what += "lanes that exited: " + thread_list(missing_exited);
      if (!missing_barrier.empty())
        what += std::string(missing_exited.empty() ? "" : "; ") +
                "lanes waiting at a barrier: " + thread_list(missing_barrier);
      detail::report("synccheck", what);
    }
  }
  const auto also_waiting = [&] {
    return at_cluster_barrier.empty() ? std::string()
                                      : "; threads waiting at the cluster's sync: " + thread_list(at_cluster_barrier);
  };
  for (std::uint32_t r = 0; r < cluster.blocks.size(); ++r) {
    const Block& block = cluster.blocks[r];
    if (block.at_barrier == 0) continue;
    point_at(r, block.barrier_first);
    detail::report("synccheck", "__syncthreads reached by " + std::to_string(block.at_barrier) + " of " +
                                    std::to_string(block.threads.size()) +
                                    " threads; threads that exited first: " + thread_list(exited) + also_waiting());
  }
  point_at(cluster.barrier_first_rank, cluster.barrier_first);
  detail::report("synccheck", "the cluster's sync reached by " + std::to_string(cluster.at_barrier) + " of " +
                                  std::to_string(cluster.threads) +
                                  " threads of the cluster; threads that exited first: " + thread_list(exited));
}

// __activemask as a GPU answers it: the lanes that execute that call together. Once no lane of a warp can run
// any further (each waits at a barrier, a warp operation, an __activemask or an mbarrier, or has exited), the
// lanes at one __activemask call are the ones converged there; each gets their mask. Returns whether any did.
bool settle_activemasks() {
  bool settled = false;
  for (Block& block : cluster.blocks)
    for (std::size_t w = 0; w < block.warps.size(); ++w) {
      const std::size_t first = w * 32, end = std::min(first + 32, block.threads.size());
      bool waiting = false, running_lane = false;
      for (std::size_t t = first; t < end; ++t) {
        const Thread& thread = block.threads[t];
        waiting = waiting || thread.state == State::at_activemask;
        running_lane = running_lane || thread.state == State::ready ||
                       (thread.state == State::blocked && (*thread.done)());
      }
      if (!waiting || running_lane) continue;
      for (std::size_t t = first; t < end; ++t) {
        if (block.threads[t].state != State::at_activemask) continue;
        const std::source_location& site = block.threads[t].site;
        unsigned mask = 0;
        for (std::size_t u = first; u < end; ++u) {
          const Thread& other = block.threads[u];
          if (other.state == State::at_activemask && other.site.line() == site.line() &&
              other.site.column() == site.column() && std::strcmp(other.site.file_name(), site.file_name()) == 0)
            mask |= 1u << (u - first);
        }
        for (std::size_t u = first; u < end; ++u)
          if (mask >> (u - first) & 1u) {
            block.threads[u].warp_result = mask;
            block.threads[u].state = State::ready;
          }
        settled = true;
      }
    }
  return settled;
}

// Runs the cluster whose first block is `first` (a block alone when the launch has no clusters).
void run_cluster(const LaunchConfig& config, const uint3& first) {
  const std::uint32_t n = config.block.x * config.block.y * config.block.z;
  const dim3 c = config.cluster;
  const std::uint32_t blocks = c.x * c.y * c.z;
  cluster.blocks.resize(blocks);
  cluster.dims = c;
  cluster.threads = n * blocks;
  cluster.at_barrier = 0;
  cluster.epoch = 0;
  running.block_threads = n;
  running.cluster_blocks = blocks;
  const dim3 g = config.grid;
  for (std::uint32_t r = 0; r < blocks; ++r) {
    Block& block = cluster.blocks[r];
    const uint3 idx{first.x + r % c.x, first.y + r / c.x % c.y, first.z + r / (c.x * c.y)};
    block.threads.clear();
    block.threads.resize(n);
    block.warps.assign((n + 31) / 32, Warp{});
    block.warp_syncs.assign(block.warps.size(), detail::WarpSync{});
    std::fill(std::begin(block.knows), std::end(block.knows), 0u);
    block.acquirers.clear();
    block.live = n;
    block.at_barrier = 0;
    block.barrier_count = 0;
    block.epoch = 0;
    block.linear = idx.x + g.x * (idx.y + g.y * idx.z);
    for (std::uint32_t t = 0; t < n; ++t)
      block.threads[t].context = ThreadContext{
          uint3{t % config.block.x, t / config.block.x % config.block.y, t / (config.block.x * config.block.y)}, idx,
          config.block, config.grid};
    detail::begin_block_memory(r, config.dynamic_shared_bytes);
    detail::begin_block_mbarriers(r);
  }
  point_at(0, 0);

  const bool reverse = chosen_schedule == Schedule::reverse;
  const auto live = [] {
    for (const Block& b : cluster.blocks)
      if (b.live > 0) return true;
    return false;
  };
  while (live()) {
    bool ran = false;
    for (std::uint32_t i = 0; i < cluster.threads; ++i) {
      const std::uint32_t k = reverse ? cluster.threads - 1 - i : i, r = k / n, t = k % n;
      Thread& thread = cluster.blocks[r].threads[t];
      if (thread.state == State::blocked && (*thread.done)()) thread.state = State::ready;
      if (thread.state != State::ready) continue;
      resume(r, t);
      ran = true;
    }
    if (settle_activemasks()) ran = true;
    if (!ran && live()) report_stuck();
  }
}

void run_grid(const LaunchConfig& config, const std::vector<std::max_align_t>& arguments, std::size_t argument_bytes,
              void (*entry)(const void*)) {
  running.kernel = config.kernel;
  running.grid = config.grid;
  running.block = config.block;
  running.launch = ++launches;
  cluster.arguments = reinterpret_cast<const unsigned char*>(arguments.data());
  cluster.argument_bytes = argument_bytes;
  cluster.entry = entry;
  const dim3 g = config.grid, c = config.cluster;
  const dim3 clusters(g.x / c.x, g.y / c.y, g.z / c.z);
  const std::uint64_t count = std::uint64_t(clusters.x) * clusters.y * clusters.z;
  for (std::uint64_t i = 0; i < count; ++i) {
    const std::uint64_t k = chosen_schedule == Schedule::reverse ? count - 1 - i : i;
    const uint3 at{unsigned(k % clusters.x) * c.x, unsigned(k / clusters.x % clusters.y) * c.y,
                   unsigned(k / (std::uint64_t(clusters.x) * clusters.y)) * c.z};
    run_cluster(config, at);
  }
  cluster.arguments = nullptr;
}

bool within(const dim3& d, unsigned x, unsigned y, unsigned z) {
  return d.x >= 1 && d.y >= 1 && d.z >= 1 && d.x <= x && d.y <= y && d.z <= z;
}

}  // namespace

uint3 thread_index() { return current->thread_idx; }
uint3 block_index() { return current->block_idx; }
dim3 block_dimensions() { return current->block_dim; }
dim3 grid_dimensions() { return current->grid_dim; }

void set_schedule(Schedule schedule) { chosen_schedule = schedule; }
Schedule schedule() { return chosen_schedule; }

void launch(const LaunchConfig& config, cudaStream_t stream, const void* arguments, std::size_t argument_bytes,
            void (*entry)(const void* arguments)) {
  const std::uint64_t threads = std::uint64_t(config.block.x) * config.block.y * config.block.z;
  if (!within(config.block, 1024, 1024, 64) || threads > kMaxThreads ||
      !within(config.grid, 0x7FFFFFFFu, 65535, 65535)) {
    gpu_emulator::set_last_error(cudaErrorInvalidConfiguration);
    return;
  }
  // A cluster has at most 8 blocks (the portable size) and tiles the grid exactly.
  const dim3 c = config.cluster;
  if (!within(c, 8, 8, 8) || std::uint64_t(c.x) * c.y * c.z > kMaxClusterBlocks || config.grid.x % c.x != 0 ||
      config.grid.y % c.y != 0 || config.grid.z % c.z != 0) {
    gpu_emulator::set_last_error(cudaErrorInvalidClusterSize);
    return;
  }
  // Past 48 KB a kernel must first be allowed more with cudaFuncSetAttribute, as on the GPU.
  const auto allowed = max_dynamic_shared.find(config.function);
  const std::size_t limit =
      allowed == max_dynamic_shared.end() ? detail::kDefaultSharedBytes : std::size_t(allowed->second);
  if (config.dynamic_shared_bytes > limit) {
    gpu_emulator::set_last_error(cudaErrorInvalidValue);
    return;
  }
  std::vector<std::max_align_t> copy((argument_bytes + sizeof(std::max_align_t) - 1) / sizeof(std::max_align_t));
  std::memcpy(copy.data(), arguments, argument_bytes);
  gpu_emulator::enqueue(stream, config.kernel, [config, copy = std::move(copy), argument_bytes, entry] {
    run_grid(config, copy, argument_bytes, entry);
  });
}

namespace {
std::string line_of(const std::source_location& s) { return std::string(s.file_name()) + ":" + std::to_string(s.line()); }
}  // namespace

int block_barrier(int predicate, const std::source_location& site) {
  if (!current) gpu_emulator::fail("__syncthreads called outside a kernel");
  Thread& t = me();
  Block& block = my_block();
  if (block.at_barrier == 0) {
    block.barrier_site = site;
    block.barrier_first = running.thread;
  } else if (site.line() != block.barrier_site.line() ||
             std::strcmp(site.file_name(), block.barrier_site.file_name()) != 0) {
    detail::report("synccheck", "waits at a different __syncthreads from " + detail::where(block.barrier_first) +
                                    " (a barrier in divergent code: " + line_of(site) + " and " +
                                    line_of(block.barrier_site) + ")");
  }
  t.state = State::at_barrier;
  ++block.at_barrier;
  block.barrier_count += predicate;
  if (block.at_barrier == block.threads.size()) {
    for (Thread& other : block.threads) {
      other.state = State::ready;
      other.barrier_result = block.barrier_count;
    }
    block.at_barrier = 0;
    block.barrier_count = 0;
    absorb_acquired(block);
    running.block_epoch = ++block.epoch;
  }
  yield();
  return t.barrier_result;
}

void cluster_barrier(const std::source_location& site) {
  if (!current) gpu_emulator::fail("a cluster's sync called outside a kernel");
  if (cluster.at_barrier == 0) {
    cluster.barrier_site = site;
    cluster.barrier_first_rank = running.rank;
    cluster.barrier_first = running.thread;
  } else if (site.line() != cluster.barrier_site.line() ||
             std::strcmp(site.file_name(), cluster.barrier_site.file_name()) != 0) {
    detail::report("synccheck", "waits at a different cluster sync from " +
                                    detail::where_in_cluster(cluster.barrier_first_rank, cluster.barrier_first) +
                                    " (a barrier in divergent code: " + line_of(site) + " and " +
                                    line_of(cluster.barrier_site) + ")");
  }
  me().state = State::at_cluster_barrier;
  if (++cluster.at_barrier == cluster.threads) {
    for (Block& b : cluster.blocks) {
      for (Thread& other : b.threads) other.state = State::ready;
      ++b.epoch;  // a barrier for each block too
      b.acquirers.clear();
    }
    // Everything any block did before it is ordered before everything after it, in every block.
    for (Block& b : cluster.blocks)
      for (std::uint32_t r = 0; r < cluster.blocks.size(); ++r) b.knows[r] = cluster.blocks[r].epoch;
    cluster.at_barrier = 0;
    ++cluster.epoch;
  }
  yield();
}

std::uint32_t detail::knows_before(std::uint32_t rank) {
  const Block& block = my_block();
  const Thread& thread = me();
  return acquired_now(block, thread) ? std::max(block.knows[rank], thread.knows[rank]) : block.knows[rank];
}

std::uint32_t detail::block_knows_before(std::uint32_t knower, std::uint32_t rank) {
  const Block& block = cluster.blocks[knower];
  std::uint32_t knows = block.knows[rank];
  for (const std::uint32_t t : block.acquirers)
    if (acquired_now(block, block.threads[t])) knows = std::max(knows, block.threads[t].knows[rank]);
  return knows;
}

std::uint32_t detail::epoch_of(std::uint32_t rank) { return cluster.blocks[rank].epoch; }

void detail::knowledge(std::uint32_t (&knows)[kMaxClusterBlocks]) {
  for (std::uint32_t r = 0; r < kMaxClusterBlocks; ++r)
    knows[r] = r < cluster.blocks.size() ? knows_before(r) : 0;
  // Its own block's accesses before its last barrier are ordered before it.
  knows[running.rank] = std::max(knows[running.rank], my_block().epoch);
}

void detail::acquire(const std::uint32_t (&knows)[kMaxClusterBlocks]) {
  Block& block = my_block();
  Thread& thread = me();
  if (!acquired_now(block, thread)) {
    std::copy(std::begin(block.knows), std::end(block.knows), std::begin(thread.knows));
    thread.acquired = block.epoch + 1;
    block.acquirers.push_back(running.thread);
  }
  for (std::uint32_t r = 0; r < kMaxClusterBlocks; ++r) thread.knows[r] = std::max(thread.knows[r], knows[r]);
}

void detail::block_until(const std::function<bool()>& done, const std::function<std::string()>& why) {
  if (done()) return;
  Thread& thread = me();
  thread.done = &done;
  thread.why = &why;
  thread.state = State::blocked;
  yield();
  thread.done = nullptr;
  thread.why = nullptr;
}

unsigned cluster_block_rank() { return running.rank; }
unsigned cluster_block_count() { return running.cluster_blocks; }
dim3 cluster_dimensions() { return cluster.dims; }
dim3 cluster_block_index() {
  const dim3 c = cluster.dims;
  return dim3(running.rank % c.x, running.rank / c.x % c.y, running.rank / (c.x * c.y));
}

std::uint64_t warp_op(WarpOp op, unsigned mask, std::uint64_t value, int lane_arg, int width) {
  if (!current) gpu_emulator::fail(std::string(op_name(op)) + " called outside a kernel");
  const std::uint32_t lane = running.thread % 32, w = running.thread / 32;
  const std::uint32_t lanes = std::min<std::uint32_t>(32, running.block_threads - w * 32);
  const unsigned existing = lanes == 32 ? 0xFFFFFFFFu : (1u << lanes) - 1u;
  if (!(mask >> lane & 1u))
    detail::report("synccheck",
                   std::string(op_name(op)) + " with mask " + hex(mask) + ", which leaves out the calling lane");
  if (mask & ~existing)
    detail::report("synccheck", std::string(op_name(op)) + " with mask " + hex(mask) +
                                    " names lanes that do not exist (" + std::to_string(lanes) +
                                    " lanes in this warp)");
  if (width < 1 || width > 32 || (width & (width - 1)) != 0)
    detail::report("synccheck", std::string(op_name(op)) + " with width " + std::to_string(width) +
                                    " (it must be a power of 2 up to 32)");
  Block& block = my_block();
  Warp& warp = block.warps[w];
  if (warp.arrived == 0) {
    warp.op = op;
    warp.mask = mask;
    warp.width = width;
  } else if (warp.op != op || warp.mask != mask || warp.width != width) {
    detail::report("synccheck", std::string(op_name(op)) + " with mask " + hex(mask) + " meets lanes waiting at " +
                                    op_name(warp.op) + " with mask " + hex(warp.mask));
  }
  warp.value[lane] = value;
  warp.lane_arg[lane] = lane_arg;
  warp.arrived |= 1u << lane;
  me().state = State::at_warp_op;
  if (warp.arrived == mask) {
    unsigned votes = 0;
    for (std::uint32_t l = 0; l < 32; ++l)
      if ((mask >> l & 1u) && warp.value[l] != 0) votes |= 1u << l;
    for (std::uint32_t l = 0; l < 32; ++l) {
      if (!(mask >> l & 1u)) continue;
      Thread& t = block.threads[w * 32 + l];
      const int arg = warp.lane_arg[l], segment = int(l) / width * width, in_segment = int(l) - segment;
      int source = int(l);
      switch (op) {
        case WarpOp::shfl:
          source = segment + (arg & (width - 1));
          break;
        case WarpOp::shfl_up:
          source = in_segment >= arg ? int(l) - arg : int(l);
          break;
        case WarpOp::shfl_down:
          source = in_segment + arg < width ? int(l) + arg : int(l);
          break;
        case WarpOp::shfl_xor:
          source = (int(l) ^ arg) < segment + width ? int(l) ^ arg : int(l);
          break;
        default:
          break;
      }
      if (source < 0 || source > 31 || !(mask >> source & 1u)) {
        running.thread = w * 32 + l;
        detail::report("synccheck", std::string(op_name(op)) + " with mask " + hex(mask) + " reads lane " +
                                        std::to_string(source) + ", which is not in the mask");
      }
      switch (op) {
        case WarpOp::ballot:
          t.warp_result = votes;
          break;
        case WarpOp::any:
          t.warp_result = votes != 0;
          break;
        case WarpOp::all:
          t.warp_result = votes == mask;
          break;
        case WarpOp::syncwarp:
          t.warp_result = 0;
          break;
        default:
          t.warp_result = warp.value[source];
          break;
      }
      t.state = State::ready;
    }
    warp.arrived = 0;
    detail::WarpSync& sync = block.warp_syncs[w];
    ++sync.count;
    if (mask == existing) {
      sync.last_full = sync.count;
    } else {
      if (sync.pairs.empty()) sync.pairs.assign(32 * 32, 0);
      for (std::uint32_t a = 0; a < 32; ++a)
        for (std::uint32_t b = 0; b < 32; ++b)
          if ((mask >> a & 1u) && (mask >> b & 1u)) sync.pairs[a * 32 + b] = sync.count;
    }
    running.thread = w * 32 + lane;
  }
  yield();
  return me().warp_result;
}

unsigned active_mask(const std::source_location& site) {
  if (!current) gpu_emulator::fail("__activemask called outside a kernel");
  Thread& t = me();
  t.site = site;
  t.state = State::at_activemask;
  yield();
  return unsigned(t.warp_result);
}

void raw_copy(void* destination, const void* source, std::size_t bytes) { std::memcpy(destination, source, bytes); }

std::uint32_t detail::block_linear_of_rank(std::uint32_t rank) { return cluster.blocks[rank].linear; }
bool detail::block_exited(std::uint32_t rank) { return cluster.blocks[rank].live == 0; }

void copy_bytes(void* destination, const void* source, std::size_t bytes) {
  check_access(source, bytes, false);
  check_access(destination, bytes, true);
  std::memmove(destination, source, bytes);
}

}  // namespace sigmanet::simt

// The runtime's view of kernels: their attributes and the dynamic shared memory they may use.
cudaError_t cudaFuncGetAttributes(cudaFuncAttributes* attributes, const void* function) {
  int devices = 0;
  if (cudaGetDeviceCount(&devices) != cudaSuccess) return cudaErrorNoDevice;
  if (!attributes || !function) return sigmanet::gpu_emulator::set_last_error(cudaErrorInvalidDeviceFunction);
  *attributes = cudaFuncAttributes{};
  attributes->maxThreadsPerBlock = int(sigmanet::simt::kMaxThreads);
  attributes->ptxVersion = attributes->binaryVersion = 90;  // the kernels as compiled for an H200
  const auto it = sigmanet::simt::max_dynamic_shared.find(function);
  attributes->maxDynamicSharedSizeBytes =
      it == sigmanet::simt::max_dynamic_shared.end() ? int(sigmanet::simt::detail::kDefaultSharedBytes) : it->second;
  return cudaSuccess;
}

cudaError_t cudaFuncSetAttribute(const void* function, cudaFuncAttribute attribute, int value) {
  if (!function) return sigmanet::gpu_emulator::set_last_error(cudaErrorInvalidDeviceFunction);
  if (attribute != cudaFuncAttributeMaxDynamicSharedMemorySize) return cudaSuccess;  // preferences: no effect here
  if (value < 0 || std::size_t(value) > sigmanet::simt::detail::kMaxSharedBytes)
    return sigmanet::gpu_emulator::set_last_error(cudaErrorInvalidValue);
  sigmanet::simt::max_dynamic_shared[function] = value;
  return cudaSuccess;
}
