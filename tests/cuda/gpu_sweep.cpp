// sigmanet sweep on the GPU: the runs go one after another on the GPU backend, each the run `train --save` makes
// there, byte for byte, on the graph path and on the persistent kernel.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "gpu_support.hpp"
#include "sigmanet/backends/factory.hpp"
#include "test_support.hpp"

namespace sigmanet {
namespace {

namespace fs = std::filesystem;
using Args = std::vector<std::string>;
using Bytes = std::vector<std::uint8_t>;

Bytes read_all(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  return Bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// Small, so that the emulator runs it in seconds.
Args small_run(const std::string& kernel) {
  return {"--device", "gpu", "--gpu-kernel", kernel, "--epochs", "2", "--train-size", "100", "--validation-size",
          "50", "--test-size", "50", "--data", test::mnist_dir().string()};
}

TEST(GpuSweep, EveryRunIsTrainsModelOnTheGraphPathAndThePersistentKernel) {
  SIGMANET_SKIP_WITHOUT_GPU();
  test::TempDir dir;
  for (const std::string kernel : {"graph", "persistent"}) {
    Args sweep{"sweep", "--out", (dir / kernel).string(), "--eta", "0.5,3", "--seed", "1-2", "--save", "all"};
    for (const std::string& a : small_run(kernel)) sweep.push_back(a);
    const test::CliRun run = test::run_cli_argv(sweep, 600);
    ASSERT_EQ(run.status, 0) << run.err;
    EXPECT_NE(run.out.find("on the GPU, 1 at a time"), std::string::npos) << run.out;
    for (const std::string eta : {"0.5", "3"})
      for (const std::string seed : {"1", "2"}) {
        Args train{"train", "--eta", eta, "--seed", seed, "--save", (dir / "train").string()};
        for (const std::string& a : small_run(kernel)) train.push_back(a);
        const test::CliRun alone = test::run_cli_argv(train, 600);
        ASSERT_EQ(alone.status, 0) << alone.err;
        EXPECT_EQ(read_all(dir / kernel / "models" / ("eta=" + eta + "_seed=" + seed + ".safetensors")),
                  read_all(dir / "train"))
            << kernel << ", eta " << eta << ", seed " << seed;
      }
  }
}

}  // namespace
}  // namespace sigmanet
