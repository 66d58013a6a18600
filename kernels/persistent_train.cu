// Small-batch training in one thread block, or one thread-block cluster, that keeps the whole network in
// shared memory for a chunk of mini-batches: at batch 10 a step is about 1 MFLOP, far less than the cost of
// launching the graph path's kernels, so the launches, not the arithmetic, are what this saves.
//
// The cluster splits the first layer -- nearly all of the work -- by its inputs: block r of B holds the
// columns [first_r, first_r + count_r) of W1 (every neuron's weights for its share of the pixels), computes
// those columns' part of every first-layer weighted sum, and updates those columns. The one exchange a step:
// each block stores its partial sums into every block's shared memory with st.async, which completes an
// mbarrier there (cluster.cuh); each block waits for its mbarrier, adds the B parts in rank order, and from
// there repeats the rest of the network in full, with the same arithmetic on the same values, so the copies
// stay equal to the bit. The exchange buffers and their mbarriers go by step parity: a block storing step
// k + 2's sums into another has received that block's step k + 1 sums, which it sent only after reading step
// k's. Without a cluster (B = 1: a GPU before sm_90, or a network that needs no more) the same kernel skips
// the exchange.
//
// Why the inputs and not the neurons: a block then reads only its share of each batch's pixels, and its
// lanes are the first layer's neurons (lane j of a warp takes neuron j of a group of 32), so the pixels a
// warp multiplies are the same for every lane: one broadcast load feeds 32 lanes, and each lane's own
// operand is one row of W1, read 16 bytes at a time. A lane keeps one sum a sample in registers (the sample
// tile, kSamples: the batch rounded up to a compiled size), and per 4 inputs does 4 x kSamples FMAs for
// 1 + kSamples loads. The warps split the block's columns in groups of 4, so their sums are added in warp
// order before the exchange.
//
// Shared memory, in this order (PersistentLayout): the block's columns of W1 (rows padded to whole warps,
// with zero rows, so every lane computes and no bounds are checked inside the loops), all of b1, the other
// layers' W and b; the step's inputs as floats (x(p) = p / 255, the gather kernel's exact values, from a
// 256-entry table); the pixels (uint8) of the current and the next batch, their labels and the next batch's
// record numbers; each warp's partial sums; the exchange buffers; every layer's activations and errors
// (sample rows padded to the tile with zeros); the table; the first bad step; two mbarriers. A step, its
// barriers marked | (the exchange's wait ~):
//   the next batch's copy started; pixels to floats | first-layer partial sums | their sum over the warps,
//   sent ~ z, sigmoid | each layer above | (softmax |) output error | hidden errors, top down |
//   update, then the copy waited for |
//
// The next batch's rows come from global memory (about half a microsecond away) through the epoch's order,
// itself in global memory: cp.async (__pipeline_memcpy_async) puts them in shared memory while the step
// computes, and the record numbers and labels it needs are loaded one step earlier still, into registers.
//
// Every sum has a fixed order (a lane's inputs in order; the warps' sums in warp order; the blocks' in rank
// order; sample order in the update and the errors; a row left to right in the softmax), so the same input
// gives the same bits whatever the chunk size (the bits depend on B, which changes the order).
//
// Many runs of one network and batch share a launch (persistent_train_runs, for a sweep): cluster c trains run c
// of a table of runs (its parameters, order, eta and weight decay), and nothing else differs from a launch of
// that run alone, so each run's bits are its own. The same source compiles a second time for it (kMany), so that
// the kernel of one run reads its run from its parameters exactly as before.
//
// Loops and barriers carry `// model:` tags: bench/sass_model.py reads this kernel's compiled code and counts,
// per phase (a tagged barrier ends one), the instructions each warp issues, with each tagged loop's trip
// count and each tagged branch's outcome taken from the same work split as here.
#include <cuda_pipeline.h>

#include <algorithm>
#include <climits>
#include <cstdint>
#include <iterator>
#include <type_traits>

#include "cluster.cuh"
#include "cuda_check.hpp"
#include "kernels.hpp"
#include "launch.cuh"
#include "neuron_math.cuh"

namespace sigmanet::kernels {
namespace {

constexpr int kWarp = 32;
constexpr int kWarps = kPersistentThreads / kWarp;

__host__ __device__ constexpr int groups_of(int n, int size) { return (n + size - 1) / size; }
__host__ __device__ constexpr std::size_t round_up(std::size_t n, std::size_t to) { return (n + to - 1) / to * to; }

// The sample tiles the kernel is compiled for: a batch of m runs in the smallest one that holds it.
__host__ __device__ constexpr int sample_tile(int m) {
  return m <= 1 ? 1 : m <= 2 ? 2 : m <= 4 ? 4 : m <= 10 ? 10 : m <= 16 ? 16 : 32;
}

// The widest cp.async piece (4, 8 or 16 bytes) that a row of n0 pixels is made of (1: rows of odd length,
// copied with plain loads). Device allocations are 256-byte aligned, and every row starts at a multiple of n0.
__host__ __device__ constexpr int copy_piece(int n0) { return n0 % 16 == 0 ? 16 : n0 % 8 == 0 ? 8 : n0 % 4 == 0 ? 4 : 1; }

// The first layer's inputs (columns of W1) block `rank` of a cluster of `blocks` owns: whole copy pieces, as
// even as they come.
struct InputShare {
  int first, count;
  __host__ __device__ InputShare(int n0, int blocks, int rank) {
    const int piece = copy_piece(n0), units = n0 / piece;
    const int u0 = rank * units / blocks, u1 = (rank + 1) * units / blocks;
    first = u0 * piece;
    count = rank + 1 == blocks ? n0 - first : (u1 - u0) * piece;  // the last takes a row's odd end
  }
};

// How the first layer's work is shared among the warps: neurons in groups of 32 (a lane each), and each
// group's columns in groups of 4 (kInputs) split among `slots` warps: warp w takes neuron group w % groups and
// column groups slot, slot + slots, ... (slot = w / groups); warps past groups * slots take none.
constexpr int kInputs = 4;
struct FirstLayerSplit {
  int neuron_groups, slots;
  __host__ __device__ explicit FirstLayerSplit(int n1) : neuron_groups(groups_of(n1, kWarp)), slots(kWarps / neuron_groups) {}
  __host__ __device__ int warps() const { return neuron_groups * slots; }
};

// Byte offsets of each part of a block's shared memory; the same arithmetic on the host (fit, launch size) and
// the device. Every part is 16-byte aligned (cp.async's pieces, 16-byte loads).
struct PersistentLayout {
  int samples;       // the sample tile
  int rows;          // W1's rows: the first layer's neurons padded to whole warps
  int columns;       // the most columns a block of the cluster owns, padded to a whole group of kInputs
  int row_stride;    // floats from one W1 row to the next: columns, made an odd number of 16-byte groups so
                     // that 8 lanes' 16-byte loads of 8 rows fall in different banks
  int exchanged;     // first-layer sums a sample the exchange carries: n1 rounded up to whole 16-byte stores
  std::size_t w1, b1, w[kPersistentMaxLayers], b[kPersistentMaxLayers];
  std::size_t x, pixels[2], labels[2], records, partials, received[2];
  std::size_t a[kPersistentMaxLayers + 1], delta[kPersistentMaxLayers + 1];
  std::size_t table, bad, barriers, bytes;

  __host__ __device__ PersistentLayout(const PersistentNet& net, int m, int blocks) {
    samples = sample_tile(m);
    const int n0 = net.sizes[0], n1 = net.sizes[1];
    rows = groups_of(n1, kWarp) * kWarp;
    exchanged = int(round_up(std::size_t(n1), kInputs));
    int widest = 0;
    for (int r = 0; r < blocks; ++r) {
      const int count = InputShare(n0, blocks, r).count;
      widest = widest > count ? widest : count;
    }
    columns = int(round_up(std::size_t(widest), kInputs));
    row_stride = columns / kInputs % 2 == 1 ? columns : columns + kInputs;
    std::size_t at = 0;
    const auto take = [&at](std::size_t n) {
      const std::size_t here = at;
      at += round_up(n, 16);
      return here;
    };
    const std::size_t f = sizeof(float);
    w1 = take(f * std::size_t(rows) * std::size_t(row_stride));
    b1 = take(f * std::size_t(n1));
    w[0] = w1;
    b[0] = b1;
    for (int l = 1; l < net.layers; ++l) {
      w[l] = take(f * std::size_t(net.sizes[l + 1]) * std::size_t(net.sizes[l]));
      b[l] = take(f * std::size_t(net.sizes[l + 1]));
    }
    x = take(f * std::size_t(columns) * std::size_t(samples));
    for (int k = 0; k < 2; ++k) pixels[k] = take(std::size_t(m) * std::size_t(columns));
    for (int k = 0; k < 2; ++k) labels[k] = take(std::size_t(m));
    records = take(sizeof(std::uint32_t) * std::size_t(m));
    partials = take(f * std::size_t(kWarps) * std::size_t(samples) * kWarp);
    for (int k = 0; k < 2; ++k)
      received[k] = blocks > 1 ? take(f * std::size_t(blocks) * std::size_t(m) * std::size_t(exchanged)) : 0;
    a[0] = delta[0] = 0;  // the input is x
    for (int l = 1; l <= net.layers; ++l) {
      // The first layer's errors are read a warp-wide row at a time by the update: rows padded like W1's.
      const std::size_t width = l == 1 ? std::size_t(rows) : std::size_t(net.sizes[l]);
      a[l] = take(f * std::size_t(samples) * std::size_t(net.sizes[l]));
      delta[l] = take(f * std::size_t(samples) * width);
    }
    table = take(256 * f);
    bad = take(sizeof(unsigned));
    barriers = take(2 * sizeof(std::uint64_t));
    bytes = at;
  }
};

// A layer's activation: the sigmoid, or z itself for a softmax layer's first half.
__device__ inline float activation(float z, bool z_only) { return z_only ? z : sigmoid(z); }

// a[0] b[0] + a[sa] b[sb] + ... (n terms) by FMAs in that order, four terms at a time so that their loads go
// out together (one term at a time, each FMA would wait a shared-memory load's latency).
__device__ inline float dot(const float* a, int sa, const float* b, int sb, int n) {
  float z = 0.0f;
  int k = 0;
#pragma unroll 1
  for (; k + 4 <= n; k += 4) {  // model: by 4
    const float a0 = a[k * sa], a1 = a[(k + 1) * sa], a2 = a[(k + 2) * sa], a3 = a[(k + 3) * sa];
    const float b0 = b[k * sb], b1 = b[(k + 1) * sb], b2 = b[(k + 2) * sb], b3 = b[(k + 3) * sb];
    z = fmaf(a0, b0, z);
    z = fmaf(a1, b1, z);
    z = fmaf(a2, b2, z);
    z = fmaf(a3, b3, z);
  }
#pragma unroll 1
  for (; k < n; ++k) z = fmaf(a[k * sa], b[k * sb], z);  // model: rest
  return z;
}

// The same with both strides 1 (a row of W by a sample's activations): the loads take fixed offsets from two
// pointers, no address arithmetic of their own.
__device__ inline float dot(const float* a, const float* b, int n) {
  float z = 0.0f;
#pragma unroll 1
  for (; n >= 4; n -= 4, a += 4, b += 4) {  // model: by 4
    const float a0 = a[0], a1 = a[1], a2 = a[2], a3 = a[3], b0 = b[0], b1 = b[1], b2 = b[2], b3 = b[3];
    z = fmaf(a0, b0, z);
    z = fmaf(a1, b1, z);
    z = fmaf(a2, b2, z);
    z = fmaf(a3, b3, z);
  }
#pragma unroll 1
  for (; n > 0; --n) z = fmaf(*a++, *b++, z);  // model: rest
  return z;
}

// The same over the sample tile: a[0] b[0] + ... + a[(kSamples - 1) sa] b[(kSamples - 1) sb], unrolled (the
// sample rows past the batch hold zeros, which add nothing).
template <int kSamples>
__device__ inline float dot_samples(const float* a, int sa, const float* b, int sb) {
  float z = 0.0f;
#pragma unroll
  for (int s = 0; s < kSamples; ++s) z = fmaf(a[s * sa], b[s * sb], z);
  return z;
}
template <int kSamples>
__device__ inline float sum_samples(const float* a, int sa) {
  float z = 0.0f;
#pragma unroll
  for (int s = 0; s < kSamples; ++s) z = z + a[s * sa];
  return z;
}

// The same for 4 sums at once: a[0] + a[sa] + ..., component by component.
__device__ inline float4 sum4(const float4* a, int sa, int n) {
  float4 z = make_float4(0.0f, 0.0f, 0.0f, 0.0f);
  const auto add = [](float4 x, float4 y) { return make_float4(x.x + y.x, x.y + y.y, x.z + y.z, x.w + y.w); };
  int k = 0;
#pragma unroll 1
  for (; k + 4 <= n; k += 4) {  // model: by 4
    const float4 a0 = a[k * sa], a1 = a[(k + 1) * sa], a2 = a[(k + 2) * sa], a3 = a[(k + 3) * sa];
    z = add(add(add(add(z, a0), a1), a2), a3);
  }
#pragma unroll 1
  for (; k < n; ++k) z = add(z, a[k * sa]);  // model: rest
  return z;
}

// a[0] + a[sa] + ... (n terms), in that order, four loads at a time.
__device__ inline float sum(const float* a, int sa, int n) {
  float z = 0.0f;
  int k = 0;
#pragma unroll 1
  for (; k + 4 <= n; k += 4) {  // model: by 4
    const float a0 = a[k * sa], a1 = a[(k + 1) * sa], a2 = a[(k + 2) * sa], a3 = a[(k + 3) * sa];
    z = z + a0 + a1 + a2 + a3;
  }
#pragma unroll 1
  for (; k < n; ++k) z = z + a[k * sa];  // model: rest
  return z;
}

// A launch of many runs (persistent_train_runs) takes its runs from this table, a kernel parameter like the
// network; a launch of one takes its run from the kernel's own parameters and an empty table.
struct RunTable {
  PersistentRun run[kPersistentMaxRuns];
};
struct NoRuns {};

// The network and the layout are kernel parameters, read from the constant bank where a loop over the layers
// indexes them (a copy in the thread's local memory would cost a load from it each time, and the layout's
// offsets would no longer be known to be the same in every lane).
//
// kMany: cluster c trains run c of `runs` (its parameters, order, scale, decay and bad; net's w and b, order,
// update's scale and decay, and bad are not read), otherwise the one run of the other parameters. Nothing else
// differs: a cluster of a launch of many computes what a launch of its run alone computes.
template <int kSamples, bool kMany>
__global__ void __launch_bounds__(kPersistentThreads, 1)
    persistent_train_kernel(const __grid_constant__ PersistentNet net, const __grid_constant__ PersistentLayout at,
                            const std::uint8_t* __restrict__ pixels, const std::uint8_t* __restrict__ labels,
                            const std::uint32_t* __restrict__ order, std::size_t first, int m, int steps,
                            PersistentUpdate update, unsigned first_batch, unsigned* __restrict__ bad, int blocks,
                            const __grid_constant__ std::conditional_t<kMany, RunTable, NoRuns> runs) {
  SIGMANET_DYNAMIC_SHARED(unsigned char, shared);
  const int rank = blocks > 1 ? int(cluster_rank()) : 0;
  // This block's run: its cluster's (a cluster's blocks are consecutive in x), or the launch's one.
  const int run = kMany ? int(blockIdx.x) / blocks : 0;
  const auto w_of = [&](int l) -> float* {
    if constexpr (kMany) return runs.run[run].w[l]; else return net.w[l];
  };
  const auto b_of = [&](int l) -> float* {
    if constexpr (kMany) return runs.run[run].b[l]; else return net.b[l];
  };
  const InputShare mine(net.sizes[0], blocks, rank);
  const FirstLayerSplit split(net.sizes[1]);
  const int t = int(threadIdx.x), lane = t % kWarp;
  // The warp's number, known to be the same in every lane (the compiler keeps it in a uniform register).
  const int warp = __shfl_sync(0xffffffffu, t / kWarp, 0);
  const int layers = net.layers, n0 = net.sizes[0], n1 = net.sizes[1], n_top = net.sizes[layers];
  const int columns = mine.count, column_groups = groups_of(columns, kInputs);
  const int row_stride4 = at.row_stride / kInputs;
  const bool softmax = net.output == Activation::softmax;
  const float scale = [&] {
    if constexpr (kMany) return runs.run[run].scale; else return update.scale;
  }();
  const float decay = [&] {
    if constexpr (kMany) return runs.run[run].decay; else return update.decay;
  }();
  const auto floats = [&](std::size_t offset) { return reinterpret_cast<float*>(shared + offset); };
  float4* const W1 = reinterpret_cast<float4*>(shared + at.w1);
  float4* const X = reinterpret_cast<float4*>(shared + at.x);
  float* const x_of = floats(at.table);
  float* const partials = floats(at.partials);
  unsigned* const bad_step = reinterpret_cast<unsigned*>(shared + at.bad);
  std::uint32_t* const records = reinterpret_cast<std::uint32_t*>(shared + at.records);
  std::uint64_t* const barrier = reinterpret_cast<std::uint64_t*>(shared + at.barriers);

  // Shared memory starts as zeros: the padding (W1's rows past n1 and columns past the block's, the sample
  // rows past m of x, the activations and the errors) stays zero, so the loops run on whole tiles.
  for (int k = t; k < int(at.bytes / 16); k += kPersistentThreads)  // model: launch
    reinterpret_cast<float4*>(shared)[k] = make_float4(0.0f, 0.0f, 0.0f, 0.0f);
  __syncthreads();
  if (t == 0 && blocks > 1) {
    mbarrier_init(&barrier[0], 1);
    mbarrier_init(&barrier[1], 1);
  }
  // The parameters come in once for the whole chunk: of W1, this block's columns.
  for (int k = t; k < n1 * columns; k += kPersistentThreads) {  // model: launch
    const int j = k / columns, c = k - j * columns;
    floats(at.w1)[j * at.row_stride + c] = w_of(0)[std::size_t(j) * std::size_t(n0) + std::size_t(mine.first + c)];
  }
  for (int l = 0; l < layers; ++l) {
    const int n = net.sizes[l + 1] * (l == 0 ? 0 : net.sizes[l]);
    for (int k = t; k < n; k += kPersistentThreads) floats(at.w[l])[k] = w_of(l)[k];  // model: launch
    for (int k = t; k < net.sizes[l + 1]; k += kPersistentThreads) floats(at.b[l])[k] = b_of(l)[k];  // model: launch
  }
  for (int p = t; p < 256; p += kPersistentThreads) x_of[p] = __fdiv_rn(float(p), 255.0f);  // model: launch
  if (t == 0) *bad_step = 0xFFFFFFFFu;

  // Starts copying the block's columns of the pixels of the batch whose records are in `records` into buffer
  // k, in pieces of `piece` bytes (1: plain copies, for rows of odd length).
  const int piece = copy_piece(n0), pieces = columns / piece;
  const auto start_copy = [&](int k) {
    std::uint8_t* px = shared + at.pixels[k];
    const auto row = [&](int s, int c) {
      return pixels + std::size_t(records[s]) * std::size_t(n0) + std::size_t(mine.first + c);
    };
    if (piece == 1) {  // model: plain copy
#pragma unroll 1
      for (int e = t; e < m * columns; e += kPersistentThreads) {  // model: copy
        const int s = e / columns, c = e - s * columns;
        px[s * at.columns + c] = *row(s, c);
      }
    } else {
#pragma unroll 1
      for (int e = t; e < m * pieces; e += kPersistentThreads) {  // model: copy
        const int s = e / pieces, c = (e - s * pieces) * piece;
        __pipeline_memcpy_async(px + s * at.columns + c, row(s, c), std::size_t(piece));
      }
    }
    __pipeline_commit();
  };
  // Record number `s` of step `step`'s batch (the launch's steps only).
  const auto record_of = [&](int step, int s) {
    const std::size_t k = first + std::size_t(step) * std::size_t(m) + std::size_t(s);
    if constexpr (kMany) return runs.run[run].order[k]; else return order[k];
  };

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
  // A block's shared memory can be reached only once its block has started, and an mbarrier only once its
  // init is visible: the cluster meets once before the first exchange.
  if (blocks > 1)
    cluster_sync();
  else
    __syncthreads();

  float* const A1 = floats(at.a[1]);
  float* const D1 = floats(at.delta[1]);
  // This warp's part of the first layer (forward and update): neuron group and slot, its lane's row of W1.
  const bool first_layer_warp = warp < split.warps();
  const int group = warp % split.neuron_groups, slot = warp / split.neuron_groups;
  const int row = group * kWarp + lane;
  float4* const w_row = W1 + row * row_stride4;
  float* const my_partials = partials + warp * kSamples * kWarp + lane;
  // The exchange's items (a sample's sums of 4 neurons): a warp takes exchange_samples samples at once.
  const int quads = at.exchanged / 4;
  const int exchange_samples = quads >= kWarp ? 1 : kWarp / quads;
  const int lane_sample = quads >= kWarp ? 0 : lane / quads, lane_quad = quads >= kWarp ? lane : lane % quads;
  int step = 0;
  for (; step < steps; ++step) {  // model: step
    const int cur = step & 1;
    const bool more = step + 1 < steps;
    // The next batch's copy, and its labels and the records of the one after, go out before this batch's
    // arithmetic, which does not wait for them.
    if (more) {  // model: more
      start_copy(cur ^ 1);
      if (t < m) {
        label = labels[records[t]];
        next_record = step + 2 < steps ? record_of(step + 2, t) : 0;
      }
    }
    const std::uint8_t* const px = shared + at.pixels[cur];
    const std::uint8_t* const y = shared + at.labels[cur];

    // The pixels to floats: a warp takes a sample (samples w, w + 16, ...), a lane 4 neighbouring pixels of it,
    // x[c / 4][s] = inputs c..c+3 of sample s (past the block's columns, the padding stays zero). Small loops
    // like this one go by warps and lanes, so that no thread divides to find its sample.
#pragma unroll 1
    for (int s = warp; s < m; s += kWarps)  // model: sample rows
#pragma unroll 1
      for (int c = lane * kInputs; c < columns; c += kWarp * kInputs) {  // model: column groups
      const std::uint8_t* p = px + s * at.columns + c;
      float* x = reinterpret_cast<float*>(&X[c / kInputs * kSamples + s]);
      if (c + kInputs <= columns) {  // model: whole group
        const unsigned four = *reinterpret_cast<const unsigned*>(p);  // rows start at multiples of 4 bytes
        *reinterpret_cast<float4*>(x) =
            make_float4(x_of[four & 0xFFu], x_of[four >> 8 & 0xFFu], x_of[four >> 16 & 0xFFu], x_of[four >> 24]);
      } else {
#pragma unroll 1
        for (int k = 0; c + k < columns; ++k) x[k] = x_of[p[k]];  // model: row end
      }
    }
    __syncthreads();  // model: phase convert

    // The first layer's sums over this block's columns: lane j of a warp sums neuron 32 g + j over its column
    // groups, a sum a sample.
    if (first_layer_warp) {  // model: first-layer warps
      float acc[kSamples];
#pragma unroll
      for (int s = 0; s < kSamples; ++s) acc[s] = 0.0f;
#pragma unroll 1
      for (int g = slot; g < column_groups; g += split.slots) {  // model: forward columns
        const float4 w = w_row[g];
        const float4* xs = X + g * kSamples;
#pragma unroll
        for (int s = 0; s < kSamples; ++s) {
          const float4 v = xs[s];
          acc[s] = fmaf(w.x, v.x, acc[s]);
          acc[s] = fmaf(w.y, v.y, acc[s]);
          acc[s] = fmaf(w.z, v.z, acc[s]);
          acc[s] = fmaf(w.w, v.w, acc[s]);
        }
      }
#pragma unroll
      for (int s = 0; s < kSamples; ++s) my_partials[s * kWarp] = acc[s];
    }
    __syncthreads();  // model: phase forward first layer

    // The block's sum of each (sample, neuron) over its warps, in warp order; then, in a cluster, every block's
    // sum in rank order. z = that + b, a = sigmoid(z) (z alone for a softmax output layer).
    const bool first_z_only = softmax && layers == 1;
    const float* const b1 = floats(at.b1);
    const int warp_stride = split.neuron_groups * kSamples * kWarp;  // from one warp's partial sums to the next slot's
    if (blocks == 1) {  // model: single block
#pragma unroll 1
      for (int s = warp; s < m; s += kWarps)  // model: sample rows
#pragma unroll 1
        for (int j = lane; j < n1; j += kWarp) {  // model: first neurons
          const float* p = partials + (j / kWarp * kSamples + s) * kWarp + j % kWarp;
          const float z = sum(p, warp_stride, split.slots);  // model: over slots
          A1[s * n1 + j] = activation(z + b1[j], first_z_only);
        }
    } else {
      float* const received = floats(at.received[cur]);
      std::uint64_t* const arrived = &barrier[cur];
      if (t == 0) mbarrier_expect(arrived, unsigned(blocks * m * at.exchanged) * unsigned(sizeof(float)));
      // Four neurons' sums at a time, one 16-byte store to each block; a warp takes `exchange_samples` samples.
#pragma unroll 1
      for (int s = warp * exchange_samples + lane_sample; s < m; s += kWarps * exchange_samples)  // model: exchange rows
#pragma unroll 1
        for (int q = lane_quad; q < quads && lane_sample < exchange_samples; q += kWarp) {  // model: exchange quads
          const float4* p = reinterpret_cast<const float4*>(partials) + (q / (kWarp / 4) * kSamples + s) * (kWarp / 4) +
                            q % (kWarp / 4);
          const float4 z = sum4(p, warp_stride / 4, split.slots);  // model: over slots
          float* const slot_of_mine = received + (rank * m + s) * at.exchanged + 4 * q;
#pragma unroll 1
          for (int r = 0; r < blocks; ++r)  // model: blocks
            store_async(cluster_shared(slot_of_mine, unsigned(r)), z, cluster_shared(arrived, unsigned(r)));
        }
      mbarrier_wait(arrived, unsigned(step >> 1) & 1u);
#pragma unroll 1
      for (int s = warp; s < m; s += kWarps)  // model: sample rows
#pragma unroll 1
        for (int j = lane; j < n1; j += kWarp) {  // model: first neurons
          const float z = sum(received + s * at.exchanged + j, m * at.exchanged, blocks);  // model: over blocks
          A1[s * n1 + j] = activation(z + b1[j], first_z_only);
        }
    }
    __syncthreads();  // model: phase first layer

    // The layers above, whole in every block. A softmax output layer keeps z = W a + b here.
#pragma unroll 1
    for (int l = 1; l < layers; ++l) {  // model: upper layers
      const int n_in = net.sizes[l], n_out = net.sizes[l + 1];
      const float* const W = floats(at.w[l]);
      const float* const b = floats(at.b[l]);
      const float* const in = floats(at.a[l]);
      float* const out = floats(at.a[l + 1]);
      const bool z_only = softmax && l + 1 == layers;
#pragma unroll 1
      for (int s = warp; s < m; s += kWarps)  // model: sample rows
#pragma unroll 1
        for (int j = lane; j < n_out; j += kWarp) {  // model: upper neurons
          const float z = dot(W + j * n_in, in + s * n_in, n_in);  // model: over inputs
          out[s * n_out + j] = activation(z + b[j], z_only);
        }
      __syncthreads();  // model: phase upper layer
    }
    float* const top = floats(at.a[layers]);
    if (softmax) {  // model: softmax (the same arithmetic as the graph path's bias_softmax)
#pragma unroll 1
      for (int s = t; s < m; s += kPersistentThreads) softmax_in_place(top + s * n_top, n_top);  // model: softmax
      __syncthreads();  // model: phase softmax
    }

    // Output error straight from the labels, with the NaN/Inf watch.
    float* const d_top = floats(at.delta[layers]);
    const int d_top_width = layers == 1 ? at.rows : n_top;
#pragma unroll 1
    for (int s = warp; s < m; s += kWarps)  // model: sample rows
#pragma unroll 1
      for (int j = lane; j < n_top; j += kWarp) {  // model: top neurons
        const float out = top[s * n_top + j];
        const float target = int(y[s]) == j ? 1.0f : 0.0f;
        d_top[s * d_top_width + j] = output_error(update.cost, out, target);
        if (!isfinite(out)) atomicMin(bad_step, unsigned(step));  // model: never
      }
    __syncthreads();  // model: phase output error
    if (*bad_step != 0xFFFFFFFFu) break;  // the same answer in every thread of every block: they leave together

    // Hidden errors, top down, with the weights before this step's update; the first layer's in full (every
    // block updates its columns of every neuron).
#pragma unroll 1
    for (int l = layers - 1; l >= 1; --l) {  // model: hidden layers
      const int n = net.sizes[l], n_above = net.sizes[l + 1];
      const float* const W = floats(at.w[l]);
      const float* const a = floats(at.a[l]);
      const float* const above = floats(at.delta[l + 1]);
      float* const d = floats(at.delta[l]);
      const int width = l == 1 ? at.rows : n;
#pragma unroll 1
      for (int s = warp; s < m; s += kWarps)  // model: sample rows
#pragma unroll 1
        for (int i = lane; i < n; i += kWarp) {  // model: hidden neurons
          const float back = dot(W + i, n, above + s * n_above, 1, n_above);  // model: over above
          const float ai = a[s * n + i];
          d[s * width + i] = back * sigmoid_prime(ai);
        }
      __syncthreads();  // model: phase hidden layer
    }

    // The update. W1's columns: lane j of a warp updates neuron 32 g + j over the warp's column groups, the
    // gradient summed over the samples in order; then w <- decay w - (eta/m) g, one FMA after the product
    // decay w (exactly w without L2: decay is 1), so both cases are one expression and one rounding.
    if (first_layer_warp) {  // model: first-layer warps
      float d[kSamples];
#pragma unroll
      for (int s = 0; s < kSamples; ++s) d[s] = D1[s * at.rows + row];
#pragma unroll 1
      for (int g = slot; g < column_groups; g += split.slots) {  // model: update columns
        const float4* xs = X + g * kSamples;
        float4 grad = make_float4(0.0f, 0.0f, 0.0f, 0.0f);
#pragma unroll
        for (int s = 0; s < kSamples; ++s) {
          const float4 v = xs[s];
          grad.x = fmaf(d[s], v.x, grad.x);
          grad.y = fmaf(d[s], v.y, grad.y);
          grad.z = fmaf(d[s], v.z, grad.z);
          grad.w = fmaf(d[s], v.w, grad.w);
        }
        float4 w = w_row[g];
        w.x = fmaf(-scale, grad.x, decay * w.x);
        w.y = fmaf(-scale, grad.y, decay * w.y);
        w.z = fmaf(-scale, grad.z, decay * w.z);
        w.w = fmaf(-scale, grad.w, decay * w.w);
        w_row[g] = w;
      }
      // b1, whole in every block: the first slot's warps update it (the sample rows past m hold zero errors).
      if (slot == 0 && row < n1) {  // model: bias warps
        float g = 0.0f;
#pragma unroll
        for (int s = 0; s < kSamples; ++s) g = g + d[s];
        floats(at.b1)[row] = fmaf(-scale, g, floats(at.b1)[row]);
      }
    }
    // The layers above: a warp a neuron (neurons w, w + 16, ...), a lane an input; the neuron's bias by its
    // warp's first lane.
#pragma unroll 1
    for (int l = 1; l < layers; ++l) {  // model: upper layers
      const int n_in = net.sizes[l], n_out = net.sizes[l + 1];
      const float* const in = floats(at.a[l]);
      const float* const dl = floats(at.delta[l + 1]);
      float* const W = floats(at.w[l]);
      float* const b = floats(at.b[l]);
#pragma unroll 1
      for (int j = warp; j < n_out; j += kWarps) {  // model: weight rows
#pragma unroll 1
        for (int k = lane; k < n_in; k += kWarp) {  // model: weight columns
          const float g = dot_samples<kSamples>(dl + j, n_out, in + k, n_in);
          W[j * n_in + k] = fmaf(-scale, g, decay * W[j * n_in + k]);
        }
        if (lane == 0) b[j] = fmaf(-scale, sum_samples<kSamples>(dl + j, n_out), b[j]);
      }
    }
    if (more && t < m) {
      shared[at.labels[cur ^ 1] + t] = label;
      records[t] = next_record;
    }
    __pipeline_wait_prior(0);
    __syncthreads();  // model: phase update
  }
  __pipeline_wait_prior(0);  // a step that stopped early leaves no copy in flight

  // The parameters go back once: each block's columns of W1, and block 0's copy of the others (every block's
  // is the same). A bad step is reported as the graph path reports it; every block stopped at it.
  for (int k = t; k < n1 * columns; k += kPersistentThreads) {  // model: launch
    const int j = k / columns, c = k - j * columns;
    w_of(0)[std::size_t(j) * std::size_t(n0) + std::size_t(mine.first + c)] = floats(at.w1)[j * at.row_stride + c];
  }
  if (rank == 0) {
    for (int l = 0; l < layers; ++l) {
      const int n = net.sizes[l + 1] * (l == 0 ? 0 : net.sizes[l]);
      for (int k = t; k < n; k += kPersistentThreads) w_of(l)[k] = floats(at.w[l])[k];  // model: launch
      for (int k = t; k < net.sizes[l + 1]; k += kPersistentThreads) b_of(l)[k] = floats(at.b[l])[k];  // model: launch
    }
    if (t == 0 && *bad_step != 0xFFFFFFFFu) {
      if constexpr (kMany)
        atomicMin(runs.run[run].bad, first_batch + *bad_step);
      else
        atomicMin(bad, first_batch + *bad_step);
    }
  }
}

// Launches the kernel compiled for the sample tile kSamples: one run (one block, or a cluster of `blocks`), or
// with kMany, `count` runs of `runs`, a cluster each.
template <int kSamples, bool kMany, class Runs>
void launch_persistent(const PersistentNet& net, const std::uint8_t* images, const std::uint8_t* labels,
                       const std::uint32_t* order, std::size_t first, int m, int steps, const PersistentUpdate& update,
                       unsigned first_batch, unsigned* bad, int blocks, const Runs& runs, int count,
                       cudaStream_t stream) {
  // Past 48 KB a kernel must be allowed its dynamic shared memory first; the caller checked the device's limit.
  const PersistentLayout layout(net, m, blocks);
  const auto persistent_kernel = persistent_train_kernel<kSamples, kMany>;
  SIGMANET_CUDA_CHECK(cudaFuncSetAttribute(persistent_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, int(layout.bytes)));
  const unsigned grid = unsigned(count * blocks);
  if (blocks == 1)
    SIGMANET_LAUNCH(persistent_kernel, grid, kPersistentThreads, layout.bytes, stream)
    (net, layout, images, labels, order, first, m, steps, update, first_batch, bad, 1, runs);
  else
    SIGMANET_LAUNCH_CLUSTER(persistent_kernel, grid, kPersistentThreads, unsigned(blocks), layout.bytes, stream)
    (net, layout, images, labels, order, first, m, steps, update, first_batch, bad, blocks, runs);
  SIGMANET_CUDA_CHECK_LAUNCH("persistent_train_kernel");
}

// Calls f(std::integral_constant<int, tile>{}) for m's sample tile.
template <class F>
void with_sample_tile(std::size_t m, F&& f) {
  switch (sample_tile(int(m))) {
    case 1: f(std::integral_constant<int, 1>{}); break;
    case 2: f(std::integral_constant<int, 2>{}); break;
    case 4: f(std::integral_constant<int, 4>{}); break;
    case 10: f(std::integral_constant<int, 10>{}); break;
    case 16: f(std::integral_constant<int, 16>{}); break;
    default: f(std::integral_constant<int, 32>{}); break;
  }
}

// What persistent_train (`wrapper` "persistent_train", one run) and persistent_train_runs require of the network,
// the data, the steps and each run's pointers, in that order. Throws naming the wrapper.
void require_persistent_launch(const char* wrapper, const PersistentNet& net, BatchView<const std::uint8_t> images,
                               VectorView<const std::uint8_t> labels, const PersistentRun* runs, int count,
                               std::size_t order_size, std::size_t first, std::size_t m, std::size_t steps,
                               Cost cost, int blocks) {
  const auto every_run = [&](auto has) {
    for (int r = 0; r < count; ++r)
      if (!has(runs[r])) return false;
    return true;
  };
  require(images.data && labels.data && every_run([](const PersistentRun& run) { return run.order && run.bad; }),
          wrapper, "null pointer");
  require(net.layers >= 1 && net.layers <= kPersistentMaxLayers, wrapper, "unsupported layer count");
  for (int l = 0; l < net.layers; ++l)
    require(every_run([l](const PersistentRun& run) { return run.w[l] && run.b[l]; }) && net.sizes[l] > 0 &&
                net.sizes[l + 1] > 0,
            wrapper, "bad layer");
  require(images.features == std::size_t(net.sizes[0]), wrapper, "images not as wide as the input layer");
  require(net.output == Activation::sigmoid || net.output == Activation::softmax, wrapper,
          "unknown output activation");
  require(cost == Cost::quadratic || cost == Cost::cross_entropy || cost == Cost::log_likelihood, wrapper,
          "unknown cost");
  require((cost == Cost::log_likelihood) == (net.output == Activation::softmax), wrapper,
          "the cost does not go with the output layer (log-likelihood with softmax, the others with sigmoid)");
  require(m >= 1 && m <= std::size_t(kPersistentMaxBatch), wrapper, "batch outside 1..32");
  require(steps <= std::size_t(INT_MAX), wrapper, "too many steps for one launch");
  require(persistent_blocks_can_share(net, blocks), wrapper,
          "a cluster of 1 to 8 blocks, each owning at least one copy piece of the inputs, and at most 512 "
          "neurons in the first layer");
  require(first <= order_size && steps * m <= order_size - first, wrapper, "steps past the end of the order");
  require(reinterpret_cast<std::uintptr_t>(images.data) % std::uintptr_t(copy_piece(net.sizes[0])) == 0, wrapper,
          "images not aligned to the rows' copy pieces");
}

}  // namespace

bool persistent_clusters_supported() {
  int device = 0;
  cudaDeviceProp properties{};
  cudaFuncAttributes attributes{};
  if (cudaGetDevice(&device) != cudaSuccess || cudaGetDeviceProperties(&properties, device) != cudaSuccess ||
      cudaFuncGetAttributes(&attributes, persistent_train_kernel<10, false>) != cudaSuccess) {
    (void)cudaGetLastError();
    return false;
  }
  return properties.major >= 9 && attributes.ptxVersion >= 90;
}

bool persistent_blocks_can_share(const PersistentNet& net, int blocks) {
  if (blocks < 1 || blocks > kPersistentMaxBlocks || net.layers < 1 || net.sizes[0] < 1 || net.sizes[1] < 1)
    return false;
  if (FirstLayerSplit(net.sizes[1]).neuron_groups > kWarps) return false;  // a warp a group of 32 neurons
  return net.sizes[0] / copy_piece(net.sizes[0]) >= blocks;  // a copy piece at least for each block
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
  if (net.layers < 1 || !persistent_blocks_can_share(net, 1)) return 0;
  // The most blocks (a power of two, at most kPersistentMaxBlocks) that still give every warp of the first
  // layer a column group: more would leave warps idle while the exchange grows. (bench/sass_model.py counts
  // 784-30-10 at 2.4 us a step in 8 blocks, 2.8 in 4, 3.7 in 2, and the same order for 784-100-10.)
  constexpr int kMinGroupsPerWarp = 1;
  const int n0 = net.sizes[0], units = n0 / copy_piece(n0);
  const int slots = FirstLayerSplit(net.sizes[1]).slots;
  int preferred = 1;
  while (preferred < kPersistentMaxBlocks && persistent_blocks_can_share(net, 2 * preferred) &&
         units / (2 * preferred) * copy_piece(n0) / kInputs >= kMinGroupsPerWarp * slots)
    preferred *= 2;
  // Where that does not fit, the nearest size that does: fewer blocks receive less of the exchange, more hold
  // less of W1 each.
  for (int blocks = preferred; blocks >= 1; blocks /= 2)
    if (fits(blocks)) return blocks;
  for (int blocks = 2 * preferred; blocks <= kPersistentMaxBlocks; blocks *= 2)
    if (fits(blocks)) return blocks;
  return 0;
}

void persistent_train(const PersistentNet& net, BatchView<const std::uint8_t> images,
                      VectorView<const std::uint8_t> labels, VectorView<const std::uint32_t> order, std::size_t first,
                      std::size_t m, std::size_t steps, const PersistentUpdate& update, unsigned first_batch,
                      unsigned* bad, cudaStream_t stream, int blocks) {
  SIGMANET_REQUIRE_SHAPES("kernels::persistent_train", labels.size == images.samples, labels, images);
  if (steps == 0) return;
  PersistentRun run;
  std::copy(std::begin(net.w), std::end(net.w), std::begin(run.w));
  std::copy(std::begin(net.b), std::end(net.b), std::begin(run.b));
  run.order = order.data;
  run.bad = bad;
  require_persistent_launch("persistent_train", net, images, labels, &run, 1, order.size, first, m, steps,
                            update.cost, blocks);
  with_sample_tile(m, [&](auto tile) {
    launch_persistent<decltype(tile)::value, false>(net, images.data, labels.data, order.data, first, int(m),
                                                    int(steps), update, first_batch, bad, blocks, NoRuns{}, 1,
                                                    stream);
  });
}

void persistent_train_runs(const PersistentNet& net, BatchView<const std::uint8_t> images,
                           VectorView<const std::uint8_t> labels, const PersistentRun* runs, int count,
                           std::size_t order_size, std::size_t first, std::size_t m, std::size_t steps, Cost cost,
                           unsigned first_batch, cudaStream_t stream, int blocks) {
  SIGMANET_REQUIRE_SHAPES("kernels::persistent_train_runs", labels.size == images.samples, labels, images);
  require(runs && count >= 1 && count <= kPersistentMaxRuns, "persistent_train_runs", "1 to 32 runs");
  if (steps == 0) return;
  require_persistent_launch("persistent_train_runs", net, images, labels, runs, count, order_size, first, m, steps,
                            cost, blocks);
  RunTable table;
  std::copy(runs, runs + count, table.run);
  const PersistentUpdate update{0.0f, 1.0f, cost};  // each run's scale and decay come from the table
  with_sample_tile(m, [&](auto tile) {
    launch_persistent<decltype(tile)::value, true>(net, images.data, labels.data, nullptr, first, int(m), int(steps),
                                                   update, first_batch, nullptr, blocks, table, count, stream);
  });
}

}  // namespace sigmanet::kernels
