// The fused layer for small layers: sigma(W . a + b) for a whole batch in one kernel, where a GEMM's
// launch and tiling cost more than the arithmetic. A softmax output layer takes the same kernel without its
// last line: the weighted sums W . a alone, what the SGEMM of large batches leaves, so that one bias_softmax
// kernel finishes either path (a softmax needs the whole row of a sample, which one warp per output value does
// not have; and one finishing kernel means one summation order for both paths).
#include "cuda_check.hpp"
#include "kernels.hpp"
#include "launch.cuh"

namespace sigmanet::kernels {
namespace {

constexpr int kWarp = 32;

// One warp per output value (j, s): the lanes stride along the weight row and the sample's inputs (both
// contiguous, so the loads coalesce), then a fixed shuffle tree sums the 32 partial sums (same order every
// time, so the same bits). kSigmoid: out = sigma(sum + b); otherwise out = sum (b is not read).
template <bool kSigmoid>
__global__ void fused_forward_kernel(const float* __restrict__ w, const float* __restrict__ b,
                                     const float* __restrict__ in, int n_in, int n_out, std::size_t m,
                                     float* __restrict__ out) {
  const std::size_t warps_per_block = blockDim.x / kWarp;
  const unsigned lane = threadIdx.x % kWarp;
  const std::size_t total = m * std::size_t(n_out);
  for (std::size_t item = blockIdx.x * warps_per_block + threadIdx.x / kWarp; item < total;
       item += std::size_t(gridDim.x) * warps_per_block) {
    // item is the same for the whole warp, so the whole warp runs or leaves the loop together.
    const std::size_t s = item / std::size_t(n_out), j = item - s * std::size_t(n_out);
    const float* w_row = w + j * std::size_t(n_in);
    const float* a = in + s * std::size_t(n_in);
    float sum = 0.0f;
    for (int k = lane; k < n_in; k += kWarp) sum += w_row[k] * a[k];
    for (int offset = kWarp / 2; offset > 0; offset /= 2) sum += __shfl_down_sync(0xffffffffu, sum, offset);
    if (lane == 0) out[item] = kSigmoid ? sigmoid(sum + b[j]) : sum;
  }
}

}  // namespace

void fused_forward(WeightView<const float> w, VectorView<const float> b, BatchView<const float> in,
                   BatchView<float> out, cudaStream_t stream) {
  SIGMANET_REQUIRE_SHAPES("kernels::fused_forward", w.inputs == in.features, w, in);
  SIGMANET_REQUIRE_SHAPES("kernels::fused_forward", w.outputs == out.features, w, out);
  SIGMANET_REQUIRE_SHAPES("kernels::fused_forward", b.size == w.outputs, b, w);
  SIGMANET_REQUIRE_SHAPES("kernels::fused_forward", out.samples == in.samples, out, in);
  const std::size_t m = in.samples;
  if (m == 0) return;
  require(w.data && b.data && in.data && out.data, "fused_forward", "null pointer");
  const int n_in = layer_size(w.inputs, "fused_forward"), n_out = layer_size(w.outputs, "fused_forward");
  require(in.data != out.data, "fused_forward", "input and output must not overlap");
  const std::size_t warps = m * std::size_t(n_out);
  SIGMANET_LAUNCH(fused_forward_kernel<true>, blocks_for(warps * kWarp), kThreads, 0, stream)
  (w.data, b.data, in.data, n_in, n_out, m, out.data);
  SIGMANET_CUDA_CHECK_LAUNCH("fused_forward_kernel");
}

void fused_weighted_sum(WeightView<const float> w, BatchView<const float> in, BatchView<float> z,
                        cudaStream_t stream) {
  SIGMANET_REQUIRE_SHAPES("kernels::fused_weighted_sum", w.inputs == in.features, w, in);
  SIGMANET_REQUIRE_SHAPES("kernels::fused_weighted_sum", w.outputs == z.features, w, z);
  SIGMANET_REQUIRE_SHAPES("kernels::fused_weighted_sum", z.samples == in.samples, z, in);
  const std::size_t m = in.samples;
  if (m == 0) return;
  require(w.data && in.data && z.data, "fused_weighted_sum", "null pointer");
  const int n_in = layer_size(w.inputs, "fused_weighted_sum"), n_out = layer_size(w.outputs, "fused_weighted_sum");
  require(in.data != z.data, "fused_weighted_sum", "input and output must not overlap");
  const std::size_t warps = m * std::size_t(n_out);
  SIGMANET_LAUNCH(fused_forward_kernel<false>, blocks_for(warps * kWarp), kThreads, 0, stream)
  (w.data, nullptr, in.data, n_in, n_out, m, z.data);
  SIGMANET_CUDA_CHECK_LAUNCH("fused_forward_kernel");
}

}  // namespace sigmanet::kernels
