// kernels/kernels.hpp on the CPU: each launch wrapper checks its arguments as the real one does, then queues
// the contract that kernels.hpp documents, written from that text (not from the .cu files), with every device
// range it touches checked when it runs. A test of the host code that drives the kernels, not of the kernels.
#include <cmath>
#include <string>

#include "cuda_check.hpp"
#include "emulator.hpp"
#include "kernels.hpp"
#include "sigmanet/error.hpp"

namespace sigmanet::kernels {
namespace {

namespace emu = gpu_emulator;

void require(bool condition, const char* wrapper, const char* what) {
  if (!condition) throw Error(std::string("kernels::") + wrapper + ": " + what);
}

// The launch: queue the work, then the check every real wrapper makes after its launch.
void launch(cudaStream_t stream, const char* kernel, std::function<void()> work) {
  emu::enqueue(stream, kernel, std::move(work));
  cuda::check(cudaGetLastError(), (std::string("launch of ") + kernel).c_str(), __FILE__, __LINE__);
}

template <class T>
void check(const T* p, std::size_t count, const char* kernel, const char* what) {
  emu::check_device_range(p, count * sizeof(T), std::string(kernel) + " " + what);
}

float sigmoid(float z) { return 1.0f / (1.0f + std::exp(-z)); }

}  // namespace

void gather_batch(const std::uint8_t* pixels, const std::uint8_t* labels, std::size_t features,
                  const std::uint32_t* order, const unsigned* step, std::size_t batch, std::size_t first,
                  std::size_t m, float* x, std::uint8_t* batch_labels, cudaStream_t stream) {
  if (m == 0) return;
  require(pixels && x, "gather_batch", "null pixel or output pointer");
  require(features > 0, "gather_batch", "images of 0 pixels");
  require(!batch_labels || labels, "gather_batch", "batch labels asked for without a label array");
  require(!step || batch > 0, "gather_batch", "a step counter needs the batch size");
  launch(stream, "gather_batch_kernel", [=] {
    const char* k = "gather_batch_kernel";
    if (step) check(step, 1, k, "step");
    const std::size_t base = first + (step ? std::size_t(*step) * batch : 0);
    if (order) check(order + base, m, k, "order");
    check(x, m * features, k, "x");
    if (batch_labels) check(batch_labels, m, k, "batch labels");
    for (std::size_t s = 0; s < m; ++s) {
      const std::size_t record = order ? order[base + s] : base + s;
      check(pixels + record * features, features, k, "pixels");
      for (std::size_t i = 0; i < features; ++i) x[s * features + i] = float(pixels[record * features + i]) / 255.0f;
      if (batch_labels) {
        check(labels + record, 1, k, "labels");
        batch_labels[s] = labels[record];
      }
    }
  });
}

void fused_forward(const float* w, const float* b, const float* in, int n_in, int n_out, std::size_t m, float* out,
                   cudaStream_t stream) {
  if (m == 0) return;
  require(w && b && in && out, "fused_forward", "null pointer");
  require(n_in > 0 && n_out > 0, "fused_forward", "layer sizes must be at least 1");
  require(in != out, "fused_forward", "input and output must not overlap");
  launch(stream, "fused_forward_kernel", [=] {
    const char* k = "fused_forward_kernel";
    const std::size_t ni = std::size_t(n_in), no = std::size_t(n_out);
    check(w, ni * no, k, "w");
    check(b, no, k, "b");
    check(in, m * ni, k, "in");
    check(out, m * no, k, "out");
    for (std::size_t s = 0; s < m; ++s)
      for (std::size_t j = 0; j < no; ++j) {
        float z = 0.0f;
        for (std::size_t i = 0; i < ni; ++i) z += w[j * ni + i] * in[s * ni + i];
        out[s * no + j] = sigmoid(z + b[j]);
      }
  });
}

void bias_sigmoid(float* a, const float* b, int n, std::size_t m, cudaStream_t stream) {
  if (m == 0) return;
  require(a && b, "bias_sigmoid", "null pointer");
  require(n > 0, "bias_sigmoid", "layer size must be at least 1");
  launch(stream, "bias_sigmoid_kernel", [=] {
    const std::size_t nn = std::size_t(n);
    check(a, m * nn, "bias_sigmoid_kernel", "a");
    check(b, nn, "bias_sigmoid_kernel", "b");
    for (std::size_t k = 0; k < m * nn; ++k) a[k] = sigmoid(a[k] + b[k % nn]);
  });
}

void output_delta(const float* a, const std::uint8_t* labels, int n, std::size_t m, const unsigned* step,
                  unsigned* bad, float* delta, cudaStream_t stream) {
  if (m == 0) return;
  require(a && labels && delta, "output_delta", "null pointer");
  require(n > 0, "output_delta", "layer size must be at least 1");
  launch(stream, "output_delta_kernel", [=] {
    const char* k = "output_delta_kernel";
    const std::size_t nn = std::size_t(n);
    check(a, m * nn, k, "a");
    check(labels, m, k, "labels");
    check(delta, m * nn, k, "delta");
    if (step) check(step, 1, k, "step");
    if (bad) check(bad, 1, k, "bad");
    for (std::size_t s = 0; s < m; ++s)
      for (std::size_t j = 0; j < nn; ++j) {
        const float out = a[s * nn + j], y = std::size_t(labels[s]) == j ? 1.0f : 0.0f;
        delta[s * nn + j] = (out - y) * out * (1.0f - out);
        if (bad && !std::isfinite(out)) *bad = std::min(*bad, step ? *step : 0u);
      }
  });
}

void hidden_delta(float* delta, const float* a, int n, std::size_t m, cudaStream_t stream) {
  if (m == 0) return;
  require(delta && a, "hidden_delta", "null pointer");
  require(n > 0, "hidden_delta", "layer size must be at least 1");
  launch(stream, "hidden_delta_kernel", [=] {
    const std::size_t total = m * std::size_t(n);
    check(delta, total, "hidden_delta_kernel", "delta");
    check(a, total, "hidden_delta_kernel", "a");
    for (std::size_t k = 0; k < total; ++k) delta[k] *= a[k] * (1.0f - a[k]);
  });
}

void bias_update(const float* delta, int n, std::size_t m, float scale, float* b, float* gradient,
                 cudaStream_t stream) {
  if (m == 0) return;
  require(delta && b, "bias_update", "null pointer");
  require(n > 0, "bias_update", "layer size must be at least 1");
  launch(stream, "bias_update_kernel", [=] {
    const char* k = "bias_update_kernel";
    const std::size_t nn = std::size_t(n);
    check(delta, m * nn, k, "delta");
    check(b, nn, k, "b");
    if (gradient) check(gradient, nn, k, "gradient");
    for (std::size_t j = 0; j < nn; ++j) {
      float g = 0.0f;
      for (std::size_t s = 0; s < m; ++s) g += delta[s * nn + j];
      b[j] += -scale * g;
      if (gradient) gradient[j] = g;
    }
  });
}

void advance_counter(unsigned* counter, cudaStream_t stream) {
  require(counter != nullptr, "advance_counter", "null pointer");
  launch(stream, "advance_counter_kernel", [=] {
    check(counter, 1, "advance_counter_kernel", "counter");
    *counter += 1;
  });
}

cudaError_t kernel_image_status() {
  int devices = 0;
  return cudaGetDeviceCount(&devices);
}

void argmax_cost(const float* a, const std::uint8_t* labels, int n, std::size_t m, unsigned* correct, double* cost,
                 cudaStream_t stream) {
  if (m == 0) return;
  require(a && labels && correct && cost, "argmax_cost", "null pointer");
  require(n > 0, "argmax_cost", "layer size must be at least 1");
  launch(stream, "argmax_cost_kernel", [=] {
    const char* k = "argmax_cost_kernel";
    const std::size_t nn = std::size_t(n);
    check(a, m * nn, k, "a");
    check(labels, m, k, "labels");
    check(correct, m, k, "correct");
    check(cost, m, k, "cost");
    for (std::size_t s = 0; s < m; ++s) {
      const float* row = a + s * nn;
      std::size_t best = 0;
      double c = 0.0;
      for (std::size_t j = 0; j < nn; ++j) {
        if (row[best] < row[j]) best = j;
        const double e = double(row[j]) - (std::size_t(labels[s]) == j ? 1.0 : 0.0);
        c += 0.5 * e * e;
      }
      correct[s] = best == std::size_t(labels[s]) ? 1u : 0u;
      cost[s] = c;
    }
  });
}

EvaluationSums sum_evaluation(const unsigned* correct, const double* cost, std::size_t count, cudaStream_t stream) {
  EvaluationSums sums;
  if (count == 0) return sums;
  require(correct && cost, "sum_evaluation", "null pointer");
  emu::enqueue(stream, "thrust::reduce", [=, &sums] {
    check(correct, count, "thrust::reduce", "correct");
    check(cost, count, "thrust::reduce", "cost");
    for (std::size_t s = 0; s < count; ++s) {
      sums.correct += correct[s];
      sums.cost += cost[s];
    }
  });
  // Thrust waits for its reductions, and reports a failure as an exception.
  const cudaError_t status = cudaStreamSynchronize(stream);
  if (status != cudaSuccess)
    throw Error(std::string("kernels::sum_evaluation: Thrust reduction failed: ") + cudaGetErrorString(status));
  return sums;
}

}  // namespace sigmanet::kernels
