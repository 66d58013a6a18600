#pragma once
// A pixel byte as the network's input: p / 255.
#include <cmath>
#include <cstdint>

namespace sigmanet {

// A division was a tenth of a batch-10 step (one vector divide per 16 pixels, ~10 cycles each); with
// multiply-adds, the quotient by the reciprocal, corrected once by its exact remainder, is the correctly rounded
// p / 255 for every byte in float and in double (tests: GatherGivesEveryPixelsExactQuotient*), at a few cycles per
// vector. Without hardware multiply-adds (std::fma in software) the division is faster.
template <class T>
T pixel_value(std::uint8_t p) {
#if defined(__FMA__) || defined(__AVX512F__)
  constexpr T r = T(1) / T(255);
  const T x = T(p), q = x * r;
  return std::fma(std::fma(-q, T(255), x), r, q);
#else
  return T(p) / T(255);
#endif
}

}  // namespace sigmanet
