// The SIMT executor's own tests: CUDA's answers for each supported feature, each check shown to fire on a
// planted bug with the kernel, block and thread named, and the product's kernels giving the same bits under
// every schedule. Emulator build only (SIGMANET_GPU_EMULATOR, run with SIGMANET_EMULATE_GPU=1).
#include <gtest/gtest.h>

#include <climits>
#include <cstring>
#include <numeric>
#include <vector>

#include "sigmanet/backends/factory.hpp"
#include "cuda/cuda_backend.hpp"
#include "cuda/cuda_resources.hpp"
#include "executor.hpp"
#include "oracle/equivalence.hpp"
#include "sigmanet/random.hpp"
#include "test_kernels.hpp"

namespace sigmanet {
namespace {

using cuda::DeviceBuffer;
namespace st = simt_test;

// Waits for the copy: host may be a temporary, gone before the stream would otherwise run it.
template <class T>
DeviceBuffer<T> on_device(const std::vector<T>& host, cudaStream_t s) {
  DeviceBuffer<T> d(host.size());
  EXPECT_EQ(cudaMemcpyAsync(d.get(), host.data(), host.size() * sizeof(T), cudaMemcpyHostToDevice, s), cudaSuccess);
  EXPECT_EQ(cudaStreamSynchronize(s), cudaSuccess);
  return d;
}

template <class T>
std::vector<T> to_host(const DeviceBuffer<T>& d, cudaStream_t s) {
  std::vector<T> h(d.size());
  EXPECT_EQ(cudaMemcpyAsync(h.data(), d.get(), d.size() * sizeof(T), cudaMemcpyDeviceToHost, s), cudaSuccess);
  EXPECT_EQ(cudaStreamSynchronize(s), cudaSuccess);
  return h;
}

// Runs f under each schedule, restoring the default after.
template <class F>
void for_each_schedule(F&& f) {
  const simt::Schedule before = simt::schedule();
  for (simt::Schedule s : {simt::Schedule::forward, simt::Schedule::reverse}) {
    simt::set_schedule(s);
    f(s);
  }
  simt::set_schedule(before);
}

std::vector<float> counting(std::size_t n) {
  std::vector<float> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = float(i % 97) * 0.25f - 3.0f;
  return v;
}

// ---- CUDA's answers ----

TEST(SimtExecutor, SharedMemoryTreeAndShufflesSumEachBlock) {
  cuda::Stream s;
  const std::vector<float> in = counting(4 * 256);
  DeviceBuffer<float> d_in = on_device(in, s.get()), sums(4);
  std::vector<std::vector<float>> results;
  for_each_schedule([&](simt::Schedule) {
    st::block_sums(d_in.get(), sums.get(), 4, s.get());
    results.push_back(to_host(sums, s.get()));
  });
  for (unsigned b = 0; b < 4; ++b)
    EXPECT_FLOAT_EQ(results[0][b], std::accumulate(in.begin() + b * 256, in.begin() + (b + 1) * 256, 0.0f)) << b;
  EXPECT_EQ(std::memcmp(results[0].data(), results[1].data(), 4 * sizeof(float)), 0) << "a fixed summation order";
}

TEST(SimtExecutor, WarpShufflesVotesAndBarrierCountsGiveCudasValues) {
  cuda::Stream s;
  DeviceBuffer<int> out(320);
  st::warp_operations(out.get(), s.get());
  const std::vector<int> o = to_host(out, s.get());
  unsigned every_third = 0;
  for (int l = 0; l < 32; l += 3) every_third |= 1u << l;
  for (int lane = 0; lane < 32; ++lane) {
    const int* r = &o[std::size_t(lane) * 10];
    EXPECT_EQ(r[0], 30) << lane;
    EXPECT_EQ(r[1], lane >= 1 ? (lane - 1) * 10 : 0) << lane;
    EXPECT_EQ(r[2], lane + 2 < 32 ? (lane + 2) * 10 : lane * 10) << lane;
    EXPECT_EQ(r[3], (lane ^ 1) * 10) << lane;
    EXPECT_EQ(unsigned(r[4]), every_third) << lane;
    EXPECT_EQ(r[5], 1) << lane;
    EXPECT_EQ(r[6], 1) << lane;
    EXPECT_EQ(unsigned(r[7]), 0xFFFFFFFFu) << lane;
    EXPECT_EQ(r[8], 5) << lane;
    EXPECT_EQ(r[9], lane % 8 + 1 < 8 ? (lane + 1) * 10 : lane * 10) << "width 8, lane " << lane;
  }
}

TEST(SimtExecutor, AtomicsSeeEveryThread) {
  cuda::Stream s;
  DeviceBuffer<unsigned> counter = on_device(std::vector<unsigned>{0}, s.get()),
                         flag = on_device(std::vector<unsigned>{0}, s.get()),
                         cas = on_device(std::vector<unsigned>{0}, s.get());
  DeviceBuffer<int> low = on_device(std::vector<int>{INT_MAX}, s.get()),
                    high = on_device(std::vector<int>{INT_MIN}, s.get()),
                    exchanged = on_device(std::vector<int>{-1}, s.get());
  st::atomics(counter.get(), low.get(), high.get(), exchanged.get(), flag.get(), cas.get(), s.get());
  EXPECT_EQ(to_host(counter, s.get())[0], 256u);
  EXPECT_EQ(to_host(low, s.get())[0], 0);
  EXPECT_EQ(to_host(high, s.get())[0], 255);
  const int last = to_host(exchanged, s.get())[0];
  EXPECT_TRUE(last >= 0 && last < 256) << last;
  EXPECT_EQ(to_host(cas, s.get())[0], 1u) << "exactly one CAS from 0 to 1 wins";
}

TEST(SimtExecutor, DynamicSharedMemoryIsTheLaunchsAndPastFortyEightKbNeedsTheAttribute) {
  cuda::Stream s;
  const std::vector<float> in = counting(200);
  DeviceBuffer<float> d_in = on_device(in, s.get()), out(200);
  st::reverse_through_dynamic_shared(d_in.get(), out.get(), 200, s.get());
  const std::vector<float> o = to_host(out, s.get());
  for (std::size_t i = 0; i < 200; ++i) EXPECT_EQ(o[i], in[199 - i]) << i;

  ASSERT_EQ(cudaGetLastError(), cudaSuccess);
  st::launch_with_dynamic_shared(64 * 1024, s.get());
  EXPECT_EQ(cudaGetLastError(), cudaErrorInvalidValue) << "64 KB without cudaFuncSetAttribute";
  EXPECT_EQ(st::allow_dynamic_shared(300 * 1024), cudaErrorInvalidValue) << "past the 227 KB opt-in limit";
  (void)cudaGetLastError();
  ASSERT_EQ(st::allow_dynamic_shared(100 * 1024), cudaSuccess);
  st::launch_with_dynamic_shared(64 * 1024, s.get());
  EXPECT_EQ(cudaGetLastError(), cudaSuccess);
  s.synchronize();
}

TEST(SimtExecutor, CooperativeGroupsCopyAndTileShuffles) {
  cuda::Stream s;
  const std::vector<float> in = counting(128);
  DeviceBuffer<float> d_in = on_device(in, s.get()), out(4);
  st::tile_sums(d_in.get(), out.get(), s.get());
  const std::vector<float> o = to_host(out, s.get());
  for (unsigned t = 0; t < 4; ++t)
    EXPECT_FLOAT_EQ(o[t], std::accumulate(in.begin() + t * 32, in.begin() + (t + 1) * 32, 0.0f)) << t;
}

TEST(SimtExecutor, PipelineCopiesReachSharedMemory) {
  cuda::Stream s;
  const std::vector<float> in = counting(64);
  DeviceBuffer<float> d_in = on_device(in, s.get()), out(64);
  st::reverse_through_pipeline_copy(d_in.get(), out.get(), s.get());
  const std::vector<float> o = to_host(out, s.get());
  for (unsigned t = 0; t < 64; ++t) EXPECT_EQ(o[t], in[63 - t]) << t;
}

TEST(SimtExecutor, StAsyncHandsEachBlocksRowToTheNextThroughItsMbarrier) {
  cuda::Stream s;
  std::vector<int> in(8 * 64);
  std::iota(in.begin(), in.end(), 1);
  for (unsigned cluster : {2u, 4u, 8u})
    for_each_schedule([&](simt::Schedule) {
      DeviceBuffer<int> d_in = on_device(in, s.get()), out(8 * 64);
      st::cluster_hand_off(d_in.get(), out.get(), 8, cluster, 256, true, true, true, s.get());
      ASSERT_EQ(cudaGetLastError(), cudaSuccess);
      const std::vector<int> o = to_host(out, s.get());
      for (unsigned b = 0; b < 8; ++b) {
        const unsigned rank = b % cluster, from = b - rank + (rank + cluster - 1) % cluster;
        for (unsigned t = 0; t < 64; ++t) ASSERT_EQ(o[b * 64 + t], in[from * 64 + t]) << b << " " << t;
      }
    });
}

TEST(SimtExecutor, ActiveMaskIsTheLanesThatReachTheCallTogether) {
  cuda::Stream s;
  DeviceBuffer<unsigned> out(32);
  for_each_schedule([&](simt::Schedule) {
    st::activemask_in_branches(out.get(), s.get());
    const std::vector<unsigned> o = to_host(out, s.get());
    for (unsigned lane = 0; lane < 32; ++lane)
      EXPECT_EQ(o[lane], lane % 2 == 0 ? 0x55555555u : 0xAAAAAAAAu) << "lane " << lane;
  });
}

TEST(SimtExecutor, ABadConfigurationIsALaunchErrorAsOnAGpu) {
  cuda::Stream s;
  ASSERT_EQ(cudaGetLastError(), cudaSuccess);
  st::launch_block_of(1025, s.get());
  EXPECT_EQ(cudaGetLastError(), cudaErrorInvalidConfiguration);
  st::launch_block_of(0, s.get());
  EXPECT_EQ(cudaGetLastError(), cudaErrorInvalidConfiguration);
  st::launch_block_of(1024, s.get());
  EXPECT_EQ(cudaGetLastError(), cudaSuccess);
  s.synchronize();
}

TEST(SimtExecutor, ClusterBlocksReachEachOthersSharedMemory) {
  cuda::Stream s;
  std::vector<int> in(8 * 64);
  std::iota(in.begin(), in.end(), 1);
  for (unsigned cluster : {1u, 2u, 4u, 8u})
    for_each_schedule([&](simt::Schedule schedule) {
      DeviceBuffer<int> d_in = on_device(in, s.get()), out(8 * 64), ranks(8);
      st::cluster_ring(d_in.get(), out.get(), ranks.get(), 8, cluster, s.get());
      ASSERT_EQ(cudaGetLastError(), cudaSuccess);
      const std::vector<int> o = to_host(out, s.get()), r = to_host(ranks, s.get());
      for (unsigned b = 0; b < 8; ++b) {
        const unsigned rank = b % cluster, from = b - rank + (rank + cluster - 1) % cluster;
        EXPECT_EQ(r[b], int(rank * 100 + cluster)) << "block " << b << " cluster " << cluster;
        for (unsigned t = 0; t < 64; ++t)
          ASSERT_EQ(o[b * 64 + t], in[from * 64 + t])
              << "block " << b << " thread " << t << " cluster " << cluster << " schedule " << int(schedule);
      }
    });
}

TEST(SimtExecutor, ABadClusterIsALaunchErrorAsOnAGpu) {
  cuda::Stream s;
  DeviceBuffer<int> in(8 * 64), out(8 * 64), ranks(8);
  ASSERT_EQ(cudaGetLastError(), cudaSuccess);
  st::cluster_ring(in.get(), out.get(), ranks.get(), 6, 4, s.get());  // 6 blocks are not clusters of 4
  EXPECT_EQ(cudaGetLastError(), cudaErrorInvalidClusterSize);
  st::cluster_ring(in.get(), out.get(), ranks.get(), 16, 16, s.get());  // past the portable 8
  EXPECT_EQ(cudaGetLastError(), cudaErrorInvalidClusterSize);
  s.synchronize();
}

// ---- the product's kernels under both schedules: the same bits ----

bool same_bits(const Parameters& a, const Parameters& b) {
  for (std::size_t l = 0; l < a.layers(); ++l)
    if (a.weights[l] != b.weights[l] || a.biases[l] != b.biases[l]) return false;
  return a.sizes == b.sizes;
}

TEST(SimtExecutor, EveryProductKernelGivesTheSameBitsUnderEverySchedule) {
  // Training runs gather_batch, fused_forward or bias_sigmoid, output_delta, hidden_delta, bias_update and
  // advance_counter; evaluation and outputs run argmax_cost. All claim determinism.
  const Dataset data = synthetic_dataset("synthetic", 120, 28, 28, 3);
  Rng rng(5);
  const Parameters start = init_parameters({784, 17, 13, 10}, Init::scaled, rng);
  const std::vector<std::uint32_t> order = rng.permutation(data.size());
  for (auto forward : {CudaOptions::Forward::fused, CudaOptions::Forward::gemm}) {
    for (std::size_t batch : {7, 10}) {
      std::vector<Parameters> trained;
      std::vector<Evaluation> evaluations;
      std::vector<std::vector<double>> outputs;
      for_each_schedule([&](simt::Schedule) {
        CudaOptions options;
        options.forward = forward;
        auto gpu = make_backend(Device::gpu, Precision::f32, nullptr, options);
        gpu->set_training_data(data);
        gpu->set_parameters(start);
        gpu->train(order, batch, 3.0, {});
        trained.push_back(gpu->parameters());
        evaluations.push_back(gpu->evaluate(data));
        outputs.push_back(gpu->outputs(data, 0, 50));
      });
      EXPECT_TRUE(same_bits(trained[0], trained[1])) << "batch " << batch;
      EXPECT_GT(relative_difference(trained[0], start), 0.0) << "it trained";
      EXPECT_EQ(evaluations[0].correct, evaluations[1].correct);
      EXPECT_EQ(evaluations[0].cost, evaluations[1].cost);
      EXPECT_EQ(outputs[0], outputs[1]);
    }
  }
}

// ---- planted bugs: each check names the kernel, the block and the thread ----

class SimtExecutorDeathTest : public ::testing::Test {
 protected:
  void SetUp() override { GTEST_FLAG_SET(death_test_style, "threadsafe"); }
  cuda::Stream s;
};

TEST_F(SimtExecutorDeathTest, MemcheckAStoreOnePastTheEnd) {
  DeviceBuffer<float> p(8);
  EXPECT_DEATH((st::write_one_past_the_end(p.get(), 8, s.get()), s.synchronize()),
               "memcheck: write_kernel block \\(0,0,0\\) thread \\(8,0,0\\): 4-byte write at byte 32 of a 32-byte "
               "device allocation runs 4 bytes past its end");
}

void write_into_freed_buffer() {
  cuda::Stream s;
  float* freed = nullptr;
  {
    DeviceBuffer<float> p(8);
    freed = p.get();
  }
  st::write_one_past_the_end(freed, 7, s.get());
  s.synchronize();
}

TEST_F(SimtExecutorDeathTest, MemcheckAStoreIntoAFreedBuffer) {
  EXPECT_DEATH(write_into_freed_buffer(),
               "memcheck: write_kernel block \\(0,0,0\\) thread \\(0,0,0\\): 4-byte write in a freed 32-byte device "
               "buffer");
}

TEST_F(SimtExecutorDeathTest, MemcheckAStorePastDynamicSharedMemory) {
  EXPECT_DEATH((st::write_past_dynamic_shared(s.get()), s.synchronize()),
               "memcheck: past_dynamic_shared_kernel block \\(0,0,0\\) thread \\(31,0,0\\): 4-byte write at byte 128 "
               "of dynamic shared memory \\(128 bytes\\) runs 4 bytes past its end");
}

TEST_F(SimtExecutorDeathTest, MemcheckAPipelineCopyFromAMisalignedAddress) {
  DeviceBuffer<float> in(8);
  EXPECT_DEATH((st::pipeline_copy_misaligned(in.get(), s.get()), s.synchronize()),
               "memcheck: pipeline_misaligned_kernel block \\(0,0,0\\) thread \\(0,0,0\\): __pipeline_memcpy_async of "
               "16 bytes from or to an address not a multiple of them");
}

TEST_F(SimtExecutorDeathTest, MemcheckAPipelineCopyIntoGlobalMemory) {
  DeviceBuffer<float> in(4), out(4);
  EXPECT_DEATH((st::pipeline_copy_to_global(in.get(), out.get(), s.get()), s.synchronize()),
               "memcheck: pipeline_to_global_kernel block \\(0,0,0\\) thread \\(0,0,0\\): __pipeline_memcpy_async of "
               "16 bytes to an address outside the block's shared memory");
}

TEST_F(SimtExecutorDeathTest, RacecheckSharedMemoryReadWithoutABarrier) {
  DeviceBuffer<float> out(64);
  EXPECT_DEATH((st::shared_read_without_barrier(out.get(), s.get()), s.synchronize()),
               "racecheck: shared_race_kernel block \\(0,0,0\\) thread \\(1,0,0\\): 4-byte read of byte [0-9]+ of "
               "static shared memory after a write by block \\(0,0,0\\) thread \\(0,0,0\\) with no __syncthreads");
}

void shared_write_after_read_in_reverse() {
  simt::set_schedule(simt::Schedule::reverse);
  cuda::Stream s;
  DeviceBuffer<float> out(64);
  st::shared_write_after_read(out.get(), s.get());
  s.synchronize();
}

TEST_F(SimtExecutorDeathTest, RacecheckSharedMemoryWriteAfterAnotherThreadsRead) {
  // Reverse: thread 63 reads s[63] and writes s[0]; then thread 62 reads s[62] and writes s[63], which 63 read.
  EXPECT_DEATH(shared_write_after_read_in_reverse(),
               "racecheck: write_after_read_kernel block \\(0,0,0\\) thread \\(62,0,0\\): 4-byte write of byte [0-9]+ "
               "of static shared memory after a read by block \\(0,0,0\\) thread \\(63,0,0\\)");
}

TEST_F(SimtExecutorDeathTest, RacecheckTheSameBugForwardIsAReadAfterAWrite) {
  DeviceBuffer<float> out(64);
  EXPECT_DEATH((st::shared_write_after_read(out.get(), s.get()), s.synchronize()),
               "racecheck: write_after_read_kernel block \\(0,0,0\\) thread \\(1,0,0\\): 4-byte read of byte [0-9]+ "
               "of static shared memory after a write by block \\(0,0,0\\) thread \\(0,0,0\\)");
}

TEST_F(SimtExecutorDeathTest, RacecheckGlobalMemoryWrittenByTwoBlocks) {
  DeviceBuffer<float> p(1);
  EXPECT_DEATH((st::every_block_writes_one_address(p.get(), 2, s.get()), s.synchronize()),
               "racecheck: one_address_kernel block \\(1,0,0\\) thread \\(0,0,0\\): 4-byte write of byte 0 of a 4-byte "
               "device allocation after a write by block \\(0,0,0\\) thread \\(0,0,0\\) in the same launch");
}

TEST_F(SimtExecutorDeathTest, RacecheckAnotherBlocksSharedMemoryWithoutAClusterSync) {
  DeviceBuffer<int> out(32);
  EXPECT_DEATH((st::cluster_remote_write_without_sync(out.get(), s.get()), s.synchronize()),
               "racecheck: cluster_no_sync_kernel block \\(1,0,0\\) thread \\(0,0,0\\): 4-byte read of byte 0 of "
               "dynamic shared memory of cluster rank 1 after a write by block \\(0,0,0\\) thread \\(0,0,0\\) "
               "with no cluster sync between them");
}

TEST_F(SimtExecutorDeathTest, RacecheckAnotherBlocksSharedMemoryBeforeTheClustersFirstSync) {
  DeviceBuffer<int> out(32);
  EXPECT_DEATH((st::cluster_remote_write_before_the_first_sync(out.get(), s.get()), s.synchronize()),
               "racecheck: cluster_entry_race_kernel block \\(0,0,0\\) thread \\(0,0,0\\): 4-byte write of the "
               "shared memory of cluster rank 1 before the cluster's first sync: that block may not have started "
               "\\(a cluster entry race\\)");
}

TEST_F(SimtExecutorDeathTest, MemcheckABlockThatExitsBeforeAnotherBlocksWriteIsOrdered) {
  EXPECT_DEATH((simt::set_schedule(simt::Schedule::forward), st::cluster_remote_write_then_exit(s.get()),
                s.synchronize()),
               "memcheck: cluster_exit_race_kernel block \\(1,0,0\\) thread \\(31,0,0\\): the block of cluster "
               "rank 1 exits while the write of byte [0-9]+ of dynamic shared memory of cluster rank 1 by block "
               "\\(0,0,0\\) thread \\([0-9]+,0,0\\) is not ordered before its exit");
}

TEST_F(SimtExecutorDeathTest, RacecheckAPipelineCopyReadBeforeItsWait) {
  DeviceBuffer<float> in = on_device(counting(128), s.get()), out(32);
  EXPECT_DEATH((st::pipeline_read_before_wait(in.get(), out.get(), s.get()), s.synchronize()),
               "racecheck: pipeline_read_before_wait_kernel block \\(0,0,0\\) thread \\(0,0,0\\): 4-byte read of "
               "byte [0-9]+ of static shared memory, the destination of a __pipeline_memcpy_async by block "
               "\\(0,0,0\\) thread \\(0,0,0\\) that no __pipeline_wait_prior has waited for");
}

TEST_F(SimtExecutorDeathTest, RacecheckAPipelineCopyReadAfterABarrierBeforeItsWait) {
  DeviceBuffer<float> in = on_device(counting(4), s.get()), out(1);
  // Reverse: thread 1 runs before thread 0 after the barrier, so its read comes before thread 0's wait (the
  // forward schedule lands the copy first, and racecheck reports the read against the landed write instead).
  EXPECT_DEATH((simt::set_schedule(simt::Schedule::reverse),
                st::pipeline_barrier_before_wait(in.get(), out.get(), s.get()), s.synchronize()),
               "racecheck: pipeline_barrier_before_wait_kernel block \\(0,0,0\\) thread \\(1,0,0\\): 4-byte read "
               "of byte [0-9]+ of static shared memory, the destination of a __pipeline_memcpy_async by block "
               "\\(0,0,0\\) thread \\(0,0,0\\) that no __pipeline_wait_prior has waited for");
}

TEST_F(SimtExecutorDeathTest, SynccheckAThreadThatReturnsWithACopyInFlight) {
  DeviceBuffer<float> in = on_device(counting(4), s.get());
  EXPECT_DEATH((st::pipeline_return_in_flight(in.get(), s.get()), s.synchronize()),
               "synccheck: pipeline_return_in_flight_kernel block \\(0,0,0\\) thread \\(0,0,0\\): returns with 1 "
               "__pipeline_memcpy_async copies no __pipeline_wait_prior waited for");
}

TEST_F(SimtExecutorDeathTest, SynccheckAShuffleMaskedByActiveMaskInADivergentBranch) {
  DeviceBuffer<float> out(32);
  EXPECT_DEATH((st::activemask_shuffle(out.get(), s.get()), s.synchronize()),
               "synccheck: activemask_shuffle_kernel block \\(0,0,0\\) thread \\([0-9]+,0,0\\): __shfl_xor_sync "
               "with mask 0x0000ffff reads lane [0-9]+, which is not in the mask");
}

TEST_F(SimtExecutorDeathTest, RacecheckALaneOutsideASyncwarpsMask) {
  DeviceBuffer<float> out(1);
  EXPECT_DEATH((simt::set_schedule(simt::Schedule::forward), st::partial_syncwarp(out.get(), s.get()),
                s.synchronize()),
               "racecheck: partial_syncwarp_kernel block \\(0,0,0\\) thread \\(16,0,0\\): 4-byte read of byte 0 "
               "of static shared memory after a write by block \\(0,0,0\\) thread \\(0,0,0\\)");
}

TEST_F(SimtExecutorDeathTest, RacecheckStAsyncDataReadBeforeTheWait) {
  DeviceBuffer<int> in = on_device(std::vector<int>(128, 7), s.get()), out(128);
  // Each mbarrier expects 512 bytes and gets 256: the phase never completes, and the blocks read after a
  // cluster sync instead of a wait.
  EXPECT_DEATH((simt::set_schedule(simt::Schedule::forward),
                st::cluster_hand_off(in.get(), out.get(), 2, 2, 512, false, true, true, s.get()), s.synchronize()),
               "racecheck: cluster_hand_off_kernel block \\(0,0,0\\) thread \\(0,0,0\\): 4-byte read of byte 0 of "
               "dynamic shared memory of cluster rank 0, written by an st.async of block \\(1,0,0\\) thread "
               "\\(0,0,0\\) whose mbarrier phase has not completed");
}

TEST_F(SimtExecutorDeathTest, RacecheckStAsyncDataOfAPhaseThatCompletedEarly) {
  // The mbarrier expects 128 of the 256 bytes: the phase completes with the first half, and the other half is
  // still in flight when the block reads it.
  DeviceBuffer<int> in = on_device(std::vector<int>(128, 7), s.get()), out(128);
  EXPECT_DEATH((simt::set_schedule(simt::Schedule::forward),
                st::cluster_hand_off(in.get(), out.get(), 2, 2, 128, true, true, true, s.get()), s.synchronize()),
               "racecheck: cluster_hand_off_kernel block \\([01],0,0\\) thread \\([0-9]+,0,0\\): 4-byte read of byte "
               "[0-9]+ of dynamic shared memory of cluster rank [01], written by an st.async of block \\([01],0,0\\) "
               "thread \\([0-9]+,0,0\\) whose mbarrier phase has not completed");
}

TEST_F(SimtExecutorDeathTest, SynccheckAnMbarrierWaitNothingCompletes) {
  DeviceBuffer<int> in = on_device(std::vector<int>(128, 7), s.get()), out(128);
  EXPECT_DEATH((st::cluster_hand_off(in.get(), out.get(), 2, 2, 512, true, true, true, s.get()), s.synchronize()),
               "synccheck: cluster_hand_off_kernel block \\([01],0,0\\) thread \\([0-9]+,0,0\\): mbarrier_wait for the "
               "phase of parity 0 of the mbarrier at byte 256 of dynamic shared memory of cluster rank [01] never "
               "completes: 0 arrivals pending, 256 bytes of stores still expected");
}

TEST_F(SimtExecutorDeathTest, SynccheckAnMbarrierNoInitInitialised) {
  DeviceBuffer<int> in = on_device(std::vector<int>(128, 7), s.get()), out(128);
  EXPECT_DEATH((st::cluster_hand_off(in.get(), out.get(), 2, 2, 256, true, false, true, s.get()), s.synchronize()),
               "synccheck: cluster_hand_off_kernel block \\([01],0,0\\) thread \\(0,0,0\\): mbarrier_arrive_expect_tx on "
               "the mbarrier at byte 256 of dynamic shared memory of cluster rank [01], which no mbarrier_init of this "
               "block initialised");
}

TEST_F(SimtExecutorDeathTest, RacecheckStAsyncBeforeTheClustersFirstSync) {
  DeviceBuffer<int> in = on_device(std::vector<int>(128, 7), s.get()), out(128);
  EXPECT_DEATH((st::cluster_hand_off(in.get(), out.get(), 2, 2, 256, true, true, false, s.get()), s.synchronize()),
               "racecheck: cluster_hand_off_kernel block \\([01],0,0\\) thread \\(0,0,0\\): 16-byte write of the shared "
               "memory of cluster rank [01] before the cluster's first sync: that block may not have started");
}

TEST_F(SimtExecutorDeathTest, SynccheckAClusterSyncHalfTheClusterReaches) {
  EXPECT_DEATH((st::cluster_sync_in_half_the_cluster(s.get()), s.synchronize()),
               "synccheck: cluster_half_sync_kernel block \\(0,0,0\\) thread \\(0,0,0\\): the cluster's sync "
               "reached by 32 of 64 threads of the cluster; threads that exited first: block \\(1,0,0\\) thread "
               "\\(0,0,0\\)");
}

TEST_F(SimtExecutorDeathTest, MemcheckAWriteToTheSharedMemoryOfABlockThatExited) {
  EXPECT_DEATH((simt::set_schedule(simt::Schedule::forward), st::write_shared_memory_of_an_exited_block(s.get()),
                s.synchronize()),
               "memcheck: cluster_exited_kernel block \\(0,0,0\\) thread \\(0,0,0\\): 4-byte write of the shared "
               "memory of cluster rank 1, whose block has exited");
}

TEST_F(SimtExecutorDeathTest, MemcheckMapSharedRankPastTheCluster) {
  DeviceBuffer<int> out(32);
  EXPECT_DEATH((st::map_shared_rank_past_the_cluster(out.get(), s.get()), s.synchronize()),
               "memcheck: cluster_rank_past_kernel block \\(0,0,0\\) thread \\(0,0,0\\): map_shared_rank to rank 2 "
               "of a cluster of 2 blocks");
}

TEST_F(SimtExecutorDeathTest, SynccheckABarrierHalfTheBlockReaches) {
  EXPECT_DEATH((st::barrier_in_half_the_block(s.get()), s.synchronize()),
               "synccheck: half_barrier_kernel block \\(0,0,0\\) thread \\(0,0,0\\): __syncthreads reached by 16 of 32 "
               "threads; threads that exited first: block \\(0,0,0\\) thread \\(16,0,0\\)");
}

TEST_F(SimtExecutorDeathTest, SynccheckBarriersInDivergentBranches) {
  DeviceBuffer<float> p(32);
  EXPECT_DEATH((st::barriers_in_divergent_branches(p.get(), s.get()), s.synchronize()),
               "synccheck: divergent_barriers_kernel block \\(0,0,0\\) thread \\(1,0,0\\): waits at a different "
               "__syncthreads from block \\(0,0,0\\) thread \\(0,0,0\\) \\(a barrier in divergent code: "
               ".*test_kernels.cu:[0-9]+ and .*test_kernels.cu:[0-9]+\\)");
}

TEST_F(SimtExecutorDeathTest, SynccheckAShuffleWhoseMaskNamesExitedLanes) {
  DeviceBuffer<float> out(32);
  EXPECT_DEATH((st::shuffle_naming_exited_lanes(out.get(), s.get()), s.synchronize()),
               "synccheck: exited_lanes_kernel block \\(0,0,0\\) thread \\(0,0,0\\): __shfl_down_sync with mask "
               "0xffffffff never completes: lanes that exited: block \\(0,0,0\\) thread \\(16,0,0\\)");
}

TEST_F(SimtExecutorDeathTest, SynccheckAShuffleWhoseMaskLeavesOutTheCaller) {
  DeviceBuffer<float> out(32);
  EXPECT_DEATH((st::shuffle_mask_without_the_caller(out.get(), s.get()), s.synchronize()),
               "synccheck: mask_without_caller_kernel block \\(0,0,0\\) thread \\(16,0,0\\): __shfl_sync with mask "
               "0x0000ffff, which leaves out the calling lane");
}

TEST_F(SimtExecutorDeathTest, SynccheckAShuffleReadingALaneOutsideTheMask) {
  DeviceBuffer<float> out(32);
  EXPECT_DEATH((st::shuffle_reading_outside_the_mask(out.get(), s.get()), s.synchronize()),
               "synccheck: outside_mask_kernel block \\(0,0,0\\) thread \\(8,0,0\\): __shfl_down_sync with mask "
               "0x0000ffff reads lane 16, which is not in the mask");
}

TEST_F(SimtExecutorDeathTest, InitcheckAReadOfDeviceMemoryNothingWrote) {
  DeviceBuffer<float> in(16), out(16);
  EXPECT_DEATH((st::copy_n(in.get(), out.get(), 16, s.get()), s.synchronize()),
               "initcheck: copy_kernel block \\(0,0,0\\) thread \\(0,0,0\\): 4-byte read of byte 0 of a 64-byte device "
               "allocation that nothing wrote");
}

TEST_F(SimtExecutorDeathTest, InitcheckAReadOfSharedMemoryNoThreadWrote) {
  DeviceBuffer<float> out(32);
  EXPECT_DEATH((st::read_unwritten_shared(out.get(), s.get()), s.synchronize()),
               "initcheck: unwritten_shared_kernel block \\(0,0,0\\) thread \\(0,0,0\\): 4-byte read of byte [0-9]+ of "
               "static shared memory, which no thread of this block wrote");
}

}  // namespace
}  // namespace sigmanet
