// Chapter 3's kernels against the oracle built with each objective (cuda_kernel_checks, kernel_checks.cpp).
#include "check_support.hpp"
#include "cuda/cuda_blas.hpp"
#include "kernels.hpp"
#include "oracle/reference_network.hpp"

namespace sigmanet::cuda_checks {

// Chapter 3's kernels on the same net, inputs and labels: the softmax output layer both ways, the output error
// of cross-entropy and log-likelihood, each cost's per-sample evaluation and the argmax, and the update with
// L2's decay on the SGEMM's beta. The oracle is built with each objective.
void check_chapter_3(KernelCheck& c, const Parameters& p, const std::vector<double>& x,
                     const std::vector<std::uint8_t>& labels, std::size_t m) {
  const cudaStream_t s = c.stream.get();
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
    c.table.add_values("forward fused: softmax(W.a + b)" + tag(m), to_host(out, s), log_likelihood.activation(2));
    cuda::gemm_forward(c.blas.get(), w1_view, a1_view, out_view);
    kernels::bias_softmax(out_view, {b1.get(), n2}, s);
    c.table.add_values("forward SGEMM + bias/softmax" + tag(m), to_host(out, s), log_likelihood.activation(2));
  }
  const std::pair<const char*, ReferenceNetwork<double>*> deltas[] = {
      {"output delta a - y (cross-entropy)", &cross_entropy}, {"output delta a - y (log-likelihood)", &log_likelihood}};
  for (const auto& [stage, ref] : deltas) {
    auto a2 = to_device(ref->activation(2), s);
    DeviceBuffer<float> delta(m * n2);
    kernels::output_delta(ref == &cross_entropy ? Cost::cross_entropy : Cost::log_likelihood, {a2.get(), m, n2},
                          {labels_d.get(), m}, nullptr, nullptr, {delta.get(), m, n2}, s);
    c.table.add_values(stage + tag(m), to_host(delta, s), ref->delta(1));
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
      c.table.add("evaluation C_x per sample (" + to_string(cost) + ")" + tag(m),
                 compare(std::span<const double>(to_host(sample_cost, s)), std::span<const double>(ref_cost)),
                 kKernelTolerance);
      const std::vector<unsigned> got = to_host(correct, s);
      for (std::size_t k = 0; k < m; ++k) {
        const auto row = a2.begin() + std::ptrdiff_t(k * n2);
        const bool right = std::size_t(std::max_element(row, row + std::ptrdiff_t(n2)) - row) == labels[k];
        wrong += double(got[k] != (right ? 1u : 0u));
      }
    }
    c.table.add("evaluation argmax (wrong answers)" + tag(m), {wrong, wrong}, 0.0, true);
  }
  {  // L2: W <- decay W - (eta/m) grad, the decay on the update SGEMM's beta; compared by the change
    const float decay = static_cast<float>(weight_decay(kEta, kLambda, kL2SetSize));
    auto a1_l2 = to_device(l2.activation(1), s), d1 = to_device(l2.delta(1), s);
    auto w = to_device(p.weights[1], s);
    cuda::gemm_update(c.blas.get(), {a1_l2.get(), m, n1}, {d1.get(), m, n2}, kEta / float(m), decay,
                      {w.get(), n2, n1});
    l2.update(double(kEta), kL2SetSize);
    const std::vector<double> got = minus(as_double(to_host(w, s)), p.weights[1]);
    c.table.add("weight update with L2 W = (1 - eta lambda/n) W - (eta/m) grad" + tag(m),
               compare(std::span<const double>(got), std::span<const double>(minus(l2.weights(1), p.weights[1]))),
               kUpdateTolerance);
  }
}

}  // namespace sigmanet::cuda_checks
