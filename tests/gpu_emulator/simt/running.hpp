#pragma once
// What the executor (executor.cpp) tells the memory checks (memory_check.cpp) about the thread running now.
#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>
#include <string>

namespace sigmanet::simt::detail {

struct Running {
  const char* kernel = "";
  dim3 grid, block;
  std::uint32_t launch = 0;        // counts launches from 1: a race cell from another launch is stale
  std::uint32_t block_linear = 0;  // blockIdx as one number
  std::uint32_t block_threads = 0;
  std::uint32_t rank = 0;           // the block's rank in its cluster (0 without clusters)
  std::uint32_t cluster_blocks = 1;
  std::uint32_t cluster_epoch = 0;  // cluster barriers completed in this cluster so far
  std::uint32_t block_epoch = 0;          // __syncthreads completed in this block so far
  const std::uint32_t* warp_epochs = nullptr;  // warp rendezvous completed, per warp of the block
  std::uint32_t thread = 0;               // threadIdx as one number
  const char* stack_low = nullptr;        // the running thread's stack: its own local memory
  const char* stack_high = nullptr;
};
extern Running running;

// "block (x,y,z) thread (x,y,z)" for a thread of the running launch.
std::string where(std::uint32_t block_linear, std::uint32_t thread);
// The same for a thread of the running block, and of the block of rank `rank` in the running cluster.
std::string where(std::uint32_t thread);
std::string where_in_cluster(std::uint32_t rank, std::uint32_t thread);

// Whether every thread of the running cluster's block of rank `rank` has exited (its shared memory is gone).
bool block_exited(std::uint32_t rank);

// Prints "emulated GPU: <check>: <kernel> <where(running.thread)>: <what>" and stops the process.
[[noreturn]] void report(const char* check, const std::string& what);

// memory_check.cpp: a new block (of rank `rank` in its cluster) starts with its shared memory poisoned and
// unwritten; the running thread's block is running.rank's.
void begin_block_memory(std::uint32_t rank, std::size_t dynamic_shared_bytes);
// The largest dynamic shared memory a launch may ask for (the H200's opt-in limit per block).
constexpr std::size_t kMaxSharedBytes = 227 * 1024;
constexpr std::size_t kDefaultSharedBytes = 48 * 1024;
// The most blocks a cluster may have (CUDA's portable cluster size).
constexpr std::uint32_t kMaxClusterBlocks = 8;

}  // namespace sigmanet::simt::detail
