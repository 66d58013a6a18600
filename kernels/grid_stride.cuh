#pragma once
// The grid-stride loop of the element-wise kernels, written once: `for (std::size_t k : grid_stride(count))`
// visits the items [0, count), thread t of the grid taking t, t + T, t + 2T, ... with T the grid's threads. Any
// grid covers any count, so launches size the grid for the GPU (blocks_for, launch.cuh), not for the data;
// SIGMANET_LAUNCH_ELEMENTWISE (launch.cuh) is the launch that goes with it.
#include <cstddef>

namespace sigmanet::kernels {

class GridStride {
 public:
  class Iterator {
   public:
    __device__ Iterator(std::size_t k, std::size_t stride) : k_(k), stride_(stride) {}
    __device__ std::size_t operator*() const { return k_; }
    __device__ Iterator& operator++() {
      k_ += stride_;
      return *this;
    }
    // Compared with end() alone: a thread is done once it steps past the last item, wherever it lands.
    __device__ bool operator!=(const Iterator& end) const { return k_ < end.k_; }

   private:
    std::size_t k_, stride_;
  };

  __device__ GridStride(std::size_t first, std::size_t stride, std::size_t count)
      : first_(first), stride_(stride), count_(count) {}
  __device__ Iterator begin() const { return {first_, stride_}; }
  __device__ Iterator end() const { return {count_, stride_}; }

 private:
  std::size_t first_, stride_, count_;
};

// This thread's items of [0, count).
__device__ inline GridStride grid_stride(std::size_t count) {
  return {blockIdx.x * std::size_t(blockDim.x) + threadIdx.x, std::size_t(gridDim.x) * blockDim.x, count};
}

}  // namespace sigmanet::kernels
