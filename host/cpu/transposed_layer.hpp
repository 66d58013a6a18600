#pragma once
// Kernels for a first layer held transposed: W^T, one row of n_out weights (zero-padded to `stride`, a whole
// number of vectors) per input. FastCpuNetwork holds a narrow first layer this way (Nielsen's 30 neurons), so
// that the inputs that are 0 (four fifths of an MNIST digit's pixels) cost nothing: the sparse sums of
// sparse_input.hpp take only the rows of the nonzero inputs, and the gradient's step below only the rows of the
// inputs that are nonzero in some sample of the batch; every other row's gradient is exactly 0, so skipping it
// changes no bit. The dense sums below are for batches with too few zeros to list.
#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "cpu/simd.hpp"

#if defined(__AVX512F__)
#include <immintrin.h>
#endif

namespace sigmanet {

// Room nonzero_columns() needs for n columns: it writes whole vectors of indices.
inline std::size_t nonzero_column_room(std::size_t n) { return n + 16; }

// The columns i of x (m rows of n) where some row is not 0 (NaN counts), ascending, into cols; returns how many.
template <class T>
std::size_t nonzero_columns(const T* x, std::size_t m, std::size_t n, std::uint32_t* cols) {
  std::size_t count = 0, i = 0;
#if defined(__AVX512F__)
  __m512i index = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  const __m512i sixteen = _mm512_set1_epi32(16);
  for (; i + 16 <= n; i += 16, index = _mm512_add_epi32(index, sixteen)) {
    unsigned k = 0;
    for (std::size_t s = 0; s < m; ++s) {
      const T* p = x + s * n + i;
      if constexpr (sizeof(T) == 4) {
        k |= _mm512_cmp_ps_mask(_mm512_loadu_ps(p), _mm512_setzero_ps(), _CMP_NEQ_UQ);
      } else {
        k |= _mm512_cmp_pd_mask(_mm512_loadu_pd(p), _mm512_setzero_pd(), _CMP_NEQ_UQ);
        k |= unsigned(_mm512_cmp_pd_mask(_mm512_loadu_pd(p + 8), _mm512_setzero_pd(), _CMP_NEQ_UQ)) << 8;
      }
    }
    _mm512_storeu_si512(cols + count, _mm512_maskz_compress_epi32(static_cast<__mmask16>(k), index));
    count += std::popcount(k);
  }
#endif
  for (; i < n; ++i) {
    bool any = false;
    for (std::size_t s = 0; s < m; ++s) any |= !(x[s * n + i] == T(0));
    cols[count] = std::uint32_t(i);
    count += any;
  }
  return count;
}

// z[c] (rows of z_stride) = sum over i of x_c[i] * wt row i for C samples x_c (rows of n_in), V vectors of
// outputs from column `first`, `count` of them (at most V * width). C * V sums in flight hide the multiply-add
// latency, and each loaded row feeds C samples.
template <std::size_t C, std::size_t V, class T>
void transposed_sums(const T* wt, std::size_t stride, std::size_t first, const T* x, std::size_t n_in, T* z,
                     std::size_t z_stride, std::size_t count) {
  using S = Simd<T>;
  typename S::vec acc[C][V] = {}, w[V];
  for (std::size_t i = 0; i < n_in; ++i) {
    const T* row = wt + i * stride + first;
    #pragma GCC unroll 4
    for (std::size_t v = 0; v < V; ++v) S::load(w[v], row + v * S::width);
    #pragma GCC unroll 8
    for (std::size_t c = 0; c < C; ++c) {
      const T xc = x[c * n_in + i];
      #pragma GCC unroll 4
      for (std::size_t v = 0; v < V; ++v) acc[c][v] += xc * w[v];
    }
  }
  #pragma GCC unroll 8
  for (std::size_t c = 0; c < C; ++c)
    #pragma GCC unroll 4
    for (std::size_t v = 0; v < V; ++v) {
      const std::size_t left = count - v * S::width;
      T* out = z + c * z_stride + first + v * S::width;
      if (left >= S::width)
        S::store(out, acc[c][v]);
      else
        S::store_partial(out, acc[c][v], left);
    }
}

// C samples' n_out weighted sums, up to four vectors of outputs at a time.
template <std::size_t C, class T>
void transposed_sums(const T* wt, std::size_t stride, std::size_t n_out, const T* x, std::size_t n_in, T* z) {
  constexpr std::size_t w = Simd<T>::width, kVectors = 4;
  for (std::size_t j = 0; j < n_out; j += kVectors * w) {
    const std::size_t left = std::min(n_out - j, kVectors * w);
    if (left > 3 * w)
      transposed_sums<C, 4>(wt, stride, j, x, n_in, z, n_out, left);
    else if (left > 2 * w)
      transposed_sums<C, 3>(wt, stride, j, x, n_in, z, n_out, left);
    else if (left > w)
      transposed_sums<C, 2>(wt, stride, j, x, n_in, z, n_out, left);
    else
      transposed_sums<C, 1>(wt, stride, j, x, n_in, z, n_out, left);
  }
}

// z = x W for m samples (rows of n_in) through wt, five samples at a time, then one.
template <class T>
void transposed_weighted_sums(const T* wt, std::size_t stride, std::size_t n_out, const T* x, std::size_t m,
                              std::size_t n_in, T* z) {
  constexpr std::size_t kSamples = 5;
  std::size_t s = 0;
  for (; s + kSamples <= m; s += kSamples)
    transposed_sums<kSamples>(wt, stride, n_out, x + s * n_in, n_in, z + s * n_out);
  for (; s < m; ++s) transposed_sums<1>(wt, stride, n_out, x + s * n_in, n_in, z + s * n_out);
}

// SGD's step on rows R rows of wt, V vectors from column `first`: each row i <- step(row, sum over the m samples
// in order of x_s[i] * d_s), d's rows `stride` long and zero-padded like wt's. The step is the caller's
// (sgd_step in fast_network.cpp: update() and every other path take the same one). Adds w - w of every result
// to `finite`, which stays 0 while they are all finite (Inf - Inf and NaN give NaN).
template <std::size_t R, std::size_t V, class T, class Step>
void transposed_gradient_rows(const T* x, std::size_t n_in, const T* d, std::size_t m, const std::uint32_t* rows,
                              T* wt, std::size_t stride, std::size_t first, const Step& step,
                              typename Simd<T>::vec& finite) {
  using S = Simd<T>;
  typename S::vec acc[R][V] = {}, dv[V];
  for (std::size_t s = 0; s < m; ++s) {
    #pragma GCC unroll 4
    for (std::size_t v = 0; v < V; ++v) S::load(dv[v], d + s * stride + first + v * S::width);
    #pragma GCC unroll 4
    for (std::size_t r = 0; r < R; ++r) {
      const T xs = x[s * n_in + rows[r]];
      #pragma GCC unroll 4
      for (std::size_t v = 0; v < V; ++v) acc[r][v] += xs * dv[v];
    }
  }
  #pragma GCC unroll 4
  for (std::size_t r = 0; r < R; ++r)
    #pragma GCC unroll 4
    for (std::size_t v = 0; v < V; ++v) {
      T* p = wt + std::size_t(rows[r]) * stride + first + v * S::width;
      typename S::vec w;
      S::load(w, p);
      step(w, acc[r][v]);
      S::store(p, w);
      finite += w - w;
    }
}

// The step for the rows listed, four at a time, each over up to two vectors of columns at a time. Returns
// false when a result is not finite.
template <class T, class Step>
bool transposed_gradient_step(const T* x, std::size_t n_in, const T* d, std::size_t m, std::size_t n_out,
                              const std::uint32_t* rows, std::size_t count, T* wt, std::size_t stride,
                              const Step& step) {
  constexpr std::size_t w = Simd<T>::width, kRows = 4;
  typename Simd<T>::vec finite = {};
  const auto columns = [&](auto rows_at_once, const std::uint32_t* r) {
    constexpr std::size_t R = decltype(rows_at_once)::value;
    for (std::size_t j = 0; j < n_out; j += 2 * w) {
      if (n_out - j > w)
        transposed_gradient_rows<R, 2>(x, n_in, d, m, r, wt, stride, j, step, finite);
      else
        transposed_gradient_rows<R, 1>(x, n_in, d, m, r, wt, stride, j, step, finite);
    }
  };
  std::size_t k = 0;
  for (; k + kRows <= count; k += kRows) columns(std::integral_constant<std::size_t, kRows>{}, rows + k);
  for (; k < count; ++k) columns(std::integral_constant<std::size_t, 1>{}, rows + k);
  return Simd<T>::sum(finite) == T(0);
}

}  // namespace sigmanet
