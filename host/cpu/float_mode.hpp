#pragma once
// The floating-point mode the fast CPU network computes in: numbers too small to be normal (below 1.2e-38 in
// float, 2.2e-308 in double) are taken as zero, as inputs and as results (x86's FTZ and DAZ bits), instead of
// being worked out gradually. Saturated sigmoids make such numbers common in training (784-1024-1024-10 from
// N(0,1) weights: an activation of 1e-35 times an error of 1e-5), and a processor works each one out in a slow
// microcode path: the float products of that network ran at 37-56% of the core's peak with them and 68-80%
// without (bench/RESULTS.md). What is lost is below 1e-38 of the values it is added to; the oracle's checks
// are relative to the largest value, eight orders of magnitude above. Elsewhere than x86 this does nothing.
#include <cstdint>

#if defined(__SSE__) || defined(__x86_64__)
#include <xmmintrin.h>
#define SIGMANET_HAVE_MXCSR 1
#endif

namespace sigmanet {

// The calling thread's mode word (x86's MXCSR), so that a thread pool can hand it to the threads that run a part.
inline std::uint32_t float_mode() {
#ifdef SIGMANET_HAVE_MXCSR
  return _mm_getcsr();
#else
  return 0;
#endif
}

inline void set_float_mode(std::uint32_t mode) {
#ifdef SIGMANET_HAVE_MXCSR
  _mm_setcsr(mode);
#else
  (void)mode;
#endif
}

// Small numbers taken as zero for the guard's lifetime, on the calling thread; the mode before is restored.
class FlushSmallNumbers {
 public:
  FlushSmallNumbers() : before_(float_mode()) {
#ifdef SIGMANET_HAVE_MXCSR
    set_float_mode(before_ | kFlushToZero | kDenormalsAreZero);
#endif
  }
  ~FlushSmallNumbers() { set_float_mode(before_); }
  FlushSmallNumbers(const FlushSmallNumbers&) = delete;
  FlushSmallNumbers& operator=(const FlushSmallNumbers&) = delete;

 private:
  static constexpr std::uint32_t kFlushToZero = 1u << 15, kDenormalsAreZero = 1u << 6;
  std::uint32_t before_;
};

}  // namespace sigmanet
