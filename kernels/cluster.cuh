#pragma once
// The running block's thread-block cluster, for the kernels that use one (persistent_train.cu): its rank and
// barrier, another block's shared memory, and the one-way hand-off between blocks: st.async stores into
// another block's shared memory, each completing that block's mbarrier by its bytes, which the receiver
// waits for. Clusters need sm_90; compiled for an older GPU these are a cluster of one, which is all the host
// launches there (the hand-off is never called).
//
// The rules a kernel follows (the SIMT executor checks each, tests/gpu_emulator/simt):
// - another block's shared memory is reached only after the cluster's first cluster_sync (before it, that
//   block may not have started), and while that block still runs: a block leaves only after every access
//   to its shared memory is ordered before (a cluster_sync, or its own wait for the stores it receives);
// - an mbarrier is initialised by one thread, made visible to the cluster (mbarrier_init's fence) and then
//   used only after a cluster_sync;
// - a receiver reads what store_async put in its shared memory only after mbarrier_wait for that phase.
#include <cooperative_groups.h>

#include <cstdint>

#if !defined(SIGMANET_SIMT)
#include <cuda/ptx>
#endif

namespace sigmanet::kernels {

#if defined(SIGMANET_SIMT)
// The executor tells barriers apart by their caller's source line (device.hpp).
inline unsigned cluster_rank() { return cooperative_groups::this_cluster().block_rank(); }
inline void cluster_sync(const SimtSite& site = SimtSite::current()) { cooperative_groups::this_cluster().sync(site); }
template <class T>
inline T* cluster_shared(T* address, unsigned rank) {
  return cooperative_groups::this_cluster().map_shared_rank(address, rank);
}
inline void mbarrier_init(std::uint64_t* barrier, unsigned arrivals) { ::sigmanet::simt::mbarrier_init(barrier, arrivals); }
inline void mbarrier_expect(std::uint64_t* barrier, unsigned bytes) {
  ::sigmanet::simt::mbarrier_arrive_expect_tx(barrier, bytes);
}
inline void mbarrier_wait(std::uint64_t* barrier, unsigned parity) { ::sigmanet::simt::mbarrier_wait(barrier, parity); }
inline void store_async(float* remote, float4 value, std::uint64_t* remote_barrier) {
  ::sigmanet::simt::store_async(remote, &value, sizeof value, remote_barrier);
}
#elif !defined(__CUDA_ARCH__) || __CUDA_ARCH__ >= 900
__device__ inline unsigned cluster_rank() { return cooperative_groups::this_cluster().block_rank(); }
// barrier.cluster.arrive.release + wait.acquire: what every block did before it, every block sees after it.
__device__ inline void cluster_sync() { cooperative_groups::this_cluster().sync(); }
template <class T>
__device__ inline T* cluster_shared(T* address, unsigned rank) {
  return cooperative_groups::this_cluster().map_shared_rank(address, rank);
}
// One thread initialises it for `arrivals` arrivals a phase; the fence makes that visible to the cluster (the
// other blocks' stores complete it), before the cluster_sync that must follow.
__device__ inline void mbarrier_init(std::uint64_t* barrier, unsigned arrivals) {
  cuda::ptx::mbarrier_init(barrier, arrivals);
  cuda::ptx::fence_mbarrier_init(cuda::ptx::sem_release, cuda::ptx::scope_cluster);
}
// This phase's one arrival, expecting `bytes` more from store_async.
__device__ inline void mbarrier_expect(std::uint64_t* barrier, unsigned bytes) {
  (void)cuda::ptx::mbarrier_arrive_expect_tx(cuda::ptx::sem_release, cuda::ptx::scope_cta, cuda::ptx::space_shared,
                                             barrier, bytes);
}
// Until the phase of that parity has completed. The stores that completed it were made visible to this block
// by their completion (a release at cluster scope), so the wait's acquire at block scope sees them (a cluster-
// scope acquire would also invalidate the L1 cache every time).
__device__ inline void mbarrier_wait(std::uint64_t* barrier, unsigned parity) {
  while (!cuda::ptx::mbarrier_try_wait_parity(barrier, parity)) {  // model: wait
  }
}
// remote[0..3] = value in another block's shared memory (remote, 16-byte aligned, and remote_barrier from
// cluster_shared), completing 16 bytes of that block's mbarrier phase.
__device__ inline void store_async(float* remote, float4 value, std::uint64_t* remote_barrier) {
  const float four[4] = {value.x, value.y, value.z, value.w};
  cuda::ptx::st_async(remote, four, remote_barrier);
}
#else
__device__ inline unsigned cluster_rank() { return 0; }
__device__ inline void cluster_sync() { __syncthreads(); }
template <class T>
__device__ inline T* cluster_shared(T* address, unsigned) {
  return address;
}
__device__ inline void mbarrier_init(std::uint64_t*, unsigned) { __trap(); }
__device__ inline void mbarrier_expect(std::uint64_t*, unsigned) { __trap(); }
__device__ inline void mbarrier_wait(std::uint64_t*, unsigned) { __trap(); }
__device__ inline void store_async(float*, float4, std::uint64_t*) { __trap(); }
#endif

}  // namespace sigmanet::kernels
