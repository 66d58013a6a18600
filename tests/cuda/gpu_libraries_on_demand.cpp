// A CUDA build opens cuBLAS when the GPU is first used, and NCCL when a job first trains across GPUs
// (host/cuda_on_demand), not at start-up: the tool must not list either among the libraries the loader maps, and
// each must still be found when asked for. These run without a GPU: they are about loading, not computing.
#include <gtest/gtest.h>

#include <cstdio>
#include <string>

#include "test_support.hpp"

#if defined(SIGMANET_HAVE_CUDA) && !defined(SIGMANET_TEST_EMULATED_GPU)
#include "cuda/cuda_backend.hpp"
#include "cuda_on_demand/cublas_on_demand.hpp"
#endif

namespace sigmanet {
namespace {

#if defined(SIGMANET_HAVE_CUDA) && !defined(SIGMANET_TEST_EMULATED_GPU)

std::string command_output(const std::string& command) {
  std::string out;
  if (FILE* pipe = popen(command.c_str(), "r")) {
    char buffer[4096];
    for (std::size_t n; (n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0;) out.append(buffer, n);
    pclose(pipe);
  }
  return out;
}

TEST(CublasOnDemand, TheToolDoesNotLinkCublas) {
  const std::string dynamic = command_output("readelf -d '" + test::cli_path() + "'");
  ASSERT_NE(dynamic.find("NEEDED"), std::string::npos) << "readelf gave no dynamic section:\n" << dynamic;
  EXPECT_EQ(dynamic.find("libcublas"), std::string::npos) << dynamic;
  EXPECT_EQ(dynamic.find("libnccl"), std::string::npos) << dynamic;
}

TEST(CublasOnDemand, OpensTheToolkitsLibraryWhenAskedFor) {
  std::string reason;
  EXPECT_TRUE(cuda::cublas_available(&reason)) << reason;
}

TEST(NcclOnDemand, OpensTheToolkitsLibraryWhenAskedFor) {
  std::string reason;
  const bool available = cuda_nccl_available(&reason);
  if (!available && reason.find("built without NCCL") != std::string::npos) GTEST_SKIP() << reason;
  EXPECT_TRUE(available) << reason;
}

TEST(CublasOnDemand, TheToolStartsAndTrainsOnTheCpuWithoutLoadingIt) {
  // --help and a CPU run: neither may open cuBLAS (the loader reports every library it opens).
  const test::CliRun help = test::run_cli_argv({"--help"}, 30, {{"LD_DEBUG", "libs"}});
  EXPECT_EQ(help.status, 0) << help.err;
  EXPECT_EQ(help.err.find("libcublas"), std::string::npos) << help.err.substr(0, 2000);
  const test::CliRun run =
      test::run_cli_argv({"train", "--device", "cpu", "--epochs", "1", "--train-size", "100", "--test-size", "100",
                          "--validation-size", "0", "--data", test::mnist_dir().string()},
                         60, {{"LD_DEBUG", "libs"}});
  EXPECT_EQ(run.status, 0) << run.err.substr(0, 2000);
  EXPECT_EQ(run.err.find("libcublas"), std::string::npos) << run.err.substr(0, 2000);
  EXPECT_EQ(run.err.find("libnccl"), std::string::npos) << run.err.substr(0, 2000);
}

#else

TEST(CublasOnDemand, NeedsARealCudaBuild) { GTEST_SKIP() << "cuBLAS is opened on demand only in a CUDA build"; }

#endif

}  // namespace
}  // namespace sigmanet
