#pragma once
// Helpers shared by the kernel files: launches (plain and in clusters), the logistic function, grid sizing.
#include <cooperative_groups.h>
#include <cuda_runtime.h>

#include <climits>
#include <cstddef>
#include <string>
#include <utility>

#include "sigmanet/error.hpp"

// kernel<<<grid, block, shared, stream>>>(arguments) is written SIGMANET_LAUNCH(kernel, grid, block, shared,
// stream)(arguments): nvcc sees the triple chevrons, the host compiler of the emulator build (which runs these
// same files on the CPU, tests/gpu_emulator/simt) a call it can compile. Likewise dynamic shared memory:
// SIGMANET_DYNAMIC_SHARED(float, s) is `extern __shared__ float s[]`.
//
// A launch in thread-block clusters of `cluster` blocks is SIGMANET_LAUNCH_CLUSTER(kernel, grid, block, cluster,
// shared, stream)(arguments): cudaLaunchKernelEx with the cluster dimension attribute, whose error it throws.
#if defined(SIGMANET_SIMT)
#define SIGMANET_LAUNCH(kernel, grid, block, shared, stream) \
  ::sigmanet::simt::Launcher(#kernel, kernel, grid, block, shared, stream)
#define SIGMANET_LAUNCH_CLUSTER(kernel, grid, block, cluster, shared, stream) \
  ::sigmanet::simt::Launcher(#kernel, kernel, grid, block, shared, stream, cluster)
#define SIGMANET_DYNAMIC_SHARED(type, name) type* const name = static_cast<type*>(::sigmanet::simt::dynamic_shared())
#else
#define SIGMANET_LAUNCH(kernel, grid, block, shared, stream) kernel<<<grid, block, shared, stream>>>
#define SIGMANET_LAUNCH_CLUSTER(kernel, grid, block, cluster, shared, stream) \
  ::sigmanet::kernels::ClusterLaunch(#kernel, kernel, grid, block, cluster, shared, stream)
#define SIGMANET_DYNAMIC_SHARED(type, name) extern __shared__ type name[]
#endif

namespace sigmanet::kernels {

#if !defined(SIGMANET_SIMT)
// SIGMANET_LAUNCH_CLUSTER's launch on a GPU.
template <class... Params>
class ClusterLaunch {
 public:
  ClusterLaunch(const char* name, void (*kernel)(Params...), dim3 grid, dim3 block, dim3 cluster, std::size_t shared,
                cudaStream_t stream)
      : name_(name), kernel_(kernel), grid_(grid), block_(block), cluster_(cluster), shared_(shared), stream_(stream) {}

  template <class... Args>
  void operator()(Args&&... arguments) const {
    cudaLaunchAttribute attribute{};
    attribute.id = cudaLaunchAttributeClusterDimension;
    attribute.val.clusterDim.x = cluster_.x;
    attribute.val.clusterDim.y = cluster_.y;
    attribute.val.clusterDim.z = cluster_.z;
    cudaLaunchConfig_t config{};
    config.gridDim = grid_;
    config.blockDim = block_;
    config.dynamicSmemBytes = shared_;
    config.stream = stream_;
    config.attrs = &attribute;
    config.numAttrs = 1;
    const cudaError_t status = cudaLaunchKernelEx(&config, kernel_, std::forward<Args>(arguments)...);
    if (status != cudaSuccess)
      throw Error(std::string("CUDA error launching ") + name_ + " in clusters of " + std::to_string(cluster_.x) +
                  ": " + cudaGetErrorString(status));
  }

 private:
  const char* name_;
  void (*kernel_)(Params...);
  dim3 grid_, block_, cluster_;
  std::size_t shared_;
  cudaStream_t stream_;
};
#endif

// The running block's thread-block cluster: its rank, its barrier, another block's shared memory. Clusters
// need sm_90; compiled for an older GPU these are a cluster of one, which is all the host launches there.
#if defined(SIGMANET_SIMT)
// The executor tells barriers apart by their caller's source line (device.hpp).
inline unsigned cluster_rank() { return cooperative_groups::this_cluster().block_rank(); }
inline void cluster_sync(const SimtSite& site = SimtSite::current()) { cooperative_groups::this_cluster().sync(site); }
template <class T>
inline T* cluster_shared(T* address, unsigned rank) {
  return cooperative_groups::this_cluster().map_shared_rank(address, rank);
}
#elif !defined(__CUDA_ARCH__) || __CUDA_ARCH__ >= 900
__device__ inline unsigned cluster_rank() { return cooperative_groups::this_cluster().block_rank(); }
__device__ inline void cluster_sync() { cooperative_groups::this_cluster().sync(); }
template <class T>
__device__ inline T* cluster_shared(T* address, unsigned rank) {
  return cooperative_groups::this_cluster().map_shared_rank(address, rank);
}
#else
__device__ inline unsigned cluster_rank() { return 0; }
__device__ inline void cluster_sync() { __syncthreads(); }
template <class T>
__device__ inline T* cluster_shared(T* address, unsigned) {
  return address;
}
#endif

// sigma(z) = 1 / (1 + e^-z), as the CPU reference writes it. expf and the IEEE division are the accurate
// versions (this project never builds with --use_fast_math).
__device__ inline float sigmoid(float z) { return 1.0f / (1.0f + expf(-z)); }

// A sample's softmax in place, from its weighted inputs z (bias included), in the CPU networks' order: the row's
// largest value found first and subtracted before exp, as Nielsen's (78) in value (e^{z - max} is at most 1, so
// z of +-1000 neither overflows nor turns the row to 0/0); each e^{z_j - max} stored as it is added in, left to
// right; then each divided by the sum. One thread walks the whole row: a fixed order, so the same bits every
// run, and the one arithmetic of both training paths (bias_softmax.cu, persistent_train.cu).
__device__ inline void softmax_in_place(float* row, int n) {
  float top = row[0];
  for (int j = 1; j < n; ++j) top = fmaxf(top, row[j]);
  float sum = 0.0f;
  for (int j = 0; j < n; ++j) sum += row[j] = expf(row[j] - top);
  for (int j = 0; j < n; ++j) row[j] /= sum;
}

constexpr int kThreads = 256;

// Blocks for a grid-stride loop over count items: enough to fill any GPU, never past the grid limit.
inline unsigned blocks_for(std::size_t count, int threads = kThreads) {
  const std::size_t blocks = (count + std::size_t(threads) - 1) / std::size_t(threads);
  constexpr std::size_t kMaxBlocks = std::size_t(1) << 20;
  return static_cast<unsigned>(blocks < kMaxBlocks ? blocks : kMaxBlocks);
}

inline void require(bool condition, const char* wrapper, const char* what) {
  if (!condition) throw Error(std::string("kernels::") + wrapper + ": " + what);
}

// A layer's width as the kernels take it (an int), refused unless it is 1 to INT_MAX.
inline int layer_size(std::size_t n, const char* wrapper) {
  require(n > 0, wrapper, "layer size must be at least 1");
  require(n <= std::size_t(INT_MAX), wrapper, "layer size too large");
  return static_cast<int>(n);
}

}  // namespace sigmanet::kernels
