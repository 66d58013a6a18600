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
#include "sigmanet/cost.hpp"

namespace sigmanet::kernels {

// Batch gather: x[s][i] = images[record(s)][i] / 255 (IEEE division, as the CPU), or values[record(s)][i] for a
// set of float values, and, when batch_labels is given, batch_labels[s] = labels[record(s)]. images (values) is
// the set's records x features, x the batch's m x features.
// record(s) = order given ? order[base + s] : base + s, with base = first + (step ? *step * batch : 0):
// training passes the epoch's order and the device's batch counter, evaluation a plain range. The host checks
// that [first, first + m) lies in the order (or the images); the counter's part is the device's to know.
void gather_batch(BatchView<const std::uint8_t> images, VectorView<const std::uint8_t> labels,
                  VectorView<const std::uint32_t> order, const unsigned* step, std::size_t batch, std::size_t first,
                  BatchView<float> x, VectorView<std::uint8_t> batch_labels, cudaStream_t stream);
void gather_batch(BatchView<const float> values, VectorView<const std::uint8_t> labels,
                  VectorView<const std::uint32_t> order, const unsigned* step, std::size_t batch, std::size_t first,
                  BatchView<float> x, VectorView<std::uint8_t> batch_labels, cudaStream_t stream);

// Small layers: out = sigmoid(W . in + b) in one kernel (one warp per output value).
void fused_forward(WeightView<const float> w, VectorView<const float> b, BatchView<const float> in,
                   BatchView<float> out, cudaStream_t stream);

// A small softmax output layer's first half: z = W . in, the same kernel as fused_forward without bias and
// sigmoid, leaving what the SGEMM of large layers leaves, for bias_softmax to finish (fused_forward.cu).
void fused_weighted_sum(WeightView<const float> w, BatchView<const float> in, BatchView<float> z,
                        cudaStream_t stream);

// The first layer of a small-batch training step, gathering its own input: x and batch_labels as gather_batch
// writes them for the batch the step counter points at (order[*step * batch + s]), and out = sigmoid(W x + b),
// in one kernel (fused_forward's).
void fused_gather_forward(BatchView<const std::uint8_t> images, VectorView<const std::uint8_t> labels,
                          VectorView<const std::uint32_t> order, const unsigned* step, std::size_t batch,
                          WeightView<const float> w, VectorView<const float> b, BatchView<float> x,
                          VectorView<std::uint8_t> batch_labels, BatchView<float> out, cudaStream_t stream);
void fused_gather_forward(BatchView<const float> values, VectorView<const std::uint8_t> labels,
                          VectorView<const std::uint32_t> order, const unsigned* step, std::size_t batch,
                          WeightView<const float> w, VectorView<const float> b, BatchView<float> x,
                          VectorView<std::uint8_t> batch_labels, BatchView<float> out, cudaStream_t stream);

// A sigmoid output layer of a small-batch training step, finished with its error: out = sigmoid(W in + b) and
// delta as output_delta computes it for cost (quadratic or cross-entropy), with its NaN/Inf watch (*bad, *step).
void fused_forward_error(Cost cost, WeightView<const float> w, VectorView<const float> b, BatchView<const float> in,
                         VectorView<const std::uint8_t> labels, const unsigned* step, unsigned* bad,
                         BatchView<float> out, BatchView<float> delta, cudaStream_t stream);

// Large layers, after a cuBLAS SGEMM left z = W . in in a: a = sigmoid(z + b), in place.
void bias_sigmoid(BatchView<float> a, VectorView<const float> b, cudaStream_t stream);

// A softmax output layer, after an SGEMM or fused_weighted_sum left z = W . in in a: each sample's row
// a = softmax(z + b), in place, the row's maximum subtracted before exp (one thread a row, a fixed order).
void bias_softmax(BatchView<float> a, VectorView<const float> b, cudaStream_t stream);

// Output layer, y the one-hot vector of labels[s] (no one-hot matrix): delta = dC/dz for the cost,
// (a - y) * a * (1 - a) for the quadratic cost, a - y for cross-entropy (sigmoid output) and log-likelihood
// (softmax output). When bad is not null, any NaN or Inf in a records the batch number (*step, or 0 when step
// is null) into *bad with atomicMin, so *bad ends as the first bad batch (it must start at 0xFFFFFFFF).
void output_delta(Cost cost, BatchView<const float> a, VectorView<const std::uint8_t> labels, const unsigned* step,
                  unsigned* bad, BatchView<float> delta, cudaStream_t stream);

// Hidden layer, after a cuBLAS SGEMM left W^T . delta_above in delta: delta *= a * (1 - a), in place.
void hidden_delta(BatchView<float> delta, BatchView<const float> a, cudaStream_t stream);

// A small hidden layer's error in one kernel: delta = (W^T . delta_above) a (1 - a), W the weights of the layer
// above (n_above x n), each sum over the layer above in order.
void fused_hidden_delta(WeightView<const float> w, BatchView<const float> delta_above, BatchView<const float> a,
                        BatchView<float> delta, cudaStream_t stream);

// The small-batch update of every layer at once: for each, w <- decay w - scale g and b <- b - scale g (g summed
// over the m samples in order; decay 1 without L2), then, when counter is given, *counter += 1 (the step's
// last launch, in place of advance_counter). Layers: the weights (n_out x n_in), biases, the layer's input
// activations and errors for the batch (m x n_in, m x n_out).
constexpr int kFusedUpdateMaxLayers = 8;
struct FusedUpdate {
  struct Layer {
    float* w = nullptr;
    float* b = nullptr;
    const float* in = nullptr;
    const float* delta = nullptr;
    int n_in = 0, n_out = 0;
  };
  int layers = 0;
  Layer layer[kFusedUpdateMaxLayers];
  std::size_t first[kFusedUpdateMaxLayers + 1] = {};  // each layer's first parameter (the wrapper fills these)
};
void fused_update(const FusedUpdate& update, std::size_t m, float scale, float decay, unsigned* counter,
                  cudaStream_t stream);

// Bias gradient and update: g[j] = sum over s of delta[s][j], in a fixed order (every 8th sample summed in
// order, then a fixed tree over the 8 partial sums; no atomics: the same input gives the same bits);
// b[j] -= scale * g[j]. When gradient is given the sums are also written there.
void bias_update(BatchView<const float> delta, float scale, VectorView<float> b, VectorView<float> gradient,
                 cudaStream_t stream);
// The same sums into gradient alone, no bias touched: one rank's share of a data-parallel step (m = 0 writes
// nothing).
void bias_gradient(BatchView<const float> delta, VectorView<float> gradient, cudaStream_t stream);

// ---- data-parallel steps across GPUs, once NCCL has added the ranks' gradient sums (apply_gradient.cu) ----

// p <- decay * p - scale * g, element by element: the update of a layer's weights (decay: L2's, 1 without) or
// biases (decay 1) from the summed gradient, scale = eta / m of the whole batch.
void apply_gradient(VectorView<const float> gradient, float scale, float decay, VectorView<float> p,
                    cudaStream_t stream);
// The NaN/Inf flag travels with the gradients so every rank learns of a bad batch on any rank in the same
// step: put_nonfinite_flag writes 1 to *flag when this rank's outputs held a NaN or Inf in this step or an
// earlier one (*bad <= *step), else 0; take_nonfinite_flag, after the sum, marks the step bad on every rank
// that a rank flagged (*flag > 0: *bad = min(*bad, *step)).
void put_nonfinite_flag(const unsigned* bad, const unsigned* step, float* flag, cudaStream_t stream);
void take_nonfinite_flag(const float* flag, const unsigned* step, unsigned* bad, cudaStream_t stream);

// *counter += 1, on the device: the training step number that gather_batch and output_delta read, so that
// one captured graph serves every full batch of an epoch.
void advance_counter(unsigned* counter, cudaStream_t stream);
// cudaSuccess when this binary holds a kernel image the current device can run, else the runtime's error.
cudaError_t kernel_image_status();

// ---- small-batch training in a persistent thread block, or a cluster of them (persistent_train.cu) ----

constexpr int kPersistentMaxLayers = 3;   // weight layers
constexpr int kPersistentMaxBatch = 32;   // samples a step
constexpr int kPersistentThreads = 512;   // a block of 16 warps
constexpr int kPersistentMaxBlocks = 8;   // blocks a cluster (CUDA's portable cluster size)
constexpr int kPersistentMaxRuns = 32;    // runs a launch of persistent_train_runs (its table is a kernel parameter)

// The network as the persistent kernel sees it: sizes[0..layers] and each layer's device W (n_out x n_in,
// row-major) and b, which the kernel reads at the start of a launch and writes back at its end, and the output
// layer's activation.
struct PersistentNet {
  int layers = 0;
  int sizes[kPersistentMaxLayers + 1] = {};
  float* w[kPersistentMaxLayers] = {};
  float* b[kPersistentMaxLayers] = {};
  Activation output = Activation::sigmoid;
};

// What each persistent step does with the batch's gradients: w <- decay * w - scale * sum, b <- b - scale * sum
// (scale = eta / m, decay = weight_decay(eta, lambda, n), exactly 1 without L2, as the CPU), the gradients
// being the cost's (its output error as output_delta's). The cost must go with the network's output layer.
struct PersistentUpdate {
  float scale = 0.0f;
  float decay = 1.0f;
  Cost cost = Cost::quadratic;
};

// Shared memory each block of a launch in clusters of `blocks` needs for batches of m samples (its columns of
// W1 and every other layer's parameters, activations and errors, its share of two batches of pixels, the
// exchange's buffers): it fits when this is at most the device's opt-in limit per block. 0 when the network has
// more than kPersistentMaxLayers layers, m is outside 1..kPersistentMaxBatch, or `blocks` cannot share the first
// layer (see persistent_blocks_can_share).
std::size_t persistent_shared_bytes(const PersistentNet& net, std::size_t m, int blocks = 1);

// Whether a cluster of `blocks` blocks (1 to kPersistentMaxBlocks) can split the first layer's inputs so that
// each block owns at least one copy piece of every input row (16, 8, 4 or 1 bytes: the largest that divides
// the row), and the first layer has at most 512 neurons (a warp's lanes take 32 of them).
bool persistent_blocks_can_share(const PersistentNet& net, int blocks);

// Whether the current device and this binary's persistent kernel have thread-block clusters: compute capability
// 9.0 or later, and the kernel compiled for it (PTX version 9.0 on: a kernel JIT-compiled from older PTX was
// built without the cluster's rank and barrier). False when the device cannot be asked.
bool persistent_clusters_supported();

// The cluster size for this network and batch: the most blocks (a power of two, at most kPersistentMaxBlocks)
// that still give each warp a group of 4 of its block's inputs (bench/sass_model.py counts the largest such
// cluster fastest), else the nearest size that fits shared_limit; 1 where the device has no clusters (compute
// capability below 9.0). 0 when nothing fits.
int persistent_cluster_blocks(const PersistentNet& net, std::size_t m, std::size_t shared_limit, bool clusters);

// `steps` SGD steps of m samples each in one launch, the network held in shared memory throughout: step k
// trains records order[first + k m .. first + (k + 1) m) of the device's images and labels, with `update`.
// The first step whose outputs hold a NaN or Inf stops the launch before its update, and
// atomicMin(bad, first_batch + that step). Same input, same bits, whatever `steps` is. With blocks > 1 (a
// device of compute capability 9.0 or later) the launch is one cluster of that many blocks, each on its own
// SM, that split the first layer's inputs; the bits depend on `blocks` (the sums' order does), never on
// `steps`.
void persistent_train(const PersistentNet& net, BatchView<const std::uint8_t> images,
                      VectorView<const std::uint8_t> labels, VectorView<const std::uint32_t> order, std::size_t first,
                      std::size_t m, std::size_t steps, const PersistentUpdate& update, unsigned first_batch,
                      unsigned* bad, cudaStream_t stream, int blocks = 1);

// One run of a launch of persistent_train_runs: its parameters (each layer's device W and b, as in
// PersistentNet), its epoch order, its update's scale and decay, and its NaN/Inf report.
struct PersistentRun {
  float* w[kPersistentMaxLayers] = {};
  float* b[kPersistentMaxLayers] = {};
  const std::uint32_t* order = nullptr;  // at least first + steps * m records
  float scale = 0.0f;
  float decay = 1.0f;
  unsigned* bad = nullptr;
};

// persistent_train for runs[0..count) of the same network (net's sizes, layers and output; its w and b are not
// read), batch, cost and steps at once: one cluster of `blocks` blocks a run (cluster c trains run c), each
// doing exactly what persistent_train does for that run alone with the same `blocks`, so each run's bits are
// those of training it alone; only the run's pointers and scalars differ between the clusters. count is 1 to
// kPersistentMaxRuns; a run's parameters, order and bad must not be another's.
void persistent_train_runs(const PersistentNet& net, BatchView<const std::uint8_t> images,
                           VectorView<const std::uint8_t> labels, const PersistentRun* runs, int count,
                           std::size_t order_size, std::size_t first, std::size_t m, std::size_t steps, Cost cost,
                           unsigned first_batch, cudaStream_t stream, int blocks = 1);

// Evaluation, per sample: correct[s] = 1 when the first index of the largest output (ties go to the lowest
// index, like std::max_element) equals labels[s], else 0; cost[s] = the cost C_s in double, as the oracle
// computes it: 1/2 ||a_s - y_s||^2 (quadratic), -sum_j [y ln a + (1 - y) ln(1 - a)] (cross-entropy), -ln a_label
// (log-likelihood), each ln taken of max(x, DBL_MIN) so that an activation rounded to 0 costs 708.4, not Inf.
void argmax_cost(Cost cost_kind, BatchView<const float> a, VectorView<const std::uint8_t> labels,
                 VectorView<unsigned> correct, VectorView<double> cost, cudaStream_t stream);

// *sums = the sums of the per-sample results of argmax_cost, in a fixed order (the same input gives the same
// bits), into device memory the caller owns: nothing is allocated. An empty input launches nothing.
struct EvaluationSums {
  std::size_t correct = 0;
  double cost = 0.0;
};
void sum_evaluation(VectorView<const unsigned> correct, VectorView<const double> cost, EvaluationSums* sums,
                    cudaStream_t stream);

}  // namespace sigmanet::kernels
