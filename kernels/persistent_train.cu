// Small-batch training in one thread block that keeps the whole network in shared memory for a chunk of
// mini-batches: at batch 10 a step is about 1 MFLOP, far less than the cost of launching the eleven kernels
// of the graph path, so the launches, not the arithmetic, are what this saves.
//
// Shared memory, in this order (PersistentLayout): every layer's W (n_out x n_in, row-major) and b; each
// layer's activations and errors for m samples; the pixels (uint8) of the current and the next batch, and
// their labels; a 256-entry table x(p) = p / 255 (so the input is the gather kernel's exact floats without a
// division per use); the first bad step. One barrier separates each phase of a step:
//   fetch next batch's pixels | forward, layer by layer (a softmax output: z, then one thread a sample's row) |
//   output error | hidden errors, top down | update.
// Every sum has a fixed order (per-lane strided sums and a shuffle tree in the forward pass, sample order
// elsewhere, a row left to right in the softmax), so the same input gives the same bits whatever the chunk size.
// Chapter 3 costs little here: cross-entropy and log-likelihood change one line of the output error, L2's decay
// one line of the update, and a softmax row is 10 values that one thread a sample handles between two barriers.
#include <climits>

#include "cuda_check.hpp"
#include "kernels.hpp"
#include "launch.cuh"

namespace sigmanet::kernels {
namespace {

constexpr int kWarp = 32;

// Byte offsets of each part of shared memory; the same arithmetic on the host (fit, launch size) and device.
struct PersistentLayout {
  std::size_t w[kPersistentMaxLayers], b[kPersistentMaxLayers];
  std::size_t a[kPersistentMaxLayers + 1], delta[kPersistentMaxLayers + 1];  // [1..layers]
  std::size_t pixels[2], labels[2], table, bad, bytes;

  __host__ __device__ PersistentLayout(const PersistentNet& net, int m) {
    std::size_t at = 0;
    const auto take = [&at](std::size_t n) {
      const std::size_t here = at;
      at += (n + 15) / 16 * 16;  // every part 16-byte aligned
      return here;
    };
    for (int l = 0; l < net.layers; ++l) {
      w[l] = take(sizeof(float) * std::size_t(net.sizes[l + 1]) * std::size_t(net.sizes[l]));
      b[l] = take(sizeof(float) * std::size_t(net.sizes[l + 1]));
    }
    a[0] = delta[0] = 0;  // the input is the pixels
    for (int l = 1; l <= net.layers; ++l) {
      a[l] = take(sizeof(float) * std::size_t(m) * std::size_t(net.sizes[l]));
      delta[l] = take(sizeof(float) * std::size_t(m) * std::size_t(net.sizes[l]));
    }
    for (int k = 0; k < 2; ++k) pixels[k] = take(std::size_t(m) * std::size_t(net.sizes[0]));
    for (int k = 0; k < 2; ++k) labels[k] = take(std::size_t(m));
    table = take(256 * sizeof(float));
    bad = take(sizeof(unsigned));
    bytes = at;
  }
};

__device__ inline float sigmoid_of(float z) { return 1.0f / (1.0f + expf(-z)); }

__global__ void __launch_bounds__(kPersistentThreads)
    persistent_train_kernel(PersistentNet net, const std::uint8_t* __restrict__ pixels,
                            const std::uint8_t* __restrict__ labels, const std::uint32_t* __restrict__ order,
                            std::size_t first, int m, int steps, PersistentUpdate update, unsigned first_batch,
                            unsigned* __restrict__ bad) {
  SIGMANET_DYNAMIC_SHARED(unsigned char, shared);
  const PersistentLayout at(net, m);
  const int t = int(threadIdx.x), threads = int(blockDim.x), lane = t % kWarp, warp = t / kWarp;
  const int warps = threads / kWarp, layers = net.layers, n0 = net.sizes[0];
  const bool softmax = net.output == Activation::softmax, quadratic = update.cost == Cost::quadratic;
  const float scale = update.scale, decay = update.decay;
  float* W[kPersistentMaxLayers];
  float* B[kPersistentMaxLayers];
  float* A[kPersistentMaxLayers + 1];
  float* D[kPersistentMaxLayers + 1];
  for (int l = 0; l < layers; ++l) {
    W[l] = reinterpret_cast<float*>(shared + at.w[l]);
    B[l] = reinterpret_cast<float*>(shared + at.b[l]);
    A[l + 1] = reinterpret_cast<float*>(shared + at.a[l + 1]);
    D[l + 1] = reinterpret_cast<float*>(shared + at.delta[l + 1]);
  }
  float* x_of = reinterpret_cast<float*>(shared + at.table);
  unsigned* bad_step = reinterpret_cast<unsigned*>(shared + at.bad);

  // The parameters come in once for the whole chunk.
  for (int l = 0; l < layers; ++l) {
    const int n = net.sizes[l + 1] * net.sizes[l];
    for (int k = t; k < n; k += threads) W[l][k] = net.w[l][k];
    for (int k = t; k < net.sizes[l + 1]; k += threads) B[l][k] = net.b[l][k];
  }
  for (int p = t; p < 256; p += threads) x_of[p] = __fdiv_rn(float(p), 255.0f);  // the gather kernel's x
  if (t == 0) *bad_step = 0xFFFFFFFFu;
  // A batch's pixels and labels, through the epoch's order, into buffer k.
  const auto fetch = [&](int step, int k) {
    const std::uint32_t* records = order + first + std::size_t(step) * std::size_t(m);
    std::uint8_t* px = shared + at.pixels[k];
    for (int e = t; e < m * n0; e += threads) {
      const int s = e / n0, i = e - s * n0;
      px[e] = pixels[std::size_t(records[s]) * std::size_t(n0) + std::size_t(i)];
    }
    for (int s = t; s < m; s += threads) shared[at.labels[k] + s] = labels[records[s]];
  };
  fetch(0, 0);
  __syncthreads();

  int step = 0;
  for (; step < steps; ++step) {
    const int cur = step & 1;
    // The next batch's loads are issued before this batch's arithmetic, which does not wait for them.
    if (step + 1 < steps) fetch(step + 1, cur ^ 1);
    const std::uint8_t* px = shared + at.pixels[cur];
    const std::uint8_t* y = shared + at.labels[cur];

    // Forward: a warp per output neuron j, all m samples at once (W's row is read once), lanes striding
    // over the inputs, then a shuffle tree per sample. A softmax output layer keeps z = W a + b here.
    for (int l = 0; l < layers; ++l) {
      const int n_in = net.sizes[l], n_out = net.sizes[l + 1];
      const bool z_only = softmax && l + 1 == layers;
      for (int j = warp; j < n_out; j += warps) {
        float acc[kPersistentMaxBatch];
#pragma unroll
        for (int s = 0; s < kPersistentMaxBatch; ++s) acc[s] = 0.0f;
        const float* w_row = W[l] + j * n_in;
        for (int i = lane; i < n_in; i += kWarp) {
          const float wi = w_row[i];
#pragma unroll
          for (int s = 0; s < kPersistentMaxBatch; ++s)
            if (s < m) acc[s] += wi * (l == 0 ? x_of[px[s * n0 + i]] : A[l][s * n_in + i]);
        }
#pragma unroll
        for (int s = 0; s < kPersistentMaxBatch; ++s) {
          if (s >= m) break;  // m is the same for the whole block: no lane leaves the shuffles alone
          float v = acc[s];
          for (int offset = kWarp / 2; offset > 0; offset /= 2) v += __shfl_down_sync(0xffffffffu, v, offset);
          if (lane == 0) A[l + 1][s * n_out + j] = z_only ? v + B[l][j] : sigmoid_of(v + B[l][j]);
        }
      }
      __syncthreads();
    }
    const int n_top = net.sizes[layers];
    if (softmax) {  // the same arithmetic as the graph path's bias_softmax
      for (int s = t; s < m; s += threads) softmax_in_place(A[layers] + s * n_top, n_top);
      __syncthreads();
    }

    // Output error straight from the labels, with the NaN/Inf watch.
    for (int k = t; k < m * n_top; k += threads) {
      const int s = k / n_top, j = k - s * n_top;
      const float out = A[layers][k];
      const float target = int(y[s]) == j ? 1.0f : 0.0f;
      D[layers][k] = quadratic ? (out - target) * out * (1.0f - out) : out - target;
      if (!isfinite(out)) atomicMin(bad_step, unsigned(step));
    }
    __syncthreads();
    if (*bad_step != 0xFFFFFFFFu) break;  // the same answer in every thread: the block leaves together

    // Hidden errors, top down, with the weights before this step's update.
    for (int l = layers - 1; l >= 1; --l) {
      const int n = net.sizes[l], n_above = net.sizes[l + 1];
      for (int k = t; k < m * n; k += threads) {
        const int s = k / n, i = k - s * n;
        float sum = 0.0f;
        for (int j = 0; j < n_above; ++j) sum += W[l][j * n + i] * D[l + 1][s * n_above + j];
        const float a = A[l][k];
        D[l][k] = sum * (a * (1.0f - a));
      }
      __syncthreads();
    }

    // Update: each weight's gradient summed over the batch in sample order, then w += -(eta/m) g as the CPU,
    // or with L2 w = decay w - (eta/m) g (decay 1 keeps chapter 1's arithmetic exactly).
    for (int l = 0; l < layers; ++l) {
      const int n_in = net.sizes[l], n_out = net.sizes[l + 1];
      for (int k = t; k < n_out * n_in; k += threads) {
        const int j = k / n_in, i = k - j * n_in;
        float g = 0.0f;
        for (int s = 0; s < m; ++s) g += D[l + 1][s * n_out + j] * (l == 0 ? x_of[px[s * n0 + i]] : A[l][s * n_in + i]);
        if (decay == 1.0f)
          W[l][k] += -scale * g;
        else
          W[l][k] = decay * W[l][k] - scale * g;
      }
      for (int j = t; j < n_out; j += threads) {
        float g = 0.0f;
        for (int s = 0; s < m; ++s) g += D[l + 1][s * n_out + j];
        B[l][j] += -scale * g;
      }
    }
    __syncthreads();
  }

  // The parameters go back once; a bad step is reported as the graph path reports it.
  for (int l = 0; l < layers; ++l) {
    const int n = net.sizes[l + 1] * net.sizes[l];
    for (int k = t; k < n; k += threads) net.w[l][k] = W[l][k];
    for (int k = t; k < net.sizes[l + 1]; k += threads) net.b[l][k] = B[l][k];
  }
  if (t == 0 && *bad_step != 0xFFFFFFFFu) atomicMin(bad, first_batch + *bad_step);
}

}  // namespace

std::size_t persistent_shared_bytes(const PersistentNet& net, std::size_t m) {
  if (net.layers < 1 || net.layers > kPersistentMaxLayers || m < 1 || m > std::size_t(kPersistentMaxBatch)) return 0;
  return PersistentLayout(net, int(m)).bytes;
}

void persistent_train(const PersistentNet& net, BatchView<const std::uint8_t> images,
                      VectorView<const std::uint8_t> labels, VectorView<const std::uint32_t> order, std::size_t first,
                      std::size_t m, std::size_t steps, const PersistentUpdate& update, unsigned first_batch,
                      unsigned* bad, cudaStream_t stream) {
  SIGMANET_REQUIRE_SHAPES("kernels::persistent_train", labels.size == images.samples, labels, images);
  if (steps == 0) return;
  require(images.data && labels.data && order.data && bad, "persistent_train", "null pointer");
  require(net.layers >= 1 && net.layers <= kPersistentMaxLayers, "persistent_train", "unsupported layer count");
  for (int l = 0; l < net.layers; ++l)
    require(net.w[l] && net.b[l] && net.sizes[l] > 0 && net.sizes[l + 1] > 0, "persistent_train", "bad layer");
  require(images.features == std::size_t(net.sizes[0]), "persistent_train", "images not as wide as the input layer");
  require(net.output == Activation::sigmoid || net.output == Activation::softmax, "persistent_train",
          "unknown output activation");
  require(update.cost == Cost::quadratic || update.cost == Cost::cross_entropy || update.cost == Cost::log_likelihood,
          "persistent_train", "unknown cost");
  require((update.cost == Cost::log_likelihood) == (net.output == Activation::softmax), "persistent_train",
          "the cost does not go with the output layer (log-likelihood with softmax, the others with sigmoid)");
  require(m >= 1 && m <= std::size_t(kPersistentMaxBatch), "persistent_train", "batch outside 1..32");
  require(steps <= std::size_t(INT_MAX), "persistent_train", "too many steps for one launch");
  require(first <= order.size && steps * m <= order.size - first, "persistent_train",
          "steps past the end of the order");
  const std::size_t bytes = persistent_shared_bytes(net, m);
  // Past 48 KB a kernel must be allowed its dynamic shared memory first; the caller checked the device's limit.
  SIGMANET_CUDA_CHECK(
      cudaFuncSetAttribute(persistent_train_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, int(bytes)));
  SIGMANET_LAUNCH(persistent_train_kernel, 1, kPersistentThreads, bytes, stream)
  (net, images.data, labels.data, order.data, first, int(m), int(steps), update, first_batch, bad);
  SIGMANET_CUDA_CHECK_LAUNCH("persistent_train_kernel");
}

}  // namespace sigmanet::kernels
