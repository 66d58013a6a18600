// The fused layer for small layers: sigma(W . a + b) for a whole batch in one kernel, where a GEMM's launch and
// tiling cost more than the arithmetic. Three variants make a small-batch training step few launches:
// - the first layer can gather its own input: the batch the step counter points at, read through the epoch's
//   order and converted as gather_batch converts it, pixel bytes or float values (x and the labels are written
//   out for the later kernels);
// - the output layer can finish with its error from the labels and the NaN/Inf watch, as output_delta does;
// - a softmax output layer takes the weighted sums W . a alone, what the SGEMM of large batches leaves, so that
//   one bias_softmax kernel finishes either path (a softmax needs the whole row of a sample, which one warp per
//   output value does not have; and one finishing kernel means one summation order for both paths).
#include <type_traits>

#include "cuda_check.hpp"
#include "kernels.hpp"
#include "launch.cuh"
#include "neuron_math.cuh"

namespace sigmanet::kernels {
namespace {

constexpr int kWarp = 32;

// A sample's inputs from a float batch.
struct FloatRows {
  const float* in;
  int n_in;
  __device__ const float* row(std::size_t s) const { return in + s * std::size_t(n_in); }
};

// What the warp computing output (j, s) does with z = W . a: the sigmoid of z + b, z alone, or the sigmoid and
// the output error of the cost.
enum class Finish { sigmoid, weighted_sum, sigmoid_and_error };

// Where the first layer's input comes from: a float batch given, or gathered from the set's pixel bytes or float
// values.
enum class Input { given, pixels, values };

// The arguments of the variants beyond the plain layer.
struct Extra {
  // Gathering the first layer's input (from pixels, or from values below, as Input says): the batch's records
  // order[base + s] of the set, base = *step * batch; x and batch_labels receive what gather_batch would write.
  const std::uint8_t* pixels = nullptr;
  const std::uint8_t* labels = nullptr;
  const std::uint32_t* order = nullptr;
  const unsigned* step = nullptr;
  std::size_t batch = 0;
  float* x = nullptr;
  std::uint8_t* batch_labels = nullptr;
  // Finishing with the error: the batch's labels, delta = dC/dz, and the NaN/Inf watch as output_delta keeps it.
  const std::uint8_t* y = nullptr;
  float* delta = nullptr;
  unsigned* bad = nullptr;
  // The float values a layer gathers from (Input::values): last, so that the other fields keep their places
  // among the kernel's parameters and the other variants their compiled code.
  const float* values = nullptr;
};

// The set a gathering layer reads, and one of its features as the layer's input: a pixel through the table
// x_of, a value as it is.
template <Input kInput>
__device__ const auto* gathered(const Extra& extra) {
  if constexpr (kInput == Input::pixels)
    return extra.pixels;
  else
    return extra.values;
}
__device__ float input_of(const float* x_of, std::uint8_t pixel) { return x_of[pixel]; }
__device__ float input_of(const float*, float value) { return value; }

// One warp per output value (j, s): the lanes stride along the weight row and the sample's inputs (both
// contiguous, so the loads coalesce), then a fixed shuffle tree sums the 32 partial sums (same order every
// time, so the same bits). A gathered pixel goes through a 256-entry table x(p) = p / 255 in dynamic shared
// memory (gather_batch's correctly rounded quotient), a gathered value as it is, and the warps of neuron 0 write
// the batch out.
template <Finish kFinish, Cost kCost, Input kInput>
__global__ void fused_forward_kernel(const float* __restrict__ w, const float* __restrict__ b, FloatRows in,
                                     int n_out, std::size_t m, float* __restrict__ out, Extra extra) {
  SIGMANET_DYNAMIC_SHARED(float, x_of);  // 256 floats when gathering pixels, else nothing
  if constexpr (kInput == Input::pixels) {
    for (int p = int(threadIdx.x); p < 256; p += int(blockDim.x)) x_of[p] = __fdiv_rn(float(p), 255.0f);
    __syncthreads();
  }
  const std::size_t warps_per_block = blockDim.x / kWarp;
  const unsigned lane = threadIdx.x % kWarp;
  const std::size_t total = m * std::size_t(n_out);
  const int n_in = in.n_in;
  for (std::size_t item = blockIdx.x * warps_per_block + threadIdx.x / kWarp; item < total;
       item += std::size_t(gridDim.x) * warps_per_block) {
    // item is the same for the whole warp, so the whole warp runs or leaves the loop together.
    const std::size_t s = item / std::size_t(n_out), j = item - s * std::size_t(n_out);
    const float* w_row = w + j * std::size_t(n_in);
    float sum = 0.0f;
    if constexpr (kInput != Input::given) {
      const std::size_t record = extra.order[std::size_t(*extra.step) * extra.batch + s];
      const auto* p = gathered<kInput>(extra) + record * std::size_t(n_in);
      for (int k = int(lane); k < n_in; k += kWarp) {
        const float x = input_of(x_of, p[k]);
        sum += w_row[k] * x;
        if (j == 0) extra.x[s * std::size_t(n_in) + std::size_t(k)] = x;
      }
      if (j == 0 && lane == 0) extra.batch_labels[s] = extra.labels[record];
    } else {
      const float* a = in.row(s);
      for (int k = int(lane); k < n_in; k += kWarp) sum += w_row[k] * a[k];
    }
    for (int offset = kWarp / 2; offset > 0; offset /= 2) sum += __shfl_down_sync(0xffffffffu, sum, offset);
    if (lane != 0) continue;
    if constexpr (kFinish == Finish::weighted_sum) {
      out[item] = sum;
    } else {
      const float a = sigmoid(sum + b[j]);
      out[item] = a;
      if constexpr (kFinish == Finish::sigmoid_and_error) {
        extra.delta[item] = output_error(kCost, a, extra.y[s] == j ? 1.0f : 0.0f);
        if (!isfinite(a)) atomicMin(extra.bad, *extra.step);  // the minimum: the same whatever the order
      }
    }
  }
}

template <Finish kFinish, Cost kCost, Input kInput>
void launch(const char* wrapper, WeightView<const float> w, VectorView<const float> b, BatchView<const float> in,
            BatchView<float> out, const Extra& extra, cudaStream_t stream) {
  const int n_in = layer_size(w.inputs, wrapper), n_out = layer_size(w.outputs, wrapper);
  const std::size_t warps = out.samples * std::size_t(n_out);
  const std::size_t shared = kInput == Input::pixels ? 256 * sizeof(float) : 0;
  SIGMANET_LAUNCH((fused_forward_kernel<kFinish, kCost, kInput>), blocks_for(warps * kWarp), kThreads, shared, stream)
  (w.data, b.data, FloatRows{in.data, n_in}, n_out, out.samples, out.data, extra);
  SIGMANET_CUDA_CHECK_LAUNCH("fused_forward_kernel");
}

template <class Feature>
void gather_forward(BatchView<const Feature> records, VectorView<const std::uint8_t> labels,
                    VectorView<const std::uint32_t> order, const unsigned* step, std::size_t batch,
                    WeightView<const float> w, VectorView<const float> b, BatchView<float> x,
                    VectorView<std::uint8_t> batch_labels, BatchView<float> out, cudaStream_t stream) {
  SIGMANET_REQUIRE_SHAPES("kernels::fused_gather_forward", x.features == records.features, x, records);
  SIGMANET_REQUIRE_SHAPES("kernels::fused_gather_forward", labels.size == records.samples, labels, records);
  SIGMANET_REQUIRE_SHAPES("kernels::fused_gather_forward", batch_labels.size == x.samples, batch_labels, x);
  SIGMANET_REQUIRE_SHAPES("kernels::fused_gather_forward", w.inputs == x.features, w, x);
  SIGMANET_REQUIRE_SHAPES("kernels::fused_gather_forward", w.outputs == out.features, w, out);
  SIGMANET_REQUIRE_SHAPES("kernels::fused_gather_forward", b.size == w.outputs, b, w);
  SIGMANET_REQUIRE_SHAPES("kernels::fused_gather_forward", out.samples == x.samples, out, x);
  const std::size_t m = x.samples;
  if (m == 0) return;
  require(records.data && labels.data && order.data && step && w.data && b.data && x.data && batch_labels.data &&
              out.data,
          "fused_gather_forward", "null pointer");
  require(batch >= m, "fused_gather_forward", "a batch of fewer samples than the step gathers");
  Extra extra;
  constexpr bool kPixels = std::is_same_v<Feature, std::uint8_t>;
  if constexpr (kPixels)
    extra.pixels = records.data;
  else
    extra.values = records.data;
  extra.labels = labels.data;
  extra.order = order.data;
  extra.step = step;
  extra.batch = batch;
  extra.x = x.data;
  extra.batch_labels = batch_labels.data;
  launch<Finish::sigmoid, Cost::quadratic, kPixels ? Input::pixels : Input::values>(
      "fused_gather_forward", w, b, {nullptr, m, x.features}, out, extra, stream);
}

}  // namespace

void fused_forward(WeightView<const float> w, VectorView<const float> b, BatchView<const float> in,
                   BatchView<float> out, cudaStream_t stream) {
  SIGMANET_REQUIRE_SHAPES("kernels::fused_forward", w.inputs == in.features, w, in);
  SIGMANET_REQUIRE_SHAPES("kernels::fused_forward", w.outputs == out.features, w, out);
  SIGMANET_REQUIRE_SHAPES("kernels::fused_forward", b.size == w.outputs, b, w);
  SIGMANET_REQUIRE_SHAPES("kernels::fused_forward", out.samples == in.samples, out, in);
  if (in.samples == 0) return;
  require(w.data && b.data && in.data && out.data, "fused_forward", "null pointer");
  require(in.data != out.data, "fused_forward", "input and output must not overlap");
  launch<Finish::sigmoid, Cost::quadratic, Input::given>("fused_forward", w, b, in, out, {}, stream);
}

void fused_weighted_sum(WeightView<const float> w, BatchView<const float> in, BatchView<float> z,
                        cudaStream_t stream) {
  SIGMANET_REQUIRE_SHAPES("kernels::fused_weighted_sum", w.inputs == in.features, w, in);
  SIGMANET_REQUIRE_SHAPES("kernels::fused_weighted_sum", w.outputs == z.features, w, z);
  SIGMANET_REQUIRE_SHAPES("kernels::fused_weighted_sum", z.samples == in.samples, z, in);
  if (in.samples == 0) return;
  require(w.data && in.data && z.data, "fused_weighted_sum", "null pointer");
  require(in.data != z.data, "fused_weighted_sum", "input and output must not overlap");
  launch<Finish::weighted_sum, Cost::quadratic, Input::given>("fused_weighted_sum", w, {}, in, z, {}, stream);
}

void fused_gather_forward(BatchView<const std::uint8_t> images, VectorView<const std::uint8_t> labels,
                          VectorView<const std::uint32_t> order, const unsigned* step, std::size_t batch,
                          WeightView<const float> w, VectorView<const float> b, BatchView<float> x,
                          VectorView<std::uint8_t> batch_labels, BatchView<float> out, cudaStream_t stream) {
  gather_forward(images, labels, order, step, batch, w, b, x, batch_labels, out, stream);
}

void fused_gather_forward(BatchView<const float> values, VectorView<const std::uint8_t> labels,
                          VectorView<const std::uint32_t> order, const unsigned* step, std::size_t batch,
                          WeightView<const float> w, VectorView<const float> b, BatchView<float> x,
                          VectorView<std::uint8_t> batch_labels, BatchView<float> out, cudaStream_t stream) {
  gather_forward(values, labels, order, step, batch, w, b, x, batch_labels, out, stream);
}

void fused_forward_error(Cost cost, WeightView<const float> w, VectorView<const float> b, BatchView<const float> in,
                         VectorView<const std::uint8_t> labels, const unsigned* step, unsigned* bad,
                         BatchView<float> out, BatchView<float> delta, cudaStream_t stream) {
  SIGMANET_REQUIRE_SHAPES("kernels::fused_forward_error", w.inputs == in.features, w, in);
  SIGMANET_REQUIRE_SHAPES("kernels::fused_forward_error", w.outputs == out.features, w, out);
  SIGMANET_REQUIRE_SHAPES("kernels::fused_forward_error", b.size == w.outputs, b, w);
  SIGMANET_REQUIRE_SHAPES("kernels::fused_forward_error", out.samples == in.samples, out, in);
  SIGMANET_REQUIRE_SHAPES("kernels::fused_forward_error", labels.size == in.samples, labels, in);
  SIGMANET_REQUIRE_SHAPES("kernels::fused_forward_error",
                          delta.samples == out.samples && delta.features == out.features, delta, out);
  require(cost == Cost::quadratic || cost == Cost::cross_entropy, "fused_forward_error",
          "a sigmoid output layer's cost: quadratic or cross-entropy");
  if (in.samples == 0) return;
  require(w.data && b.data && in.data && out.data && labels.data && step && bad && delta.data, "fused_forward_error",
          "null pointer");
  require(in.data != out.data, "fused_forward_error", "input and output must not overlap");
  Extra extra;
  extra.y = labels.data;
  extra.step = step;
  extra.bad = bad;
  extra.delta = delta.data;
  if (cost == Cost::quadratic)
    launch<Finish::sigmoid_and_error, Cost::quadratic, Input::given>("fused_forward_error", w, b, in, out, extra,
                                                                     stream);
  else
    launch<Finish::sigmoid_and_error, Cost::cross_entropy, Input::given>("fused_forward_error", w, b, in, out, extra,
                                                                         stream);
}

}  // namespace sigmanet::kernels
