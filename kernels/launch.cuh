#pragma once
// How the kernel files launch: plain, element-wise and in clusters, with the grid's size and the wrappers'
// argument checks. What runs on the device lives elsewhere: the neuron's arithmetic in neuron_math.cuh, the
// grid-stride loop in grid_stride.cuh, a cluster's device side (rank, barrier, another block's shared memory) in
// cluster.cuh.
#include <cuda_runtime.h>

#include <climits>
#include <cstddef>
#include <string>
#include <utility>

#include "cuda_check.hpp"
#include "sigmanet/error.hpp"

// kernel<<<grid, block, shared, stream>>>(arguments) is written SIGMANET_LAUNCH(kernel, grid, block, shared,
// stream)(arguments): nvcc sees the triple chevrons, the host compiler of the emulator build (which runs these
// same files on the CPU, tests/gpu_emulator/simt) a call it can compile. Likewise dynamic shared memory:
// SIGMANET_DYNAMIC_SHARED(float, s) is `extern __shared__ float s[]`.
//
// A launch in thread-block clusters of `cluster` blocks is SIGMANET_LAUNCH_CLUSTER(kernel, grid, block, cluster,
// shared, stream)(arguments): cudaLaunchKernelEx with the cluster dimension attribute, whose error it throws.
//
// An element-wise kernel (a grid-stride loop over count items, grid_stride.cuh) is launched and its launch checked
// by SIGMANET_LAUNCH_ELEMENTWISE(kernel, count, stream, arguments...): kThreads a block, blocks_for(count) blocks.
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
#define SIGMANET_LAUNCH_ELEMENTWISE(kernel, count, stream, ...)                                                     \
  do {                                                                                                               \
    SIGMANET_LAUNCH(kernel, ::sigmanet::kernels::blocks_for(count), ::sigmanet::kernels::kThreads, 0, stream)        \
    (__VA_ARGS__);                                                                                                   \
    SIGMANET_CUDA_CHECK_LAUNCH(#kernel);                                                                             \
  } while (false)

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
    if (status != cudaSuccess) cuda::throw_cluster_launch_error(status, name_, cluster_.x);
  }

 private:
  const char* name_;
  void (*kernel_)(Params...);
  dim3 grid_, block_, cluster_;
  std::size_t shared_;
  cudaStream_t stream_;
};
#endif

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
