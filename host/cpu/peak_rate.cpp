// One core's multiply-add peak on the fast CPU network's vectors (peak_rate.hpp).
#include "cpu/peak_rate.hpp"

#include <algorithm>
#include <chrono>

#include "cpu/simd.hpp"
#include "sigmanet/error.hpp"

namespace sigmanet {
namespace {

// Enough independent accumulators to cover the multiply-add latency (4 cycles) times the units issuing them
// (2 per cycle on current x86 cores), with room to spare.
constexpr int kChains = 12;

// Seconds for `rounds` rounds of kChains vector multiply-adds. Optimised and left uninstrumented whatever the
// build (a sanitizer build compiles at -O1 with checks, which measured a tenth of the peak, while the library
// it compares with, OpenBLAS, runs at full speed).
#if defined(__GNUC__) && !defined(__clang__)
#define SIGMANET_PEAK_LOOP __attribute__((optimize("O2"), no_sanitize("address", "undefined")))
#else
#define SIGMANET_PEAK_LOOP __attribute__((no_sanitize("address", "undefined")))
#endif
template <class T>
SIGMANET_PEAK_LOOP double time_multiply_adds(long rounds) {
  using S = Simd<T>;
  typename S::vec acc[kChains], a, b;
  for (int k = 0; k < kChains; ++k)
    for (std::size_t i = 0; i < S::width; ++i) acc[k][i] = T(k) * T(0.001);
  for (std::size_t i = 0; i < S::width; ++i) {
    a[i] = T(0.999);
    b[i] = T(0.0001);
  }
  // Through memory the optimiser cannot see into, so the chains cannot be folded into fewer operations (a
  // memory barrier rather than register constraints, which would depend on the target's vector registers).
  asm volatile("" : : "r"(&a), "r"(&b) : "memory");
  const auto start = std::chrono::steady_clock::now();
  for (long n = 0; n < rounds; ++n) {
    #pragma GCC unroll 12
    for (int k = 0; k < kChains; ++k) acc[k] = acc[k] * a + b;
  }
  const auto stop = std::chrono::steady_clock::now();
  asm volatile("" : : "r"(acc) : "memory");  // the results are used
  return std::chrono::duration<double>(stop - start).count();
}

template <class T>
PeakRate measure(double seconds) {
  constexpr double kFlopsPerRound = 2.0 * kChains * Simd<T>::width;
  // Rounds for about seconds / 4, from a first short run.
  long rounds = 1 << 16;
  const double first = std::max(time_multiply_adds<T>(rounds), 1e-7);
  rounds = std::max(1L, long(double(rounds) * seconds / 4 / first));
  double best = 1e300;
  for (int run = 0; run < 3; ++run) best = std::min(best, time_multiply_adds<T>(rounds));
  return {kFlopsPerRound * double(rounds) / best, 8 * sizeof(typename Simd<T>::vec)};
}

}  // namespace

PeakRate measure_peak_rate(Precision precision, double seconds) {
  if (!(seconds > 0)) throw Error("measure_peak_rate: the duration must be positive");
  return precision == Precision::f64 ? measure<double>(seconds) : measure<float>(seconds);
}

}  // namespace sigmanet
