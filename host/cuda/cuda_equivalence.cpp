// Each kernel and each cuBLAS call of the CUDA backend against the oracle ReferenceNetwork<double>, on random inputs.
// Parameters and inputs are rounded to float before either side sees them, so what is measured is the
// arithmetic alone; layer sizes (17, 13, 257, 33, 784) are not multiples of the kernels' block sizes.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>
#include <tuple>
#include <concepts>
#include <limits>
#include <numeric>
#include <span>

#include "cuda_blas.hpp"
#include "cuda_check.hpp"
#include "cuda_resources.hpp"
#include "kernels.hpp"
#include "cuda_backend.hpp"
#include "cuda_equivalence.hpp"
#include "oracle/reference_network.hpp"
#include "sigmanet/error.hpp"
#include "sigmanet/random.hpp"

namespace sigmanet {
namespace {

using cuda::DeviceBuffer;

constexpr double kKernelTolerance = 1e-5;  // float arithmetic against double: measured errors sit near 1e-7
// An update's change is small beside the weights it lands on (3e-3 x gradient at m = 1000), so rounding the
// new float weights alone costs up to ~1e-5 of the change; a wrong scale or transpose costs 1e-1 or more.
constexpr double kUpdateTolerance = 1e-4;
constexpr float kEta = 3.0f;
// Chapter 3's learning rate for its cross-entropy network (network2.py's examples), taken for every chapter 3
// objective: at eta 3 the cross-entropy's larger steps make float and double part ways sooner.
constexpr double kChapter3Eta = 0.5;
// L2 as chapter 3 has it for MNIST (lambda 5), over a set small enough that the decay, 1 - 3 * 5 / 1000 = 0.985,
// moves the weights as much as the gradient does.
constexpr double kLambda = 5.0;
constexpr std::size_t kL2SetSize = 1000;

std::vector<float> to_float(std::span<const double> v) { return {v.begin(), v.end()}; }

std::vector<double> rounded_to_float(std::vector<double> v) {
  for (double& x : v) x = double(float(x));
  return v;
}

// Doubles always go to the device as float (the overload below), whether they come from Parameters or from
// the oracle's buffers; every other type goes as it is.
template <class T>
  requires(!std::same_as<T, double>)
DeviceBuffer<T> to_device(const std::vector<T>& host, cudaStream_t s) {
  DeviceBuffer<T> d(host.size());
  SIGMANET_CUDA_CHECK(cudaMemcpyAsync(d.get(), host.data(), host.size() * sizeof(T), cudaMemcpyHostToDevice, s));
  SIGMANET_CUDA_CHECK(cudaStreamSynchronize(s));
  return d;
}

DeviceBuffer<float> to_device(std::span<const double> host, cudaStream_t s) { return to_device(to_float(host), s); }

template <class T>
std::vector<T> to_host(const DeviceBuffer<T>& d, cudaStream_t s) {
  std::vector<T> host(d.size());
  SIGMANET_CUDA_CHECK(cudaMemcpyAsync(host.data(), d.get(), host.size() * sizeof(T), cudaMemcpyDeviceToHost, s));
  SIGMANET_CUDA_CHECK(cudaStreamSynchronize(s));
  return host;
}

std::vector<double> as_double(const std::vector<float>& v) { return {v.begin(), v.end()}; }

double worst(double a, double b) { return std::isnan(a) || std::isnan(b) ? std::numeric_limits<double>::quiet_NaN() : std::max(a, b); }

// One line per stage, each holding the worst result over every case run under that name.
class Table {
 public:
  void add(const std::string& stage, Comparison c, double tolerance, bool judged_by_abs = false) {
    for (StageCheck& check : checks_)
      if (check.stage == stage) {
        check.result = {worst(check.result.max_abs, c.max_abs), worst(check.result.relative, c.relative)};
        return;
      }
    checks_.push_back({stage, c, tolerance, judged_by_abs});
  }
  void add_values(const std::string& stage, const std::vector<float>& got, std::span<const double> ref,
                  double tolerance = kKernelTolerance) {
    add(stage, compare(std::span<const float>(got), ref), tolerance);
  }
  std::vector<StageCheck> take() { return std::move(checks_); }

 private:
  std::vector<StageCheck> checks_;
};

class KernelChecks {
 public:
  explicit KernelChecks(std::uint64_t seed) : rng_(seed) {
    SIGMANET_CUDA_CHECK(cublasSetStream(blas_.get(), stream_.get()));
    SIGMANET_CUDA_CHECK(cublasSetMathMode(blas_.get(), CUBLAS_DEFAULT_MATH));  // as the backend: no TF32
  }

  std::vector<StageCheck> run() {
    const std::vector<std::vector<int>> nets = {{784, 30, 10}, {17, 13, 10}, {300, 257, 33}};
    for (std::size_t m : {std::size_t(1), std::size_t(7), std::size_t(10), std::size_t(1000)}) {
      for (int features : {784, 17}) check_gather(std::size_t(features), m);
      for (const auto& sizes : nets) check_layers(sizes, m);
      // The small-batch step's kernels, at the batches it runs (the fused forward's).
      if (m <= 64)
        for (const auto& sizes : nets) check_small_step(sizes, m);
    }
    return table_.take();
  }

 private:
  std::string tag(std::size_t m) const { return " m=" + std::to_string(m); }

  // The gather, both ways it is used: the batch `step` of a shuffled order, and a plain range.
  void check_gather(std::size_t features, std::size_t m) {
    const cudaStream_t s = stream_.get();
    Dataset data;
    data.name = "random";
    data.rows = 1;
    data.cols = features;
    const std::size_t records = 3 * m + 5;
    data.labels.resize(records);
    data.pixels.resize(records * features);
    for (auto& v : data.labels) v = static_cast<std::uint8_t>(rng_.below(10));
    for (auto& v : data.pixels) v = static_cast<std::uint8_t>(rng_.below(256));
    const std::vector<std::uint32_t> order = rng_.permutation(records);
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
    table_.add("gather: uint8 -> float, bit for bit" + tag(m),
               compare(std::span<const double>(got), std::span<const double>(ref)), 0.0, true);
  }

  // The small-batch step's four kernels on a two-layer net n0-n1-n2 at batch m, one after the other as the step
  // runs them, from a random uint8 set, a shuffled order and a step counter at batch 2: the first layer with its
  // own gather (x and the labels bit for bit), the output layer with its error, the hidden error, and the update
  // of both layers with the counter advanced.
  void check_small_step(const std::vector<int>& sizes, std::size_t m) {
    const cudaStream_t s = stream_.get();
    const auto n0 = std::size_t(sizes[0]), n1 = std::size_t(sizes[1]), n2 = std::size_t(sizes[2]);
    Dataset data;
    data.name = "random";
    data.rows = 1;
    data.cols = n0;
    const std::size_t records = 3 * m + 5;
    data.labels.resize(records);
    data.pixels.resize(records * n0);
    for (auto& v : data.labels) v = static_cast<std::uint8_t>(rng_.below(std::uint64_t(std::min<std::size_t>(n2, 10))));
    for (auto& v : data.pixels) v = static_cast<std::uint8_t>(rng_.below(256));
    const std::vector<std::uint32_t> order = rng_.permutation(records);
    const unsigned step = 2;
    Parameters p = init_parameters(sizes, Init::scaled, rng_);
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
    table_.add("small step: gathered x and labels, bit for bit" + tag(m),
               compare(std::span<const double>(got), std::span<const double>(want)), 0.0, true);
    table_.add_values("small step: sigma(W.x + b) of the gathered batch" + tag(m), to_host(a1, s), ref.activation(1));
    kernels::fused_forward_error(Cost::quadratic, w1_view, {b1.get(), n2}, {a1.get(), m, n1}, {batch_labels.get(), m},
                                 step_d.get(), bad_d.get(), {a2.get(), m, n2}, {d1.get(), m, n2}, s);
    table_.add_values("small step: output layer sigma(W.a + b)" + tag(m), to_host(a2, s), ref.activation(2));
    table_.add_values("small step: its error (a - y) a (1 - a)" + tag(m), to_host(d1, s), ref.delta(1));
    kernels::fused_hidden_delta(w1_view, {d1.get(), m, n2}, {a1.get(), m, n1}, {d0.get(), m, n1}, s);
    table_.add_values("small step: hidden error (W^T.delta) a (1 - a)" + tag(m), to_host(d0, s), ref.delta(0));
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
      table_.add("small step: update W -= (eta/m) grad" + tag(m),
                 compare(std::span<const double>(got_w), std::span<const double>(minus(ref.weights(l), p.weights[l]))),
                 kUpdateTolerance);
      table_.add("small step: update b -= (eta/m) grad" + tag(m),
                 compare(std::span<const double>(got_b), std::span<const double>(minus(ref.biases(l), p.biases[l]))),
                 kUpdateTolerance);
    }
    // Wrong answers counted: the step counter must have advanced by one, and a clean batch left the flag alone.
    const double wrong = double(to_host(step_d, s)[0] != step + 1) + double(to_host(bad_d, s)[0] != 0xFFFFFFFFu);
    table_.add("small step: counter advanced, no NaN/Inf flagged (wrong answers)" + tag(m), {wrong, wrong}, 0.0, true);
  }

  // Every other kernel and SGEMM on one two-layer net n0-n1-n2 at batch m.
  void check_layers(const std::vector<int>& sizes, std::size_t m) {
    const cudaStream_t s = stream_.get();
    const auto n0 = std::size_t(sizes[0]), n1 = std::size_t(sizes[1]), n2 = std::size_t(sizes[2]);
    // Scaled weights keep the sigmoids off their flat ends, where errors would not show.
    Parameters p = init_parameters(sizes, Init::scaled, rng_);
    for (std::size_t l = 0; l < p.layers(); ++l) {
      p.weights[l] = rounded_to_float(p.weights[l]);
      p.biases[l] = rounded_to_float(p.biases[l]);
    }
    std::vector<double> x(m * n0);
    for (double& v : x) v = double(float(rng_.uniform()));
    std::vector<std::uint8_t> labels(m);
    for (auto& v : labels) v = static_cast<std::uint8_t>(rng_.below(10));

    ReferenceNetwork<double> ref(p);
    ref.forward(x.data(), m);
    ref.backward(labels.data());

    auto w0 = to_device(p.weights[0], s), b0 = to_device(p.biases[0], s);
    auto w1 = to_device(p.weights[1], s), b1 = to_device(p.biases[1], s);
    auto x_d = to_device(x, s);
    auto a1 = to_device(ref.activation(1), s);  // layer 1's input, as the reference computed it
    // The buffers as the wrappers see them: W_l is n_(l+1) x n_l, a batch m samples x its layer's width.
    const kernels::WeightView<const float> w0_view{w0.get(), n1, n0}, w1_view{w1.get(), n2, n1};
    const kernels::VectorView<const float> b0_view{b0.get(), n1}, b1_view{b1.get(), n2};
    const kernels::BatchView<const float> x_view{x_d.get(), m, n0}, a1_view{a1.get(), m, n1};

    {  // forward, both ways, each layer
      DeviceBuffer<float> out1(m * n1), out2(m * n2);
      const kernels::BatchView<float> out1_view{out1.get(), m, n1}, out2_view{out2.get(), m, n2};
      kernels::fused_forward(w0_view, b0_view, x_view, out1_view, s);
      kernels::fused_forward(w1_view, b1_view, a1_view, out2_view, s);
      table_.add_values("forward fused: sigma(W.a + b)" + tag(m), to_host(out1, s), ref.activation(1));
      table_.add_values("forward fused: sigma(W.a + b)" + tag(m), to_host(out2, s), ref.activation(2));
      cuda::gemm_forward(blas_.get(), w0_view, x_view, out1_view);
      kernels::bias_sigmoid(out1_view, b0_view, s);
      cuda::gemm_forward(blas_.get(), w1_view, a1_view, out2_view);
      kernels::bias_sigmoid(out2_view, b1_view, s);
      table_.add_values("forward SGEMM + bias/sigmoid" + tag(m), to_host(out1, s), ref.activation(1));
      table_.add_values("forward SGEMM + bias/sigmoid" + tag(m), to_host(out2, s), ref.activation(2));
    }
    {  // output delta from the labels, and the NaN/Inf flag
      std::vector<float> a2 = to_float(ref.activation(2));
      auto a2_d = to_device(a2, s);
      auto labels_d = to_device(labels, s);
      auto step_d = to_device(std::vector<unsigned>{5u}, s);
      auto bad_d = to_device(std::vector<unsigned>{0xFFFFFFFFu}, s);
      DeviceBuffer<float> delta(m * n2);
      kernels::output_delta(Cost::quadratic, {a2_d.get(), m, n2}, {labels_d.get(), m}, step_d.get(), bad_d.get(),
                            {delta.get(), m, n2}, s);
      table_.add_values("output delta (a - y) a (1 - a)" + tag(m), to_host(delta, s), ref.delta(1));
      const unsigned clean = to_host(bad_d, s)[0];
      a2[a2.size() / 2] = std::numeric_limits<float>::quiet_NaN();
      a2_d = to_device(a2, s);
      kernels::output_delta(Cost::quadratic, {a2_d.get(), m, n2}, {labels_d.get(), m}, step_d.get(), bad_d.get(),
                            {delta.get(), m, n2}, s);
      const unsigned flagged = to_host(bad_d, s)[0];
      // Wrong answers counted: a clean batch must leave the flag alone, a NaN must write the step number.
      const double wrong = double(clean != 0xFFFFFFFFu) + double(flagged != 5u);
      table_.add("output NaN/Inf flag (wrong answers)" + tag(m), {wrong, wrong}, 0.0, true);
    }
    auto d1 = to_device(ref.delta(1), s);
    auto d0 = to_device(ref.delta(0), s);
    {  // hidden delta: SGEMM W^T . delta, then the sigma' epilogue
      DeviceBuffer<float> back(m * n1);
      cuda::gemm_backward(blas_.get(), w1_view, {d1.get(), m, n2}, {back.get(), m, n1});
      kernels::hidden_delta({back.get(), m, n1}, a1_view, s);
      table_.add_values("hidden delta (W^T.delta) a (1 - a)" + tag(m), to_host(back, s), ref.delta(0));
    }
    // Gradients summed over the batch, then the update with eta = 3.
    const float scale = kEta / float(m);
    // A job's step, at Nielsen's m alone: its gradients are the SGEMM and the sums checked above at every m
    // (beta 0 and no update aside), and its update and flag do the same whatever the batch; once keeps the
    // emulator's sanitized run of these checks short.
    const bool job_step = m == 10;
    const std::vector<const DeviceBuffer<float>*> inputs = {&x_d, &a1}, deltas = {&d0, &d1};
    std::vector<std::vector<float>> new_w(2), new_b(2), job_new_w(2), job_new_b(2);
    for (std::size_t l = 0; l < 2; ++l) {
      const auto n_in = std::size_t(sizes[l]), n_out = std::size_t(sizes[l + 1]);
      const kernels::BatchView<const float> in{inputs[l]->get(), m, n_in}, delta{deltas[l]->get(), m, n_out};
      // The update SGEMM with scale -1 on zeros leaves the gradient itself: 0 + delta . in^T.
      DeviceBuffer<float> g{std::size_t(n_out) * std::size_t(n_in)};
      SIGMANET_CUDA_CHECK(cudaMemsetAsync(g.get(), 0, g.size() * sizeof(float), s));
      cuda::gemm_update(blas_.get(), in, delta, -1.0f, 1.0f, {g.get(), n_out, n_in});
      table_.add_values("weight gradient SGEMM delta.a^T" + tag(m), to_host(g, s), ref.weight_gradient(l));

      auto w = to_device(p.weights[l], s), b = to_device(p.biases[l], s);
      DeviceBuffer<float> gb{std::size_t(n_out)};
      cuda::gemm_update(blas_.get(), in, delta, scale, 1.0f, {w.get(), n_out, n_in});
      kernels::bias_update(delta, scale, {b.get(), n_out}, {gb.get(), n_out}, s);
      table_.add_values("bias gradient (sum over batch)" + tag(m), to_host(gb, s), ref.bias_gradient(l));
      new_w[l] = to_host(w, s);
      new_b[l] = to_host(b, s);

      // A job's rank: the gradients alone, into memory never written (the SGEMM's beta 0 and the bias sums
      // must not read it), then the update from the sum the ranks exchanged (here the oracle's gradient).
      if (!job_step) continue;
      DeviceBuffer<float> share_w{std::size_t(n_out) * std::size_t(n_in)}, share_b{std::size_t(n_out)};
      cuda::gemm_gradient(blas_.get(), in, delta, {share_w.get(), n_out, n_in});
      kernels::bias_gradient(delta, {share_b.get(), n_out}, s);
      table_.add_values("job: weight gradient SGEMM, beta 0" + tag(m), to_host(share_w, s), ref.weight_gradient(l));
      table_.add_values("job: bias gradient alone" + tag(m), to_host(share_b, s), ref.bias_gradient(l));
      auto summed_w = to_device(ref.weight_gradient(l), s), summed_b = to_device(ref.bias_gradient(l), s);
      auto job_w = to_device(p.weights[l], s), job_b = to_device(p.biases[l], s);
      kernels::apply_gradient({summed_w.get(), summed_w.size()}, scale, 1.0f, {job_w.get(), job_w.size()}, s);
      kernels::apply_gradient({summed_b.get(), summed_b.size()}, scale, 1.0f, {job_b.get(), job_b.size()}, s);
      job_new_w[l] = to_host(job_w, s);
      job_new_b[l] = to_host(job_b, s);
    }
    ref.update(double(kEta));
    for (std::size_t l = 0; l < 2; ++l) {
      // Compare the changes: the parameters' own size would hide a wrong update.
      const std::vector<double> want_w = minus(ref.weights(l), p.weights[l]), want_b = minus(ref.biases(l), p.biases[l]);
      const std::pair<const char*, const std::vector<std::vector<float>>*> paths[] = {
          {"", &new_w}, {"job: ", &job_new_w}};
      for (const auto& [prefix, updated_w] : paths) {
        if (updated_w == &job_new_w && !job_step) continue;
        const std::vector<std::vector<float>>& updated_b = updated_w == &new_w ? new_b : job_new_b;
        const std::vector<double> got_w = minus(as_double((*updated_w)[l]), p.weights[l]);
        const std::vector<double> got_b = minus(as_double(updated_b[l]), p.biases[l]);
        table_.add(prefix + std::string("weight update W -= (eta/m) grad") + tag(m),
                   compare(std::span<const double>(got_w), std::span<const double>(want_w)), kUpdateTolerance);
        table_.add(prefix + std::string("bias update b -= (eta/m) grad") + tag(m),
                   compare(std::span<const double>(got_b), std::span<const double>(want_b)), kUpdateTolerance);
      }
    }
    if (job_step) check_job_flags(m);
    check_chapter_3(p, x, labels, m);
  }

  // The NaN/Inf flag a job's ranks exchange: put writes 1 exactly when the step (5) or an earlier one was bad,
  // take marks the step bad exactly when the summed flag is not 0, and never raises an earlier bad step.
  void check_job_flags(std::size_t m) {
    const cudaStream_t s = stream_.get();
    constexpr unsigned kNone = 0xFFFFFFFFu;
    auto step = to_device(std::vector<unsigned>{5u}, s);
    DeviceBuffer<float> flag{1};
    double wrong = 0;
    for (const auto& [bad, want] : {std::pair{kNone, 0.0f}, std::pair{5u, 1.0f}, std::pair{2u, 1.0f}}) {
      auto bad_d = to_device(std::vector<unsigned>{bad}, s);
      kernels::put_nonfinite_flag(bad_d.get(), step.get(), flag.get(), s);
      wrong += to_host(flag, s)[0] != want;
    }
    for (const auto& [summed, bad, want] : {std::tuple{0.0f, kNone, kNone}, std::tuple{2.0f, kNone, 5u},
                                            std::tuple{1.0f, 2u, 2u}}) {
      auto flag_d = to_device(std::vector<float>{summed}, s);
      auto bad_d = to_device(std::vector<unsigned>{bad}, s);
      kernels::take_nonfinite_flag(flag_d.get(), step.get(), bad_d.get(), s);
      wrong += to_host(bad_d, s)[0] != want;
    }
    table_.add("job: NaN/Inf flag put and taken (wrong answers)" + tag(m), {wrong, wrong}, 0.0, true);
  }

  // Chapter 3's kernels on the same net, inputs and labels: the softmax output layer both ways, the output error
  // of cross-entropy and log-likelihood, each cost's per-sample evaluation and the argmax, and the update with
  // L2's decay on the SGEMM's beta. The oracle is built with each objective.
  void check_chapter_3(const Parameters& p, const std::vector<double>& x, const std::vector<std::uint8_t>& labels,
                       std::size_t m) {
    const cudaStream_t s = stream_.get();
    const auto n1 = std::size_t(p.sizes[1]), n2 = std::size_t(p.sizes[2]);
    Parameters p_softmax = p;
    p_softmax.output = Activation::softmax;
    ReferenceNetwork<double> quadratic(p), cross_entropy(p, {Cost::cross_entropy, 0.0}),
        log_likelihood(p_softmax, {Cost::log_likelihood, 0.0}), l2(p, {Cost::quadratic, kLambda});
    for (ReferenceNetwork<double>* ref : {&quadratic, &cross_entropy, &log_likelihood, &l2}) {
      ref->forward(x.data(), m);
      ref->backward(labels.data());
    }
    auto labels_d = to_device(labels, s);
    auto w1 = to_device(p.weights[1], s), b1 = to_device(p.biases[1], s);
    auto a1 = to_device(quadratic.activation(1), s);  // the hidden layer is sigmoid whatever the output
    const kernels::WeightView<const float> w1_view{w1.get(), n2, n1};
    const kernels::BatchView<const float> a1_view{a1.get(), m, n1};

    {  // softmax output layer: z by the fused kernel or the SGEMM, then bias + softmax
      DeviceBuffer<float> out(m * n2);
      const kernels::BatchView<float> out_view{out.get(), m, n2};
      kernels::fused_weighted_sum(w1_view, a1_view, out_view, s);
      kernels::bias_softmax(out_view, {b1.get(), n2}, s);
      table_.add_values("forward fused: softmax(W.a + b)" + tag(m), to_host(out, s), log_likelihood.activation(2));
      cuda::gemm_forward(blas_.get(), w1_view, a1_view, out_view);
      kernels::bias_softmax(out_view, {b1.get(), n2}, s);
      table_.add_values("forward SGEMM + bias/softmax" + tag(m), to_host(out, s), log_likelihood.activation(2));
    }
    const std::pair<const char*, ReferenceNetwork<double>*> deltas[] = {
        {"output delta a - y (cross-entropy)", &cross_entropy}, {"output delta a - y (log-likelihood)", &log_likelihood}};
    for (const auto& [stage, ref] : deltas) {
      auto a2 = to_device(ref->activation(2), s);
      DeviceBuffer<float> delta(m * n2);
      kernels::output_delta(ref == &cross_entropy ? Cost::cross_entropy : Cost::log_likelihood, {a2.get(), m, n2},
                            {labels_d.get(), m}, nullptr, nullptr, {delta.get(), m, n2}, s);
      table_.add_values(stage + tag(m), to_host(delta, s), ref->delta(1));
    }
    {  // evaluation: each cost per sample against the oracle's C_x; the argmax against the same floats' on the host
      const std::pair<Cost, ReferenceNetwork<double>*> costs[] = {
          {Cost::quadratic, &quadratic}, {Cost::cross_entropy, &cross_entropy}, {Cost::log_likelihood, &log_likelihood}};
      double wrong = 0;
      for (const auto& [cost, ref] : costs) {
        const std::vector<float> a2 = to_float(ref->activation(2));
        auto a2_d = to_device(a2, s);
        DeviceBuffer<unsigned> correct(m);
        DeviceBuffer<double> sample_cost(m);
        kernels::argmax_cost(cost, {a2_d.get(), m, n2}, {labels_d.get(), m}, {correct.get(), m},
                             {sample_cost.get(), m}, s);
        std::vector<double> ref_cost(m);
        for (std::size_t k = 0; k < m; ++k) ref_cost[k] = ref->sample_cost(k, labels[k]);
        table_.add("evaluation C_x per sample (" + to_string(cost) + ")" + tag(m),
                   compare(std::span<const double>(to_host(sample_cost, s)), std::span<const double>(ref_cost)),
                   kKernelTolerance);
        const std::vector<unsigned> got = to_host(correct, s);
        for (std::size_t k = 0; k < m; ++k) {
          const auto row = a2.begin() + std::ptrdiff_t(k * n2);
          const bool right = std::size_t(std::max_element(row, row + std::ptrdiff_t(n2)) - row) == labels[k];
          wrong += double(got[k] != (right ? 1u : 0u));
        }
      }
      table_.add("evaluation argmax (wrong answers)" + tag(m), {wrong, wrong}, 0.0, true);
    }
    {  // L2: W <- decay W - (eta/m) grad, the decay on the update SGEMM's beta; compared by the change
      const float decay = static_cast<float>(weight_decay(kEta, kLambda, kL2SetSize));
      auto a1_l2 = to_device(l2.activation(1), s), d1 = to_device(l2.delta(1), s);
      auto w = to_device(p.weights[1], s);
      cuda::gemm_update(blas_.get(), {a1_l2.get(), m, n1}, {d1.get(), m, n2}, kEta / float(m), decay,
                        {w.get(), n2, n1});
      l2.update(double(kEta), kL2SetSize);
      const std::vector<double> got = minus(as_double(to_host(w, s)), p.weights[1]);
      table_.add("weight update with L2 W = (1 - eta lambda/n) W - (eta/m) grad" + tag(m),
                 compare(std::span<const double>(got), std::span<const double>(minus(l2.weights(1), p.weights[1]))),
                 kUpdateTolerance);
    }
  }

  Rng rng_;
  cuda::Stream stream_;
  cuda::CublasHandle blas_;
  Table table_;
};

}  // namespace

std::vector<StageCheck> cuda_kernel_checks(std::uint64_t seed) {
  std::string reason;
  if (!cuda_device_usable(&reason)) throw Error("cuda_kernel_checks: no usable GPU: " + reason);
  return KernelChecks(seed).run();
}

std::vector<StageCheck> check_objective_training(const CudaOptions& options, const Objective& objective,
                                                 const Dataset& train, const Dataset* test,
                                                 const std::vector<int>& sizes, std::size_t batch, std::size_t samples,
                                                 double eta, std::uint64_t seed) {
  if (batch == 0 || samples == 0) throw Error("check_objective_training: no batch to train");
  Rng rng(seed);
  Parameters start = init_parameters(sizes, Init::scaled, rng);
  start.output = output_activation(objective.cost);
  std::vector<std::uint32_t> order = rng.permutation(train.size());
  order.resize(std::min(samples, order.size()));

  const std::unique_ptr<Backend> gpu = make_cuda_backend(Precision::f32, options);
  gpu->set_objective(objective);
  gpu->set_training_data(train);
  gpu->set_parameters(start);
  const std::size_t trained = gpu->train(order, batch, eta, {});
  ReferenceNetwork<double> reference(start, objective);
  reference.train(train, order, batch, eta);

  const std::size_t batches = (order.size() + batch - 1) / batch;
  const std::string path = options.kernel == CudaOptions::Kernel::persistent ? "persistent"
                           : options.kernel == CudaOptions::Kernel::graph    ? "graph"
                                                                             : "auto";
  const std::string name = objective_text(objective) + ", " + path + ": " +
                           (batches == 1 ? "one SGD step" : std::to_string(batches) + " batches") + " " +
                           sizes_text(sizes, '-') + " m=" + std::to_string(batch);
  std::vector<StageCheck> checks;
  if (trained != order.size()) {  // stopped early (NaN/Inf): no comparison means anything
    const double nan = std::numeric_limits<double>::quiet_NaN();
    checks.push_back({name + ": trained every batch", {nan, nan}, 0.0, true});
    return checks;
  }
  if (batches == 1) {
    // The change the step made, not the parameters: a wrong update would hide under the parameters' size.
    const Parameters got = gpu->parameters(), ref = reference.parameters();
    std::vector<double> got_change, ref_change;
    for (std::size_t l = 0; l < start.layers(); ++l)
      for (const auto& [g, r, from] : {std::tuple{&got.weights[l], &ref.weights[l], &start.weights[l]},
                                       std::tuple{&got.biases[l], &ref.biases[l], &start.biases[l]}})
        for (std::size_t i = 0; i < from->size(); ++i) {
          got_change.push_back((*g)[i] - (*from)[i]);
          ref_change.push_back((*r)[i] - (*from)[i]);
        }
    checks.push_back({name + " (update)",
                      compare(std::span<const double>(got_change), std::span<const double>(ref_change)),
                      kStepTolerance});
  } else {
    checks.push_back({name + ": parameters", compare(gpu->parameters(), reference.parameters()), kEpochTolerance});
  }
  if (test) {
    const Evaluation got = gpu->evaluate(*test), ref = reference.evaluate(*test);
    const double points = 100.0 * std::abs(got.accuracy() - ref.accuracy());
    checks.push_back({name + ": " + test->name + " accuracy (points)",
                      {points, ref.accuracy() > 0 ? points / (100.0 * ref.accuracy()) : points},
                      kAccuracyTolerancePoints,
                      true});
    const double cost_diff = std::abs(got.cost - ref.cost);
    checks.push_back({name + ": " + test->name + " cost",
                      {cost_diff, std::isfinite(got.cost) ? cost_diff / std::abs(ref.cost) : got.cost},
                      kEpochTolerance});
  }
  return checks;
}

std::vector<StageCheck> cuda_objective_checks(const Dataset& train, std::uint64_t seed) {
  std::string reason;
  if (!cuda_device_usable(&reason)) throw Error("cuda_objective_checks: no usable GPU: " + reason);
  CudaOptions persistent, graph;
  persistent.kernel = CudaOptions::Kernel::persistent;
  graph.kernel = CudaOptions::Kernel::graph;
  std::vector<StageCheck> checks;
  for (const Objective& objective :
       {Objective{Cost::quadratic, kLambda}, Objective{Cost::cross_entropy, 0.0}, Objective{Cost::cross_entropy, kLambda},
        Objective{Cost::log_likelihood, 0.0}, Objective{Cost::log_likelihood, kLambda}})
    for (const CudaOptions& options : {persistent, graph})
      for (std::size_t samples : {std::size_t(10), std::size_t(1000)})
        for (StageCheck& c : check_objective_training(options, objective, train, nullptr, {784, 30, 10}, 10, samples,
                                                      kChapter3Eta, seed))
          checks.push_back(std::move(c));
  return checks;
}

}  // namespace sigmanet
