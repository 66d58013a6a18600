// The batch gather: picks the batch's records by the epoch's order and converts them to float in one pass: pixel
// bytes to byte / 255, float values as they are.
#include "cuda_check.hpp"
#include "grid_stride.cuh"
#include "kernels.hpp"
#include "launch.cuh"

namespace sigmanet::kernels {
namespace {

// A feature as the network's input. __fdiv_rn: the correctly rounded quotient whatever the compiler flags, so x
// matches the CPU bit for bit.
__device__ float input_of(std::uint8_t pixel) { return __fdiv_rn(float(pixel), 255.0f); }
__device__ float input_of(float value) { return value; }

template <class Feature>
__global__ void gather_batch_kernel(const Feature* __restrict__ records_in, const std::uint8_t* __restrict__ labels,
                                    std::size_t features, const std::uint32_t* __restrict__ order,
                                    const unsigned* __restrict__ step, std::size_t batch, std::size_t first,
                                    std::size_t m, float* __restrict__ x, std::uint8_t* __restrict__ batch_labels) {
  const std::size_t base = first + (step ? std::size_t(*step) * batch : 0);
  const std::size_t total = m * features;
  for (const std::size_t k : grid_stride(total)) {
    const std::size_t s = k / features, i = k - s * features;
    const std::size_t record = order ? std::size_t(order[base + s]) : base + s;
    x[k] = input_of(records_in[record * features + i]);
    if (batch_labels && i == 0) batch_labels[s] = labels[record];
  }
}

template <class Feature>
void gather(BatchView<const Feature> records, VectorView<const std::uint8_t> labels,
            VectorView<const std::uint32_t> order, const unsigned* step, std::size_t batch, std::size_t first,
            BatchView<float> x, VectorView<std::uint8_t> batch_labels, cudaStream_t stream) {
  SIGMANET_REQUIRE_SHAPES("kernels::gather_batch", x.features == records.features, x, records);
  SIGMANET_REQUIRE_SHAPES("kernels::gather_batch", !labels.data || labels.size == records.samples, labels,
                          records);
  SIGMANET_REQUIRE_SHAPES("kernels::gather_batch", !batch_labels.data || batch_labels.size == x.samples,
                          batch_labels, x);
  // The records [first, first + m) of the order, or of the set when there is no order.
  const std::size_t m = x.samples, available = order.data ? order.size : records.samples;
  require(first <= available && m <= available - first, "gather_batch", "records past the end of the order or images");
  if (m == 0) return;
  require(records.data && x.data, "gather_batch", "null feature or output pointer");
  require(x.features > 0, "gather_batch", "records of 0 features");
  require(!batch_labels.data || labels.data, "gather_batch", "batch labels asked for without a label array");
  require(!step || batch > 0, "gather_batch", "a step counter needs the batch size");
  const std::size_t features = x.features;
  SIGMANET_LAUNCH_ELEMENTWISE(gather_batch_kernel<Feature>, m * features, stream, records.data, labels.data,
                              features, order.data, step, batch, first, m, x.data, batch_labels.data);
}

}  // namespace

void gather_batch(BatchView<const std::uint8_t> images, VectorView<const std::uint8_t> labels,
                  VectorView<const std::uint32_t> order, const unsigned* step, std::size_t batch, std::size_t first,
                  BatchView<float> x, VectorView<std::uint8_t> batch_labels, cudaStream_t stream) {
  gather(images, labels, order, step, batch, first, x, batch_labels, stream);
}

void gather_batch(BatchView<const float> values, VectorView<const std::uint8_t> labels,
                  VectorView<const std::uint32_t> order, const unsigned* step, std::size_t batch, std::size_t first,
                  BatchView<float> x, VectorView<std::uint8_t> batch_labels, cudaStream_t stream) {
  gather(values, labels, order, step, batch, first, x, batch_labels, stream);
}

}  // namespace sigmanet::kernels
