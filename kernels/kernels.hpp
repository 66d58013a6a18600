#pragma once
// Launch wrappers for the CUDA backend's kernels, one kernel per .cu file in this folder.
//
// Arrays are passed as views with their shapes (matrix_view.hpp), in the layout shared with the CPU reference:
// a batch of m samples of a layer n wide is m rows of n floats, sample after sample (BatchView); a weight
// matrix is n_out x n_in row-major, as torch.nn.Linear (WeightView).
//
// Every wrapper checks its arguments, shapes first (throwing sigmanet::Error naming the wrapper and the
// shapes), and the launch (SIGMANET_CUDA_CHECK_LAUNCH); none synchronises, so all of them can be captured into
// a CUDA graph. A batch of 0 samples launches nothing.
#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>

#include "matrix_view.hpp"

namespace sigmanet::kernels {

// Batch gather: x[s][i] = images[record(s)][i] / 255 (IEEE division, as the CPU), and, when batch_labels is
// given, batch_labels[s] = labels[record(s)]. images is the set's records x pixels, x the batch's m x pixels.
// record(s) = order given ? order[base + s] : base + s, with base = first + (step ? *step * batch : 0):
// training passes the epoch's order and the device's batch counter, evaluation a plain range. The host checks
// that [first, first + m) lies in the order (or the images); the counter's part is the device's to know.
void gather_batch(BatchView<const std::uint8_t> images, VectorView<const std::uint8_t> labels,
                  VectorView<const std::uint32_t> order, const unsigned* step, std::size_t batch, std::size_t first,
                  BatchView<float> x, VectorView<std::uint8_t> batch_labels, cudaStream_t stream);

// Small layers: out = sigmoid(W . in + b) in one kernel (one warp per output value).
void fused_forward(WeightView<const float> w, VectorView<const float> b, BatchView<const float> in,
                   BatchView<float> out, cudaStream_t stream);

// Large layers, after a cuBLAS SGEMM left z = W . in in a: a = sigmoid(z + b), in place.
void bias_sigmoid(BatchView<float> a, VectorView<const float> b, cudaStream_t stream);

// Output layer: delta = (a - y) * a * (1 - a), y the one-hot vector of labels[s] (no one-hot matrix).
// When bad is not null, any NaN or Inf in a records the batch number (*step, or 0 when step is null) into
// *bad with atomicMin, so *bad ends as the first bad batch (it must start at 0xFFFFFFFF).
void output_delta(BatchView<const float> a, VectorView<const std::uint8_t> labels, const unsigned* step,
                  unsigned* bad, BatchView<float> delta, cudaStream_t stream);

// Hidden layer, after a cuBLAS SGEMM left W^T . delta_above in delta: delta *= a * (1 - a), in place.
void hidden_delta(BatchView<float> delta, BatchView<const float> a, cudaStream_t stream);

// Bias gradient and update: g[j] = sum over s of delta[s][j], in a fixed order (every 8th sample summed in
// order, then a fixed tree over the 8 partial sums; no atomics: the same input gives the same bits);
// b[j] -= scale * g[j]. When gradient is given the sums are also written there.
void bias_update(BatchView<const float> delta, float scale, VectorView<float> b, VectorView<float> gradient,
                 cudaStream_t stream);

// *counter += 1, on the device: the training step number that gather_batch and output_delta read, so that
// one captured graph serves every full batch of an epoch.
void advance_counter(unsigned* counter, cudaStream_t stream);
// cudaSuccess when this binary holds a kernel image the current device can run, else the runtime's error.
cudaError_t kernel_image_status();

// ---- small-batch training in one persistent thread block (persistent_train.cu) ----

constexpr int kPersistentMaxLayers = 3;   // weight layers
constexpr int kPersistentMaxBatch = 32;   // samples a step
constexpr int kPersistentThreads = 512;   // one block of 16 warps

// The network as the persistent kernel sees it: sizes[0..layers] and each layer's device W (n_out x n_in,
// row-major) and b, which the kernel reads at the start of a launch and writes back at its end.
struct PersistentNet {
  int layers = 0;
  int sizes[kPersistentMaxLayers + 1] = {};
  float* w[kPersistentMaxLayers] = {};
  float* b[kPersistentMaxLayers] = {};
};

// Shared memory one launch needs for batches of m samples (parameters, activations and errors, two batches
// of pixels and labels): it fits when this is at most the device's opt-in limit per block. 0 when the
// network has more than kPersistentMaxLayers layers or m is outside 1..kPersistentMaxBatch.
std::size_t persistent_shared_bytes(const PersistentNet& net, std::size_t m);

// `steps` SGD steps of m samples each in one launch, the network held in shared memory throughout: step k
// trains records order[first + k m .. first + (k + 1) m) of the device's images and labels, with
// w += -scale * sum of the batch's gradients (scale = eta / m, as the CPU). The first step whose outputs hold
// a NaN or Inf stops the launch before its update, and atomicMin(bad, first_batch + that step).
// Same input, same bits, whatever `steps` is.
void persistent_train(const PersistentNet& net, BatchView<const std::uint8_t> images,
                      VectorView<const std::uint8_t> labels, VectorView<const std::uint32_t> order, std::size_t first,
                      std::size_t m, std::size_t steps, float scale, unsigned first_batch, unsigned* bad,
                      cudaStream_t stream);

// Evaluation, per sample: correct[s] = 1 when the first index of the largest output (ties go to the lowest
// index, like std::max_element) equals labels[s], else 0; cost[s] = 1/2 ||a_s - y_s||^2 in double.
void argmax_cost(BatchView<const float> a, VectorView<const std::uint8_t> labels, VectorView<unsigned> correct,
                 VectorView<double> cost, cudaStream_t stream);

// Sums of the per-sample results of argmax_cost (Thrust reductions on stream).
// Returns after the device has finished them.
struct EvaluationSums {
  std::size_t correct = 0;
  double cost = 0.0;
};
EvaluationSums sum_evaluation(VectorView<const unsigned> correct, VectorView<const double> cost, cudaStream_t stream);

}  // namespace sigmanet::kernels
