#pragma once
// Shared by the gpu_* suites: skip, with the driver's reason, when no usable GPU is present.
#include <gtest/gtest.h>

#include <cstddef>
#include <string>

#include "sigmanet/backends/factory.hpp"
#include "sigmanet/backend.hpp"
#include "sigmanet/dataset.hpp"

#define SIGMANET_SKIP_WITHOUT_GPU()                                                                                 \
  do {                                                                                                              \
    std::string sigmanet_gpu_reason;                                                                                \
    if (!::sigmanet::gpu_available(&sigmanet_gpu_reason)) GTEST_SKIP() << "no usable GPU: " << sigmanet_gpu_reason; \
  } while (0)

namespace sigmanet::test {

// The emulator build runs every kernel thread as a fiber on the CPU, with every memory access checked: about
// 10 ms a training step instead of 15 us. There the runs over a whole MNIST epoch train on their first
// kEmulatedEpochSamples samples only (0: all of them, on a GPU).
#if defined(SIGMANET_TEST_EMULATED_GPU) && defined(SIGMANET_TEST_SANITIZED)
// CI's emulator run is the sanitized one, whose step has a time budget (10 minutes): 100 steps of 10.
inline constexpr std::size_t kEmulatedEpochSamples = 1000;
#elif defined(SIGMANET_TEST_EMULATED_GPU)
inline constexpr std::size_t kEmulatedEpochSamples = 2000;
#else
inline constexpr std::size_t kEmulatedEpochSamples = 0;
#endif

// `samples` on a GPU, at most kEmulatedEpochSamples on the emulator.
inline std::size_t epoch_samples(std::size_t samples = 0) {
  if (kEmulatedEpochSamples == 0) return samples;
  return samples == 0 || samples > kEmulatedEpochSamples ? kEmulatedEpochSamples : samples;
}

// The set an epoch check evaluates: all of it on a GPU, its first 1,000 records on the emulator.
inline Dataset epoch_test_set(const Dataset& test) {
  if (kEmulatedEpochSamples == 0 || test.size() <= 1000) return test;
  return test.slice(test.name, 0, 1000);
}

}  // namespace sigmanet::test
