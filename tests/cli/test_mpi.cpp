// sigmanet train across processes: mpirun -np N against one process with the same global batch, determinism,
// shares of a batch smaller than N, resume, a killed rank, and bad input under mpirun. Each run is bounded, so
// a hang fails the test instead of stalling CI.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "sigmanet/collective.hpp"
#include "sigmanet/formats/checkpoint.hpp"
#include "sigmanet/reports/equivalence.hpp"
#include "test_support.hpp"

namespace sigmanet {
namespace {

namespace fs = std::filesystem;
using Args = std::vector<std::string>;
using test::CliRun;

#ifdef SIGMANET_TEST_SANITIZED
constexpr bool kSanitized = true;  // for the step's time: the default build runs the CPU jobs, this one the GPU jobs (gpu_mpi.cpp)
#else
constexpr bool kSanitized = false;
#endif

#define SKIP_WITHOUT_MPI()                                                                     \
  do {                                                                                         \
    if (!have_mpi()) GTEST_SKIP() << "this build has no MPI (libopenmpi-dev was not found)";  \
    if (!test::have_mpirun()) GTEST_SKIP() << "mpirun is not installed (openmpi-bin)";        \
    if (kSanitized) GTEST_SKIP() << "MPI jobs are not run under the sanitizers";              \
  } while (0)

CliRun mpirun(int ranks, const Args& args, double timeout = 60,
              std::vector<std::pair<std::string, std::string>> env = {}) {
  return test::run_mpirun(ranks, args, timeout, std::move(env));
}

// A small run, flags in `more` replacing the defaults'.
Args train(const fs::path& checkpoint, const Args& more) {
  return test::command_with_flags("train",
                                  {{"--device", "cpu"},
                                   {"--train-size", "2000"},
                                   {"--validation-size", "100"},
                                   {"--test-size", "200"},
                                   {"--epochs", "1"},
                                   {"--data", test::mnist_dir().string()},
                                   {"--checkpoint", checkpoint.string()}},
                                  more);
}

Parameters trained(const fs::path& checkpoint) { return load_checkpoint(checkpoint).parameters; }

// How often `what` occurs in `text`.
std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (std::size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

TEST(Mpi, TwoAndThreeRanksTrainWhatOneProcessTrainsInDouble) {
  SKIP_WITHOUT_MPI();
  test::TempDir dir;
  // Batch 10 (shares of 5, or 3/3/4), batch 2 with 3 ranks (one rank holds no sample of each batch), and a
  // training set of 1999 that leaves a last batch smaller than the rest.
  // At batch 2 the run uses eta 0.5: at eta 3, 1,000 steps of 2 samples are chaotic (measured: a 1e-16
  // difference grows to 2e-9 after 500 steps and 0.17 after 1,000, between any two summation orders).
  for (const Args& shape : {Args{"--batch", "10"}, Args{"--batch", "2", "--train-size", "1999", "--eta", "0.5"}}) {
    Args more = shape;
    // Scaled initialisation, as the equivalence checks use, for the same reason: from N(0, 1) weights rounding
    // differences (an FMA here, two roundings there) grow faster.
    more.insert(more.end(), {"--precision", "double", "--init", "scaled"});
    const CliRun one = test::run_cli_argv(train(dir / "one", more));
    ASSERT_EQ(one.status, 0) << one.err;
    for (int ranks : {2, 3}) {
      const CliRun job = mpirun(ranks, train(dir / "job", more));
      ASSERT_FALSE(job.timed_out);
      ASSERT_EQ(job.status, 0) << job.out << job.err;
      const double rel = relative_difference(trained(dir / "job"), trained(dir / "one"));
      // The only difference is where the gradient sums are split: measured 7e-16 after the epoch.
      EXPECT_LT(rel, 1e-12) << ranks << " ranks, " << shape[1];
      EXPECT_EQ(load_checkpoint(dir / "job").ranks, ranks);
      char text[32];
      std::snprintf(text, sizeof text, "%.2e", rel);
      RecordProperty(std::to_string(ranks) + " ranks batch " + shape[1], text);
    }
  }
}

TEST(Mpi, FloatIsWithinTheEquivalenceToleranceAndTheSameJobGivesTheSameBits) {
  SKIP_WITHOUT_MPI();
  test::TempDir dir;
  ASSERT_EQ(test::run_cli_argv(train(dir / "one", {})).status, 0);
  for (const char* name : {"a", "b"}) {
    const CliRun job = mpirun(2, train(dir / name, {}));
    ASSERT_EQ(job.status, 0) << job.out << job.err;
  }
  EXPECT_LT(relative_difference(trained(dir / "a"), trained(dir / "one")), kEpochTolerance);
  const Parameters a = trained(dir / "a"), b = trained(dir / "b");
  EXPECT_EQ(a.weights, b.weights);
  EXPECT_EQ(a.biases, b.biases);
}

TEST(Mpi, OnlyRankZeroSpeaksAndWrites) {
  SKIP_WITHOUT_MPI();
  test::TempDir dir;
  const CliRun job = mpirun(2, train(dir / "ck", {"--metrics", (dir / "m.jsonl").string(), "--epochs", "2"}));
  ASSERT_EQ(job.status, 0) << job.err;
  // The header, 2 epochs, the summary and where the checkpoint went.
  EXPECT_EQ(std::count(job.out.begin(), job.out.end(), '\n'), 5) << job.out;
  EXPECT_NE(job.out.find("2 processes"), std::string::npos) << job.out;
  EXPECT_EQ(count(job.out, "Epoch 1/2: "), 1u) << job.out;
  EXPECT_EQ(count(job.out, "Epoch 2/2: "), 1u) << job.out;
  EXPECT_EQ(job.err, "");
  std::ifstream metrics(dir / "m.jsonl");
  EXPECT_EQ(std::count(std::istreambuf_iterator<char>(metrics), {}, '\n'), 2);
}

TEST(Mpi, ResumeWithTheSameRanksContinuesBitForBitAndOtherRanksAreRefused) {
  SKIP_WITHOUT_MPI();
  test::TempDir dir;
  ASSERT_EQ(mpirun(2, train(dir / "straight", {"--epochs", "2"})).status, 0);
  ASSERT_EQ(mpirun(2, train(dir / "split", {})).status, 0);
  // The device is not a checkpoint's setting (a run may go on elsewhere): the same one, for the same bits.
  const CliRun more = mpirun(2, {"train", "--resume", (dir / "split").string(), "--epochs", "2", "--data",
                                 test::mnist_dir().string(), "--checkpoint", (dir / "split").string(), "--device",
                                 "cpu"});
  ASSERT_EQ(more.status, 0) << more.err;
  EXPECT_EQ(trained(dir / "split").weights, trained(dir / "straight").weights);
  // One process, or three, cannot continue a two-process run exactly: refused, once, naming --resume.
  const CliRun alone = test::run_cli_argv({"train", "--resume", (dir / "split").string(), "--epochs", "3", "--data",
                                           test::mnist_dir().string()});
  const std::string refused = "sigmanet: --resume: " + (dir / "split").string() + " was made by a job of 2 processes, ";
  const std::string why = "; resume it with as many (each rank's share of a batch, and so the sums' rounding, "
                          "depend on it)\n";
  EXPECT_EQ(alone.status, 2);
  EXPECT_EQ(alone.err, refused + "this one has 1" + why);
  const CliRun three = mpirun(3, {"train", "--resume", (dir / "split").string(), "--epochs", "3", "--data",
                                  test::mnist_dir().string()});
  EXPECT_NE(three.status, 0);
  EXPECT_EQ(count(three.err, refused + "this one has 3" + why), 1u) << three.err;
  EXPECT_EQ(count(three.err, "sigmanet: "), 1u) << "one rank speaks:\n" << three.err;
}

TEST(Mpi, ABadFlagGivesOneMessageAndANonZeroExit) {
  SKIP_WITHOUT_MPI();
  const CliRun job = mpirun(2, {"train", "--batch", "0"});
  EXPECT_FALSE(job.timed_out);
  EXPECT_NE(job.status, 0);
  EXPECT_EQ(count(job.err, "sigmanet: --batch: must be at least 1 (got '0')"), 1u) << job.err;
  EXPECT_EQ(count(job.err, "sigmanet: "), 1u) << "printed by more than one rank:\n" << job.err;
  const CliRun evaluate = mpirun(2, {"evaluate", "--model", "m.safetensors"});
  EXPECT_NE(evaluate.status, 0);
  EXPECT_NE(evaluate.err.find("runs in one process"), std::string::npos) << evaluate.err;
}

// A two-rank job long enough to be interrupted (1,000 epochs of 2,000 records, about 20 s; 100 epochs took 2 s once
// the first layer skipped the zero pixels); `interrupt` gets its tag once rank 0 has printed epoch 1's line (both
// ranks are then in epoch 2's gradient exchanges, their signal handlers in place) and does to the job what it will.
// The job's 60 s bound is what a hang meets.
CliRun interrupted_job(const fs::path& checkpoint, const std::function<void(const std::string& tag)>& interrupt) {
  const test::InterruptedJob job = test::run_interrupted_mpirun(2, train(checkpoint, {"--epochs", "1000"}), 60, {},
                                                                "Epoch 1/1000", interrupt);
  EXPECT_TRUE(job.started) << "epoch 1 never ended:\n" << job.run.out << job.run.err;
  return job.run;
}

TEST(Mpi, AKilledRankEndsTheJobNamingIt) {
  SKIP_WITHOUT_MPI();
  test::TempDir dir;
  std::string tag;
  const CliRun job = interrupted_job(dir / "ck", [&](const std::string& t) {
    tag = t;
    kill(test::find_job_rank(tag, 1), SIGKILL);
  });
  EXPECT_FALSE(job.timed_out) << "the job hung after rank 1 died";
  EXPECT_EQ(job.out.find("Epoch 1000/1000"), std::string::npos) << "the job ran to its end: the kill came too late";
  EXPECT_NE(job.status, 0);
  const std::string all = job.out + job.err;
  EXPECT_NE(all.find("rank 1"), std::string::npos) << all;  // mpirun names the rank that died
  EXPECT_EQ(test::find_job_rank(tag, 0), 0) << "rank 0 outlived the job";
}

TEST(Mpi, CtrlCToMpirunWritesRankZerosCheckpoint) {
  SKIP_WITHOUT_MPI();
  test::TempDir dir;
  pid_t launcher = 0;
  // Ctrl-C at the terminal: SIGINT to mpirun, which passes SIGTERM on to every rank.
  const CliRun job = interrupted_job(dir / "ck", [&](const std::string& tag) {
    launcher = test::find_job_mpirun(tag);
    if (launcher) kill(launcher, SIGINT);
  });
  ASSERT_NE(launcher, 0) << "mpirun not found";
  EXPECT_FALSE(job.timed_out);
  EXPECT_NE(job.err.find("checkpoint written to"), std::string::npos) << job.err;
  const Checkpoint ck = load_checkpoint(dir / "ck");
  EXPECT_EQ(ck.ranks, 2);
  EXPECT_GT(ck.state.epochs_done * 2000 + int(ck.state.position), 0);
}

}  // namespace
}  // namespace sigmanet

namespace sigmanet {
namespace {

TEST(Mpi, BenchReportsTheJobsRateBesideOneProcessAndTheCommunication) {
  SKIP_WITHOUT_MPI();
  const CliRun job = mpirun(2, {"bench", "--quick", "--backends", "cpu-float", "--repetitions", "1", "--warmup", "0",
                                "--synthetic"});
  ASSERT_EQ(job.status, 0) << job.out << job.err;
  EXPECT_NE(job.out.find("a job of 2 processes"), std::string::npos) << job.out;
  // One scaling line per case (784-30-10 at batch 10 and 100), each with the speedup and the exchange's time.
  std::size_t lines = 0;
  for (std::size_t at = 0; (at = job.out.find("2 ranks: ", at)) != std::string::npos; ++at) ++lines;
  EXPECT_EQ(lines, 2u) << job.out;
  EXPECT_NE(job.out.find("efficiency"), std::string::npos) << job.out;
  EXPECT_NE(job.out.find("ms a step"), std::string::npos) << job.out;
  const CliRun gpu = mpirun(2, {"bench", "--quick", "--backends", "gpu-float", "--synthetic"});
  EXPECT_NE(gpu.status, 0);
  EXPECT_NE(gpu.err.find("--backends gpu-float: across processes"), std::string::npos) << gpu.err;
}

}  // namespace
}  // namespace sigmanet

namespace sigmanet {
namespace {

// A build without MPI, started by a launcher as one of several processes, would run that many separate
// trainings writing the same files: it refuses, once (rank 0 speaks), exit 2. Shown with the launcher's variables.
TEST(WithoutMpi, StartedAsOneOfSeveralProcessesItRefuses) {
  if (have_mpi()) GTEST_SKIP() << "this build has MPI (scripts/test-all.sh's CPU-only build, which has not, runs this test)";
  const std::vector<std::pair<std::string, std::string>> rank0 = {{"OMPI_COMM_WORLD_SIZE", "2"},
                                                                  {"OMPI_COMM_WORLD_RANK", "0"}};
  for (const Args& args : {Args{"train", "--epochs", "1"}, Args{"bench", "--quick"}}) {
    const CliRun run = test::run_cli_argv(args, 60, rank0);
    EXPECT_EQ(run.status, 2) << run.err;
    EXPECT_NE(run.err.find("built without MPI"), std::string::npos) << run.err;
    EXPECT_EQ(std::count(run.err.begin(), run.err.end(), '\n'), 1) << run.err;
    EXPECT_EQ(run.out, "");
  }
  // Rank 1 says nothing: the job prints one message, not one per process.
  const CliRun rank1 = test::run_cli_argv({"train", "--epochs", "1"}, 60,
                                          {{"OMPI_COMM_WORLD_SIZE", "2"}, {"OMPI_COMM_WORLD_RANK", "1"}});
  EXPECT_EQ(rank1.status, 2);
  EXPECT_EQ(rank1.err, "");
  EXPECT_EQ(rank1.out, "");
}

}  // namespace
}  // namespace sigmanet
