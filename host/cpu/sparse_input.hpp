#pragma once
// The first layer's weighted sums from the input's nonzero values only. Four fifths of an MNIST digit's pixels
// are 0, and a zero input adds nothing to any sum (0 * w is 0 for every finite w), so z = W x needs only the
// columns of W where x is not 0. With W held transposed (one row of n_out weights per input), each nonzero input
// is a few vector multiply-adds on one contiguous row: about a fifth of the dense product's work on MNIST.
// FastCpuNetwork::forward_images (evaluation) uses it where the batch is sparse enough and the weights finite
// (fast_network.cpp); the sums are the same to rounding as the dense ones, in another order.
//
// An image is listed as (index, value) pairs, indices ascending, straight from its bytes: it is never expanded
// to a row of T.
#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>

#include "cpu/pixels.hpp"
#include "cpu/simd.hpp"

#if defined(__AVX512F__)
#include <immintrin.h>
#endif

namespace sigmanet {

// Room the lists of an input of n values need: the vector code writes whole vectors of pairs.
inline std::size_t nonzero_list_room(std::size_t n) { return n + 16; }

// Pixels listed before their bytes are made values (nonzero_pixels with AVX-512 VBMI2): a bound on its buffer.
inline constexpr std::size_t kListedRound = 256;

#if defined(__AVX512F__)
namespace sparse_detail {
// Appends the lanes of k (16 values from index base) to the lists at count: a compress puts them side by side.
inline void append(__mmask16 k, __m512i index, __m512 value, std::uint32_t* nz, float* out, std::size_t count) {
  _mm512_storeu_si512(nz + count, _mm512_maskz_compress_epi32(k, index));
  _mm512_storeu_ps(out + count, _mm512_maskz_compress_ps(k, value));
}
inline void append(__mmask16 k, __m512i index, __m512d low, __m512d high, std::uint32_t* nz, double* out,
                   std::size_t count) {
  _mm512_storeu_si512(nz + count, _mm512_maskz_compress_epi32(k, index));
  const auto k_low = static_cast<__mmask8>(k), k_high = static_cast<__mmask8>(k >> 8);
  _mm512_storeu_pd(out + count, _mm512_maskz_compress_pd(k_low, low));
  _mm512_storeu_pd(out + count + std::popcount(unsigned(k_low)), _mm512_maskz_compress_pd(k_high, high));
}
// pixel_value() of 16 bytes (as 32-bit lanes) in float, or of 8 in double: the quotient by the reciprocal,
// corrected once by its exact remainder.
inline __m512 pixel_values(__m512i p) {
  const __m512 x = _mm512_maskz_cvtepi32_ps(0xffff, p), r = _mm512_set1_ps(1.0f / 255.0f);
  const __m512 q = _mm512_mul_ps(x, r);
  return _mm512_fmadd_ps(_mm512_fnmadd_ps(q, _mm512_set1_ps(255.0f), x), r, q);
}
inline __m512d pixel_values(__m256i p) {
  const __m512d r = _mm512_set1_pd(1.0 / 255.0), x = _mm512_maskz_cvtepi32_pd(0xff, p), q = _mm512_mul_pd(x, r);
  return _mm512_fmadd_pd(_mm512_fnmadd_pd(q, _mm512_set1_pd(255.0), x), r, q);
}
// Up to 16 pixels' values (bytes as 32-bit lanes) stored whole at value: the lists have room for whole vectors.
inline void store_pixel_values(__m512i p, float* value) { _mm512_storeu_ps(value, pixel_values(p)); }
inline void store_pixel_values(__m512i p, double* value) {
  _mm512_storeu_pd(value, pixel_values(_mm512_maskz_extracti64x4_epi64(0xf, p, 0)));
  _mm512_storeu_pd(value + 8, pixel_values(_mm512_maskz_extracti64x4_epi64(0xf, p, 1)));
}
}  // namespace sparse_detail
#endif

// The nonzero values of x[0 .. n) (NaN included: it must reach the sums) and their indices; returns how many.
template <class T>
std::size_t nonzero_inputs(const T* x, std::size_t n, std::uint32_t* nz, T* value) {
  std::size_t count = 0, i = 0;
#if defined(__AVX512F__)
  __m512i index = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  const __m512i sixteen = _mm512_set1_epi32(16);
  for (; i + 16 <= n; i += 16, index = _mm512_add_epi32(index, sixteen)) {
    if constexpr (sizeof(T) == 4) {
      const __m512 v = _mm512_loadu_ps(x + i);
      const __mmask16 k = _mm512_cmp_ps_mask(v, _mm512_setzero_ps(), _CMP_NEQ_UQ);
      sparse_detail::append(k, index, v, nz, value, count);
      count += std::popcount(unsigned(k));
    } else {
      const __m512d low = _mm512_loadu_pd(x + i), high = _mm512_loadu_pd(x + i + 8);
      const __mmask8 k_low = _mm512_cmp_pd_mask(low, _mm512_setzero_pd(), _CMP_NEQ_UQ);
      const __mmask8 k_high = _mm512_cmp_pd_mask(high, _mm512_setzero_pd(), _CMP_NEQ_UQ);
      const auto k = static_cast<__mmask16>(k_low | (unsigned(k_high) << 8));
      sparse_detail::append(k, index, low, high, nz, value, count);
      count += std::popcount(unsigned(k));
    }
  }
#endif
  for (; i < n; ++i) {  // without a branch: always write, advance only past a nonzero
    nz[count] = std::uint32_t(i);
    value[count] = x[i];
    count += !(x[i] == T(0));
  }
  return count;
}

// How many of x[0 .. n) are nonzero (NaN counts), to choose between the sparse sums and the dense ones.
template <class T>
std::size_t count_nonzero(const T* x, std::size_t n) {
  std::size_t count = 0, i = 0;
#if defined(__AVX512F__)
  for (; i + 16 <= n; i += 16) {
    if constexpr (sizeof(T) == 4)
      count += std::popcount(unsigned(_mm512_cmp_ps_mask(_mm512_loadu_ps(x + i), _mm512_setzero_ps(), _CMP_NEQ_UQ)));
    else
      for (std::size_t h = 0; h < 16; h += 8)
        count += std::popcount(
            unsigned(_mm512_cmp_pd_mask(_mm512_loadu_pd(x + i + h), _mm512_setzero_pd(), _CMP_NEQ_UQ)));
  }
#endif
  for (; i < n; ++i) count += !(x[i] == T(0));
  return count;
}

// The nonzero pixels of an image of n bytes, as pixel_value()s, and their indices; returns how many.
template <class T>
std::size_t nonzero_pixels(const std::uint8_t* image, std::size_t n, std::uint32_t* nz, T* value) {
  std::size_t count = 0, i = 0;
#if defined(__AVX512VBMI2__) && defined(__AVX512BW__)
  // 64 pixels a step (the last one masked), without a branch: their nonzero bytes side by side in one compress,
  // their indices in four, each stored where the bits of the mask before it say, and the bytes made values
  // afterwards, a vector of them at a time. Evaluation lists every record it sees, and the 16-pixel steps below (a
  // compress of indices and one of values each, a branch past blank runs) were a third of an evaluated MNIST
  // record's time.
  alignas(64) std::uint8_t bytes[kListedRound + 64];
  const __m512i lanes = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  while (i < n) {
    const std::size_t first = count;
    for (const std::size_t end = std::min(n, i + kListedRound); i < end; i += 64) {
      const std::size_t left = end - i;
      const __mmask64 in = left >= 64 ? ~__mmask64(0) : (__mmask64(1) << left) - 1;
      const __m512i p = _mm512_maskz_loadu_epi8(in, image + i);
      const __mmask64 k = _mm512_test_epi8_mask(p, p);
      _mm512_storeu_si512(bytes + (count - first), _mm512_maskz_compress_epi8(k, p));
      const __m512i index = _mm512_add_epi32(lanes, _mm512_set1_epi32(int(i)));
      for (unsigned quarter = 0; quarter < 4; ++quarter) {
        const std::size_t before = std::popcount(k & ((__mmask64(1) << (16 * quarter)) - 1));
        const __m512i at = _mm512_add_epi32(index, _mm512_set1_epi32(int(16 * quarter)));
        _mm512_storeu_si512(nz + count + before,
                            _mm512_maskz_compress_epi32(static_cast<__mmask16>(k >> (16 * quarter)), at));
      }
      count += std::popcount(k);
    }
    for (std::size_t k = first; k < count; k += 16) {
      const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(bytes + (k - first)));
      sparse_detail::store_pixel_values(_mm512_maskz_cvtepu8_epi32(0xffff, b), value + k);
    }
  }
#elif defined(__AVX512F__)
  __m512i index = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  const __m512i sixteen = _mm512_set1_epi32(16);
  for (; i + 16 <= n; i += 16, index = _mm512_add_epi32(index, sixteen)) {
    // The zero-masking forms throughout: GCC 12 warns of the plain ones' undefined upper lanes when inlined.
    const __m512i p = _mm512_maskz_cvtepu8_epi32(0xffff, _mm_loadu_si128(reinterpret_cast<const __m128i*>(image + i)));
    const __mmask16 k = _mm512_test_epi32_mask(p, p);
    if (k == 0) continue;  // a blank run of 16: common at a digit's edges
    if constexpr (sizeof(T) == 4) {
      sparse_detail::append(k, index, sparse_detail::pixel_values(p), nz, value, count);
    } else {
      sparse_detail::append(k, index, sparse_detail::pixel_values(_mm512_maskz_extracti64x4_epi64(0xf, p, 0)),
                            sparse_detail::pixel_values(_mm512_maskz_extracti64x4_epi64(0xf, p, 1)), nz, value, count);
    }
    count += std::popcount(unsigned(k));
  }
#endif
  for (; i < n; ++i) {
    nz[count] = std::uint32_t(i);
    value[count] = pixel_value<T>(image[i]);
    count += image[i] != 0;
  }
  return count;
}

// How many of an image's n bytes are nonzero.
inline std::size_t count_nonzero_pixels(const std::uint8_t* image, std::size_t n) {
  std::size_t count = 0, i = 0;
#if defined(__AVX512BW__)
  for (; i + 64 <= n; i += 64) {
    const __m512i p = _mm512_loadu_si512(image + i);
    count += std::popcount(_mm512_test_epi8_mask(p, p));
  }
#endif
  for (; i < n; ++i) count += image[i] != 0;
  return count;
}

// wt (n_in x stride, zero past n_out in each row) = w^T for w n_out x n_in: each input's weights in one row.
template <class T>
void transpose_weights(const T* w, std::size_t n_out, std::size_t n_in, std::size_t stride, T* wt) {
  for (std::size_t i = 0; i < n_in; ++i) {
    T* row = wt + i * stride;
    for (std::size_t j = 0; j < n_out; ++j) row[j] = w[j * n_in + i];
    for (std::size_t j = n_out; j < stride; ++j) row[j] = T(0);
  }
}

// z[0 .. count) = sum over the listed inputs k of value[k] * wt row nz[k], for V vectors of outputs from column
// `first` of wt; count is at most V * width. Four sets of sums take turns, so about sixteen multiply-adds are in
// flight instead of V waiting on one another, and are added at the end in a fixed order.
template <std::size_t V, class T>
void sparse_sums(const T* wt, std::size_t stride, std::size_t first, const std::uint32_t* nz, const T* value,
                 std::size_t listed, T* z, std::size_t count) {
  using S = Simd<T>;
  constexpr std::size_t kSets = 4;
  typename S::vec acc[kSets][V] = {}, w[V];
  const auto add = [&](std::size_t set, std::size_t k) {
    const T* row = wt + std::size_t(nz[k]) * stride + first;
    #pragma GCC unroll 4
    for (std::size_t v = 0; v < V; ++v) S::load(w[v], row + v * S::width);
    #pragma GCC unroll 4
    for (std::size_t v = 0; v < V; ++v) acc[set][v] += value[k] * w[v];
  };
  std::size_t k = 0;
  for (; k + kSets <= listed; k += kSets)
    #pragma GCC unroll 4
    for (std::size_t set = 0; set < kSets; ++set) add(set, k + set);
  for (std::size_t set = 0; k < listed; ++k, ++set) add(set, k);
  #pragma GCC unroll 4
  for (std::size_t v = 0; v < V; ++v) {
    const typename S::vec sum = (acc[0][v] + acc[1][v]) + (acc[2][v] + acc[3][v]);
    const std::size_t left = count - v * S::width;
    if (left >= S::width)
      S::store(z + v * S::width, sum);
    else
      S::store_partial(z + v * S::width, sum, left);
  }
}

// One sample's n_out weighted sums from its listed inputs, up to four vectors of outputs at a time.
template <class T>
void sparse_weighted_sums(const T* wt, std::size_t stride, std::size_t n_out, const std::uint32_t* nz,
                          const T* value, std::size_t listed, T* z) {
  constexpr std::size_t w = Simd<T>::width, kVectors = 4;
  for (std::size_t j = 0; j < n_out; j += kVectors * w) {
    const std::size_t left = std::min(n_out - j, kVectors * w);
    if (left > 3 * w)
      sparse_sums<4>(wt, stride, j, nz, value, listed, z + j, left);
    else if (left > 2 * w)
      sparse_sums<3>(wt, stride, j, nz, value, listed, z + j, left);
    else if (left > w)
      sparse_sums<2>(wt, stride, j, nz, value, listed, z + j, left);
    else
      sparse_sums<1>(wt, stride, j, nz, value, listed, z + j, left);
  }
}

}  // namespace sigmanet
