// Each CUDA kernel and cuBLAS call against the oracle (on a GPU), and the parts that need no GPU:
// the launch wrappers' argument checks, error messages, and the behaviour without a device.
#include <gtest/gtest.h>

#include <set>

#include "gpu_support.hpp"
#include "sigmanet/reports/equivalence.hpp"
#include "sigmanet/error.hpp"

#ifdef SIGMANET_HAVE_CUDA
#include "cuda_check.hpp"
#include "kernels.hpp"
#include "sigmanet/cuda/cuda_backend.hpp"
#endif

namespace sigmanet {
namespace {

#ifdef SIGMANET_HAVE_CUDA

void expect_all_ok(const std::vector<StageCheck>& checks) {
  for (const StageCheck& c : checks) EXPECT_TRUE(c.ok()) << c.stage;
  if (!all_ok(checks)) ADD_FAILURE() << "\n" << format_checks(checks);
}

TEST(GpuKernels, EachKernelMatchesTheCpuReferenceAtBatches1_7_10_1000) {
  SIGMANET_SKIP_WITHOUT_GPU();
  // One seed on the emulator, where batch 1000 of every kernel is slow.
  for (std::uint64_t seed :
       test::kEmulatedEpochSamples ? std::vector<std::uint64_t>{1} : std::vector<std::uint64_t>{1, 2}) {
    const std::vector<StageCheck> checks = cuda_kernel_checks(seed);
    expect_all_ok(checks);
    // Every stage at every batch size is there: a check that silently stopped running would show here.
    std::set<std::string> stages;
    for (const StageCheck& c : checks) stages.insert(c.stage);
    EXPECT_EQ(stages.size(), checks.size());
    EXPECT_EQ(checks.size(), 10u * 4u);
    for (const char* m : {" m=1", " m=7", " m=10", " m=1000"}) {
      std::size_t with_m = 0;
      for (const std::string& s : stages) with_m += s.size() >= std::string(m).size() && s.ends_with(m);
      EXPECT_EQ(with_m, 10u) << m;
    }
  }
}

// ---- no GPU needed: these run on every machine with a CUDA build ----

TEST(GpuKernels, LaunchWrappersRefuseBadArgumentsBeforeLaunching) {
  float f[4] = {};
  float* p = f;  // never dereferenced: the checks throw before any launch
  const std::uint8_t byte = 0;
  EXPECT_THROW(kernels::fused_forward(nullptr, p, p + 1, 3, 2, 1, p + 2, nullptr), Error);
  EXPECT_THROW(kernels::fused_forward(p, p, p + 1, 0, 2, 1, p + 2, nullptr), Error);
  EXPECT_THROW(kernels::fused_forward(p, p, p + 1, 3, 2, 1, p + 1, nullptr), Error);  // in place
  EXPECT_THROW(kernels::bias_sigmoid(p, nullptr, 3, 1, nullptr), Error);
  EXPECT_THROW(kernels::bias_sigmoid(p, p, 0, 1, nullptr), Error);
  EXPECT_THROW(kernels::output_delta(p, nullptr, 10, 1, nullptr, nullptr, p, nullptr), Error);
  EXPECT_THROW(kernels::hidden_delta(nullptr, p, 3, 1, nullptr), Error);
  EXPECT_THROW(kernels::bias_update(p, -1, 1, 1.0f, p, nullptr, nullptr), Error);
  EXPECT_THROW(kernels::gather_batch(&byte, nullptr, 0, nullptr, nullptr, 0, 0, 1, p, nullptr, nullptr), Error);
  std::uint8_t label_out = 0;  // labels asked for without a label array to read them from
  EXPECT_THROW(kernels::gather_batch(&byte, nullptr, 4, nullptr, nullptr, 0, 0, 1, p, &label_out, nullptr), Error);
  EXPECT_THROW(kernels::argmax_cost(p, &byte, 10, 1, nullptr, nullptr, nullptr), Error);
  EXPECT_THROW(kernels::advance_counter(nullptr, nullptr), Error);
  try {
    kernels::fused_forward(nullptr, p, p, 3, 2, 1, p, nullptr);
    FAIL() << "no exception";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("kernels::fused_forward"), std::string::npos) << e.what();
  }
}

TEST(GpuKernels, NoSamplesLaunchesNothing) {
  // m = 0 returns before touching the device, so it works even without one.
  EXPECT_NO_THROW(kernels::fused_forward(nullptr, nullptr, nullptr, 0, 0, 0, nullptr, nullptr));
  EXPECT_NO_THROW(kernels::output_delta(nullptr, nullptr, 0, 0, nullptr, nullptr, nullptr, nullptr));
  EXPECT_EQ(kernels::sum_evaluation(nullptr, nullptr, 0, nullptr).correct, 0u);
}

TEST(GpuKernels, ErrorsNameTheCallTheFileTheLineAndTheLibrarysMessage) {
  try {
    cuda::check(cudaErrorMemoryAllocation, "cudaMalloc(&p, n)", "host/somewhere.cpp", 42);
    FAIL() << "no exception";
  } catch (const Error& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("cudaMalloc(&p, n)"), std::string::npos) << m;
    EXPECT_NE(m.find("host/somewhere.cpp:42"), std::string::npos) << m;
    EXPECT_NE(m.find(cudaGetErrorString(cudaErrorMemoryAllocation)), std::string::npos) << m;
    EXPECT_NE(m.find("cudaErrorMemoryAllocation"), std::string::npos) << m;
  }
  try {
    cuda::check(CUBLAS_STATUS_INVALID_VALUE, "cublasSgemm(...)", "host/cuda_blas.cpp", 7);
    FAIL() << "no exception";
  } catch (const Error& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("cuBLAS error in cublasSgemm(...) at host/cuda_blas.cpp:7"), std::string::npos) << m;
    EXPECT_NE(m.find("CUBLAS_STATUS_INVALID_VALUE"), std::string::npos) << m;
  }
  EXPECT_NO_THROW(cuda::check(cudaSuccess, "x", "y", 1));
  EXPECT_NO_THROW(cuda::check(CUBLAS_STATUS_SUCCESS, "x", "y", 1));
}

TEST(GpuKernels, WithoutADeviceTheReasonIsTheDrivers) {
  std::string reason;
  if (cuda_device_usable(&reason)) GTEST_SKIP() << "a GPU is present: this test is for machines without one";
  EXPECT_FALSE(reason.empty());
  EXPECT_FALSE(cuda_device_info().has_value());
  EXPECT_THROW(cuda_kernel_checks(1), Error);
  try {
    make_backend(Device::gpu, Precision::f32);
    FAIL() << "no exception";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find(reason), std::string::npos) << e.what();
  }
  std::string notice;
  auto cpu = make_backend(Device::automatic, Precision::f32, &notice);
  EXPECT_EQ(cpu->describe(), "cpu float");
  EXPECT_NE(notice.find(reason), std::string::npos) << notice;
}

TEST(GpuKernels, DoubleOnTheGpuIsRefusedNamingTheSettings) {
  try {
    make_cuda_backend(Precision::f64);
    FAIL() << "no exception";
  } catch (const SettingError& e) {
    EXPECT_EQ(e.setting(), Setting::precision);
    EXPECT_EQ(e.value(), "double");
    EXPECT_STREQ(e.what(), "precision double: the GPU backend computes in float; use device cpu for double");
  }
}

#else

TEST(GpuKernels, NeedACudaBuild) { GTEST_SKIP() << "this build of sigmanet has no CUDA backend"; }

#endif

}  // namespace
}  // namespace sigmanet
