#pragma once
// The arithmetic peak of one CPU core as the fast CPU network can use it, measured rather than looked up:
// `sigmanet bench` divides each CPU case's FLOP rate by it, to say how much of the core a step reaches.
// A virtual machine's model name rarely gives its clock, and a core's turbo clock depends on what else runs,
// so a short loop of independent multiply-adds on the network's own SIMD vectors (host/cpu/simd.hpp: 512 bits
// with AVX-512, else 256) is timed, on the machine and at the moment the benchmark runs.
#include <cstddef>

#include "sigmanet/backend.hpp"

namespace sigmanet {

struct PeakRate {
  double flops_per_second = 0;  // one thread, a multiply-add counted as 2 operations
  std::size_t vector_bits = 0;  // the width of the SIMD vectors measured
};

// The best of a few timed runs of about `seconds` / 4 each: the least disturbed one. Throws Error for a
// non-positive duration.
PeakRate measure_peak_rate(Precision precision, double seconds = 0.1);

}  // namespace sigmanet
