// The epilogue after a cuBLAS SGEMM for large layers: a = sigma(z + b), in place (cuBLASLt has no
// sigmoid epilogue).
#include "cuda_check.hpp"
#include "kernels.hpp"
#include "launch.cuh"
#include "neuron_math.cuh"

namespace sigmanet::kernels {
namespace {

__global__ void bias_sigmoid_kernel(float* __restrict__ a, const float* __restrict__ b, int n, std::size_t m) {
  const std::size_t total = m * std::size_t(n);
  for (std::size_t k = blockIdx.x * std::size_t(blockDim.x) + threadIdx.x; k < total;
       k += std::size_t(gridDim.x) * blockDim.x)
    a[k] = sigmoid(a[k] + b[k % std::size_t(n)]);
}

}  // namespace

void bias_sigmoid(BatchView<float> a, VectorView<const float> b, cudaStream_t stream) {
  SIGMANET_REQUIRE_SHAPES("kernels::bias_sigmoid", b.size == a.features, b, a);
  const std::size_t m = a.samples;
  if (m == 0) return;
  require(a.data && b.data, "bias_sigmoid", "null pointer");
  const int n = layer_size(a.features, "bias_sigmoid");
  SIGMANET_LAUNCH(bias_sigmoid_kernel, blocks_for(m * std::size_t(n)), kThreads, 0, stream)(a.data, b.data, n, m);
  SIGMANET_CUDA_CHECK_LAUNCH("bias_sigmoid_kernel");
}

}  // namespace sigmanet::kernels
