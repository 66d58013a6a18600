// The epilogue after a cuBLAS SGEMM for large layers: a = sigma(z + b), in place (cuBLASLt has no
// sigmoid epilogue).
#include "cuda_check.hpp"
#include "grid_stride.cuh"
#include "kernels.hpp"
#include "launch.cuh"
#include "neuron_math.cuh"

namespace sigmanet::kernels {
namespace {

__global__ void bias_sigmoid_kernel(float* __restrict__ a, const float* __restrict__ b, int n, std::size_t m) {
  const std::size_t total = m * std::size_t(n);
  for (const std::size_t k : grid_stride(total))
    a[k] = sigmoid(a[k] + b[k % std::size_t(n)]);
}

}  // namespace

void bias_sigmoid(BatchView<float> a, VectorView<const float> b, cudaStream_t stream) {
  SIGMANET_REQUIRE_SHAPES("kernels::bias_sigmoid", b.size == a.features, b, a);
  const std::size_t m = a.samples;
  if (m == 0) return;
  require(a.data && b.data, "bias_sigmoid", "null pointer");
  const int n = layer_size(a.features, "bias_sigmoid");
  SIGMANET_LAUNCH_ELEMENTWISE(bias_sigmoid_kernel, m * std::size_t(n), stream, a.data, b.data, n, m);
}

}  // namespace sigmanet::kernels
