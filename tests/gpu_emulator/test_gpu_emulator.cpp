// The emulator's own checks (built only with SIGMANET_GPU_EMULATOR): each rule that lets it catch a bug in
// the CUDA backend's host code must itself be shown to fire, or the gpu tests passing on it would mean little.
#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "cuda/cuda_resources.hpp"
#include "kernels.hpp"
#include "sigmanet/error.hpp"

namespace sigmanet {
namespace {

using cuda::DeviceBuffer;

std::vector<float> to_host(const DeviceBuffer<float>& d, cudaStream_t s) {
  std::vector<float> h(d.size());
  EXPECT_EQ(cudaMemcpyAsync(h.data(), d.get(), d.size() * sizeof(float), cudaMemcpyDeviceToHost, s), cudaSuccess);
  EXPECT_EQ(cudaStreamSynchronize(s), cudaSuccess);
  return h;
}

void upload(DeviceBuffer<float>& d, const std::vector<float>& h, cudaStream_t s) {
  ASSERT_EQ(cudaMemcpyAsync(d.get(), h.data(), h.size() * sizeof(float), cudaMemcpyHostToDevice, s), cudaSuccess);
  ASSERT_EQ(cudaStreamSynchronize(s), cudaSuccess);
}

TEST(GpuEmulator, HasADeviceOnlyWhereTheEnvironmentAsksForIt) {
  ASSERT_STREQ(std::getenv("SIGMANET_EMULATE_GPU"), "1") << "ctest sets it for this suite";
  int count = 0;
  EXPECT_EQ(cudaGetDeviceCount(&count), cudaSuccess);
  EXPECT_EQ(count, 1);
  // Unset: a machine without NVIDIA's driver, where the runtime reports driver version 0 and, for every call
  // that needs a device, a driver older than itself.
  unsetenv("SIGMANET_EMULATE_GPU");
  int driver = -1;
  EXPECT_EQ(cudaGetDeviceCount(&count), cudaErrorInsufficientDriver);
  EXPECT_EQ(count, 0);
  EXPECT_EQ(cudaGetLastError(), cudaErrorInsufficientDriver);
  EXPECT_EQ(cudaGetLastError(), cudaSuccess);  // reading it clears it
  EXPECT_EQ(cudaDriverGetVersion(&driver), cudaSuccess);
  EXPECT_EQ(driver, 0);
  // 0: a driver, but no device.
  setenv("SIGMANET_EMULATE_GPU", "0", 1);
  EXPECT_EQ(cudaGetDeviceCount(&count), cudaErrorNoDevice);
  EXPECT_EQ(cudaGetLastError(), cudaErrorNoDevice);
  EXPECT_EQ(cudaDriverGetVersion(&driver), cudaSuccess);
  EXPECT_EQ(driver, CUDART_VERSION);
  setenv("SIGMANET_EMULATE_GPU", "1", 1);
}

// A job's ranks on one machine each take their own device (SIGMANET_EMULATE_GPU=N, as gpu_mpi.cpp's jobs ask).
TEST(GpuEmulator, HasAsManyDevicesAsTheEnvironmentSaysAndSetsTheCurrentOne) {
  setenv("SIGMANET_EMULATE_GPU", "3", 1);
  int count = 0, device = -1;
  EXPECT_EQ(cudaGetDeviceCount(&count), cudaSuccess);
  EXPECT_EQ(count, 3);
  EXPECT_EQ(cudaSetDevice(2), cudaSuccess);
  EXPECT_EQ(cudaGetDevice(&device), cudaSuccess);
  EXPECT_EQ(device, 2);
  cudaDeviceProp properties{};
  EXPECT_EQ(cudaGetDeviceProperties(&properties, 2), cudaSuccess);
  EXPECT_EQ(cudaSetDevice(3), cudaErrorInvalidDevice);
  EXPECT_EQ(cudaGetLastError(), cudaErrorInvalidDevice);
  EXPECT_EQ(cudaGetDeviceProperties(&properties, 3), cudaErrorInvalidDevice);
  EXPECT_EQ(cudaGetLastError(), cudaErrorInvalidDevice);
  EXPECT_EQ(cudaSetDevice(0), cudaSuccess);
  setenv("SIGMANET_EMULATE_GPU", "9", 1);  // 1 to 8 only
  EXPECT_EQ(cudaGetDeviceCount(&count), cudaErrorInsufficientDriver);
  EXPECT_EQ(cudaGetLastError(), cudaErrorInsufficientDriver);
  setenv("SIGMANET_EMULATE_GPU", "1", 1);
}

TEST(GpuEmulator, NewDeviceMemoryIsPoisoned) {
  cuda::Stream s;
  DeviceBuffer<float> d(5);
  for (float x : to_host(d, s.get())) EXPECT_TRUE(std::isnan(x));
  // Neither 0 nor all ones as an integer, so it cannot pass for a cleared counter or a "nothing found" flag.
  DeviceBuffer<unsigned> u(1);
  unsigned value = 0;
  ASSERT_EQ(cudaMemcpy(&value, u.get(), sizeof value, cudaMemcpyDeviceToHost), cudaSuccess);
  EXPECT_NE(value, 0u);
  EXPECT_NE(value, 0xFFFFFFFFu);
}

TEST(GpuEmulator, FreedAddressesAreNeverHandedOutAgain) {
  std::vector<const float*> freed;
  for (int i = 0; i < 20; ++i) {
    DeviceBuffer<float> d(1000);
    freed.push_back(d.get());
  }
  for (int i = 0; i < 20; ++i) {
    DeviceBuffer<float> d(1000);
    EXPECT_EQ(std::find(freed.begin(), freed.end(), d.get()), freed.end());
  }
}

TEST(GpuEmulator, QueuedWorkRunsOnlyWhenTheHostSynchronises) {
  cuda::Stream s;
  DeviceBuffer<float> d(4);
  upload(d, {1, 2, 3, 4}, s.get());
  std::vector<float> host(4, -1.0f);
  ASSERT_EQ(cudaMemsetAsync(d.get(), 0, 4 * sizeof(float), s.get()), cudaSuccess);
  ASSERT_EQ(cudaMemcpyAsync(host.data(), d.get(), 16, cudaMemcpyDeviceToHost, s.get()), cudaSuccess);
  EXPECT_EQ(host, std::vector<float>(4, -1.0f)) << "a copy read before synchronising must look stale";
  s.synchronize();
  EXPECT_EQ(host, std::vector<float>(4, 0.0f));
}

TEST(GpuEmulator, APendingEventIsFirstNotReadyThenDone) {
  cuda::Stream s;
  cuda::Event e;
  DeviceBuffer<float> d(1);
  ASSERT_EQ(cudaMemsetAsync(d.get(), 0, sizeof(float), s.get()), cudaSuccess);
  ASSERT_EQ(cudaEventRecord(e.get(), s.get()), cudaSuccess);
  EXPECT_EQ(cudaEventQuery(e.get()), cudaErrorNotReady);
  EXPECT_EQ(cudaEventQuery(e.get()), cudaSuccess);
  (void)cudaGetLastError();
}

TEST(GpuEmulator, ARecordedAgainEventWaitsForItsNewestRecord) {
  cuda::Stream s;
  cuda::Event e;
  EXPECT_EQ(cudaEventSynchronize(e.get()), cudaSuccess);  // never recorded: nothing to wait for
  DeviceBuffer<float> d(1);
  ASSERT_EQ(cudaEventRecord(e.get(), s.get()), cudaSuccess);
  ASSERT_EQ(cudaMemsetAsync(d.get(), 0, sizeof(float), s.get()), cudaSuccess);
  ASSERT_EQ(cudaEventRecord(e.get(), s.get()), cudaSuccess);
  ASSERT_EQ(cudaEventSynchronize(e.get()), cudaSuccess);
  float value = 1.0f;
  ASSERT_EQ(cudaMemcpy(&value, d.get(), sizeof value, cudaMemcpyDeviceToHost), cudaSuccess);
  EXPECT_EQ(value, 0.0f) << "the memset before the second record must have run";
}

TEST(GpuEmulator, CaptureRefusesSynchronisationAndAllocation) {
  cuda::Stream s;
  cudaGraph_t graph = nullptr;
  ASSERT_EQ(cudaStreamBeginCapture(s.get(), cudaStreamCaptureModeThreadLocal), cudaSuccess);
  EXPECT_EQ(cudaStreamSynchronize(s.get()), cudaErrorStreamCaptureUnsupported);
  EXPECT_EQ(cudaStreamEndCapture(s.get(), &graph), cudaErrorStreamCaptureInvalidated);
  EXPECT_EQ(graph, nullptr);

  ASSERT_EQ(cudaStreamBeginCapture(s.get(), cudaStreamCaptureModeThreadLocal), cudaSuccess);
  void* p = nullptr;
  EXPECT_EQ(cudaMalloc(&p, 16), cudaErrorStreamCaptureUnsupported);
  EXPECT_EQ(cudaStreamEndCapture(s.get(), &graph), cudaErrorStreamCaptureInvalidated);

  cuda::Event e;
  ASSERT_EQ(cudaStreamBeginCapture(s.get(), cudaStreamCaptureModeThreadLocal), cudaSuccess);
  EXPECT_EQ(cudaEventQuery(e.get()), cudaErrorStreamCaptureUnsupported);
  EXPECT_EQ(cudaStreamEndCapture(s.get(), &graph), cudaErrorStreamCaptureInvalidated);
  (void)cudaGetLastError();
}

TEST(GpuEmulator, AGraphReplaysItsWorkReadingTheDeviceEachTime) {
  cuda::Stream s;
  DeviceBuffer<unsigned> counter(1);
  ASSERT_EQ(cudaMemsetAsync(counter.get(), 0, sizeof(unsigned), s.get()), cudaSuccess);
  cudaGraph_t graph = nullptr;
  ASSERT_EQ(cudaStreamBeginCapture(s.get(), cudaStreamCaptureModeThreadLocal), cudaSuccess);
  kernels::advance_counter(counter.get(), s.get());
  ASSERT_EQ(cudaStreamEndCapture(s.get(), &graph), cudaSuccess);
  s.synchronize();
  unsigned value = 99;
  ASSERT_EQ(cudaMemcpy(&value, counter.get(), sizeof value, cudaMemcpyDeviceToHost), cudaSuccess);
  EXPECT_EQ(value, 0u) << "capturing records work, it does not run it";
  cuda::GraphExec exec(graph);
  for (int i = 0; i < 3; ++i) exec.launch(s.get());
  s.synchronize();
  ASSERT_EQ(cudaMemcpy(&value, counter.get(), sizeof value, cudaMemcpyDeviceToHost), cudaSuccess);
  EXPECT_EQ(value, 3u);
}

TEST(GpuEmulator, SgemmChecksItsArgumentsAsCublasDocuments) {
  cuda::CublasHandle h;
  DeviceBuffer<float> a(6), b(6), c(4);
  const float one = 1.0f, zero = 0.0f;
  // 2x3 . 3x2: lda must be at least 2 (rows of A), ldb at least 3, ldc at least 2.
  EXPECT_EQ(cublasSgemm(h.get(), CUBLAS_OP_N, CUBLAS_OP_N, 2, 2, 3, &one, a.get(), 1, b.get(), 3, &zero, c.get(), 2),
            CUBLAS_STATUS_INVALID_VALUE);
  EXPECT_EQ(cublasSgemm(h.get(), CUBLAS_OP_N, CUBLAS_OP_N, 2, 2, 3, &one, a.get(), 2, b.get(), 2, &zero, c.get(), 2),
            CUBLAS_STATUS_INVALID_VALUE);
  EXPECT_EQ(cublasSgemm(h.get(), CUBLAS_OP_N, CUBLAS_OP_N, 2, 2, 3, &one, a.get(), 2, b.get(), 3, &zero, c.get(), 1),
            CUBLAS_STATUS_INVALID_VALUE);
  EXPECT_EQ(cublasSgemm(h.get(), CUBLAS_OP_N, CUBLAS_OP_N, 2, 2, 3, &one, a.get(), 2, b.get(), 3, &zero, c.get(), 2),
            CUBLAS_STATUS_SUCCESS);
}

TEST(GpuEmulator, SgemmIsColumnMajorAndIgnoresCWhenBetaIsZero) {
  cuda::Stream s;
  cuda::CublasHandle h;
  ASSERT_EQ(cublasSetStream(h.get(), s.get()), CUBLAS_STATUS_SUCCESS);
  DeviceBuffer<float> a(6), b(6), c(4);
  upload(a, {1, 2, 3, 4, 5, 6}, s.get());  // 2x3, columns (1,2) (3,4) (5,6)
  upload(b, {1, 0, 1, 0, 1, 0}, s.get());  // 3x2, columns (1,0,1) (0,1,0)
  const float one = 1.0f, zero = 0.0f;
  // c starts as NaN; beta = 0 must not read it.
  ASSERT_EQ(cublasSgemm(h.get(), CUBLAS_OP_N, CUBLAS_OP_N, 2, 2, 3, &one, a.get(), 2, b.get(), 3, &zero, c.get(), 2),
            CUBLAS_STATUS_SUCCESS);
  EXPECT_EQ(to_host(c, s.get()), (std::vector<float>{6, 8, 3, 4}));
}

TEST(GpuEmulator, Tf32MathRoundsTheInputsAndDefaultMathDoesNot) {
  cuda::Stream s;
  cuda::CublasHandle h;
  ASSERT_EQ(cublasSetStream(h.get(), s.get()), CUBLAS_STATUS_SUCCESS);
  DeviceBuffer<float> a(1), b(1), c(1);
  const float x = 1.0f + std::ldexp(1.0f, -20);  // needs more than TF32's 10 mantissa bits
  upload(a, {x}, s.get());
  upload(b, {1.0f}, s.get());
  const float one = 1.0f, zero = 0.0f;
  auto product = [&] {
    EXPECT_EQ(cublasSgemm(h.get(), CUBLAS_OP_N, CUBLAS_OP_N, 1, 1, 1, &one, a.get(), 1, b.get(), 1, &zero, c.get(), 1),
              CUBLAS_STATUS_SUCCESS);
    return to_host(c, s.get())[0];
  };
  EXPECT_EQ(product(), x);
  ASSERT_EQ(cublasSetMathMode(h.get(), CUBLAS_TF32_TENSOR_OP_MATH), CUBLAS_STATUS_SUCCESS);
  EXPECT_EQ(product(), 1.0f);
}

// What each death test runs, in a function of its own (the macro's argument must not contain bare commas).
void hidden_delta_past_the_end() {
  cuda::Stream s;
  DeviceBuffer<float> delta(10), a(10);
  upload(delta, std::vector<float>(10, 0.5f), s.get());
  upload(a, std::vector<float>(10, 0.5f), s.get());
  // 1 sample of 11 values, in 10-float buffers: the views agree with each other, not with the buffers.
  kernels::hidden_delta({delta.get(), 1, 11}, {a.get(), 1, 11}, s.get());
  s.synchronize();
}

void hidden_delta_on_host_memory() {
  cuda::Stream s;
  std::vector<float> host(10);
  DeviceBuffer<float> a(10);
  upload(a, std::vector<float>(10, 0.5f), s.get());
  kernels::hidden_delta({host.data(), 1, 10}, {a.get(), 1, 10}, s.get());
  s.synchronize();
}

void graph_outliving_its_buffer() {
  cuda::Stream s;
  cuda::GraphExec exec;
  {
    DeviceBuffer<unsigned> counter(1);
    cudaGraph_t graph = nullptr;
    (void)cudaStreamBeginCapture(s.get(), cudaStreamCaptureModeThreadLocal);
    kernels::advance_counter(counter.get(), s.get());
    (void)cudaStreamEndCapture(s.get(), &graph);
    exec = cuda::GraphExec(graph);
  }
  exec.launch(s.get());
  s.synchronize();
}

void host_reads_device_memory() {
  DeviceBuffer<unsigned> d(1);
  volatile unsigned value = *d.get();
  (void)value;
}

void sgemm_captured_without_workspace() {
  cuda::Stream s;
  cuda::CublasHandle h;
  (void)cublasSetStream(h.get(), s.get());
  DeviceBuffer<float> a(1), b(1), c(1);
  const float one = 1.0f;
  cudaGraph_t graph = nullptr;
  (void)cudaStreamBeginCapture(s.get(), cudaStreamCaptureModeThreadLocal);
  (void)cublasSgemm(h.get(), CUBLAS_OP_N, CUBLAS_OP_N, 1, 1, 1, &one, a.get(), 1, b.get(), 1, &one, c.get(), 1);
  (void)cudaStreamEndCapture(s.get(), &graph);
}

void sgemm_after_its_workspace_was_freed() {
  cuda::Stream s;
  cuda::CublasHandle h;
  (void)cublasSetStream(h.get(), s.get());
  DeviceBuffer<float> a(1), b(1), c(1);
  {
    DeviceBuffer<std::uint8_t> workspace(1024);
    (void)cublasSetWorkspace(h.get(), workspace.get(), workspace.size());
  }
  const float one = 1.0f;
  (void)cublasSgemm(h.get(), CUBLAS_OP_N, CUBLAS_OP_N, 1, 1, 1, &one, a.get(), 1, b.get(), 1, &one, c.get(), 1);
  s.synchronize();
}

TEST(GpuEmulatorDeathTest, TheHostTouchingDeviceMemoryStopsTheProcess) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(host_reads_device_memory(), "the host touched device memory directly \\(byte 0 of a 4-byte allocation\\)");
}

TEST(GpuEmulatorDeathTest, ACapturedSgemmNeedsAWorkspace) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(sgemm_captured_without_workspace(), "cublasSgemm captured into a graph with no workspace");
}

TEST(GpuEmulatorDeathTest, AnSgemmAfterItsWorkspaceWasFreedStopsTheProcess) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(sgemm_after_its_workspace_was_freed(), "cublasSgemm workspace: 1024 bytes at .* freed device buffer");
}

TEST(GpuEmulatorDeathTest, AKernelReachingPastItsBufferStopsTheProcess) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(hidden_delta_past_the_end(),
               "memcheck: hidden_delta_kernel block \\(0,0,0\\) thread \\(10,0,0\\): 4-byte read at byte 40 of a "
               "40-byte device allocation runs 4 bytes past its end");
}

TEST(GpuEmulatorDeathTest, AKernelGivenHostMemoryStopsTheProcess) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(hidden_delta_on_host_memory(),
               "memcheck: hidden_delta_kernel block \\(0,0,0\\) thread \\(0,0,0\\): 4-byte read at .*, which is "
               "neither device memory nor this block's shared memory");
}

TEST(GpuEmulatorDeathTest, WorkOnAFreedBufferStopsTheProcess) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(graph_outliving_its_buffer(),
               "memcheck: advance_counter_kernel block \\(0,0,0\\) thread \\(0,0,0\\): 4-byte read in a freed 4-byte "
               "device buffer");
}

}  // namespace
}  // namespace sigmanet
