#pragma once
// One SIMD register of T, as wide as the build's target has: 16 floats or 8 doubles with AVX-512, 8 or 4 with
// AVX2 (GCC and Clang lower the generic vector type to whatever the target has). The fast CPU network's kernels
// and the peak-rate measurement (cpu_peak.hpp) both use it, so the fraction of peak `sigmanet bench` prints
// compares like with like. Vectors stay local and are passed by reference only: by value their ABI would depend
// on -march.
#include <cstddef>
#include <cstring>

#if defined(__AVX512F__)
#include <immintrin.h>
#endif

namespace sigmanet {

#if defined(__AVX512F__)
inline constexpr std::size_t kSimdBytes = 64;
#else
inline constexpr std::size_t kSimdBytes = 32;
#endif

template <class T>
struct Simd {
  typedef T vec __attribute__((vector_size(kSimdBytes)));
  static constexpr std::size_t width = sizeof(vec) / sizeof(T);
  static void load(vec& v, const T* p) { std::memcpy(&v, p, sizeof v); }  // unaligned, one instruction
  static void store(T* p, const vec& v) { std::memcpy(p, &v, sizeof v); }
  // The first `count` (< width) lanes, the rest zero: a row's last, partial vector, so a short tail runs in
  // the vector lanes instead of as a serial scalar loop (Nielsen's 30-wide hidden layer has 14 or 6 floats left).
  // With AVX-512 one masked load or store (lanes past `count` are never touched); else a copy of `count` values,
  // which compilers make a call to memcpy and a vector read back from the stack, three times a row in the sigmoid.
  static void load_partial(vec& v, const T* p, std::size_t count) {
#if defined(__AVX512F__)
    if constexpr (sizeof(T) == 4)
      v = (vec)_mm512_maskz_loadu_ps(__mmask16((1u << count) - 1), p);
    else
      v = (vec)_mm512_maskz_loadu_pd(__mmask8((1u << count) - 1), p);
#else
    v = vec{};
    std::memcpy(&v, p, count * sizeof(T));
#endif
  }
  static void store_partial(T* p, const vec& v, std::size_t count) {
#if defined(__AVX512F__)
    if constexpr (sizeof(T) == 4)
      _mm512_mask_storeu_ps(p, __mmask16((1u << count) - 1), (__m512)v);
    else
      _mm512_mask_storeu_pd(p, __mmask8((1u << count) - 1), (__m512d)v);
#else
    std::memcpy(p, &v, count * sizeof(T));
#endif
  }
  // The lanes added pairwise, halves first: log2(width) dependent adds instead of width, and the same order
  // every call.
  static T sum(const vec& v) {
    T a[width];
    std::memcpy(a, &v, sizeof v);
    for (std::size_t half = width / 2; half > 0; half /= 2)
      for (std::size_t k = 0; k < half; ++k) a[k] += a[k + half];
    return a[0];
  }
};

}  // namespace sigmanet
