// Each kernel and each cuBLAS call of the CUDA backend against the oracle ReferenceNetwork<double>, on random
// inputs, for layer sizes (17, 13, 257, 33, 784) that are not multiples of the kernels' block sizes and batches 1,
// 7, 10 and 1000: the entry point, the gather and the small-batch step here; the layers' kernels and SGEMMs in
// layer_checks.cpp, chapter 3's in chapter3_checks.cpp.
#include <numeric>

#include "check_support.hpp"
#include "cuda_checks.hpp"
#include "kernels.hpp"
#include "oracle/reference_network.hpp"
#include "sigmanet/error.hpp"

namespace sigmanet {
namespace cuda_checks {

namespace {

// `records` random images of `features` pixels, one row each, with labels below `classes`: the labels drawn first.
Dataset random_images(Rng& rng, std::size_t records, std::size_t features, std::size_t classes) {
  Dataset data;
  data.name = "random";
  data.rows = 1;
  data.cols = features;
  data.labels.resize(records);
  data.pixels.resize(records * features);
  for (auto& v : data.labels) v = static_cast<std::uint8_t>(rng.below(std::uint64_t(classes)));
  for (auto& v : data.pixels) v = static_cast<std::uint8_t>(rng.below(256));
  return data;
}

}  // namespace

// The gather, both ways it is used: the batch `step` of a shuffled order, and a plain range.
void check_gather(KernelCheck& c, std::size_t features, std::size_t m) {
  const cudaStream_t s = c.stream.get();
  const std::size_t records = 3 * m + 5;
  const Dataset data = random_images(c.rng, records, features, 10);
  const std::vector<std::uint32_t> order = c.rng.permutation(records);
  const unsigned step = 2;

  auto pixels = to_device(data.pixels, s);
  auto labels = to_device(data.labels, s);
  auto order_d = to_device(order, s);
  auto step_d = to_device(std::vector<unsigned>{step}, s);
  DeviceBuffer<float> x(m * features), x_range(m * features);
  DeviceBuffer<std::uint8_t> batch_labels(m);
  const kernels::BatchView<const std::uint8_t> images{pixels.get(), records, features};
  kernels::gather_batch(images, {labels.get(), records}, {order_d.get(), records}, step_d.get(), m, 0,
                        {x.get(), m, features}, {batch_labels.get(), m}, s);
  const std::size_t first = 3;  // a range that starts mid-set, as evaluation chunks do
  kernels::gather_batch(images, {}, {}, nullptr, 0, first, {x_range.get(), m, features}, {}, s);

  std::vector<float> ref_x(m * features), ref_range(m * features);
  reference_inputs(data, order.data() + step * m, m, ref_x.data());
  std::vector<std::uint32_t> range(m);
  std::iota(range.begin(), range.end(), std::uint32_t(first));
  reference_inputs(data, range.data(), m, ref_range.data());

  // Everything must agree exactly: images, range images and labels, one after the other.
  std::vector<double> got = as_double(to_host(x, s)), ref = as_double(ref_x);
  for (float v : to_host(x_range, s)) got.push_back(v);
  for (float v : ref_range) ref.push_back(v);
  for (std::uint8_t v : to_host(batch_labels, s)) got.push_back(v);
  for (std::size_t i = 0; i < m; ++i) ref.push_back(data.labels[order[step * m + i]]);
  c.table.add("gather: uint8 -> float, bit for bit" + tag(m),
             compare(std::span<const double>(got), std::span<const double>(ref)), 0.0, true);
}

// The small-batch step's four kernels on a two-layer net n0-n1-n2 at batch m, one after the other as the step
// runs them, from a random uint8 set, a shuffled order and a step counter at batch 2: the first layer with its
// own gather (x and the labels bit for bit), the output layer with its error, the hidden error, and the update
// of both layers with the counter advanced.
void check_small_step(KernelCheck& c, const std::vector<int>& sizes, std::size_t m) {
  const cudaStream_t s = c.stream.get();
  const auto n0 = std::size_t(sizes[0]), n1 = std::size_t(sizes[1]), n2 = std::size_t(sizes[2]);
  const std::size_t records = 3 * m + 5;
  const Dataset data = random_images(c.rng, records, n0, std::min<std::size_t>(n2, 10));
  const std::vector<std::uint32_t> order = c.rng.permutation(records);
  const unsigned step = 2;
  Parameters p = init_parameters(sizes, Init::scaled, c.rng);
  for (std::size_t l = 0; l < p.layers(); ++l) {
    p.weights[l] = rounded_to_float(p.weights[l]);
    p.biases[l] = rounded_to_float(p.biases[l]);
  }
  std::vector<float> x_float(m * n0);
  reference_inputs(data, order.data() + step * m, m, x_float.data());
  const std::vector<double> x(x_float.begin(), x_float.end());
  std::vector<std::uint8_t> labels(m);
  for (std::size_t i = 0; i < m; ++i) labels[i] = data.labels[order[step * m + i]];
  ReferenceNetwork<double> ref(p);
  ref.forward(x.data(), m);
  ref.backward(labels.data());

  auto pixels = to_device(data.pixels, s);
  auto all_labels = to_device(data.labels, s);
  auto order_d = to_device(order, s);
  auto step_d = to_device(std::vector<unsigned>{step}, s);
  auto bad_d = to_device(std::vector<unsigned>{0xFFFFFFFFu}, s);
  auto w0 = to_device(p.weights[0], s), b0 = to_device(p.biases[0], s);
  auto w1 = to_device(p.weights[1], s), b1 = to_device(p.biases[1], s);
  DeviceBuffer<float> x_d(m * n0), a1(m * n1), a2(m * n2), d1(m * n2), d0(m * n1);
  DeviceBuffer<std::uint8_t> batch_labels(m);
  const kernels::WeightView<float> w0_view{w0.get(), n1, n0}, w1_view{w1.get(), n2, n1};
  kernels::fused_gather_forward({pixels.get(), records, n0}, {all_labels.get(), records}, {order_d.get(), records},
                                step_d.get(), m, w0_view, {b0.get(), n1}, {x_d.get(), m, n0},
                                {batch_labels.get(), m}, {a1.get(), m, n1}, s);
  std::vector<double> got = as_double(to_host(x_d, s)), want = x;
  for (std::uint8_t v : to_host(batch_labels, s)) got.push_back(v);
  for (std::uint8_t v : labels) want.push_back(v);
  c.table.add("small step: gathered x and labels, bit for bit" + tag(m),
             compare(std::span<const double>(got), std::span<const double>(want)), 0.0, true);
  c.table.add_values("small step: sigma(W.x + b) of the gathered batch" + tag(m), to_host(a1, s), ref.activation(1));
  kernels::fused_forward_error(Cost::quadratic, w1_view, {b1.get(), n2}, {a1.get(), m, n1}, {batch_labels.get(), m},
                               step_d.get(), bad_d.get(), {a2.get(), m, n2}, {d1.get(), m, n2}, s);
  c.table.add_values("small step: output layer sigma(W.a + b)" + tag(m), to_host(a2, s), ref.activation(2));
  c.table.add_values("small step: its error (a - y) a (1 - a)" + tag(m), to_host(d1, s), ref.delta(1));
  kernels::fused_hidden_delta(w1_view, {d1.get(), m, n2}, {a1.get(), m, n1}, {d0.get(), m, n1}, s);
  c.table.add_values("small step: hidden error (W^T.delta) a (1 - a)" + tag(m), to_host(d0, s), ref.delta(0));
  kernels::FusedUpdate update;
  update.layers = 2;
  update.layer[0] = {w0.get(), b0.get(), x_d.get(), d0.get(), int(n0), int(n1)};
  update.layer[1] = {w1.get(), b1.get(), a1.get(), d1.get(), int(n1), int(n2)};
  kernels::fused_update(update, m, kEta / float(m), 1.0f, step_d.get(), s);
  ref.update(double(kEta));
  for (std::size_t l = 0; l < 2; ++l) {
    // Compared by the changes: the parameters' own size would hide a wrong update.
    const auto got_w = minus(as_double(to_host(l == 0 ? w0 : w1, s)), p.weights[l]);
    const auto got_b = minus(as_double(to_host(l == 0 ? b0 : b1, s)), p.biases[l]);
    c.table.add("small step: update W -= (eta/m) grad" + tag(m),
               compare(std::span<const double>(got_w), std::span<const double>(minus(ref.weights(l), p.weights[l]))),
               kUpdateTolerance);
    c.table.add("small step: update b -= (eta/m) grad" + tag(m),
               compare(std::span<const double>(got_b), std::span<const double>(minus(ref.biases(l), p.biases[l]))),
               kUpdateTolerance);
  }
  // Wrong answers counted: the step counter must have advanced by one, and a clean batch left the flag alone.
  const double wrong = double(to_host(step_d, s)[0] != step + 1) + double(to_host(bad_d, s)[0] != 0xFFFFFFFFu);
  c.table.add("small step: counter advanced, no NaN/Inf flagged (wrong answers)" + tag(m), {wrong, wrong}, 0.0, true);
}

}  // namespace cuda_checks

std::vector<StageCheck> cuda_kernel_checks(std::uint64_t seed) {
  std::string reason;
  if (!cuda_device_usable(&reason)) throw Error("cuda_kernel_checks: no usable GPU: " + reason);
  cuda_checks::KernelCheck c(seed);
  const std::vector<std::vector<int>> nets = {{784, 30, 10}, {17, 13, 10}, {300, 257, 33}};
  for (std::size_t m : {std::size_t(1), std::size_t(7), std::size_t(10), std::size_t(1000)}) {
    for (int features : {784, 17}) cuda_checks::check_gather(c, std::size_t(features), m);
    for (const auto& sizes : nets) cuda_checks::check_layers(c, sizes, m);
    // The small-batch step's kernels, at the batches it runs (the fused forward's).
    if (m <= 64)
      for (const auto& sizes : nets) cuda_checks::check_small_step(c, sizes, m);
  }
  return c.table.take();
}

}  // namespace sigmanet
