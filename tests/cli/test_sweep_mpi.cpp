// sigmanet sweep under mpirun: runs handed to ranks give the models one process gives; a killed rank ends the job,
// the runs finished before it are kept, and --resume finishes the grid with the bits of an uninterrupted sweep.
#include <gtest/gtest.h>

#include <signal.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "sigmanet/collective.hpp"
#include "test_support.hpp"

namespace sigmanet {
namespace {

namespace fs = std::filesystem;
using Args = std::vector<std::string>;
using Bytes = std::vector<std::uint8_t>;

#ifdef SIGMANET_TEST_SANITIZED
constexpr bool kSanitized = true;
#else
constexpr bool kSanitized = false;
#endif

#define SKIP_WITHOUT_MPI()                                                                     \
  do {                                                                                         \
    if (!have_mpi()) GTEST_SKIP() << "this build has no MPI (libopenmpi-dev was not found)";  \
    if (!test::have_mpirun()) GTEST_SKIP() << "mpirun is not installed (openmpi-bin)";        \
    if (kSanitized) GTEST_SKIP() << "MPI jobs are not run under the sanitizers";              \
  } while (0)

Bytes read_all(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  return Bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

Args sweep(const fs::path& out, const std::string& train_size) {
  return {"sweep",  "--out",          out.string(), "--device", "cpu", "--eta", "0.5,3", "--seed", "1-3",
          "--epochs", "2", "--save", "all", "--train-size", train_size, "--validation-size", "300", "--test-size",
          "300", "--data", test::mnist_dir().string()};
}

void expect_same_models(const fs::path& a, const fs::path& b) {
  std::size_t count = 0;
  for (const auto& entry : fs::directory_iterator(a / "models")) {
    EXPECT_EQ(read_all(entry.path()), read_all(b / "models" / entry.path().filename())) << entry.path().filename();
    ++count;
  }
  EXPECT_EQ(count, 6u);
  EXPECT_EQ(read_all(a / "best.safetensors"), read_all(b / "best.safetensors"));
}

TEST(SweepMpi, TwoRanksGiveTheModelsOfOneProcess) {
  SKIP_WITHOUT_MPI();
  test::TempDir dir;
  const test::CliRun alone = test::run_cli_argv(sweep(dir / "alone", "2000"), 120);
  ASSERT_EQ(alone.status, 0) << alone.err;
  const test::CliRun job = test::run_mpirun(2, sweep(dir / "job", "2000"), 120);
  ASSERT_EQ(job.status, 0) << job.out << job.err;
  EXPECT_NE(job.out.find("on each of 2 processes"), std::string::npos) << job.out;
  expect_same_models(dir / "alone", dir / "job");
  std::ifstream summary(dir / "job" / "summary.jsonl");
  EXPECT_EQ(std::count(std::istreambuf_iterator<char>(summary), std::istreambuf_iterator<char>(), '\n'), 6);
}

// Rank 1 killed once rank 0 has finished its first run (the line it prints then): the job ends with rank 0's one
// line naming rank 1 (mpirun's own report of the death is silenced, as `mpirun -q` silences it), the finished runs
// stay in the sweep's checkpoint, and a resume (here by one process) finishes the grid.
TEST(SweepMpi, AKilledRankEndsTheJobWithOneLineAndResumeFinishesTheGrid) {
  SKIP_WITHOUT_MPI();
  test::TempDir dir;
  // 20,000 records a run, so that rank 1 is still training when the kill comes.
  const test::InterruptedJob job = test::run_interrupted_mpirun(
      2, sweep(dir / "job", "20000"), 120, {{"OMPI_MCA_orte_execute_quiet", "1"}}, " finished on rank 0 (1/3)",
      [](const std::string& tag) { kill(test::find_job_rank(tag, 1), SIGKILL); });
  ASSERT_TRUE(job.started) << job.run.out << job.run.err;
  EXPECT_FALSE(job.run.timed_out) << "the job hung after rank 1 died";
  EXPECT_NE(job.run.status, 0);
  const std::string said = "sigmanet: rank 1 of the job ended without finishing its runs: sweep stopped with ";
  EXPECT_EQ(job.run.err.rfind(said, 0), 0u) << job.run.err;
  EXPECT_EQ(std::count(job.run.err.begin(), job.run.err.end(), '\n'), 1) << job.run.err;
  EXPECT_NE(job.run.err.find("(continue with: sigmanet sweep --resume " + (dir / "job").string() + ")\n"),
            std::string::npos)
      << job.run.err;
  EXPECT_FALSE(fs::exists(dir / "job" / "summary.jsonl"));
  ASSERT_TRUE(fs::exists(dir / "job" / "sweep-checkpoint" / "sweep.json"));
  const test::CliRun resumed = test::run_cli_argv({"sweep", "--resume", (dir / "job").string()}, 300);
  ASSERT_EQ(resumed.status, 0) << resumed.err;
  EXPECT_EQ(resumed.out.find("(0 finished before)"), std::string::npos) << resumed.out;
  const test::CliRun whole = test::run_cli_argv(sweep(dir / "whole", "20000"), 300);
  ASSERT_EQ(whole.status, 0) << whole.err;
  expect_same_models(dir / "whole", dir / "job");
}

}  // namespace
}  // namespace sigmanet
