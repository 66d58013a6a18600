// sigmanet train across processes: mpirun -np N against one process with the same global batch, determinism,
// shares of a batch smaller than N, resume, a killed rank, bad input under mpirun, ranks started differently
// (mpirun's MPMD form) and what makes a process one of a job. Each run is bounded, so a hang fails the test
// instead of stalling CI.
#include <gtest/gtest.h>
#include <sched.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <fstream>
#include <iterator>
#include <string>
#include <tuple>
#include <vector>

#include <nlohmann/json.hpp>

#include "formats/idx_parse.hpp"
#include "oracle/equivalence.hpp"
#include "sigmanet/collective.hpp"
#include "sigmanet/dataset.hpp"
#include "sigmanet/formats/checkpoint.hpp"
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

// Rank 0 alone writes bench --json (my own: every rank wrote it, so ranks given one path raced to write it, and a
// rank given its own path wrote a file of its own). MPMD gives rank 1 a path of its own to show it writes nothing.
TEST(Mpi, OnlyRankZeroWritesTheBenchJson) {
  SKIP_WITHOUT_MPI();
  test::TempDir dir;
  const Args bench = {"bench", "--quick", "--synthetic", "--backends", "cpu-float", "--repetitions", "1",
                      "--warmup", "0", "--json"};
  Args first = bench, second = bench;
  first.push_back((dir / "rank0.json").string());
  second.push_back((dir / "rank1.json").string());
  const CliRun job = test::run_mpirun_apps({first, second});
  ASSERT_EQ(job.status, 0) << job.out << job.err;
  std::ifstream in(dir / "rank0.json");
  EXPECT_EQ(nlohmann::json::parse(in)["results"].size(), 2u);
  EXPECT_FALSE(fs::exists(dir / "rank1.json")) << "rank 1 wrote its --json";
}

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

// The ranks of a job agree before they work together: started with different settings (mpirun's MPMD form,
// "-np 1 sigmanet A : -np 1 sigmanet B"), every rank stops with exit 2 and the job prints one line naming the
// first setting that differs, each value and the ranks that hold it. Each job here is refused before it trains.
CliRun job_of(const std::vector<Args>& apps) { return test::run_mpirun_apps(apps, 60); }

// MNIST's shape in little (test::write_tiny_mnist), so that a job spends its time on MPI, not on reading data (each
// of these jobs takes about 1.5 s, most of it MPI starting and ending).
fs::path tiny_mnist(const test::TempDir& dir, const std::string& name = "tiny") {
  return test::write_tiny_mnist(dir / name);
}

// train() on the tiny data.
Args tiny_train(const test::TempDir& dir, const Args& more) {
  Args flags = {"--data", (dir / "tiny").string()};
  flags.insert(flags.end(), more.begin(), more.end());
  return train(dir / "ck", flags);
}

// Exactly one line of ours, `line`, and exit 2 (mpirun passes on the first failed rank's status).
void expect_job_refused(const CliRun& job, const std::string& line, const std::string& context) {
  EXPECT_FALSE(job.timed_out) << context << ": hung";
  EXPECT_EQ(job.status, 2) << context << "\n" << job.out << job.err;
  const std::string all = job.out + job.err;
  EXPECT_NE(all.find("sigmanet: " + line + "\n"), std::string::npos) << context << "\n" << all;
  std::size_t ours = 0;
  for (std::size_t at = 0; (at = all.find("sigmanet: ", at)) != std::string::npos; ++at) ++ours;
  EXPECT_EQ(ours, 1u) << context << ": one line from the job, not one a rank\n" << all;
  EXPECT_EQ(job.out.find("Training"), std::string::npos) << context << ": trained\n" << job.out;
}

// Before, --sizes and --precision corrupted the heap (SIGABRT), --epochs, --batch, --train-size and
// --early-stopping hung in MPI_Allgather, and --eta, --seed, --lambda and --cost exited 0 with a silently different
// model; --init and --device (my own: "training stopped early for no known reason", exit 1) likewise.
TEST(MpiAgreement, RanksStartedWithDifferentSettingsAreRefusedNamingTheFirstAndTheRanks) {
  SKIP_WITHOUT_MPI();
  test::TempDir dir;
  tiny_mnist(dir);
  const std::vector<std::tuple<std::string, std::string, std::string>> cases = {
      {"--sizes", "784,30,10", "784,20,10"},     {"--precision", "float", "double"},
      {"--epochs", "1", "2"},                    {"--batch", "10", "20"},
      {"--train-size", "2000", "1000"},          {"--early-stopping", "1", "2"},
      {"--eta", "3", "2.5"},                     {"--seed", "1", "2"},
      {"--lambda", "0", "1e-07"},                {"--cost", "quadratic", "cross-entropy"},
      {"--init", "standard", "scaled"},          {"--device", "cpu", "auto"}};
  for (const auto& [flag, first, second] : cases) {
    const CliRun job = job_of({tiny_train(dir, {flag, first}), tiny_train(dir, {flag, second})});
    expect_job_refused(job,
                       "the ranks of this job disagree on " + flag + ": " + first + " on rank 0, " + second +
                           " on rank 1; start every rank with the same command, settings and data",
                       flag);
  }
  EXPECT_FALSE(fs::exists(dir / "ck"));
  // Three ranks: the values are grouped, each with its ranks.
  expect_job_refused(job_of({tiny_train(dir, {"--eta", "3"}), tiny_train(dir, {"--eta", "2.5"}),
                             tiny_train(dir, {"--eta", "2.5"})}),
                     "the ranks of this job disagree on --eta: 3 on rank 0, 2.5 on ranks 1, 2; start every rank with "
                     "the same command, settings and data",
                     "three ranks");
}

// A refusal on one rank alone used to be lost (that rank's stderr goes to /dev/null) with the job ended by mpirun's
// banner; now it reaches the terminal, naming the rank, and every rank stops with it.
TEST(MpiAgreement, ABadFlagOrBadDataOnOneRankIsReportedNamingTheRank) {
  SKIP_WITHOUT_MPI();
  test::TempDir dir;
  tiny_mnist(dir);
  expect_job_refused(job_of({tiny_train(dir, {}), tiny_train(dir, {"--batch", "0"})}),
                     "rank 1: --batch: must be at least 1 (got '0') (see sigmanet --help)", "bad flag");
  const std::string missing = (dir / "nowhere").string();
  const CliRun data = job_of({tiny_train(dir, {}), tiny_train(dir, {"--data", missing})});
  expect_job_refused(data, "rank 1: MNIST not found in " + missing + ": missing train-images-idx3-ubyte[.gz], "
                           "train-labels-idx1-ubyte[.gz], t10k-images-idx3-ubyte[.gz], t10k-labels-idx1-ubyte[.gz]; "
                           "fetch them with scripts/get-mnist.sh " + missing +
                           " or point --data / SIGMANET_DATA at a folder that has them",
                     "bad data");
  // A command that runs in one process, on one rank of a training job.
  const CliRun evaluate = job_of({tiny_train(dir, {}), {"evaluate", "--model", "m"}});
  expect_job_refused(evaluate,
                     "rank 1: sigmanet evaluate runs in one process, but was started as one of 2 (mpirun or srun); "
                     "only train and bench run across processes",
                     "evaluate");
}

// The data each rank reads and the checkpoint it resumes are part of what must agree: a rank reading another copy
// of the data (one training label changed) would train another network without a word.
TEST(MpiAgreement, RanksReadingOtherDataOrResumingOtherCheckpointsAreRefused) {
  SKIP_WITHOUT_MPI();
  test::TempDir dir;
  tiny_mnist(dir);
  const fs::path other = tiny_mnist(dir, "other");
  std::vector<std::uint8_t> labels = read_idx_labels(other / "train-labels-idx1-ubyte");
  labels[5] = std::uint8_t((labels[5] + 1) % 10);
  test::write_bytes(other / "train-labels-idx1-ubyte", test::idx_labels(labels));
  const CliRun data = job_of({tiny_train(dir, {}), tiny_train(dir, {"--data", other.string()})});
  EXPECT_EQ(data.status, 2) << data.err;
  EXPECT_NE(data.err.find("sigmanet: the ranks of this job disagree on --data: 2000 + 100 + 200 records of 28x28, "
                          "CRC32 "),
            std::string::npos)
      << data.err;
  EXPECT_NE(data.err.find(" on rank 1; start every rank"), std::string::npos) << data.err;

  ASSERT_EQ(mpirun(2, tiny_train(dir, {})).status, 0);
  const CliRun resume = job_of({tiny_train(dir, {"--resume", (dir / "ck").string(), "--epochs", "2"}),
                                tiny_train(dir, {"--epochs", "2"})});
  EXPECT_EQ(resume.status, 2) << resume.err;
  EXPECT_NE(resume.err.find("sigmanet: the ranks of this job disagree on --resume: epoch 2, sample 0, CRC32 "),
            std::string::npos)
      << resume.err;
  EXPECT_NE(resume.err.find(" on rank 0, none on rank 1;"), std::string::npos) << resume.err;
}

// A benchmark's ranks agree too (different --repetitions left one rank waiting for exchanges), and a job whose
// ranks run different commands is refused naming the commands.
TEST(MpiAgreement, BenchRanksAgreeAndSoDoTheCommands) {
  SKIP_WITHOUT_MPI();
  const Args bench = {"bench", "--quick", "--synthetic", "--backends", "cpu-float", "--warmup", "0"};
  Args more = bench;
  more.insert(more.end(), {"--repetitions", "2"});
  expect_job_refused(job_of({bench, more}),
                     "the ranks of this job disagree on --repetitions: 5 on rank 0, 2 on rank 1; start every rank "
                     "with the same command, settings and data",
                     "repetitions");
  test::TempDir dir;
  tiny_mnist(dir);
  expect_job_refused(job_of({tiny_train(dir, {}), bench}),
                     "the ranks of this job disagree on the command: train on rank 0, bench on rank 1; start every "
                     "rank with the same command, settings and data",
                     "commands");
}

}  // namespace
}  // namespace sigmanet

namespace sigmanet {
namespace {

// What makes a process one of a job is what MPI says, asked only when a launcher's own variables show one started
// it. Slurm's variables do not count: sbatch -n 4 exports SLURM_NTASKS=4 (and SLURM_PROCID, SLURM_NTASKS_PER_NODE)
// to every command of a job script, each one process. Before, evaluate refused to run there, and train recorded
// ranks=1 while counting 4 processes, so its own checkpoint could not be resumed.
const std::vector<std::pair<std::string, std::string>> kJobScript = {
    {"SLURM_NTASKS", "4"}, {"SLURM_NPROCS", "4"}, {"SLURM_PROCID", "1"}, {"SLURM_NTASKS_PER_NODE", "4"}};

TEST(Launcher, SlurmsVariablesInAJobScriptDoNotMakeOneProcessAJob) {
  test::TempDir dir;
  const Args small = {"--device", "cpu", "--train-size", "200", "--validation-size", "100", "--test-size", "100",
                      "--data", test::mnist_dir().string(), "--checkpoint", (dir / "ck").string()};
  Args first = {"train", "--epochs", "1", "--save", (dir / "m").string()};
  first.insert(first.end(), small.begin(), small.end());
  const CliRun trained = test::run_cli_argv(first, 60, kJobScript);
  ASSERT_EQ(trained.status, 0) << trained.err;
  EXPECT_EQ(trained.out.find("processes"), std::string::npos) << trained.out;
  EXPECT_EQ(load_checkpoint(dir / "ck").ranks, 1);
  Args resumed = {"train", "--epochs", "2", "--resume", (dir / "ck").string()};
  resumed.insert(resumed.end(), small.begin(), small.end());
  const CliRun more = test::run_cli_argv(resumed, 60, kJobScript);
  EXPECT_EQ(more.status, 0) << more.err;
  EXPECT_NE(more.out.find("Epoch 2/2"), std::string::npos) << more.out << more.err;
  const CliRun evaluate = test::run_cli_argv(
      {"evaluate", "--device", "cpu", "--model", (dir / "m").string(), "--data", test::mnist_dir().string()}, 60,
      kJobScript);
  EXPECT_EQ(evaluate.status, 0) << evaluate.err;
  EXPECT_NE(evaluate.out.find("test set: "), std::string::npos) << "SLURM_PROCID=1 silenced it:\n" << evaluate.out;
}

// My own: SLURM_NTASKS_PER_NODE=N, set for every command of a job script with --ntasks-per-node, gave a process on
// its own 1/N of the cores by default.
TEST(Launcher, AProcessOnItsOwnHasAllItsCoresWhateverSlurmExports) {
  cpu_set_t cpus;
  CPU_ZERO(&cpus);
  ASSERT_EQ(sched_getaffinity(0, sizeof cpus, &cpus), 0);
  const int cores = CPU_COUNT(&cpus);
  if (cores < 2) GTEST_SKIP() << "one core: sharing it gives 1 thread either way";
  ASSERT_FALSE(started_by_launcher()) << "the test runs outside any job";
  setenv("SLURM_NTASKS_PER_NODE", std::to_string(cores).c_str(), 1);
  const int threads = default_threads();
  unsetenv("SLURM_NTASKS_PER_NODE");
  EXPECT_EQ(threads, cores);
  EXPECT_EQ(launched_processes(), 1);
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
