// `sigmanet train` as a person uses it: flags, messages, exit codes, the per-epoch lines and metrics.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include <fstream>
#include <nlohmann/json.hpp>

#include "sigmanet/backend.hpp"
#include "test_support.hpp"

namespace sigmanet {
namespace {

using test::run_cli;

std::string data_flag() { return "--data '" + test::mnist_dir().string() + "'"; }

// Bad flags: exit 2 and one line that names the flag.
TEST(TrainCli, BadFlagsExit2WithOneLineNamingTheFlag) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"--batch 0", "--batch"},
      {"--batch -4", "--batch"},
      {"--eta -1", "--eta"},
      {"--eta 0", "--eta"},
      {"--eta nan", "--eta"},
      {"--eta abc", "--eta"},
      {"--epochs 0", "--epochs"},
      {"--epochs x", "--epochs"},
      {"--sizes 784", "--sizes"},
      {"--sizes 784,a,10", "--sizes"},
      {"--sizes 784,0,10", "--sizes"},
      {"--sizes 784,30,9", "--sizes"},
      {"--sizes 100,30,10 " + data_flag(), "--sizes"},
      {"--device tpu", "--device"},
      {"--precision half", "--precision"},
      {"--init zeros", "--init"},
      {"--gpu-kernel fused", "--gpu-kernel"},
      {"--gpu-kernel 0", "--gpu-kernel"},
      {"--gpu-cluster 3", "--gpu-cluster"},
      {"--gpu-cluster 4 --gpu-kernel graph", "--gpu-cluster"},
      {"--train-size 60000 " + data_flag(), "--train-size"},
      {"--bogus 1", "--bogus"},
  };
  for (const auto& [args, flag] : cases) {
    std::string out;
    EXPECT_EQ(run_cli("train " + args, &out), 2) << args << "\n" << out;
    EXPECT_NE(out.find(flag), std::string::npos) << args << "\n" << out;
    EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 1) << args << "\n" << out;
  }
}

TEST(TrainCli, MissingDataNamesTheFilesAndTheScript) {
  test::TempDir empty;
  std::string out;
  EXPECT_EQ(run_cli("train --data '" + empty.path().string() + "'", &out), 2);
  EXPECT_NE(out.find("train-images-idx3-ubyte"), std::string::npos) << out;
  EXPECT_NE(out.find("scripts/get-mnist.sh"), std::string::npos) << out;
}

TEST(TrainCli, HelpShowsEveryFlagWithItsDefault) {
  std::string out;
  EXPECT_EQ(run_cli("train --help", &out), 0);
  for (const char* flag : {"--sizes INT=[784,30,10]", "--epochs INT=30", "--batch INT=10", "--eta FLOAT=3",
                           "--seed", "--device cpu|gpu|auto=auto", "--precision float|double=float",
                           "--init standard|scaled=standard", "--gpu-kernel auto|persistent|graph=auto",
                           "--gpu-cluster auto|1|2|4|8=auto", "--data",
                           "--metrics", "--train-size UINT=50000"})
    EXPECT_NE(out.find(flag), std::string::npos) << flag << "\n" << out;
}

TEST(TrainCli, GpuWithoutAGpuIsAClearError) {
  std::string reason;
  if (gpu_available(&reason)) GTEST_SKIP() << "a GPU is present here";
  std::string out;
  EXPECT_EQ(run_cli("train --device gpu --epochs 1 --train-size 100 " + data_flag(), &out), 2);
  EXPECT_NE(out.find("--device gpu"), std::string::npos) << out;
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 1) << out;
}

TEST(TrainCli, PrintsOneLinePerEpochAndWritesMetrics) {
  test::TempDir dir;
  const auto metrics = dir / "m.jsonl";
  std::string out;
  ASSERT_EQ(run_cli("train --device cpu --epochs 2 --train-size 2000 --test-size 500 " + data_flag() +
                        " --metrics '" + metrics.string() + "'",
                    &out),
            0)
      << out;
  EXPECT_NE(out.find("Epoch 1/2: test "), std::string::npos) << out;
  EXPECT_NE(out.find("Epoch 2/2: test "), std::string::npos) << out;
  EXPECT_NE(out.find("/500 ("), std::string::npos) << out;
  EXPECT_EQ(out.find('\r'), std::string::npos) << "no progress bar when stderr is not a terminal";

  std::ifstream in(metrics);
  std::string line;
  int epochs = 0;
  while (std::getline(in, line)) {
    const auto j = nlohmann::json::parse(line);
    ++epochs;
    EXPECT_EQ(j.at("epoch").get<int>(), epochs);
    EXPECT_EQ(j.at("test_total").get<int>(), 500);
    EXPECT_GT(j.at("test_accuracy").get<double>(), 0.2);  // chance is 0.1
    EXPECT_GT(j.at("samples_per_second").get<double>(), 0.0);
  }
  EXPECT_EQ(epochs, 2);
}

TEST(TrainCli, UnwritableMetricsFileIsRefusedBeforeTraining) {
  std::string out;
  EXPECT_EQ(run_cli("train --metrics /nonexistent-folder/m.jsonl " + data_flag(), &out), 2);
  EXPECT_NE(out.find("--metrics"), std::string::npos) << out;
  EXPECT_EQ(out.find("Epoch"), std::string::npos) << out;
}

}  // namespace
}  // namespace sigmanet
