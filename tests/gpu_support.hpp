#pragma once
// Shared by the gpu_* suites: skip, with the driver's reason, when no usable GPU is present.
#include <gtest/gtest.h>

#include <string>

#include "sigmanet/backend.hpp"

#define SIGMANET_SKIP_WITHOUT_GPU()                                 \
  do {                                                              \
    std::string sigmanet_gpu_reason;                                \
    if (!::sigmanet::gpu_available(&sigmanet_gpu_reason))           \
      GTEST_SKIP() << "no usable GPU: " << sigmanet_gpu_reason;     \
  } while (0)
