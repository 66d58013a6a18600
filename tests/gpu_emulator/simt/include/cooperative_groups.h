#pragma once
// Cooperative groups' basics on the SIMT executor (found before the toolkit's header in the emulator build):
// the thread block and its 32-thread tiles, the thread-block cluster (sync, ranks, map_shared_rank), and
// memcpy_async/wait, whose copies complete at once. Grid-wide groups, coalesced groups, other tile sizes and
// the cluster's split barrier_arrive/barrier_wait are not here: a kernel using them fails to compile.
#include <cstddef>
#include <source_location>

#include "executor.hpp"

namespace cooperative_groups {

class thread_block {
 public:
  void sync(const std::source_location& site = std::source_location::current()) const {
    ::sigmanet::simt::block_barrier(0, site);
  }
  unsigned thread_rank() const {
    const uint3 t = ::sigmanet::simt::thread_index();
    const dim3 d = ::sigmanet::simt::block_dimensions();
    return (t.z * d.y + t.y) * d.x + t.x;
  }
  unsigned size() const { return num_threads(); }
  unsigned num_threads() const {
    const dim3 d = ::sigmanet::simt::block_dimensions();
    return d.x * d.y * d.z;
  }
  dim3 group_index() const {
    const uint3 b = ::sigmanet::simt::block_index();
    return dim3(b.x, b.y, b.z);
  }
  dim3 thread_index() const {
    const uint3 t = ::sigmanet::simt::thread_index();
    return dim3(t.x, t.y, t.z);
  }
  dim3 dim_threads() const { return ::sigmanet::simt::block_dimensions(); }
};

inline thread_block this_thread_block() { return thread_block(); }
inline void sync(const thread_block& block, const std::source_location& site = std::source_location::current()) {
  block.sync(site);
}

// The running block's thread-block cluster (one block when the launch has no clusters, as on a GPU).
class cluster_group {
 public:
  void sync(const std::source_location& site = std::source_location::current()) const {
    ::sigmanet::simt::cluster_barrier(site);
  }
  unsigned block_rank() const { return ::sigmanet::simt::cluster_block_rank(); }
  unsigned num_blocks() const { return ::sigmanet::simt::cluster_block_count(); }
  dim3 block_index() const { return ::sigmanet::simt::cluster_block_index(); }
  dim3 dim_blocks() const { return ::sigmanet::simt::cluster_dimensions(); }
  unsigned num_threads() const { return num_blocks() * thread_block().num_threads(); }
  unsigned thread_rank() const { return block_rank() * thread_block().num_threads() + thread_block().thread_rank(); }
  // The address in block `rank`'s shared memory of what `address` is in this block's.
  template <class T>
  T* map_shared_rank(T* address, unsigned rank) const {
    return static_cast<T*>(::sigmanet::simt::map_shared_rank(address, rank));
  }
};

inline cluster_group this_cluster() { return cluster_group(); }

template <unsigned Size>
class thread_block_tile {
  static_assert(Size == 32, "the SIMT executor has 32-thread tiles only");

 public:
  explicit thread_block_tile(unsigned rank_in_block) : rank_(rank_in_block) {}
  void sync() const { ::sigmanet::simt::warp_op(::sigmanet::simt::WarpOp::syncwarp, 0xFFFFFFFFu, 0, 0, 32); }
  unsigned thread_rank() const { return rank_ % 32; }
  unsigned meta_group_rank() const { return rank_ / 32; }
  unsigned size() const { return 32; }
  unsigned num_threads() const { return 32; }
  template <class T>
  T shfl(T value, int source) const { return __shfl_sync(0xFFFFFFFFu, value, source); }
  template <class T>
  T shfl_down(T value, unsigned delta) const { return __shfl_down_sync(0xFFFFFFFFu, value, delta); }
  template <class T>
  T shfl_up(T value, unsigned delta) const { return __shfl_up_sync(0xFFFFFFFFu, value, delta); }
  template <class T>
  T shfl_xor(T value, int mask) const { return __shfl_xor_sync(0xFFFFFFFFu, value, mask); }
  unsigned ballot(int predicate) const { return __ballot_sync(0xFFFFFFFFu, predicate); }
  bool any(int predicate) const { return __any_sync(0xFFFFFFFFu, predicate) != 0; }
  bool all(int predicate) const { return __all_sync(0xFFFFFFFFu, predicate) != 0; }

 private:
  unsigned rank_;
};

template <unsigned Size>
thread_block_tile<Size> tiled_partition(const thread_block& block) {
  return thread_block_tile<Size>(block.thread_rank());
}

// Each thread copies its share (bytes i with i % size == rank), so the races and bounds are checked as for
// plain stores; wait() is then the block barrier after which every share is visible.
inline void memcpy_async(const thread_block& block, void* destination, const void* source, std::size_t bytes) {
  const std::size_t rank = block.thread_rank(), size = block.size();
  for (std::size_t i = rank; i < bytes; i += size)
    ::sigmanet::simt::copy_bytes(static_cast<char*>(destination) + i, static_cast<const char*>(source) + i, 1);
}
inline void wait(const thread_block& block, const std::source_location& site = std::source_location::current()) {
  block.sync(site);
}

}  // namespace cooperative_groups
