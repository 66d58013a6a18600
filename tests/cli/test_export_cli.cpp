// sigmanet export as a person uses it: a model or a checkpoint written as ONNX, and each bad input refused with one
// line and exit 2, leaving the files as they were. In a build without the ONNX export, the refusal that says so.
#include <gtest/gtest.h>

#include <filesystem>

#include "formats/atomic_file.hpp"
#include "sigmanet/formats/model_file.hpp"
#include "sigmanet/random.hpp"
#include "test_support.hpp"

namespace sigmanet {
namespace {

namespace fs = std::filesystem;
using test::run_cli_argv;

// A saved 784-30-10 model, as train --save writes one.
fs::path saved_model(const test::TempDir& dir) {
  Rng rng(3);
  const fs::path file = dir / "m.safetensors";
  save_model(file, init_parameters({784, 30, 10}, Init::standard, rng), {{"cost", "quadratic"}});
  return file;
}

// Exit 2 and exactly one line on stderr, which starts with `start`.
void expect_refused(const test::CliRun& run, const std::string& start) {
  EXPECT_EQ(run.status, 2) << run.err;
  EXPECT_EQ(run.out, "");
  EXPECT_EQ(run.err.rfind("sigmanet: " + start, 0), 0u) << run.err;
  EXPECT_EQ(std::count(run.err.begin(), run.err.end(), '\n'), 1) << run.err;
}

#ifdef SIGMANET_HAVE_ONNX

TEST(ExportCli, WritesTheModelAsOnnxAndSaysWhatItWrote) {
  test::TempDir dir;
  const fs::path model = saved_model(dir);
  const test::CliRun run = run_cli_argv({"export", "--model", model.string(), "--onnx", (dir / "m.onnx").string()});
  ASSERT_EQ(run.status, 0) << run.err;
  EXPECT_EQ(run.out, model.string() + ": 784-30-10 network with a sigmoid output layer written to " +
                         (dir / "m.onnx").string() +
                         " (ONNX, float32; input: the features as the network takes them, pixels divided by 255)\n");
  // 23,860 float32 parameters and a small header.
  const std::size_t size = fs::file_size(dir / "m.onnx");
  EXPECT_GT(size, 23860u * 4);
  EXPECT_LT(size, 23860u * 4 + 2000);
}

TEST(ExportCli, ACheckpointIsAModelToo) {
  test::TempDir dir;
  const fs::path data = test::write_tiny_mnist(dir / "data");
  const test::CliRun train =
      run_cli_argv({"train", "--data", data.string(), "--device", "cpu", "--sizes", "784,5,10", "--epochs", "1",
                    "--train-size", "100", "--validation-size", "0", "--test-size", "100", "--cost",
                    "log-likelihood", "--checkpoint", (dir / "ck").string()});
  ASSERT_EQ(train.status, 0) << train.err;
  const test::CliRun run =
      run_cli_argv({"export", "--model", (dir / "ck").string(), "--onnx", (dir / "ck.onnx").string()});
  ASSERT_EQ(run.status, 0) << run.err;
  EXPECT_NE(run.out.find("784-5-10 network with a softmax output layer"), std::string::npos) << run.out;
  EXPECT_TRUE(fs::is_regular_file(dir / "ck.onnx"));
}

TEST(ExportCli, RefusesAMissingOrDamagedModel) {
  test::TempDir dir;
  expect_refused(run_cli_argv({"export", "--model", (dir / "none").string(), "--onnx", (dir / "m.onnx").string()}),
                 (dir / "none").string() + ": cannot open");
  test::write_bytes(dir / "bad", {1, 2, 3});
  expect_refused(run_cli_argv({"export", "--model", (dir / "bad").string(), "--onnx", (dir / "m.onnx").string()}),
                 (dir / "bad").string() + ":");
  EXPECT_FALSE(fs::exists(dir / "m.onnx"));
}

TEST(ExportCli, RefusesAnOutputItCannotWriteOrThatIsTheModel) {
  test::TempDir dir;
  const fs::path model = saved_model(dir);
  const std::vector<std::uint8_t> before = read_file_bytes(model);
  expect_refused(run_cli_argv({"export", "--model", model.string(), "--onnx", (dir / "no/such/m.onnx").string()}),
                 "--onnx: folder " + (dir / "no/such").string() + " does not exist");
  expect_refused(run_cli_argv({"export", "--model", model.string(), "--onnx", dir.path().string()}),
                 "--onnx: " + dir.path().string() + ": is a folder; name a file in it");
  expect_refused(run_cli_argv({"export", "--model", model.string(), "--onnx", model.string()}),
                 "--onnx: " + model.string() + " is the same file as --model " + model.string());
  EXPECT_EQ(read_file_bytes(model), before);
  EXPECT_EQ(fs::directory_iterator(dir.path())->path(), model) << "nothing but the model in the folder";
}

#else

TEST(ExportCli, SaysThisBuildHasNoOnnxExport) {
  test::TempDir dir;
  const fs::path model = saved_model(dir);
  expect_refused(run_cli_argv({"export", "--model", model.string(), "--onnx", (dir / "m.onnx").string()}),
                 "--onnx: this sigmanet was built without ONNX export");
  EXPECT_FALSE(fs::exists(dir / "m.onnx"));
}

#endif

TEST(ExportCli, RefusesAMissingFlag) {
  test::TempDir dir;
  const fs::path model = saved_model(dir);
  expect_refused(run_cli_argv({"export", "--model", model.string()}), "--onnx is required");
  expect_refused(run_cli_argv({"export", "--onnx", (dir / "m.onnx").string()}), "--model is required");
}

}  // namespace
}  // namespace sigmanet
