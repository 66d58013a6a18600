// Evaluation on the device: each sample's argmax and cost (sum_evaluation.cu adds them up).
#include "cuda_check.hpp"
#include "kernels.hpp"
#include "launch.cuh"

namespace sigmanet::kernels {
namespace {

__global__ void argmax_cost_kernel(const float* __restrict__ a, const std::uint8_t* __restrict__ labels, int n,
                                   std::size_t m, unsigned* __restrict__ correct, double* __restrict__ cost) {
  for (std::size_t s = blockIdx.x * std::size_t(blockDim.x) + threadIdx.x; s < m;
       s += std::size_t(gridDim.x) * blockDim.x) {
    const float* row = a + s * std::size_t(n);
    const int label = labels[s];
    int best = 0;
    double c = 0.0;
    for (int j = 0; j < n; ++j) {
      if (row[best] < row[j]) best = j;  // std::max_element's test: the first of equal values wins
      const double e = double(row[j]) - (label == j ? 1.0 : 0.0);
      c += 0.5 * e * e;
    }
    correct[s] = best == label ? 1u : 0u;
    cost[s] = c;
  }
}

}  // namespace

void argmax_cost(BatchView<const float> a, VectorView<const std::uint8_t> labels, VectorView<unsigned> correct,
                 VectorView<double> cost, cudaStream_t stream) {
  SIGMANET_REQUIRE_SHAPES("kernels::argmax_cost", labels.size == a.samples, labels, a);
  SIGMANET_REQUIRE_SHAPES("kernels::argmax_cost", correct.size == a.samples, correct, a);
  SIGMANET_REQUIRE_SHAPES("kernels::argmax_cost", cost.size == a.samples, cost, a);
  const std::size_t m = a.samples;
  if (m == 0) return;
  require(a.data && labels.data && correct.data && cost.data, "argmax_cost", "null pointer");
  const int n = layer_size(a.features, "argmax_cost");
  SIGMANET_LAUNCH(argmax_cost_kernel, blocks_for(m), kThreads, 0, stream)
  (a.data, labels.data, n, m, correct.data, cost.data);
  SIGMANET_CUDA_CHECK_LAUNCH("argmax_cost_kernel");
}

}  // namespace sigmanet::kernels
