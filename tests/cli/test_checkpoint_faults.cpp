// Faults around checkpoints, each through the real `sigmanet train`: a folder that cannot take the file, a
// disk that fills mid-write (RLIMIT_FSIZE via `ulimit -f` in the child's shell), divergence after a good
// checkpoint, and corrupt or truncated checkpoints on --resume. Each must give a clear one-line error, a
// non-zero exit, and leave the previous checkpoint byte for byte as it was.
//
// These tests run as root in CI, and root ignores permission bits, so "not writable" is made with paths
// that no permission can fix: a folder under a regular file, and /proc/self, which refuses new files.
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <fstream>
#include <iterator>

#include "../formats/safetensors_bytes.hpp"
#include "sigmanet/formats/checkpoint.hpp"
#include "test_support.hpp"

namespace sigmanet {
namespace {

namespace fs = std::filesystem;
using test::run_cli;
using Bytes = std::vector<std::uint8_t>;

const std::string kSmall = "--device cpu --train-size 200 --validation-size 100 --test-size 100 ";

std::string data_flag() { return "--data '" + test::mnist_dir().string() + "'"; }
// Quoted for the shell. (Built by append: GCC 12 misreports "'" + string + "'" under -Wrestrict.)
std::string q(const fs::path& p) { return std::string(1, '\'').append(p.string()).append(1, '\''); }

Bytes read_all(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  return Bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

int lines(const std::string& s) { return int(std::count(s.begin(), s.end(), '\n')); }

// Every entry of the folder but `keep`: what a failed write must not leave behind.
std::vector<std::string> others(const fs::path& dir, const std::string& keep) {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().filename() != keep) names.push_back(e.path().filename().string());
  return names;
}

// `sigmanet ARGS` under `ulimit -f BLOCKS` (dash counts 512-byte blocks): stdout and stderr in *output.
int run_cli_with_file_limit(int blocks, const std::string& args, std::string* output) {
  const std::string command = "sh -c \"ulimit -f " + std::to_string(blocks) + "; exec '" + test::cli_path() + "' " + args +
                              "\" 2>&1";
  FILE* pipe = popen(command.c_str(), "r");
  if (!pipe) throw std::runtime_error("popen failed");
  std::array<char, 4096> buf;
  output->clear();
  while (std::size_t n = std::fread(buf.data(), 1, buf.size(), pipe)) output->append(buf.data(), n);
  const int status = pclose(pipe);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// One epoch of a small run, checkpointed: the "previous checkpoint" the faults must not harm.
fs::path good_checkpoint(const test::TempDir& dir) {
  const fs::path ck = dir / "ck.safetensors";
  std::string out;
  EXPECT_EQ(run_cli("train " + kSmall + "--epochs 1 --checkpoint " + q(ck) + " " + data_flag(), &out), 0) << out;
  EXPECT_EQ(load_checkpoint(ck).state.epochs_done, 1);
  return ck;
}

TEST(CheckpointFaults, CheckpointFolderUnderARegularFileIsRefusedBeforeTraining) {
  test::TempDir dir;
  test::write_bytes(dir / "file", {1, 2, 3});
  const fs::path ck = dir / "file" / "sub" / "ck.safetensors";
  std::string out;
  EXPECT_EQ(run_cli("train " + kSmall + "--epochs 1 --checkpoint " + q(ck) + " " + data_flag(), &out), 2) << out;
  EXPECT_EQ(out, "sigmanet: --checkpoint: folder " + (dir / "file" / "sub").string() + " does not exist\n");
  EXPECT_EQ(read_all(dir / "file"), (Bytes{1, 2, 3}));
}

TEST(CheckpointFaults, CheckpointFolderThatRefusesNewFilesIsRefusedBeforeTraining) {
  // /proc/self is a folder that refuses new files even to root: found by the check before any work.
  std::string out;
  EXPECT_EQ(run_cli("train " + kSmall + "--epochs 1 --checkpoint /proc/self/ck.safetensors " + data_flag(), &out), 2)
      << out;
  // The reason is the kernel's: "Operation not permitted" for root, "permission denied" for others.
  EXPECT_EQ(out.rfind("sigmanet: --checkpoint: cannot create files in folder /proc/self: ", 0), 0u) << out;
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 1) << out;
  EXPECT_FALSE(fs::exists("/proc/self/ck.safetensors"));
}

TEST(CheckpointFaults, DiskFillingMidWriteKeepsThePreviousCheckpoint) {
  test::TempDir dir;
  const fs::path ck = good_checkpoint(dir);
  const Bytes before = read_all(ck);
  ASSERT_GT(before.size(), 20u * 512u) << "the limit must fall inside the write";
  std::string out;
  // 20 blocks = 10 KiB: the 96 KB checkpoint's write fails part way. Without SIGXFSZ ignored the kernel
  // kills the process (exit 153) and leaves a partial temporary file.
  EXPECT_EQ(run_cli_with_file_limit(20, "train --resume " + q(ck) + " --checkpoint " + q(ck) + " --epochs 2 " +
                                            data_flag(),
                                    &out),
            1)
      << out;
  EXPECT_NE(out.find("sigmanet: error: " + ck.string() + ": write failed: File too large"), std::string::npos) << out;
  EXPECT_EQ(read_all(ck), before) << "the previous checkpoint changed";
  EXPECT_EQ(others(dir.path(), "ck.safetensors"), std::vector<std::string>{}) << "a temporary file was left";
  // And it still resumes.
  EXPECT_EQ(run_cli("train --resume " + q(ck) + " --epochs 2 " + data_flag(), &out), 0) << out;
}

TEST(CheckpointFaults, DiskFullOnTheFirstCheckpointLeavesNoFile) {
  test::TempDir dir;
  const fs::path ck = dir / "ck.safetensors";
  std::string out;
  EXPECT_EQ(run_cli_with_file_limit(20, "train " + kSmall + "--epochs 1 --checkpoint " + q(ck) + " " + data_flag(),
                                    &out),
            1)
      << out;
  EXPECT_NE(out.find("write failed: File too large"), std::string::npos) << out;
  EXPECT_TRUE(fs::is_empty(dir.path())) << "neither a checkpoint nor a temporary file may be left";
}

TEST(CheckpointFaults, DivergenceLeavesTheLastGoodCheckpoint) {
  // eta 1e6: epoch 1 trains (and is checkpointed), epoch 2 stalls with every sigmoid saturated.
  test::TempDir dir;
  const fs::path ck = dir / "ck.safetensors";
  std::string out;
  EXPECT_EQ(run_cli("train " + kSmall + "--eta 1e6 --epochs 3 --checkpoint " + q(ck) + " " + data_flag(), &out), 3)
      << out;
  EXPECT_NE(out.find("sigmanet: training stalled at epoch 2"), std::string::npos) << out;
  const Checkpoint saved = load_checkpoint(ck);
  EXPECT_EQ(saved.state.epochs_done, 1);
  EXPECT_EQ(others(dir.path(), "ck.safetensors"), std::vector<std::string>{});
}

TEST(CheckpointFaults, NaNInTheFirstEpochWritesNoCheckpoint) {
  test::TempDir dir;
  const fs::path ck = dir / "ck.safetensors";
  std::string out;
  EXPECT_EQ(run_cli("train " + kSmall + "--eta 1e39 --epochs 2 --checkpoint " + q(ck) + " " + data_flag(), &out), 3)
      << out;
  EXPECT_NE(out.find("sigmanet: training diverged at epoch 1, batch 2 of 20"), std::string::npos) << out;
  EXPECT_TRUE(fs::is_empty(dir.path()));
}

TEST(CheckpointFaults, CorruptOrTruncatedCheckpointOnResumeIsOneLineAndTouchesNothing) {
  test::TempDir dir;
  const Bytes good = read_all(good_checkpoint(dir));
  auto with = [&](std::size_t offset, Bytes patch) {
    Bytes b = good;
    std::copy(patch.begin(), patch.end(), b.begin() + static_cast<std::ptrdiff_t>(offset));
    return b;
  };
  const std::vector<std::pair<Bytes, std::string>> cases = {
      {{}, "truncated: 0 bytes, too short for the 8-byte header length"},
      {Bytes(good.begin(), good.begin() + 5), "truncated: 5 bytes"},
      {Bytes(good.begin(), good.begin() + 50000), "is the file truncated?"},
      {Bytes(good.begin(), good.end() - 1), ""},
      {with(20, {'X', 'X', 'X', 'X'}), "the header is not valid JSON"},
      {with(0, {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f}), ""},
      // A NaN with checksums to match, so that the NaN check is what refuses it.
      {test::with_checksums_recomputed(with(good.size() - 40000, {0xff, 0xff, 0xff, 0x7f})),
       "non-finite value (NaN or Inf)"},
  };
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const auto& [bytes, expected] = cases[i];
    const fs::path ck = dir / ("bad" + std::to_string(i) + ".safetensors");
    test::write_bytes(ck, bytes);
    std::string out;
    EXPECT_EQ(run_cli("train --resume " + q(ck) + " --checkpoint " + q(ck) + " --epochs 2 " + data_flag(), &out), 2)
        << i << ": " << out;
    EXPECT_EQ(out.rfind("sigmanet: " + ck.string() + ": ", 0), 0u) << i << ": " << out;
    EXPECT_NE(out.find(expected), std::string::npos) << i << ": " << out;
    EXPECT_EQ(lines(out), 1) << i << ": " << out;
    EXPECT_EQ(read_all(ck), bytes) << i;
  }
  std::string out;
  EXPECT_EQ(run_cli("train --resume " + q(dir / "missing.safetensors") + " " + data_flag(), &out), 2) << out;
  EXPECT_EQ(out, "sigmanet: " + (dir / "missing.safetensors").string() + ": cannot open: No such file or directory\n");
}

}  // namespace
}  // namespace sigmanet
