// Out of device memory must say how many bytes were asked for, so a person can tell a too-large network from
// a GPU that other processes fill. Skips without a usable GPU (and in builds without CUDA).
#include <gtest/gtest.h>

#include <string>

#include "sigmanet/backends/factory.hpp"
#include "sigmanet/backend.hpp"
#include "sigmanet/error.hpp"

#if SIGMANET_HAVE_CUDA
#include "cuda/cuda_resources.hpp"
#endif

namespace sigmanet {
namespace {

TEST(GpuOutOfMemory, ReportsTheBytesRequested) {
#if !SIGMANET_HAVE_CUDA
  GTEST_SKIP() << "built without CUDA";
#else
  std::string reason;
  if (!gpu_available(&reason)) GTEST_SKIP() << "no usable GPU: " << reason;
  const std::size_t device_bytes = gpu_info()->memory_bytes;
  // Twice the device: no allocator can satisfy it, whatever else runs on the GPU.
  const std::size_t count = 2 * (device_bytes / sizeof(float) + 1);
  const std::string bytes = std::to_string(count * sizeof(float));
  try {
    cuda::DeviceBuffer<float> huge(count);
    FAIL() << "a " << bytes << "-byte cudaMalloc succeeded";
  } catch (const Error& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("out of memory"), std::string::npos) << m;
    EXPECT_NE(m.find(bytes + " bytes"), std::string::npos) << "the message must give the bytes requested: " << m;
  }
  // The failure must not poison the context: a small allocation still works.
  EXPECT_NO_THROW(cuda::DeviceBuffer<float> small(1024));
#endif
}

}  // namespace
}  // namespace sigmanet
