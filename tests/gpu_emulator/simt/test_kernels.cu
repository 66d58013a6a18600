// Test-only kernels for the SIMT executor (see test_kernels.hpp). Compiled only for the executor; written
// as CUDA so they would compile for a GPU as they are.
#include <cooperative_groups.h>
#include <cuda_pipeline.h>

#include "cluster.cuh"
#include "cuda_check.hpp"
#include "launch.cuh"
#include "test_kernels.hpp"

namespace sigmanet::simt_test {
namespace {

namespace cg = cooperative_groups;

__global__ void block_sums_kernel(const float* __restrict__ in, float* __restrict__ sums) {
  __shared__ float partial[256];
  const unsigned t = threadIdx.x;
  partial[t] = in[blockIdx.x * 256 + t];
  __syncthreads();
  for (unsigned half = 128; half >= 32; half /= 2) {
    if (t < half) partial[t] += partial[t + half];
    __syncthreads();
  }
  if (t < 32) {
    float v = partial[t];
    for (int offset = 16; offset > 0; offset /= 2) v += __shfl_down_sync(0xffffffffu, v, offset);
    if (t == 0) sums[blockIdx.x] = v;
  }
}

__global__ void warp_operations_kernel(int* out) {
  const int lane = int(threadIdx.x);
  int* o = out + lane * 10;
  o[0] = __shfl_sync(0xffffffffu, lane * 10, 3);
  o[1] = __shfl_up_sync(0xffffffffu, lane * 10, 1);
  o[2] = __shfl_down_sync(0xffffffffu, lane * 10, 2);
  o[3] = __shfl_xor_sync(0xffffffffu, lane * 10, 1);
  o[4] = int(__ballot_sync(0xffffffffu, lane % 3 == 0));
  o[5] = __any_sync(0xffffffffu, lane == 7);
  o[6] = __all_sync(0xffffffffu, lane < 32);
  o[7] = int(__activemask());
  o[8] = __syncthreads_count(lane < 5);
  o[9] = __shfl_down_sync(0xffffffffu, lane * 10, 1, 8);
}

__global__ void atomics_kernel(unsigned* counter, int* low, int* high, int* exchanged, unsigned* flag, unsigned* cas) {
  const int id = int(blockIdx.x * blockDim.x + threadIdx.x);
  atomicAdd(counter, 1);
  atomicMin(low, id);
  atomicMax(high, id);
  atomicExch(exchanged, id);
  if (atomicCAS(flag, 0u, 1u) == 0u) atomicAdd(cas, 1u);
}

__global__ void reverse_kernel(const float* __restrict__ in, float* __restrict__ out) {
  SIGMANET_DYNAMIC_SHARED(float, s);
  const unsigned t = threadIdx.x, n = blockDim.x;
  s[n - 1 - t] = in[t];
  __syncthreads();
  out[t] = s[t];
}

__global__ void tile_sums_kernel(const float* __restrict__ in, float* __restrict__ out) {
  __shared__ float copy[128];
  const cg::thread_block block = cg::this_thread_block();
  cg::memcpy_async(block, copy, in, sizeof copy);
  cg::wait(block);
  const cg::thread_block_tile<32> tile = cg::tiled_partition<32>(block);
  float v = copy[block.thread_rank()];
  for (unsigned offset = 16; offset > 0; offset /= 2) v += tile.shfl_down(v, offset);
  if (tile.thread_rank() == 0) out[tile.meta_group_rank()] = v;
}

__global__ void pipeline_reverse_kernel(const float* __restrict__ in, float* __restrict__ out) {
  alignas(16) __shared__ float copy[64];
  const unsigned t = threadIdx.x;
  if (t < 16) __pipeline_memcpy_async(copy + 4 * t, in + 4 * t, 16);
  __pipeline_commit();
  __pipeline_wait_prior(0);
  __syncthreads();
  out[t] = copy[63 - t];
}

__global__ void pipeline_misaligned_kernel(const float* __restrict__ in) {
  alignas(16) __shared__ float copy[8];
  __pipeline_memcpy_async(copy, in + 1, 16);
  __pipeline_wait_prior(0);
}

__global__ void pipeline_to_global_kernel(const float* __restrict__ in, float* __restrict__ out) {
  __pipeline_memcpy_async(out, in, 16);
  __pipeline_wait_prior(0);
}

__global__ void empty_kernel() {}

__global__ void write_kernel(float* p) { p[threadIdx.x] = 1.0f; }

__global__ void shared_race_kernel(float* out) {
  __shared__ float s[64];
  const unsigned t = threadIdx.x;
  s[t] = float(t);
  out[t] = s[t > 0 ? t - 1 : 0];  // the missing __syncthreads belongs before this line
}

__global__ void write_after_read_kernel(float* out) {
  __shared__ float s[64];
  const unsigned t = threadIdx.x;
  s[t] = float(t);
  __syncthreads();
  const float v = s[t];
  s[(t + 1) % 64] = 2.0f * v;  // the missing __syncthreads belongs before this line
  out[t] = v;
}

__global__ void one_address_kernel(float* p) {
  if (threadIdx.x == 0) p[0] = float(blockIdx.x);
}

__global__ void half_barrier_kernel() {
  if (threadIdx.x >= 16) return;
  __syncthreads();
}

__global__ void divergent_barriers_kernel(float* p) {
  if (threadIdx.x % 2) {
    __syncthreads();
    p[threadIdx.x] = 1.0f;
  } else {
    p[threadIdx.x] = 2.0f;
    __syncthreads();
  }
}

__global__ void exited_lanes_kernel(float* out) {
  const unsigned lane = threadIdx.x;
  if (lane >= 16) return;
  out[lane] = __shfl_down_sync(0xffffffffu, float(lane), 1);
}

__global__ void mask_without_caller_kernel(float* out) {
  out[threadIdx.x] = __shfl_sync(0x0000ffffu, float(threadIdx.x), 0);
}

__global__ void outside_mask_kernel(float* out) {
  if (threadIdx.x < 16) out[threadIdx.x] = __shfl_down_sync(0x0000ffffu, float(threadIdx.x), 8);
}

__global__ void copy_kernel(const float* __restrict__ in, float* __restrict__ out) {
  out[threadIdx.x] = in[threadIdx.x];
}

__global__ void unwritten_shared_kernel(float* out) {
  __shared__ float never_written[32];
  out[threadIdx.x] = never_written[threadIdx.x];
}

__global__ void past_dynamic_shared_kernel() {
  SIGMANET_DYNAMIC_SHARED(float, s);
  s[threadIdx.x + 1] = 1.0f;
}

// Each block of a cluster hands its row to the next rank's shared memory, then reads what the previous rank
// handed it; rank_and_size[b] = rank * 100 + blocks in the cluster.
__global__ void cluster_ring_kernel(const int* __restrict__ in, int* __restrict__ out, int* __restrict__ rank_and_size) {
  SIGMANET_DYNAMIC_SHARED(int, row);
  const cg::cluster_group cluster = cg::this_cluster();
  const unsigned rank = cluster.block_rank(), blocks = cluster.num_blocks(), t = threadIdx.x;
  const unsigned b = blockIdx.x;
  int* next = cluster.map_shared_rank(row, (rank + 1) % blocks);
  cluster.sync();  // every block has started: its shared memory can be reached
  next[t] = in[b * blockDim.x + t];
  cluster.sync();
  out[b * blockDim.x + t] = row[t];
  if (t == 0) rank_and_size[b] = int(rank * 100 + blocks);
}

// Rank 1 returns after the cluster's first sync; rank 0 writes into its shared memory after a __syncthreads,
// by when (on the executor's forward schedule) rank 1 has left and its shared memory is gone.
__global__ void cluster_exited_kernel() {
  SIGMANET_DYNAMIC_SHARED(int, row);
  const cg::cluster_group cluster = cg::this_cluster();
  cluster.sync();
  if (cluster.block_rank() == 1) return;
  __syncthreads();
  cluster.map_shared_rank(row, 1)[threadIdx.x] = 1;
}

// Rank 0 writes into rank 1's shared memory, and rank 1 reads it after a __syncthreads only.
__global__ void cluster_no_sync_kernel(int* out) {
  SIGMANET_DYNAMIC_SHARED(int, row);
  const cg::cluster_group cluster = cg::this_cluster();
  const unsigned t = threadIdx.x;
  cluster.sync();
  if (cluster.block_rank() == 0) cluster.map_shared_rank(row, 1)[t] = int(t);
  __syncthreads();
  if (cluster.block_rank() == 1) out[t] = row[t];
}

// Rank 0 writes into rank 1's shared memory before any cluster sync, when rank 1 may not have started.
__global__ void cluster_entry_race_kernel(int* out) {
  SIGMANET_DYNAMIC_SHARED(int, row);
  const cg::cluster_group cluster = cg::this_cluster();
  const unsigned t = threadIdx.x;
  if (cluster.block_rank() == 0) cluster.map_shared_rank(row, 1)[t] = int(t);
  cluster.sync();
  if (cluster.block_rank() == 1) out[t] = row[t];
}

// After the cluster's first sync rank 0 writes into rank 1's shared memory, and rank 1 returns with no cluster
// sync after that write: rank 1 may leave before it lands.
__global__ void cluster_exit_race_kernel() {
  SIGMANET_DYNAMIC_SHARED(int, row);
  const cg::cluster_group cluster = cg::this_cluster();
  cluster.sync();
  if (cluster.block_rank() == 0) cluster.map_shared_rank(row, 1)[threadIdx.x] = 1;
}

// Each thread copies 16 bytes of in into shared memory with __pipeline_memcpy_async and reads them back
// before its __pipeline_wait_prior: they may not have landed.
__global__ void pipeline_read_before_wait_kernel(const float* __restrict__ in, float* __restrict__ out) {
  __shared__ __align__(16) float s[4 * 32];
  const unsigned t = threadIdx.x;
  __pipeline_memcpy_async(&s[4 * t], &in[4 * t], 16);
  __pipeline_commit();
  out[t] = s[4 * t];
  __pipeline_wait_prior(0);
}

// Thread 0 copies 16 bytes, then the block meets at a __syncthreads before thread 0 waits for the copy:
// thread 1 reads them after the barrier, but the barrier did not come after the copy landed.
__global__ void pipeline_barrier_before_wait_kernel(const float* __restrict__ in, float* __restrict__ out) {
  __shared__ __align__(16) float s[4];
  const unsigned t = threadIdx.x;
  if (t == 0) {
    __pipeline_memcpy_async(s, in, 16);
    __pipeline_commit();
  }
  __syncthreads();
  if (t == 1) out[0] = s[0];
  if (t == 0) __pipeline_wait_prior(0);
}

// One thread copies 16 bytes and returns without waiting for them.
__global__ void pipeline_return_in_flight_kernel(const float* __restrict__ in) {
  __shared__ __align__(16) float s[4];
  __pipeline_memcpy_async(s, in, 16);
  __pipeline_commit();
}

// The st.async hand-off (kernels/cluster.cuh): each block of a cluster stores its 64 ints of in, 4 at a time, into
// the next rank's shared memory, completing that block's mbarrier; each waits for its own, then copies what it
// was given to out. `expect` is the bytes each block's mbarrier expects, `wait` whether it waits (else it meets
// the cluster, which orders no st.async), `init` whether it is initialised, `entry` whether the cluster meets
// before the stores.
__global__ void cluster_hand_off_kernel(const int* __restrict__ in, int* __restrict__ out, unsigned expect, bool wait,
                                        bool init, bool entry) {
  SIGMANET_DYNAMIC_SHARED(int, row);
  std::uint64_t* const barrier = reinterpret_cast<std::uint64_t*>(row + 64);
  const cg::cluster_group cluster = cg::this_cluster();
  const unsigned rank = cluster.block_rank(), next = (rank + 1) % cluster.num_blocks(), t = threadIdx.x;
  if (t == 0 && init) sigmanet::kernels::mbarrier_init(barrier, 1);
  if (entry) cluster.sync();
  if (t == 0) sigmanet::kernels::mbarrier_expect(barrier, expect);
  if (t < 16) {
    const int* from = in + blockIdx.x * 64 + 4 * t;
    sigmanet::kernels::store_async(sigmanet::kernels::cluster_shared(reinterpret_cast<float*>(row) + 4 * t, next),
                                   make_float4(__int_as_float(from[0]), __int_as_float(from[1]),
                                               __int_as_float(from[2]), __int_as_float(from[3])),
                                   sigmanet::kernels::cluster_shared(barrier, next));
  }
  if (wait)
    sigmanet::kernels::mbarrier_wait(barrier, 0);
  else
    cluster.sync();  // every store has been made, but whether it has landed only the mbarrier says
  out[blockIdx.x * 64 + t] = row[t];
}

// Even lanes ask __activemask inside their branch, odd lanes ask in theirs: out[lane] = the answer.
__global__ void activemask_in_branches_kernel(unsigned* out) {
  const unsigned lane = threadIdx.x;
  if (lane % 2 == 0)
    out[lane] = __activemask();
  else
    out[lane] = __activemask();
}

// Lanes 0-15 take a branch and shuffle with __activemask as the mask, reading lane + 16: outside the lanes
// that reach that shuffle together.
__global__ void activemask_shuffle_kernel(float* out) {
  const unsigned lane = threadIdx.x;
  if (lane < 16) out[lane] = __shfl_xor_sync(__activemask(), float(lane), 16);
}

// Lanes 0-15 write shared memory and meet at __syncwarp(0x0000ffff); lane 16, outside that mask, reads what
// lane 0 wrote.
__global__ void partial_syncwarp_kernel(float* out) {
  __shared__ float s[32];
  const unsigned lane = threadIdx.x;
  if (lane < 16) {
    s[lane] = float(lane);
    __syncwarp(0x0000ffffu);
  } else if (lane == 16) {
    out[0] = s[0];
  }
}

// Rank 0 waits at the cluster's sync; rank 1 returns.
__global__ void cluster_half_sync_kernel() {
  const cg::cluster_group cluster = cg::this_cluster();
  if (cluster.block_rank() == 0) cluster.sync();
}

// Every block maps its shared memory to rank num_blocks(), one past the cluster.
__global__ void cluster_rank_past_kernel(int* out) {
  SIGMANET_DYNAMIC_SHARED(int, row);
  const cg::cluster_group cluster = cg::this_cluster();
  out[threadIdx.x] = *cluster.map_shared_rank(row, cluster.num_blocks());
}

}  // namespace

#define SIGMANET_TEST_LAUNCHED(kernel) SIGMANET_CUDA_CHECK_LAUNCH(#kernel)

void block_sums(const float* in, float* sums, unsigned blocks, cudaStream_t stream) {
  SIGMANET_LAUNCH(block_sums_kernel, blocks, 256, 0, stream)(in, sums);
  SIGMANET_TEST_LAUNCHED(block_sums_kernel);
}

void warp_operations(int* out, cudaStream_t stream) {
  SIGMANET_LAUNCH(warp_operations_kernel, 1, 32, 0, stream)(out);
  SIGMANET_TEST_LAUNCHED(warp_operations_kernel);
}

void atomics(unsigned* counter, int* low, int* high, int* exchanged, unsigned* flag, unsigned* cas,
             cudaStream_t stream) {
  SIGMANET_LAUNCH(atomics_kernel, 4, 64, 0, stream)(counter, low, high, exchanged, flag, cas);
  SIGMANET_TEST_LAUNCHED(atomics_kernel);
}

void reverse_through_dynamic_shared(const float* in, float* out, unsigned n, cudaStream_t stream) {
  SIGMANET_LAUNCH(reverse_kernel, 1, n, n * sizeof(float), stream)(in, out);
  SIGMANET_TEST_LAUNCHED(reverse_kernel);
}

void tile_sums(const float* in, float* out, cudaStream_t stream) {
  SIGMANET_LAUNCH(tile_sums_kernel, 1, 128, 0, stream)(in, out);
  SIGMANET_TEST_LAUNCHED(tile_sums_kernel);
}

void reverse_through_pipeline_copy(const float* in, float* out, cudaStream_t stream) {
  SIGMANET_LAUNCH(pipeline_reverse_kernel, 1, 64, 0, stream)(in, out);
  SIGMANET_TEST_LAUNCHED(pipeline_reverse_kernel);
}
void pipeline_copy_misaligned(const float* in, cudaStream_t stream) {
  SIGMANET_LAUNCH(pipeline_misaligned_kernel, 1, 1, 0, stream)(in);
}
void pipeline_copy_to_global(const float* in, float* out, cudaStream_t stream) {
  SIGMANET_LAUNCH(pipeline_to_global_kernel, 1, 1, 0, stream)(in, out);
}

void launch_with_dynamic_shared(std::size_t bytes, cudaStream_t stream) {
  SIGMANET_LAUNCH(empty_kernel, 1, 1, bytes, stream)();
}

cudaError_t allow_dynamic_shared(int bytes) {
  return cudaFuncSetAttribute(empty_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, bytes);
}

void launch_block_of(unsigned threads, cudaStream_t stream) { SIGMANET_LAUNCH(empty_kernel, 1, threads, 0, stream)(); }

void write_one_past_the_end(float* p, unsigned n, cudaStream_t stream) {
  SIGMANET_LAUNCH(write_kernel, 1, n + 1, 0, stream)(p);
}
void shared_read_without_barrier(float* out, cudaStream_t stream) {
  SIGMANET_LAUNCH(shared_race_kernel, 1, 64, 0, stream)(out);
}
void shared_write_after_read(float* out, cudaStream_t stream) {
  SIGMANET_LAUNCH(write_after_read_kernel, 1, 64, 0, stream)(out);
}
void every_block_writes_one_address(float* p, unsigned blocks, cudaStream_t stream) {
  SIGMANET_LAUNCH(one_address_kernel, blocks, 32, 0, stream)(p);
}
void barrier_in_half_the_block(cudaStream_t stream) { SIGMANET_LAUNCH(half_barrier_kernel, 1, 32, 0, stream)(); }
void barriers_in_divergent_branches(float* p, cudaStream_t stream) {
  SIGMANET_LAUNCH(divergent_barriers_kernel, 1, 32, 0, stream)(p);
}
void shuffle_naming_exited_lanes(float* out, cudaStream_t stream) {
  SIGMANET_LAUNCH(exited_lanes_kernel, 1, 32, 0, stream)(out);
}
void shuffle_mask_without_the_caller(float* out, cudaStream_t stream) {
  SIGMANET_LAUNCH(mask_without_caller_kernel, 1, 32, 0, stream)(out);
}
void shuffle_reading_outside_the_mask(float* out, cudaStream_t stream) {
  SIGMANET_LAUNCH(outside_mask_kernel, 1, 32, 0, stream)(out);
}
void copy_n(const float* in, float* out, unsigned n, cudaStream_t stream) {
  SIGMANET_LAUNCH(copy_kernel, 1, n, 0, stream)(in, out);
}
void read_unwritten_shared(float* out, cudaStream_t stream) {
  SIGMANET_LAUNCH(unwritten_shared_kernel, 1, 32, 0, stream)(out);
}
void write_past_dynamic_shared(cudaStream_t stream) {
  SIGMANET_LAUNCH(past_dynamic_shared_kernel, 1, 32, 32 * sizeof(float), stream)();
}

void cluster_ring(const int* in, int* out, int* rank_and_size, unsigned blocks, unsigned cluster,
                  cudaStream_t stream) {
  SIGMANET_LAUNCH_CLUSTER(cluster_ring_kernel, blocks, 64, cluster, 64 * sizeof(int), stream)(in, out, rank_and_size);
}
void cluster_remote_write_without_sync(int* out, cudaStream_t stream) {
  SIGMANET_LAUNCH_CLUSTER(cluster_no_sync_kernel, 2, 32, 2, 32 * sizeof(int), stream)(out);
}
void cluster_sync_in_half_the_cluster(cudaStream_t stream) {
  SIGMANET_LAUNCH_CLUSTER(cluster_half_sync_kernel, 2, 32, 2, 0, stream)();
}
void write_shared_memory_of_an_exited_block(cudaStream_t stream) {
  SIGMANET_LAUNCH_CLUSTER(cluster_exited_kernel, 2, 32, 2, 32 * sizeof(int), stream)();
}
void cluster_remote_write_before_the_first_sync(int* out, cudaStream_t stream) {
  SIGMANET_LAUNCH_CLUSTER(cluster_entry_race_kernel, 2, 32, 2, 32 * sizeof(int), stream)(out);
}
void cluster_remote_write_then_exit(cudaStream_t stream) {
  SIGMANET_LAUNCH_CLUSTER(cluster_exit_race_kernel, 2, 32, 2, 32 * sizeof(int), stream)();
}
void pipeline_read_before_wait(const float* in, float* out, cudaStream_t stream) {
  SIGMANET_LAUNCH(pipeline_read_before_wait_kernel, 1, 32, 0, stream)(in, out);
}
void pipeline_barrier_before_wait(const float* in, float* out, cudaStream_t stream) {
  SIGMANET_LAUNCH(pipeline_barrier_before_wait_kernel, 1, 32, 0, stream)(in, out);
}
void pipeline_return_in_flight(const float* in, cudaStream_t stream) {
  SIGMANET_LAUNCH(pipeline_return_in_flight_kernel, 1, 1, 0, stream)(in);
}
void cluster_hand_off(const int* in, int* out, unsigned blocks, unsigned cluster, unsigned expect, bool wait,
                      bool init, bool entry, cudaStream_t stream) {
  SIGMANET_LAUNCH_CLUSTER(cluster_hand_off_kernel, blocks, 64, cluster, 64 * sizeof(int) + 16, stream)
  (in, out, expect, wait, init, entry);
}

void activemask_in_branches(unsigned* out, cudaStream_t stream) {
  SIGMANET_LAUNCH(activemask_in_branches_kernel, 1, 32, 0, stream)(out);
  SIGMANET_TEST_LAUNCHED(activemask_in_branches_kernel);
}
void activemask_shuffle(float* out, cudaStream_t stream) {
  SIGMANET_LAUNCH(activemask_shuffle_kernel, 1, 32, 0, stream)(out);
}
void partial_syncwarp(float* out, cudaStream_t stream) { SIGMANET_LAUNCH(partial_syncwarp_kernel, 1, 32, 0, stream)(out); }

void map_shared_rank_past_the_cluster(int* out, cudaStream_t stream) {
  SIGMANET_LAUNCH_CLUSTER(cluster_rank_past_kernel, 2, 32, 2, 32 * sizeof(int), stream)(out);
}

}  // namespace sigmanet::simt_test
