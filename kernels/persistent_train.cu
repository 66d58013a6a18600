// Small-batch training in one thread block, or one thread-block cluster, that keeps the whole network in
// shared memory for a chunk of mini-batches: at batch 10 a step is about 1 MFLOP, far less than the cost of
// launching the eleven kernels of the graph path, so the launches, not the arithmetic, are what this saves.
//
// Shared memory, in this order (PersistentLayout): every layer's W (n_out x n_in, row-major) and b; each
// layer's activations and errors for m samples; the forward pass's partial sums; the pixels (uint8) of the
// current and the next batch, and their labels; the next batch's record numbers; a 256-entry table
// x(p) = p / 255 (so the input is the gather kernel's exact floats without a division per use); the first
// bad step. A step, its barriers marked | (|| the cluster's):
//   the next batch's copy started | each layer: partial sums | their sums, bias, sigmoid | (softmax) |
//   output error | hidden errors, top down | update, then the copy waited for |
//
// Why a cluster: one SM cannot do a 784-30-10 step at batch 10 in less than about 2.3 us even with nothing
// but the FMAs and W's own loads and stores, and today's tiles take 5 (bench/persistent_model.py). A cluster
// of B blocks, each on its own SM, splits the first layer -- nearly all of the work -- by neurons: block r
// holds rows [r ceil(n1/B), ...) of W1 and b1 and computes their activations, errors and update, and every
// block repeats the (small) layers above in full, with the same arithmetic, so their copies stay equal to the
// bit. The one exchange: each block stores its rows of the first layer's activations into every block's
// shared memory, then the cluster's barrier (||, in place of that layer's second |). The activations are
// double-buffered by step parity, so the next step's stores never meet this step's reads: a block storing in
// step k + 1 has passed step k's cluster barrier, which the reader reached only after its step k - 1.
//
// Why register tiles: an SM's shared memory serves one warp-wide load (32 values) a clock, its FMA units four
// warps' worth. Loading both operands of every FMA from shared memory would leave the step 8x short of the
// FMA rate, so each lane keeps a kTile x kTile tile of sums in registers and each value it loads feeds kTile
// FMAs: in the forward pass kTile neurons by kTile samples (a weight serves kTile samples, an input kTile
// neurons), in the update kTile neurons by kTile inputs. The cost is the forward pass's reduction: a tile's
// lanes each sum a strided share of the inputs, so 64 sums leave a warp through a 5-level shuffle tree, and
// when a layer has fewer tiles than warps its inputs are also split among warps, whose sums are added after.
//
// Why an asynchronous copy: the next batch's rows come from global memory (about half a microsecond away),
// through the epoch's order, which is itself in global memory. Loaded by plain loads, every warp would wait
// for two such round trips at the start of each step;
// cp.async (__pipeline_memcpy_async) puts them in shared memory while the step computes, and the record
// numbers and labels the copy needs are loaded one step earlier still, into registers.
//
// Every sum has a fixed order (a lane's inputs in order, then the shuffle tree, then the warps' slices in
// order; sample order in the update and the errors; a row left to right in the softmax), so the same input
// gives the same bits whatever the chunk size. Chapter 3 costs little here: cross-entropy and log-likelihood
// change one line of the output error, L2's decay one line of the update, and a softmax row is 10 values that
// one thread a sample handles between two barriers.
#include <cuda_pipeline.h>

#include <climits>
#include <cstdint>

#include "cuda_check.hpp"
#include "kernels.hpp"
#include "launch.cuh"

namespace sigmanet::kernels {
namespace {

constexpr int kWarp = 32;
constexpr int kWarps = kPersistentThreads / kWarp;
constexpr int kTile = 8;  // a lane's register tile is kTile x kTile sums
constexpr int kTileValues = kTile * kTile;

__host__ __device__ constexpr int groups_of(int n, int size) { return (n + size - 1) / size; }
__host__ __device__ constexpr int min_of(int a, int b) { return a < b ? a : b; }

// How a layer's forward pass is shared among the warps: its n_out x m outputs cut into tiles of kTile neurons
// by kTile samples, a warp a tile; with fewer tiles than half the warps, each tile's inputs are split further
// into `slices`, a warp each, until half the warps have one, but never below 32 inputs a slice. (A slice costs
// a shuffle tree, whatever its size: the model, bench/persistent_model.py, puts the trees of using every warp
// above what the other half saves.) An item is one (tile, slice), and owns kTileValues partial sums in
// shared memory.
struct ForwardSplit {
  int sample_groups, tiles, slices;
  __host__ __device__ ForwardSplit(int n_in, int n_out, int m)
      : sample_groups(groups_of(m, kTile)),
        tiles(groups_of(n_out, kTile) * sample_groups),
        slices(2 * tiles < kWarps ? min_of(kWarps / (2 * tiles), groups_of(n_in, kWarp)) : 1) {}
  __host__ __device__ int items() const { return tiles * slices; }
};

// The first layer's rows a block of a cluster of `blocks` owns: [first, first + count).
struct FirstLayerShare {
  int first, count;
  __host__ __device__ FirstLayerShare(int n1, int blocks, int rank)
      : first(rank * groups_of(n1, blocks)), count(min_of(groups_of(n1, blocks), n1 - first)) {}
};

// Byte offsets of each part of a block's shared memory; the same arithmetic on the host (fit, launch size)
// and device. With blocks > 1, W and b of the first layer are the block's rows only, and a_other is the
// second buffer of the first layer's activations (else the same as a[1]).
struct PersistentLayout {
  std::size_t w[kPersistentMaxLayers], b[kPersistentMaxLayers];
  std::size_t a[kPersistentMaxLayers + 1], delta[kPersistentMaxLayers + 1];  // [1..layers]
  std::size_t a_other, partials, pixels[2], labels[2], records, table, bad, bytes;

  __host__ __device__ PersistentLayout(const PersistentNet& net, int m, int blocks) {
    std::size_t at = 0;
    const auto take = [&at](std::size_t n) {
      const std::size_t here = at;
      at += (n + 15) / 16 * 16;  // every part 16-byte aligned, as cp.async's 16-byte pieces need
      return here;
    };
    int items = 0;
    for (int l = 0; l < net.layers; ++l) {
      const int rows = l == 0 ? groups_of(net.sizes[1], blocks) : net.sizes[l + 1];  // the most a block owns
      w[l] = take(sizeof(float) * std::size_t(rows) * std::size_t(net.sizes[l]));
      b[l] = take(sizeof(float) * std::size_t(rows));
      // The last block may own fewer rows, and fewer tiles can make more items (4 tiles of 2 slices, 5 of 1).
      const int last_rows = l == 0 ? FirstLayerShare(net.sizes[1], blocks, blocks - 1).count : rows;
      for (const int r : {rows, last_rows}) {
        const int layer_items = ForwardSplit(net.sizes[l], r, m).items();
        items = items > layer_items ? items : layer_items;
      }
    }
    a[0] = delta[0] = 0;  // the input is the pixels
    for (int l = 1; l <= net.layers; ++l) {
      a[l] = take(sizeof(float) * std::size_t(m) * std::size_t(net.sizes[l]));
      delta[l] = take(sizeof(float) * std::size_t(m) * std::size_t(net.sizes[l]));
    }
    a_other = blocks > 1 ? take(sizeof(float) * std::size_t(m) * std::size_t(net.sizes[1])) : a[1];
    partials = take(sizeof(float) * std::size_t(kTileValues) * std::size_t(items));
    for (int k = 0; k < 2; ++k) pixels[k] = take(std::size_t(m) * std::size_t(net.sizes[0]));
    for (int k = 0; k < 2; ++k) labels[k] = take(std::size_t(m));
    records = take(sizeof(std::uint32_t) * std::size_t(m));
    table = take(256 * sizeof(float));
    bad = take(sizeof(unsigned));
    bytes = at;
  }
};

// Where a layer reads its input x(s, i): the first layer a pixel through the table, the others the activations
// of the layer below. Two types, so that each layer's loops are compiled for their own loads.
struct PixelInput {
  const std::uint8_t* pixels;
  const float* x_of;
  int width;
  __device__ float operator()(int s, int i) const { return x_of[pixels[s * width + i]]; }
};
struct ActivationInput {
  const float* a;
  int width;
  __device__ float operator()(int s, int i) const { return a[s * width + i]; }
};

// One level of sum_over_lanes: lanes `offset` apart pair up; of the 2 x kHalf values still live, the lower
// lane keeps the sums of the lower kHalf, the upper lane of the upper kHalf, each handing the other half on.
template <int kHalf>
__device__ inline void sum_pairs(float (&v)[kTileValues], int lane, int offset) {
  const bool upper = (lane & offset) != 0;
#pragma unroll
  for (int q = 0; q < kHalf; ++q) {
    const float keep = upper ? v[q + kHalf] : v[q];
    const float give = upper ? v[q] : v[q + kHalf];
    v[q] = keep + __shfl_xor_sync(0xffffffffu, give, offset);
  }
}

// Sums each of a lane's kTileValues values over the warp's 32 lanes in a fixed tree that hands half of the
// values on at each of its 5 levels (62 shuffles, where a tree per value would take 320): afterwards lane l
// holds the sums of values 2l and 2l + 1 in v[0] and v[1]. (The levels are written out so that every index
// is a constant and v stays in registers.)
__device__ inline void sum_over_lanes(float (&v)[kTileValues], int lane) {
  static_assert(kTileValues == 64 && kWarp == 32, "five levels take 64 values to two a lane");
  sum_pairs<32>(v, lane, 16);
  sum_pairs<16>(v, lane, 8);
  sum_pairs<8>(v, lane, 4);
  sum_pairs<4>(v, lane, 2);
  sum_pairs<2>(v, lane, 1);
}

// The forward pass's first half for one layer: each item's partial sums of W a over its slice of the inputs.
// A lane sums inputs slice * 32 + lane, stepping by slices * 32, into kTile neurons x kTile samples.
template <class Input>
__device__ void forward_partials(const float* W, int n_in, int n_out, int m, Input x, float* partials, int warp,
                                 int lane) {
  const ForwardSplit split(n_in, n_out, m);
  for (int item = warp; item < split.items(); item += kWarps) {
    const int tile = item / split.slices, slice = item % split.slices;
    const int j0 = tile / split.sample_groups * kTile, s0 = tile % split.sample_groups * kTile;
    float acc[kTileValues];
#pragma unroll
    for (int v = 0; v < kTileValues; ++v) acc[v] = 0.0f;
    for (int i = slice * kWarp + lane; i < n_in; i += split.slices * kWarp) {
      float xs[kTile];
#pragma unroll
      for (int s = 0; s < kTile; ++s) xs[s] = s0 + s < m ? x(s0 + s, i) : 0.0f;
#pragma unroll
      for (int j = 0; j < kTile; ++j) {
        const float w = j0 + j < n_out ? W[(j0 + j) * n_in + i] : 0.0f;
#pragma unroll
        for (int s = 0; s < kTile; ++s) acc[j * kTile + s] += w * xs[s];
      }
    }
    sum_over_lanes(acc, lane);
    partials[item * kTileValues + 2 * lane] = acc[0];
    partials[item * kTileValues + 2 * lane + 1] = acc[1];
  }
}

// The forward pass's second half: z = (the slices' sums, in slice order) + b, then sigmoid(z), or z alone for
// a softmax layer, stored at a[s * width + first + j]: in this block's shared memory, or with blocks > 1 in
// every block's of the cluster (the first layer's rows, which each block owns a share of).
__device__ void finish_forward(const float* partials, const float* b, float* a, int width, int first, int blocks,
                               int n_in, int n_out, int m, bool z_only, int t, int threads) {
  const ForwardSplit split(n_in, n_out, m);
  for (int k = t; k < m * n_out; k += threads) {
    const int s = k / n_out, j = k - s * n_out;
    const int tile = j / kTile * split.sample_groups + s / kTile;
    const float* sums = partials + tile * split.slices * kTileValues + (j % kTile) * kTile + s % kTile;
    float z = 0.0f;
    for (int p = 0; p < split.slices; ++p) z += sums[p * kTileValues];
    z += b[j];
    const float out = z_only ? z : sigmoid(z);
    const int at = s * width + first + j;
    if (blocks == 1)
      a[at] = out;
    else
      for (int q = 0; q < blocks; ++q) cluster_shared(a, unsigned(q))[at] = out;
  }
}

// One layer's update: each weight's gradient summed over the batch in sample order, then w += -(eta/m) g as
// the CPU, or with L2 w = decay w - (eta/m) g (decay 1 keeps chapter 1's arithmetic exactly). A warp takes
// kTile neurons and a span of the inputs, a lane kTile of them (i0 + lane + 32 q): per sample it loads kTile
// errors and kTile inputs for kTile x kTile FMAs. Sample s's errors are delta[s * delta_width + j]. Items go
// to the warps from first_warp on, so that a small layer's items after a large one's land on idle warps.
struct UpdateSplit {
  int input_groups, span, items;
  __host__ __device__ UpdateSplit(int n_in, int n_out)
      : input_groups(groups_of(n_in, kWarp * kTile)),
        span(groups_of(n_in, input_groups)),  // inputs a warp, as even as the groups allow
        items(groups_of(n_out, kTile) * input_groups) {}
};

template <class Input>
__device__ void update_layer(float* W, float* b, const float* delta, int delta_width, int n_in, int n_out, int m,
                             Input x, float scale, float decay, int first_warp, int warp, int lane, int t,
                             int threads) {
  const UpdateSplit split(n_in, n_out);
  const int input_groups = split.input_groups, span = split.span, items = split.items;
  for (int item = (warp - first_warp + kWarps) % kWarps; item < items; item += kWarps) {
    const int j0 = item / input_groups * kTile, i0 = item % input_groups * span;
    const int i_end = min_of(i0 + span, n_in);
    float g[kTileValues];
#pragma unroll
    for (int v = 0; v < kTileValues; ++v) g[v] = 0.0f;
    for (int s = 0; s < m; ++s) {
      float ds[kTile], xs[kTile];
#pragma unroll
      for (int j = 0; j < kTile; ++j) ds[j] = j0 + j < n_out ? delta[s * delta_width + j0 + j] : 0.0f;
#pragma unroll
      for (int q = 0; q < kTile; ++q) {
        const int i = i0 + lane + q * kWarp;
        xs[q] = i < i_end ? x(s, i) : 0.0f;
      }
#pragma unroll
      for (int j = 0; j < kTile; ++j)
#pragma unroll
        for (int q = 0; q < kTile; ++q) g[j * kTile + q] += ds[j] * xs[q];
    }
#pragma unroll
    for (int j = 0; j < kTile; ++j)
#pragma unroll
      for (int q = 0; q < kTile; ++q) {
        const int i = i0 + lane + q * kWarp;
        if (j0 + j >= n_out || i >= i_end) continue;
        float& w = W[(j0 + j) * n_in + i];
        if (decay == 1.0f)
          w += -scale * g[j * kTile + q];
        else
          w = decay * w - scale * g[j * kTile + q];
      }
  }
  for (int j = t; j < n_out; j += threads) {
    float g = 0.0f;
    for (int s = 0; s < m; ++s) g += delta[s * delta_width + j];
    b[j] += -scale * g;
  }
}

__global__ void __launch_bounds__(kPersistentThreads)
    persistent_train_kernel(PersistentNet net, const std::uint8_t* __restrict__ pixels,
                            const std::uint8_t* __restrict__ labels, const std::uint32_t* __restrict__ order,
                            std::size_t first, int m, int steps, int piece, PersistentUpdate update,
                            unsigned first_batch, unsigned* __restrict__ bad, int blocks) {
  SIGMANET_DYNAMIC_SHARED(unsigned char, shared);
  const PersistentLayout at(net, m, blocks);
  const int rank = blocks > 1 ? int(cluster_rank()) : 0;
  const FirstLayerShare mine(net.sizes[1], blocks, rank);
  const int t = int(threadIdx.x), threads = int(blockDim.x), lane = t % kWarp, warp = t / kWarp;
  const int layers = net.layers, n0 = net.sizes[0];
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
  // The first layer's activations, by step parity (one buffer without a cluster).
  float* const a1[2] = {reinterpret_cast<float*>(shared + at.a[1]), reinterpret_cast<float*>(shared + at.a_other)};
  float* partials = reinterpret_cast<float*>(shared + at.partials);
  std::uint32_t* records = reinterpret_cast<std::uint32_t*>(shared + at.records);
  float* x_of = reinterpret_cast<float*>(shared + at.table);
  unsigned* bad_step = reinterpret_cast<unsigned*>(shared + at.bad);

  // The parameters come in once for the whole chunk: of the first layer, this block's rows.
  for (int l = 0; l < layers; ++l) {
    const int row0 = l == 0 ? mine.first : 0, rows = l == 0 ? mine.count : net.sizes[l + 1];
    const std::size_t from = std::size_t(row0) * std::size_t(net.sizes[l]);
    for (int k = t; k < rows * net.sizes[l]; k += threads) W[l][k] = net.w[l][from + k];
    for (int k = t; k < rows; k += threads) B[l][k] = net.b[l][row0 + k];
  }
  for (int p = t; p < 256; p += threads) x_of[p] = __fdiv_rn(float(p), 255.0f);  // the gather kernel's x
  if (t == 0) *bad_step = 0xFFFFFFFFu;

  // Starts copying the pixels of the batch whose records are in `records` into buffer k, in pieces of `piece`
  // bytes (16 when the rows allow; 1 is a plain copy, for rows of an odd length).
  const int pieces = n0 / piece;
  const auto start_copy = [&](int k) {
    std::uint8_t* px = shared + at.pixels[k];
    for (int e = t; e < m * pieces; e += threads) {
      const int s = e / pieces, c = e - s * pieces;
      const std::uint8_t* from = pixels + std::size_t(records[s]) * std::size_t(n0) + std::size_t(c) * std::size_t(piece);
      if (piece == 1)
        px[e] = *from;
      else
        __pipeline_memcpy_async(px + std::size_t(e) * std::size_t(piece), from, std::size_t(piece));
    }
    __pipeline_commit();
  };
  // Record number `s` of step `step`'s batch (the launch's steps only).
  const auto record_of = [&](int step, int s) { return order[first + std::size_t(step) * std::size_t(m) + std::size_t(s)]; };

  // Batch 0 arrives before the first step; from then on batch k + 1 arrives during step k.
  if (t < m) records[t] = record_of(0, t);
  __syncthreads();
  start_copy(0);
  std::uint8_t label = t < m ? labels[records[t]] : 0;
  std::uint32_t next_record = t < m && steps > 1 ? record_of(1, t) : 0;
  __pipeline_wait_prior(0);
  __syncthreads();  // every thread is done with batch 0's records
  if (t < m) {
    shared[at.labels[0] + t] = label;
    records[t] = next_record;
  }
  __syncthreads();

  int step = 0;
  for (; step < steps; ++step) {
    const int cur = step & 1;
    const bool more = step + 1 < steps;
    // The next batch's copy, and its labels and the records of the one after, go out before this batch's
    // arithmetic, which does not wait for them.
    if (more) {
      start_copy(cur ^ 1);
      if (t < m) {
        label = labels[records[t]];
        next_record = step + 2 < steps ? record_of(step + 2, t) : 0;
      }
    }
    const std::uint8_t* px = shared + at.pixels[cur];
    const std::uint8_t* y = shared + at.labels[cur];
    A[1] = a1[cur];

    // Forward, a layer at a time; the first, this block's rows of it, into every block of the cluster. A
    // softmax output layer keeps z = W a + b here.
    for (int l = 0; l < layers; ++l) {
      const int n_in = net.sizes[l], n_out = l == 0 ? mine.count : net.sizes[l + 1];
      if (l == 0)
        forward_partials(W[0], n_in, n_out, m, PixelInput{px, x_of, n0}, partials, warp, lane);
      else
        forward_partials(W[l], n_in, n_out, m, ActivationInput{A[l], n_in}, partials, warp, lane);
      __syncthreads();
      const bool exchange = l == 0 && blocks > 1;
      finish_forward(partials, B[l], A[l + 1], net.sizes[l + 1], exchange ? mine.first : 0, exchange ? blocks : 1,
                     n_in, n_out, m, softmax && l + 1 == layers, t, threads);
      if (exchange)
        cluster_sync();
      else
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

    // Hidden errors, top down, with the weights before this step's update; of the first layer, this block's
    // rows only.
    for (int l = layers - 1; l >= 1; --l) {
      const int n = net.sizes[l], n_above = net.sizes[l + 1];
      const int i0 = l == 1 ? mine.first : 0, count = l == 1 ? mine.count : n;
      for (int k = t; k < m * count; k += threads) {
        const int s = k / count, i = i0 + k - s * count;
        float sum = 0.0f;
        for (int j = 0; j < n_above; ++j) sum += W[l][j * n + i] * D[l + 1][s * n_above + j];
        const float a = A[l][s * n + i];
        D[l][s * n + i] = sum * (a * (1.0f - a));
      }
      __syncthreads();
    }

    // The update; the layers' updates touch nothing another reads, so no barrier between them, and each
    // layer's items start on the warp after the last one's.
    int first_warp = 0;
    for (int l = 0; l < layers; ++l) {
      const int n_in = net.sizes[l], n_out = net.sizes[l + 1], rows = l == 0 ? mine.count : n_out;
      if (l == 0)
        update_layer(W[0], B[0], D[1] + mine.first, n_out, n_in, rows, m, PixelInput{px, x_of, n0}, scale, decay,
                     first_warp, warp, lane, t, threads);
      else
        update_layer(W[l], B[l], D[l + 1], n_out, n_in, rows, m, ActivationInput{A[l], n_in}, scale, decay,
                     first_warp, warp, lane, t, threads);
      first_warp = (first_warp + UpdateSplit(n_in, rows).items) % kWarps;
    }
    if (more && t < m) {
      shared[at.labels[cur ^ 1] + t] = label;
      records[t] = next_record;
    }
    __pipeline_wait_prior(0);
    __syncthreads();
  }
  __pipeline_wait_prior(0);  // a step that stopped early leaves no copy in flight

  // The parameters go back once: each block's rows of the first layer, and block 0's copy of the others (every
  // block's is the same). A bad step is reported as the graph path reports it; every block stopped at it.
  for (int l = 0; l < layers; ++l) {
    if (l > 0 && rank != 0) break;
    const int row0 = l == 0 ? mine.first : 0, rows = l == 0 ? mine.count : net.sizes[l + 1];
    const std::size_t to = std::size_t(row0) * std::size_t(net.sizes[l]);
    for (int k = t; k < rows * net.sizes[l]; k += threads) net.w[l][to + k] = W[l][k];
    for (int k = t; k < rows; k += threads) net.b[l][row0 + k] = B[l][k];
  }
  if (t == 0 && rank == 0 && *bad_step != 0xFFFFFFFFu) atomicMin(bad, first_batch + *bad_step);
}

}  // namespace

bool persistent_clusters_supported() {
  int device = 0;
  cudaDeviceProp properties{};
  cudaFuncAttributes attributes{};
  if (cudaGetDevice(&device) != cudaSuccess || cudaGetDeviceProperties(&properties, device) != cudaSuccess ||
      cudaFuncGetAttributes(&attributes, persistent_train_kernel) != cudaSuccess) {
    (void)cudaGetLastError();
    return false;
  }
  return properties.major >= 9 && attributes.ptxVersion >= 90;
}

bool persistent_blocks_can_share(const PersistentNet& net, int blocks) {
  if (blocks < 1 || blocks > kPersistentMaxBlocks || net.layers < 1 || net.sizes[1] < 1) return false;
  return FirstLayerShare(net.sizes[1], blocks, blocks - 1).count >= 1;
}

std::size_t persistent_shared_bytes(const PersistentNet& net, std::size_t m, int blocks) {
  if (net.layers < 1 || net.layers > kPersistentMaxLayers || m < 1 || m > std::size_t(kPersistentMaxBatch)) return 0;
  if (!persistent_blocks_can_share(net, blocks)) return 0;
  return PersistentLayout(net, int(m), blocks).bytes;
}

int persistent_cluster_blocks(const PersistentNet& net, std::size_t m, std::size_t shared_limit, bool clusters) {
  const auto fits = [&](int blocks) {
    const std::size_t bytes = persistent_shared_bytes(net, m, blocks);
    return bytes > 0 && bytes <= shared_limit;
  };
  if (!clusters) return fits(1) ? 1 : 0;
  if (net.layers < 1) return 0;
  int blocks = 1;
  while (blocks < kPersistentMaxBlocks && groups_of(net.sizes[1], blocks) > kTile) blocks *= 2;
  for (; blocks <= kPersistentMaxBlocks; blocks *= 2)
    if (fits(blocks)) return blocks;
  return 0;
}

void persistent_train(const PersistentNet& net, BatchView<const std::uint8_t> images,
                      VectorView<const std::uint8_t> labels, VectorView<const std::uint32_t> order, std::size_t first,
                      std::size_t m, std::size_t steps, const PersistentUpdate& update, unsigned first_batch,
                      unsigned* bad, cudaStream_t stream, int blocks) {
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
  require(persistent_blocks_can_share(net, blocks), "persistent_train",
          "a cluster of 1 to 8 blocks, each owning at least one of the first layer's neurons");
  require(first <= order.size && steps * m <= order.size - first, "persistent_train",
          "steps past the end of the order");
  const std::size_t bytes = persistent_shared_bytes(net, m, blocks);
  // Past 48 KB a kernel must be allowed its dynamic shared memory first; the caller checked the device's limit.
  SIGMANET_CUDA_CHECK(
      cudaFuncSetAttribute(persistent_train_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, int(bytes)));
  // The widest copy piece (cp.async takes 4, 8 or 16 bytes) that every row's start in global and in shared
  // memory is aligned to; shared memory's rows start at multiples of the row length from 16-byte boundaries.
  int piece = 1;
  for (const int p : {16, 8, 4})
    if (net.sizes[0] % p == 0 && reinterpret_cast<std::uintptr_t>(images.data) % std::uintptr_t(p) == 0) {
      piece = p;
      break;
    }
  if (blocks == 1)
    SIGMANET_LAUNCH(persistent_train_kernel, 1, kPersistentThreads, bytes, stream)
    (net, images.data, labels.data, order.data, first, int(m), int(steps), piece, update, first_batch, bad, 1);
  else
    SIGMANET_LAUNCH_CLUSTER(persistent_train_kernel, unsigned(blocks), kPersistentThreads, unsigned(blocks), bytes,
                            stream)
    (net, images.data, labels.data, order.data, first, int(m), int(steps), piece, update, first_batch, bad, blocks);
  SIGMANET_CUDA_CHECK_LAUNCH("persistent_train_kernel");
}

}  // namespace sigmanet::kernels
