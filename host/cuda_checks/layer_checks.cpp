// The layers' kernels and SGEMMs of chapter 1 against the oracle, both ways a layer runs (fused kernel, SGEMM +
// epilogue), the output and hidden errors, the gradients and updates, and a job's rank's gradients, update and
// NaN/Inf flag (cuda_kernel_checks, kernel_checks.cpp).
#include <tuple>

#include "check_support.hpp"
#include "cuda/cuda_blas.hpp"
#include "kernels.hpp"
#include "oracle/reference_network.hpp"

namespace sigmanet::cuda_checks {

namespace {

// The NaN/Inf flag a job's ranks exchange: put writes 1 exactly when the step (5) or an earlier one was bad,
// take marks the step bad exactly when the summed flag is not 0, and never raises an earlier bad step.
void check_job_flags(KernelCheck& c, std::size_t m) {
  const cudaStream_t s = c.stream.get();
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
  c.table.add("job: NaN/Inf flag put and taken (wrong answers)" + tag(m), {wrong, wrong}, 0.0, true);
}

}  // namespace

// Every other kernel and SGEMM on one two-layer net n0-n1-n2 at batch m.
void check_layers(KernelCheck& c, const std::vector<int>& sizes, std::size_t m) {
  const cudaStream_t s = c.stream.get();
  const auto n0 = std::size_t(sizes[0]), n1 = std::size_t(sizes[1]), n2 = std::size_t(sizes[2]);
  // Scaled weights keep the sigmoids off their flat ends, where errors would not show.
  Parameters p = init_parameters(sizes, Init::scaled, c.rng);
  for (std::size_t l = 0; l < p.layers(); ++l) {
    p.weights[l] = rounded_to_float(p.weights[l]);
    p.biases[l] = rounded_to_float(p.biases[l]);
  }
  std::vector<double> x(m * n0);
  for (double& v : x) v = double(float(c.rng.uniform()));
  std::vector<std::uint8_t> labels(m);
  for (auto& v : labels) v = static_cast<std::uint8_t>(c.rng.below(10));

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
    c.table.add_values("forward fused: sigma(W.a + b)" + tag(m), to_host(out1, s), ref.activation(1));
    c.table.add_values("forward fused: sigma(W.a + b)" + tag(m), to_host(out2, s), ref.activation(2));
    cuda::gemm_forward(c.blas.get(), w0_view, x_view, out1_view);
    kernels::bias_sigmoid(out1_view, b0_view, s);
    cuda::gemm_forward(c.blas.get(), w1_view, a1_view, out2_view);
    kernels::bias_sigmoid(out2_view, b1_view, s);
    c.table.add_values("forward SGEMM + bias/sigmoid" + tag(m), to_host(out1, s), ref.activation(1));
    c.table.add_values("forward SGEMM + bias/sigmoid" + tag(m), to_host(out2, s), ref.activation(2));
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
    c.table.add_values("output delta (a - y) a (1 - a)" + tag(m), to_host(delta, s), ref.delta(1));
    const unsigned clean = to_host(bad_d, s)[0];
    a2[a2.size() / 2] = std::numeric_limits<float>::quiet_NaN();
    a2_d = to_device(a2, s);
    kernels::output_delta(Cost::quadratic, {a2_d.get(), m, n2}, {labels_d.get(), m}, step_d.get(), bad_d.get(),
                          {delta.get(), m, n2}, s);
    const unsigned flagged = to_host(bad_d, s)[0];
    // Wrong answers counted: a clean batch must leave the flag alone, a NaN must write the step number.
    const double wrong = double(clean != 0xFFFFFFFFu) + double(flagged != 5u);
    c.table.add("output NaN/Inf flag (wrong answers)" + tag(m), {wrong, wrong}, 0.0, true);
  }
  auto d1 = to_device(ref.delta(1), s);
  auto d0 = to_device(ref.delta(0), s);
  {  // hidden delta: SGEMM W^T . delta, then the sigma' epilogue
    DeviceBuffer<float> back(m * n1);
    cuda::gemm_backward(c.blas.get(), w1_view, {d1.get(), m, n2}, {back.get(), m, n1});
    kernels::hidden_delta({back.get(), m, n1}, a1_view, s);
    c.table.add_values("hidden delta (W^T.delta) a (1 - a)" + tag(m), to_host(back, s), ref.delta(0));
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
    cuda::gemm_update(c.blas.get(), in, delta, -1.0f, 1.0f, {g.get(), n_out, n_in});
    c.table.add_values("weight gradient SGEMM delta.a^T" + tag(m), to_host(g, s), ref.weight_gradient(l));

    auto w = to_device(p.weights[l], s), b = to_device(p.biases[l], s);
    DeviceBuffer<float> gb{std::size_t(n_out)};
    cuda::gemm_update(c.blas.get(), in, delta, scale, 1.0f, {w.get(), n_out, n_in});
    kernels::bias_update(delta, scale, {b.get(), n_out}, {gb.get(), n_out}, s);
    c.table.add_values("bias gradient (sum over batch)" + tag(m), to_host(gb, s), ref.bias_gradient(l));
    new_w[l] = to_host(w, s);
    new_b[l] = to_host(b, s);

    // A job's rank: the gradients alone, into memory never written (the SGEMM's beta 0 and the bias sums
    // must not read it), then the update from the sum the ranks exchanged (here the oracle's gradient).
    if (!job_step) continue;
    DeviceBuffer<float> share_w{std::size_t(n_out) * std::size_t(n_in)}, share_b{std::size_t(n_out)};
    cuda::gemm_gradient(c.blas.get(), in, delta, {share_w.get(), n_out, n_in});
    kernels::bias_gradient(delta, {share_b.get(), n_out}, s);
    c.table.add_values("job: weight gradient SGEMM, beta 0" + tag(m), to_host(share_w, s), ref.weight_gradient(l));
    c.table.add_values("job: bias gradient alone" + tag(m), to_host(share_b, s), ref.bias_gradient(l));
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
      c.table.add(prefix + std::string("weight update W -= (eta/m) grad") + tag(m),
                 compare(std::span<const double>(got_w), std::span<const double>(want_w)), kUpdateTolerance);
      c.table.add(prefix + std::string("bias update b -= (eta/m) grad") + tag(m),
                 compare(std::span<const double>(got_b), std::span<const double>(want_b)), kUpdateTolerance);
    }
  }
  if (job_step) check_job_flags(c, m);
  check_chapter_3(c, p, x, labels, m);
}

}  // namespace sigmanet::cuda_checks
