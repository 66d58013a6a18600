#pragma once
// Test-only kernels for the SIMT executor's own tests (test_simt_executor.cpp): some use each CUDA feature
// the executor supports and must give CUDA's answers; the others each carry one planted bug that a check must
// report. Each function launches its kernel on stream; none synchronises.
#include <cuda_runtime.h>

namespace sigmanet::simt_test {

// ---- correct: CUDA's answers ----

// sums[b] = sum of in[b * 256 .. b * 256 + 255], by a shared-memory tree then warp shuffles (blocks of 256).
void block_sums(const float* in, float* sums, unsigned blocks, cudaStream_t stream);

// One warp of 32 threads; out[lane * 10 + k] for k = 0..9: shfl from lane 3, shfl_up 1, shfl_down 2, shfl_xor 1,
// ballot(lane % 3 == 0), any(lane == 7), all(lane < 32), activemask, __syncthreads_count(lane < 5),
// and a width-8 shfl_down by 1.
void warp_operations(int* out, cudaStream_t stream);

// 4 blocks of 64 threads: counter += 1 each (atomicAdd), low = min and high = max of the global thread ids,
// exchanged = atomicExch's last, cas = the number of threads whose CAS on *flag from 0 to 1 won.
void atomics(unsigned* counter, int* low, int* high, int* exchanged, unsigned* flag, unsigned* cas,
             cudaStream_t stream);

// out = in reversed, through dynamic shared memory of n floats (one block of n threads, n <= 1024).
void reverse_through_dynamic_shared(const float* in, float* out, unsigned n, cudaStream_t stream);

// Cooperative groups: block copies in to shared with memcpy_async, each 32-thread tile sums its part with
// shfl_down, out[tile] = that sum (one block of 128 threads, in holds 128 floats).
void tile_sums(const float* in, float* out, cudaStream_t stream);

// The pipeline primitives: out = in reversed (one block of 64 threads, 64 floats), each thread copying 16 bytes
// of in to shared memory with __pipeline_memcpy_async, then commit, wait_prior(0) and a barrier.
void reverse_through_pipeline_copy(const float* in, float* out, cudaStream_t stream);

// A launch asking for bytes of dynamic shared memory (the kernel touches none of it).
void launch_with_dynamic_shared(std::size_t bytes, cudaStream_t stream);
// Allows that kernel bytes of dynamic shared memory (cudaFuncSetAttribute).
cudaError_t allow_dynamic_shared(int bytes);
// A launch of one block of `threads` threads.
void launch_block_of(unsigned threads, cudaStream_t stream);

// Thread-block clusters of `cluster` blocks (blocks a multiple of it) of 64 threads: each block stores its 64
// ints of in into the next rank's shared memory (map_shared_rank), then after the cluster's sync copies what
// it was given to out; rank_and_size[b] = rank * 100 + the cluster's size.
void cluster_ring(const int* in, int* out, int* rank_and_size, unsigned blocks, unsigned cluster,
                  cudaStream_t stream);

// ---- planted bugs ----

// Thread n of a block of n + 1 writes p[n]: one past the end of an n-float buffer (memcheck).
void write_one_past_the_end(float* p, unsigned n, cudaStream_t stream);
// Each thread writes s[t] to shared memory, then reads s[t - 1] with no barrier between (racecheck).
void shared_read_without_barrier(float* out, cudaStream_t stream);
// After a barrier each thread reads s[t], then writes s[t + 1] with no barrier between (racecheck: in the
// forward schedule a read after another thread's write, in the reverse one a write after another's read).
void shared_write_after_read(float* out, cudaStream_t stream);
// Thread 0 of every block writes p[0] (racecheck between blocks).
void every_block_writes_one_address(float* p, unsigned blocks, cudaStream_t stream);
// Threads 0-15 of a block of 32 reach __syncthreads, the others return first (synccheck).
void barrier_in_half_the_block(cudaStream_t stream);
// Odd threads wait at one __syncthreads, even ones at another (synccheck).
void barriers_in_divergent_branches(float* p, cudaStream_t stream);
// Lanes 0-15 shuffle with a full mask, lanes 16-31 return first (synccheck).
void shuffle_naming_exited_lanes(float* out, cudaStream_t stream);
// Every lane shuffles with mask 0x0000ffff, which leaves out lanes 16-31 (synccheck).
void shuffle_mask_without_the_caller(float* out, cudaStream_t stream);
// Lanes 0-15 shuffle down by 8 with mask 0x0000ffff: lane 8 reads lane 16, outside the mask (synccheck).
void shuffle_reading_outside_the_mask(float* out, cudaStream_t stream);
// Each thread reads in[t], which nothing wrote if the caller did not (initcheck, global).
void copy_n(const float* in, float* out, unsigned n, cudaStream_t stream);
// Each thread reads a __shared__ value no thread wrote (initcheck, shared).
void read_unwritten_shared(float* out, cudaStream_t stream);
// One thread copies 16 bytes with __pipeline_memcpy_async from in + 1 float: misaligned (memcheck).
void pipeline_copy_misaligned(const float* in, cudaStream_t stream);
// One thread copies 16 bytes with __pipeline_memcpy_async into global memory, not shared (memcheck).
void pipeline_copy_to_global(const float* in, float* out, cudaStream_t stream);
// Thread t writes s[t + 1] of 32 floats of dynamic shared memory: thread 31 runs past its end (memcheck).
void write_past_dynamic_shared(cudaStream_t stream);

// A cluster of 2: rank 0 writes rank 1's shared memory, which rank 1 reads after a __syncthreads but no
// cluster sync (racecheck).
void cluster_remote_write_without_sync(int* out, cudaStream_t stream);
// A cluster of 2: rank 0 waits at the cluster's sync, rank 1 returns first (synccheck).
void cluster_sync_in_half_the_cluster(cudaStream_t stream);
// A cluster of 2: rank 1 returns, then rank 0 writes its shared memory (memcheck, forward schedule).
void write_shared_memory_of_an_exited_block(cudaStream_t stream);
// A cluster of 2: map_shared_rank to rank 2 (memcheck).
void map_shared_rank_past_the_cluster(int* out, cudaStream_t stream);
// A cluster of 2: rank 0 writes rank 1's shared memory before the cluster's first sync (racecheck: entry).
void cluster_remote_write_before_the_first_sync(int* out, cudaStream_t stream);
// A cluster of 2: rank 0 writes rank 1's shared memory, and rank 1 returns with no cluster sync after it
// (memcheck: the block leaves before the write is ordered).
void cluster_remote_write_then_exit(cudaStream_t stream);

// Clusters of `cluster` blocks of 64 threads hand their 64 ints of in to the next rank with st.async, 16 bytes a
// store, each block's mbarrier expecting `expect` bytes; out = what each block was given. Correct with expect 256,
// wait, init and entry; each of the others plants a bug: a phase that completes early or never, reads before the
// wait, no init, stores before the cluster's first sync.
void cluster_hand_off(const int* in, int* out, unsigned blocks, unsigned cluster, unsigned expect, bool wait,
                      bool init, bool entry, cudaStream_t stream);

// Each of 32 threads reads its __pipeline_memcpy_async destination before waiting for the copy (racecheck).
void pipeline_read_before_wait(const float* in, float* out, cudaStream_t stream);
// Thread 1 reads thread 0's copy after a __syncthreads that came before thread 0's wait (racecheck).
void pipeline_barrier_before_wait(const float* in, float* out, cudaStream_t stream);
// A thread returns with a copy in flight (synccheck).
void pipeline_return_in_flight(const float* in, cudaStream_t stream);

// One warp: even lanes and odd lanes each ask __activemask in their own branch (out[lane]: the answer).
void activemask_in_branches(unsigned* out, cudaStream_t stream);
// Lanes 0-15 shuffle with __activemask as the mask, reading lane ^ 16 (synccheck: outside the mask).
void activemask_shuffle(float* out, cudaStream_t stream);
// Lanes 0-15 write and meet at __syncwarp(0x0000ffff); lane 16 reads lane 0's value (racecheck).
void partial_syncwarp(float* out, cudaStream_t stream);

}  // namespace sigmanet::simt_test
