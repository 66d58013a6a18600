#pragma once
// CUDA's device-side language on the SIMT executor (executor.hpp): the build force-includes this header into
// every kernels/*.cu file it compiles with the host compiler, so the same source nvcc compiles runs here.
//
// Supported: __global__, __device__, __host__, __forceinline__, __noinline__, __restrict__, __launch_bounds__,
// __grid_constant__;
// threadIdx, blockIdx, blockDim, gridDim, warpSize; __shared__ (static) and dynamic shared memory through
// SIGMANET_DYNAMIC_SHARED (launch.cuh); __syncthreads and its _count/_and/_or forms; __syncwarp,
// __shfl_sync/_up/_down/_xor, __ballot_sync, __any_sync, __all_sync, __activemask; atomicAdd/Sub/Min/Max/
// Exch/CAS; __threadfence(_block); expf, fmaf, isfinite and the rest of <cmath>; __fdiv_rn, __fadd_rn,
// __fmul_rn, __fmaf_rn, __int_as_float, __float_as_int; cooperative groups' thread_block, tiled_partition<32>, memcpy_async/wait (the
// copies complete at once) and the thread-block cluster (this_cluster: sync, block_rank, num_blocks,
// map_shared_rank), in include/cooperative_groups.h; clusters launched with SIGMANET_LAUNCH_CLUSTER; the pipeline primitives
// __pipeline_memcpy_async/commit/wait_prior (include/cuda_pipeline.h, likewise); mbarriers and st.async through
// kernels/cluster.cuh (mbarrier.cpp).
// Anything else fails to compile: it is undeclared here, or (__constant__, __managed__, a raw
// `extern __shared__`) refused with a message.
#include <cuda_runtime.h>
#include <math.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <tuple>
#include <type_traits>

#include "executor.hpp"

#define SIGMANET_SIMT 1

// The toolkit's host_defines.h turns these into GCC attributes it does not know: make them plain C++.
#undef __global__
#undef __device__
#undef __host__
#undef __shared__
#undef __constant__
#undef __managed__
#undef __launch_bounds__
#undef __forceinline__
#undef __noinline__
#undef __grid_constant__
#define __global__
#define __device__
#define __host__
#define __forceinline__ inline __attribute__((always_inline))
#define __noinline__ __attribute__((noinline))
#define __launch_bounds__(...)
#define __grid_constant__
// Static shared memory lives in one section, so the executor can find it, poison it before each block and
// check every access to it. `extern __shared__` cannot be built this way ("conflicting specifiers"):
// dynamic shared memory is SIGMANET_DYNAMIC_SHARED(type, name).
#define __shared__ static __attribute__((section("sigmanet_simt_shared")))
#define __constant__ _Pragma("GCC error \"the SIMT executor does not support __constant__ memory\"")
#define __managed__ _Pragma("GCC error \"the SIMT executor does not support __managed__ memory\"")

#define threadIdx (::sigmanet::simt::thread_index())
#define blockIdx (::sigmanet::simt::block_index())
#define blockDim (::sigmanet::simt::block_dimensions())
#define gridDim (::sigmanet::simt::grid_dimensions())
#define warpSize 32

// ---- launches: SIGMANET_LAUNCH(kernel, grid, block, shared, stream)(arguments...) in launch.cuh ----

namespace sigmanet::simt {

// kernel<<<grid, block, shared, stream>>>(arguments...): the arguments are converted to the kernel's
// parameter types and copied at the launch, as CUDA does.
template <class... Params>
class Launcher {
 public:
  Launcher(const char* name, void (*kernel)(Params...), dim3 grid, dim3 block, std::size_t shared, cudaStream_t stream,
           dim3 cluster = dim3(1, 1, 1))
      : config_{name, reinterpret_cast<const void*>(kernel), grid, block, shared, cluster},
        kernel_(kernel),
        stream_(stream) {}

  void operator()(Params... arguments) const {
    static_assert((std::is_trivially_copyable_v<std::decay_t<Params>> && ...),
                  "kernel arguments are copied bytewise, as CUDA copies them");
    const Packed packed(kernel_, arguments...);
    static_assert(sizeof packed <= kMaxArgumentBytes, "kernel arguments past CUDA's 4 KB");
    launch(config_, stream_, &packed, sizeof packed, [](const void* on_stack) {
      std::apply([](auto kernel, auto... copied) { kernel(copied...); }, *static_cast<const Packed*>(on_stack));
    });
  }

 private:
  using Packed = std::tuple<void (*)(Params...), std::decay_t<Params>...>;
  LaunchConfig config_;
  void (*kernel_)(Params...);
  cudaStream_t stream_;
};

}  // namespace sigmanet::simt

// cuda_runtime.h's typed overloads, which it declares for nvcc only.
template <class T>
cudaError_t cudaFuncGetAttributes(cudaFuncAttributes* attributes, T* kernel) {
  return ::cudaFuncGetAttributes(attributes, reinterpret_cast<const void*>(kernel));
}
template <class T>
cudaError_t cudaFuncSetAttribute(T* kernel, cudaFuncAttribute attribute, int value) {
  return ::cudaFuncSetAttribute(reinterpret_cast<const void*>(kernel), attribute, value);
}

// ---- barriers and warp operations ----

// Each takes its caller's source location, which names the barrier (executor.hpp).
using SimtSite = std::source_location;
__forceinline__ void __syncthreads(const SimtSite& site = SimtSite::current()) {
  ::sigmanet::simt::block_barrier(0, site);
}
__forceinline__ int __syncthreads_count(int predicate, const SimtSite& site = SimtSite::current()) {
  return ::sigmanet::simt::block_barrier(predicate != 0, site);
}
__forceinline__ int __syncthreads_and(int predicate, const SimtSite& site = SimtSite::current()) {
  return ::sigmanet::simt::block_barrier(predicate != 0, site) == int(blockDim.x * blockDim.y * blockDim.z);
}
__forceinline__ int __syncthreads_or(int predicate, const SimtSite& site = SimtSite::current()) {
  return ::sigmanet::simt::block_barrier(predicate != 0, site) > 0;
}
// One block runs at a time and its threads take turns: every store is already visible to every thread.
inline void __threadfence() {}
inline void __threadfence_block() {}

namespace sigmanet::simt {

template <class T>
std::uint64_t to_bits(T value) {
  static_assert(std::is_trivially_copyable_v<T> && sizeof(T) <= 8, "warp shuffles move values of up to 8 bytes");
  std::uint64_t bits = 0;
  std::memcpy(&bits, &value, sizeof value);
  return bits;
}

template <class T>
T from_bits(std::uint64_t bits) {
  T value;
  std::memcpy(&value, &bits, sizeof value);
  return value;
}

template <class T>
T shuffle(WarpOp op, unsigned mask, T value, int lane_arg, int width) {
  return from_bits<T>(warp_op(op, mask, to_bits(value), lane_arg, width));
}

// Atomics: one fiber runs at a time, so a load and a store are atomic; atomic_access checks the address.
// The load and the store go through raw_copy, outside the instrumented kernel files, so that they are checked
// once, as an atomic (which races with no other atomic), and not again as a plain load and store.
template <class T, class F>
T atomic_update(T* address, F&& update) {
  atomic_access(address, sizeof(T));
  T old;
  raw_copy(&old, address, sizeof(T));
  const T updated = update(old);
  raw_copy(address, &updated, sizeof(T));
  return old;
}

}  // namespace sigmanet::simt

inline void __syncwarp(unsigned mask = 0xffffffffu) {
  ::sigmanet::simt::warp_op(::sigmanet::simt::WarpOp::syncwarp, mask, 0, 0, 32);
}
template <class T>
T __shfl_sync(unsigned mask, T value, int source_lane, int width = 32) {
  return ::sigmanet::simt::shuffle(::sigmanet::simt::WarpOp::shfl, mask, value, source_lane, width);
}
template <class T>
T __shfl_up_sync(unsigned mask, T value, unsigned delta, int width = 32) {
  return ::sigmanet::simt::shuffle(::sigmanet::simt::WarpOp::shfl_up, mask, value, int(delta), width);
}
template <class T>
T __shfl_down_sync(unsigned mask, T value, unsigned delta, int width = 32) {
  return ::sigmanet::simt::shuffle(::sigmanet::simt::WarpOp::shfl_down, mask, value, int(delta), width);
}
template <class T>
T __shfl_xor_sync(unsigned mask, T value, int lane_mask, int width = 32) {
  return ::sigmanet::simt::shuffle(::sigmanet::simt::WarpOp::shfl_xor, mask, value, lane_mask, width);
}
inline unsigned __ballot_sync(unsigned mask, int predicate) {
  return unsigned(::sigmanet::simt::warp_op(::sigmanet::simt::WarpOp::ballot, mask, predicate != 0, 0, 32));
}
inline int __any_sync(unsigned mask, int predicate) {
  return int(::sigmanet::simt::warp_op(::sigmanet::simt::WarpOp::any, mask, predicate != 0, 0, 32));
}
inline int __all_sync(unsigned mask, int predicate) {
  return int(::sigmanet::simt::warp_op(::sigmanet::simt::WarpOp::all, mask, predicate != 0, 0, 32));
}
inline unsigned __activemask(const SimtSite& site = SimtSite::current()) { return ::sigmanet::simt::active_mask(site); }

// ---- atomics, on global or shared memory ----

// The value's type follows the address's, as CUDA's overloads do (atomicAdd(unsigned*, 1) is fine).
template <class T>
T atomicAdd(T* address, std::type_identity_t<T> value) {
  return ::sigmanet::simt::atomic_update(address, [value](T old) { return T(old + value); });
}
template <class T>
T atomicSub(T* address, std::type_identity_t<T> value) {
  return ::sigmanet::simt::atomic_update(address, [value](T old) { return T(old - value); });
}
template <class T>
T atomicMin(T* address, std::type_identity_t<T> value) {
  return ::sigmanet::simt::atomic_update(address, [value](T old) { return value < old ? value : old; });
}
template <class T>
T atomicMax(T* address, std::type_identity_t<T> value) {
  return ::sigmanet::simt::atomic_update(address, [value](T old) { return old < value ? value : old; });
}
template <class T>
T atomicExch(T* address, std::type_identity_t<T> value) {
  return ::sigmanet::simt::atomic_update(address, [value](T) { return value; });
}
template <class T>
T atomicCAS(T* address, std::type_identity_t<T> compare, std::type_identity_t<T> value) {
  return ::sigmanet::simt::atomic_update(address, [compare, value](T old) { return old == compare ? value : old; });
}

// ---- math built-ins: the host's IEEE operations, correctly rounded as the _rn forms promise ----

inline float __fdiv_rn(float a, float b) { return a / b; }
inline float __fadd_rn(float a, float b) { return a + b; }
inline float __fmul_rn(float a, float b) { return a * b; }
inline float __fmaf_rn(float a, float b, float c) { return std::fma(a, b, c); }
inline float __int_as_float(int x) { return std::bit_cast<float>(x); }
inline int __float_as_int(float x) { return std::bit_cast<int>(x); }
