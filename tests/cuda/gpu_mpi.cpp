// sigmanet train across GPUs (mpirun, NCCL): a job against one GPU with the same global batch, the same job twice,
// shares of a batch smaller than the job, resume, divergence on one rank, a killed rank, and what is refused. On
// the emulator build each rank gets an emulated GPU of its own (SIGMANET_EMULATE_GPU=N) and NCCL runs on MPI
// (tests/gpu_emulator/nccl.cpp), which also checks the bootstrap and refuses two ranks on one GPU, as NCCL does;
// on a machine with GPUs a job needs as many as it has ranks. Each run is bounded, so a hang fails the test.
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "sigmanet/backends/factory.hpp"
#include "gpu_support.hpp"
#include "oracle/equivalence.hpp"
#include "sigmanet/collective.hpp"
#include "sigmanet/formats/checkpoint.hpp"
#include "test_support.hpp"

#ifdef SIGMANET_HAVE_CUDA
#include <cuda_runtime.h>
#endif

namespace sigmanet {
namespace {

namespace fs = std::filesystem;
using Args = std::vector<std::string>;
using Env = std::vector<std::pair<std::string, std::string>>;
using test::CliRun;

// The environment that gives each of `gpus` ranks on this machine a GPU of its own.
Env with_gpus([[maybe_unused]] int gpus) {
#ifdef SIGMANET_TEST_EMULATED_GPU
  return {{"SIGMANET_EMULATE_GPU", std::to_string(gpus)}};
#else
  return {};
#endif
}

int gpus_here() {
#if defined(SIGMANET_TEST_EMULATED_GPU)
  return 8;  // as many as with_gpus asks for
#elif defined(SIGMANET_HAVE_CUDA)
  int count = 0;
  return cudaGetDeviceCount(&count) == cudaSuccess ? count : 0;
#else
  return 0;
#endif
}

#define SKIP_WITHOUT_GPU_JOB(ranks)                                                                        \
  do {                                                                                                     \
    SIGMANET_SKIP_WITHOUT_GPU();                                                                           \
    if (!have_mpi()) GTEST_SKIP() << "this build has no MPI (libopenmpi-dev was not found)";              \
    if (!test::have_mpirun()) GTEST_SKIP() << "mpirun is not installed (openmpi-bin)";                    \
    std::string why;                                                                                       \
    if (!gpu_available_for_job(&why)) GTEST_SKIP() << why;                                                 \
    if (gpus_here() < (ranks)) GTEST_SKIP() << "a job of " << (ranks) << " ranks needs as many GPUs here"; \
  } while (0)

// A small run on the GPU (200 samples, the emulator's pace; 100 in its sanitized build, for the step's time budget),
// flags in `more` replacing the defaults'.
#ifdef SIGMANET_TEST_SANITIZED
constexpr const char* kSamples = "100";
#else
constexpr const char* kSamples = "200";
#endif

Args train(const fs::path& checkpoint, const Args& more) {
  return test::command_with_flags("train",
                                  {{"--device", "gpu"},
                                   {"--train-size", kSamples},
                                   {"--validation-size", "50"},
                                   {"--test-size", "100"},
                                   {"--epochs", "1"},
                                   {"--data", test::mnist_dir().string()},
                                   {"--init", "scaled"},
                                   {"--checkpoint", checkpoint.string()}},
                                  more);
}

CliRun alone(const Args& args) { return test::run_cli_argv(args, 120, with_gpus(1)); }
CliRun job(int ranks, const Args& args, int gpus = 0) {
  return test::run_mpirun(ranks, args, 120, with_gpus(gpus ? gpus : ranks));
}

Parameters trained(const fs::path& checkpoint) { return load_checkpoint(checkpoint).parameters; }

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (std::size_t at = 0; (at = text.find(what, at)) != std::string::npos; at += what.size()) ++n;
  return n;
}

// Batch 10 in shares of 5; batch 2 over 3 ranks, so that one rank holds no sample of each batch, with a last
// batch of 1 (99 samples) that two ranks sit out, and chapter 3's cross-entropy with L2 (the decay rides on a
// job's own update kernel). Against one GPU the only difference is where the gradient sums are split; the same
// job twice gives the same bits (NCCL's order is fixed for a job).
TEST(GpuJob, TwoAndThreeRanksTrainWhatOneGpuTrains) {
  SKIP_WITHOUT_GPU_JOB(3);
  test::TempDir dir;
  for (const auto& [ranks, shape] : {std::pair{2, Args{"--batch", "10"}},
                                     std::pair{3, Args{"--batch", "2", "--train-size", "99", "--eta", "0.5", "--cost",
                                                       "cross-entropy", "--lambda", "5"}}}) {
    const CliRun one = alone(train(dir / "one", shape));
    ASSERT_EQ(one.status, 0) << one.out << one.err;
    // The same job twice, once (each run of the emulator's sanitized build costs seconds).
    for (const char* name : ranks == 2 ? std::vector<const char*>{"a", "b"} : std::vector<const char*>{"a"}) {
      const CliRun run = job(ranks, train(dir / name, shape));
      ASSERT_FALSE(run.timed_out);
      ASSERT_EQ(run.status, 0) << run.out << run.err;
      EXPECT_NE(run.out.find("on gpu float"), std::string::npos) << run.out;
      EXPECT_NE(run.out.find(std::to_string(ranks) + " processes"), std::string::npos) << run.out;
      EXPECT_EQ(count(run.out, "Epoch 1/1"), 1u) << "more than one rank spoke:\n" << run.out;
    }
    const double rel = relative_difference(trained(dir / "a"), trained(dir / "one"));
    EXPECT_LT(rel, kEpochTolerance) << ranks << " ranks, batch " << shape[1];
    char text[32];
    std::snprintf(text, sizeof text, "%.2e", rel);
    RecordProperty(std::to_string(ranks) + " ranks batch " + shape[1], text);
    EXPECT_EQ(load_checkpoint(dir / "a").ranks, ranks);
    if (ranks != 2) continue;
    const Parameters a = trained(dir / "a"), b = trained(dir / "b");
    EXPECT_EQ(a.weights, b.weights);
    EXPECT_EQ(a.biases, b.biases);
  }
}

TEST(GpuJob, ResumeWithTheSameRanksContinuesBitForBit) {
  SKIP_WITHOUT_GPU_JOB(2);
  test::TempDir dir;
  ASSERT_EQ(job(2, train(dir / "straight", {"--epochs", "2"})).status, 0);
  ASSERT_EQ(job(2, train(dir / "split", {})).status, 0);
  const CliRun more = job(2, {"train", "--resume", (dir / "split").string(), "--epochs", "2", "--data",
                              test::mnist_dir().string(), "--checkpoint", (dir / "split").string()});
  ASSERT_EQ(more.status, 0) << more.out << more.err;
  EXPECT_EQ(trained(dir / "split").weights, trained(dir / "straight").weights);
  EXPECT_EQ(trained(dir / "split").biases, trained(dir / "straight").biases);
}

// eta 1e39 is Inf in float: the first update makes the weights NaN. At batch 2 over 3 ranks one rank computes no
// output, so it learns of the NaN only through the flag that travels with the gradients; every rank stops at the
// batch one GPU stops at, with one message.
TEST(GpuJob, DivergenceStopsEveryRankAtTheBatchOneGpuStopsAt) {
  SKIP_WITHOUT_GPU_JOB(3);
  test::TempDir dir;
  const Args diverging = {"--eta", "1e39", "--batch", "2"};
  const CliRun one = alone(train(dir / "one", diverging));
  const CliRun run = job(3, train(dir / "job", diverging));
  EXPECT_FALSE(run.timed_out);
  EXPECT_EQ(one.status, 3) << one.err;
  EXPECT_EQ(run.status, 3) << run.out << run.err;
  const std::size_t at = one.err.find("training diverged at epoch 1, batch ");
  ASSERT_NE(at, std::string::npos) << one.err;
  const std::string where = one.err.substr(at, one.err.find(':', at) - at);
  EXPECT_EQ(count(run.err, where), 1u) << where << "\n" << run.err;
}

// Ctrl-C at the terminal (SIGINT to mpirun, which passes SIGTERM on to every rank) stops the ranks after the same
// batch, though each sees the signal at its own moment: they combine their verdicts after every batch. Rank 0
// writes the checkpoint, and the job goes on from it.
TEST(GpuJob, CtrlCToMpirunStopsEveryRankAtOneBatchAndRankZeroCheckpoints) {
  SKIP_WITHOUT_GPU_JOB(2);
  test::TempDir dir;
  int launcher = 0;
  const test::InterruptedJob run =
      test::run_interrupted_mpirun(2, train(dir / "ck", {"--epochs", "100"}), 120, with_gpus(2), "Epoch 1/100",
                                   [&](const std::string& tag) {
                                     launcher = test::find_job_mpirun(tag);
                                     if (launcher) kill(launcher, SIGINT);
                                   });
  ASSERT_TRUE(run.started) << run.run.out << run.run.err;
  ASSERT_NE(launcher, 0) << "mpirun not found";
  EXPECT_FALSE(run.run.timed_out);
  EXPECT_EQ(count(run.run.err, "checkpoint written to"), 1u) << run.run.err;
  const Checkpoint ck = load_checkpoint(dir / "ck");
  EXPECT_EQ(ck.ranks, 2);
  EXPECT_GT(ck.state.epochs_done + int(ck.state.position), 0);
  EXPECT_LT(ck.state.epochs_done, 100);
  const CliRun more = job(2, {"train", "--resume", (dir / "ck").string(), "--epochs",
                              std::to_string(ck.state.epochs_done + 1), "--data", test::mnist_dir().string(),
                              "--checkpoint", (dir / "ck").string()});
  EXPECT_EQ(more.status, 0) << more.out << more.err;
}

// A rank that dies without a word (SIGKILL) ends the job, mpirun naming it: the other rank, waiting in the gradient
// sum or the ranks' vote after the batch, does not outlive it (the run's 120 s bound is what a hang meets).
TEST(GpuJob, AKilledRankEndsTheJobNamingIt) {
  SKIP_WITHOUT_GPU_JOB(2);
  test::TempDir dir;
  std::string tag;
  const test::InterruptedJob run =
      test::run_interrupted_mpirun(2, train(dir / "ck", {"--epochs", "100"}), 120, with_gpus(2), "Epoch 1/100",
                                   [&](const std::string& t) {
                                     tag = t;
                                     kill(test::find_job_rank(tag, 1), SIGKILL);
                                   });
  ASSERT_TRUE(run.started) << run.run.out << run.run.err;
  EXPECT_FALSE(run.run.timed_out) << "the job hung after rank 1 died";
  EXPECT_EQ(run.run.out.find("Epoch 100/100"), std::string::npos) << "the kill came after the last epoch";
  EXPECT_NE(run.run.status, 0);
  const std::string all = run.run.out + run.run.err;
  EXPECT_NE(all.find("rank 1"), std::string::npos) << all;  // mpirun names the rank that died
  EXPECT_EQ(test::find_job_rank(tag, 0), 0) << "rank 0 outlived the job";
}

// NCCL needs a GPU per process: two ranks left on one are refused by every rank together, with one message
// (exit 2, as bad input), not a hang or a fault per rank.
TEST(GpuJob, TwoRanksOnOneGpuAreRefusedWithOneMessage) {
  SKIP_WITHOUT_GPU_JOB(1);
#ifndef SIGMANET_TEST_EMULATED_GPU
  if (gpus_here() != 1) GTEST_SKIP() << "shown on a machine with one GPU";
#endif
  test::TempDir dir;
  const CliRun run = job(2, train(dir / "ck", {}), 1);
  EXPECT_FALSE(run.timed_out);
  EXPECT_EQ(run.status, 2) << run.out << run.err;
  EXPECT_EQ(count(run.err, "sigmanet: "), 1u) << run.err;
  EXPECT_NE(run.err.find("NCCL could not join the job's ranks"), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("Duplicate GPU"), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("1 GPU visible to each of the 2 processes"), std::string::npos) << run.err;
  EXPECT_FALSE(fs::exists(dir / "ck"));
}

// The persistent kernel runs many batches in one launch, with no exchange between them: a job refuses it when
// asked, and --device auto and --gpu-kernel auto take the GPUs and the graph path.
TEST(GpuJob, AutoTakesTheGpusAndTheGraphPathAndPersistentIsRefused) {
  SKIP_WITHOUT_GPU_JOB(2);
  test::TempDir dir;
  const CliRun persistent = job(2, train(dir / "p", {"--gpu-kernel", "persistent"}));
  EXPECT_EQ(persistent.status, 2) << persistent.out << persistent.err;
  EXPECT_EQ(count(persistent.err, "sigmanet: --gpu-kernel persistent: a job across GPUs"), 1u) << persistent.err;
  const CliRun automatic = job(2, train(dir / "a", {"--device", "auto"}));
  ASSERT_EQ(automatic.status, 0) << automatic.out << automatic.err;
  EXPECT_NE(automatic.out.find("on gpu float"), std::string::npos) << automatic.out;
  EXPECT_EQ(automatic.err, "");
}

#ifdef SIGMANET_TEST_EMULATED_GPU
// Where the ranks have no GPU (the emulator's, switched off), auto trains on the CPU and says why, once; gpu
// is refused, once.
TEST(GpuJob, WithoutGpusAutoUsesTheCpuAndGpuIsRefused) {
  SKIP_WITHOUT_GPU_JOB(2);
  test::TempDir dir;
  const Env none = {{"SIGMANET_EMULATE_GPU", "0"}};
  const CliRun automatic = test::run_mpirun(2, train(dir / "a", {"--device", "auto"}), 120, none);
  ASSERT_EQ(automatic.status, 0) << automatic.out << automatic.err;
  EXPECT_NE(automatic.out.find("on cpu float"), std::string::npos) << automatic.out;
  EXPECT_EQ(count(automatic.err, "sigmanet: no GPU for every rank, using the CPU: rank 0 on "), 1u) << automatic.err;
  const CliRun gpu = test::run_mpirun(2, train(dir / "g", {}), 120, none);
  EXPECT_EQ(gpu.status, 2);
  EXPECT_EQ(count(gpu.err, "sigmanet: --device gpu: the job cannot train on GPUs: rank 0 on "), 1u) << gpu.err;
}
#endif

}  // namespace
}  // namespace sigmanet
