// The softmax output layer, after the weighted sums z = W . a (cuBLAS SGEMM for large batches, or
// fused_weighted_sum for small ones): a = softmax(z + b) for each sample's row, in place.
//
// One thread per sample: an output layer is 10 wide, so a row is a handful of values, and one thread walking it
// (softmax_in_place, neuron_math.cuh) sums in a fixed order with no shared memory or shuffles.
#include "cuda_check.hpp"
#include "grid_stride.cuh"
#include "kernels.hpp"
#include "launch.cuh"
#include "neuron_math.cuh"

namespace sigmanet::kernels {
namespace {

__global__ void bias_softmax_kernel(float* __restrict__ a, const float* __restrict__ b, int n, std::size_t m) {
  for (const std::size_t s : grid_stride(m)) {
    float* row = a + s * std::size_t(n);
    for (int j = 0; j < n; ++j) row[j] += b[j];
    softmax_in_place(row, n);
  }
}

}  // namespace

void bias_softmax(BatchView<float> a, VectorView<const float> b, cudaStream_t stream) {
  SIGMANET_REQUIRE_SHAPES("kernels::bias_softmax", b.size == a.features, b, a);
  const std::size_t m = a.samples;
  if (m == 0) return;
  require(a.data && b.data, "bias_softmax", "null pointer");
  const int n = layer_size(a.features, "bias_softmax");
  SIGMANET_LAUNCH_ELEMENTWISE(bias_softmax_kernel, m, stream, a.data, b.data, n, m);
}

}  // namespace sigmanet::kernels
