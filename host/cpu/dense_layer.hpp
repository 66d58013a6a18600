#pragma once
// Kernels for a layer held as Parameters holds it, W n_out x n_in row-major, over a batch of m rows (one per
// sample) of the layer's width: the forward pass's weighted sums in tiles of weight rows x samples, the gradient
// d^T x in blocks of rows x vectors summed over the samples in order, and SGD's step, which the gradient blocks
// may apply as they go. FastCpuNetwork's dense layers run on them (transposed_layer.hpp holds the first layer's
// other form). Every inner loop runs along contiguous memory so the compiler vectorises it.
#include <cstddef>

#include "cpu/simd.hpp"

namespace sigmanet {

// out[r][c] = w_r . x_c for R weight rows and C samples, all rows n long. R*C independent sums hide the
// multiply-add latency, and every loaded vector feeds C or R multiply-adds instead of one.
template <std::size_t R, std::size_t C, class T>
void dot_tile(const T* w, const T* x, std::size_t n, T (&out)[R][C]) {
  using S = Simd<T>;
  typename S::vec acc[R][C] = {}, wv[R], xv[C];
  std::size_t i = 0;
  for (; i + S::width <= n; i += S::width) {
    #pragma GCC unroll 8
    for (std::size_t r = 0; r < R; ++r) S::load(wv[r], w + r * n + i);
    #pragma GCC unroll 8
    for (std::size_t c = 0; c < C; ++c) S::load(xv[c], x + c * n + i);
    #pragma GCC unroll 8
    for (std::size_t r = 0; r < R; ++r)
      #pragma GCC unroll 8
      for (std::size_t c = 0; c < C; ++c) acc[r][c] += wv[r] * xv[c];
  }
  if (i < n) {  // the last, partial vector: zeros in the lanes past n add nothing
    #pragma GCC unroll 8
    for (std::size_t r = 0; r < R; ++r) S::load_partial(wv[r], w + r * n + i, n - i);
    #pragma GCC unroll 8
    for (std::size_t c = 0; c < C; ++c) S::load_partial(xv[c], x + c * n + i, n - i);
    #pragma GCC unroll 8
    for (std::size_t r = 0; r < R; ++r)
      #pragma GCC unroll 8
      for (std::size_t c = 0; c < C; ++c) acc[r][c] += wv[r] * xv[c];
  }
  #pragma GCC unroll 8
  for (std::size_t r = 0; r < R; ++r)
    #pragma GCC unroll 8
    for (std::size_t c = 0; c < C; ++c) out[r][c] = S::sum(acc[r][c]);
}

// z[s][j] = w_j . x_s for the R rows from j and the C samples from s; w is n_out x n_in, x and z hold samples.
template <std::size_t R, std::size_t C, class T>
void weighted_sums(const T* w, const T* x, std::size_t n_in, std::size_t n_out, std::size_t j, std::size_t s, T* z) {
  T tile[R][C];
  dot_tile<R, C>(w + j * n_in, x + s * n_in, n_in, tile);
  #pragma GCC unroll 8
  for (std::size_t r = 0; r < R; ++r)
    #pragma GCC unroll 8
    for (std::size_t c = 0; c < C; ++c) z[(s + c) * n_out + j + r] = tile[r][c];
}

// Forward tiles are 3 weight rows x 5 samples: fifteen accumulators hide the multiply-add latency, and the five
// samples (15 KiB at 784 floats) stay in L1 while the weights stream past, so at batch 10 the weights are
// read twice per step. (2 x 5 was measured faster than 4 x 3, 4 x 2, 3 x 4 and 2 x 6 before the 512-bit
// vectors; 3 x 5 came with them.)
constexpr std::size_t kRowsPerTile = 3;
constexpr std::size_t kSamplesPerTile = 5;

// z = x W^T for C samples from s: kRowsPerTile weight rows at a time, then one.
template <std::size_t C, class T>
void weighted_sums(const T* w, const T* x, std::size_t n_in, std::size_t n_out, std::size_t s, T* z) {
  std::size_t j = 0;
  for (; j + kRowsPerTile <= n_out; j += kRowsPerTile) weighted_sums<kRowsPerTile, C>(w, x, n_in, n_out, j, s, z);
  for (; j < n_out; ++j) weighted_sums<1, C>(w, x, n_in, n_out, j, s, z);
}

// SGD's step on one vector of weights from its summed gradients: w + (-rate) g without decay (the multiply-add
// an axpy does), decay w - rate g with L2. update() and the fused train_batch() both go through here, so the two
// give the same bits.
template <class T>
void sgd_step(typename Simd<T>::vec& w, const typename Simd<T>::vec& g, T rate, T decay) {
  if (decay == T(1))
    w = w + (-rate) * g;
  else
    w = decay * w - rate * g;
}

// SGD's step on count weights from their gradients, a vector at a time: what update() does.
template <class T>
void sgd_range(T* w, const T* g, std::size_t count, T rate, T decay) {
  using S = Simd<T>;
  typename S::vec wv, gv;
  std::size_t i = 0;
  for (; i + S::width <= count; i += S::width) {
    S::load(wv, w + i);
    S::load(gv, g + i);
    sgd_step(wv, gv, rate, decay);
    S::store(w + i, wv);
  }
  if (i < count) {
    S::load_partial(wv, w + i, count - i);
    S::load_partial(gv, g + i, count - i);
    sgd_step(wv, gv, rate, decay);
    S::store_partial(w + i, wv, count - i);
  }
}

// Where a summed gradient block goes: the gradient's rows, or (apply) straight into the weights' rows as SGD's
// step, so the gradient is never stored nor read back.
template <class T>
struct GradientSink {
  T* rows;
  bool apply = false;
  T rate = 0, decay = 1;

  // `count` values of v (count <= width) at p of rows' layout.
  void put(std::size_t at, typename Simd<T>::vec v, std::size_t count) const {
    using S = Simd<T>;
    T* p = rows + at;
    if (apply) {
      typename S::vec w;
      if (count < S::width) S::load_partial(w, p, count); else S::load(w, p);
      sgd_step(w, v, rate, decay);
      v = w;
    }
    if (count < S::width) S::store_partial(p, v, count); else S::store(p, v);
  }
};

// Gradient blocks are 3 rows x 4 vectors: twelve accumulators, and seven loads (4 input vectors, 3
// broadcast coefficients) feed twelve multiply-adds. Measured faster than 4 x 2, 2 x 4 and 4 x 3.
constexpr std::size_t kGradientRows = 3, kGradientVectors = 4;

// Columns [i, i + U vectors) of gradient rows j .. j+R-1: g_r = sum_s d[s][j + r] x_s, all m samples summed
// in registers, so each row is written once and never read back or zeroed first. Each input vector loaded
// feeds R rows, and each broadcast coefficient feeds U vectors of a row. With `last` < width, the block is one
// partial vector of the row's last `last` columns.
template <std::size_t R, std::size_t U, class T>
void gradient_block(const T* d, const T* x, std::size_t m, std::size_t n_in, std::size_t n_out, std::size_t j,
                    std::size_t i, const GradientSink<T>& g, std::size_t last = Simd<T>::width) {
  using S = Simd<T>;
  typename S::vec acc[R][U] = {}, xv[U];
  for (std::size_t s = 0; s < m; ++s) {
    #pragma GCC unroll 8
    for (std::size_t u = 0; u < U; ++u) {
      if (U == 1 && last < S::width)
        S::load_partial(xv[u], x + s * n_in + i, last);
      else
        S::load(xv[u], x + s * n_in + i + u * S::width);
    }
    #pragma GCC unroll 8
    for (std::size_t r = 0; r < R; ++r)
      #pragma GCC unroll 8
      for (std::size_t u = 0; u < U; ++u) acc[r][u] += d[s * n_out + j + r] * xv[u];
  }
  #pragma GCC unroll 8
  for (std::size_t r = 0; r < R; ++r)
    #pragma GCC unroll 8
    for (std::size_t u = 0; u < U; ++u) g.put((j + r) * n_in + i + u * S::width, acc[r][u], U == 1 ? last : S::width);
}

// Gradient rows j .. j+R-1: kGradientVectors vectors at a time, then one, then the partial vector left over.
template <std::size_t R, class T>
void gradient_rows(const T* d, const T* x, std::size_t m, std::size_t n_in, std::size_t n_out, std::size_t j,
                   const GradientSink<T>& g) {
  constexpr std::size_t w = Simd<T>::width;
  std::size_t i = 0;
  constexpr std::size_t u = kGradientVectors;
  for (; i + u * w <= n_in; i += u * w) gradient_block<R, u>(d, x, m, n_in, n_out, j, i, g);
  for (; i + w <= n_in; i += w) gradient_block<R, 1>(d, x, m, n_in, n_out, j, i, g);
  if (i < n_in) gradient_block<R, 1>(d, x, m, n_in, n_out, j, i, g, n_in - i);
}

// y += c * x
template <class T>
void axpy(T c, const T* x, T* y, std::size_t n) {
#pragma omp simd
  for (std::size_t i = 0; i < n; ++i) y[i] += c * x[i];
}

// z = x W^T for m samples, tile by tile.
template <class T>
void weighted_sums(const T* w, const T* x, std::size_t m, std::size_t n_in, std::size_t n_out, T* z) {
  std::size_t s = 0;
  for (; s + kSamplesPerTile <= m; s += kSamplesPerTile) weighted_sums<kSamplesPerTile>(w, x, n_in, n_out, s, z);
  for (; s < m; ++s) weighted_sums<1>(w, x, n_in, n_out, s, z);
}

// Rows [j, j_last) of g = d^T x summed over the m samples (d is m x n_out, x is m x n_in, g is n_out x n_in).
// Each value's sum runs over the samples in order whatever the rows' grouping, so any split of the rows gives
// the same bits.
template <class T>
void sum_gradient(const T* d, const T* x, std::size_t m, std::size_t n_in, std::size_t n_out, std::size_t j,
                  std::size_t j_last, const GradientSink<T>& g) {
  constexpr std::size_t r = kGradientRows;
  for (; j + r <= j_last; j += r) gradient_rows<r>(d, x, m, n_in, n_out, j, g);
  for (; j + 2 <= j_last; j += 2) gradient_rows<2>(d, x, m, n_in, n_out, j, g);
  for (; j < j_last; ++j) gradient_rows<1>(d, x, m, n_in, n_out, j, g);
}

}  // namespace sigmanet
