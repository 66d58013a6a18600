// `sigmanet verify` through the command line: on this machine's path (no GPU: the fast CPU network, float
// and double, against the oracle, saying so plainly; with a GPU: the whole table) and its errors.
#include <gtest/gtest.h>

#include <cstdlib>

#include "sigmanet/backends/factory.hpp"
#include "cpu/blas.hpp"
#include "sigmanet/backend.hpp"
#include "test_support.hpp"

namespace sigmanet {
namespace {

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (std::size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

TEST(VerifyCli, OnMnistPrintsATableOfPassingChecks) {
  std::string out;
  const int status = test::run_cli("verify --data '" + test::mnist_dir().string() + "'", &out);
  EXPECT_EQ(status, 0) << out;
  EXPECT_NE(out.find("Data: " + test::mnist_dir().string() + " (50000 training, 10000 test records)"), std::string::npos)
      << out;
  EXPECT_NE(out.find("against the oracle, ReferenceNetwork<double>"), std::string::npos) << out;
  EXPECT_NE(out.find("stage"), std::string::npos) << out;
  EXPECT_NE(out.find("max abs error"), std::string::npos) << out;
  EXPECT_NE(out.find("tolerance"), std::string::npos) << out;
  EXPECT_EQ(count(out, "NOT OK"), 0u) << out;
  EXPECT_NE(out.find("one SGD step 784-30-10 m=1000"), std::string::npos) << out;
  EXPECT_NE(out.find("epoch 784-30-10 batch 10"), std::string::npos) << out;
  EXPECT_NE(out.find("784-17-13-10 batch 7"), std::string::npos) << out;
  std::string reason;
  if (gpu_available(&reason)) {
    EXPECT_EQ(out.find("GPU part did not run"), std::string::npos) << out;
    EXPECT_NE(out.find("forward fused"), std::string::npos) << out;
    EXPECT_NE(out.find("identical bits"), std::string::npos) << out;
  } else {
    // Said plainly, with the driver's (or the build's) reason.
    EXPECT_NE(out.find("GPU part did not run: " + reason), std::string::npos) << out;
    EXPECT_NE(out.find("(CPU only: the GPU part did not run)"), std::string::npos) << out;
    // For each of cpu float and cpu double: 4 steps, 3 lines per epoch check, 3 for the deeper net, and a step
    // and 3 lines of 300 batches for each of cross-entropy, log-likelihood and cross-entropy with L2.
    EXPECT_EQ(count(out, " OK\n"), 44u) << out;
    // The CPU backend names OpenBLAS where its products run there.
    const std::string blas = blas_available() ? ", OpenBLAS" : "";
    EXPECT_EQ(count(out, "cpu float" + blas + ": "), 22u) << out;
    EXPECT_EQ(count(out, "cpu double" + blas + ": "), 22u) << out;
    for (const char* objective : {"cross-entropy (scaled", "log-likelihood (scaled", "cross-entropy L2 5 (scaled"})
      EXPECT_NE(out.find("cpu float" + blas + ": 300 batches 784-30-10 batch 10 " + objective), std::string::npos)
          << out;
    EXPECT_NE(out.find("cpu double" + blas + ": epoch 784-30-10 batch 10 (scaled init): parameters"),
              std::string::npos)
        << out;
  }
}

// --samples N: the same checks on the first N training and test records, those of more than N samples left out
// (here the one step at batch 1000: 21 rows a precision, not 22).
TEST(VerifyCli, SamplesChecksOnTheFirstRecordsOnly) {
  std::string out;
  ASSERT_EQ(test::run_cli("verify --samples 100 --data '" + test::mnist_dir().string() + "'", &out), 0) << out;
  EXPECT_NE(out.find("Data: " + test::mnist_dir().string() +
                     " (50000 training, 10000 test records); checked on the first 100 training and 100 test records "
                     "(--samples)\n"),
            std::string::npos)
      << out;
  std::string reason;
  if (gpu_available(&reason)) return;  // the GPU table: GpuBackend.VerifyPrintsTheGpuTableWithEveryRowOk
  EXPECT_EQ(count(out, " OK\n"), 42u) << out;
  EXPECT_EQ(count(out, "m=1000"), 0u) << out;
  EXPECT_EQ(count(out, "epoch 784-30-10 batch 10 (scaled init): parameters"), 2u) << out;  // 100 samples: all
  EXPECT_NE(out.find("verify: all 42 checks OK (CPU only: the GPU part did not run)"), std::string::npos) << out;
}

TEST(VerifyCli, WithoutMnistFallsBackToSyntheticDataAndSaysWhy) {
  test::TempDir empty;
  const char* old = std::getenv("SIGMANET_DATA");
  const std::string saved = old ? old : "";
  setenv("SIGMANET_DATA", empty.path().c_str(), 1);
  std::string out;
  const int status = test::run_cli("verify --seed 3", &out);
  if (old) setenv("SIGMANET_DATA", saved.c_str(), 1); else unsetenv("SIGMANET_DATA");
  EXPECT_EQ(status, 0) << out;
  EXPECT_NE(out.find("Data: synthetic 28x28 images"), std::string::npos) << out;
  EXPECT_NE(out.find(empty.path().string()), std::string::npos) << out;  // where it looked
  EXPECT_EQ(count(out, "NOT OK"), 0u) << out;
}

TEST(VerifyCli, AMissingDataFolderNamedByTheFlagIsAnInputError) {
  test::TempDir empty;
  std::string out;
  EXPECT_EQ(test::run_cli("verify --data '" + (empty / "nothing-here").string() + "'", &out), 2) << out;
  EXPECT_NE(out.find("nothing-here"), std::string::npos) << out;
  EXPECT_EQ(count(out, "\n"), 1u) << out;  // one line
  EXPECT_EQ(test::run_cli("verify --seed banana", &out), 2) << out;
}

}  // namespace
}  // namespace sigmanet
