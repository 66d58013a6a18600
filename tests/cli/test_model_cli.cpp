// The model commands as a person uses them: train --save/--checkpoint/--resume, Ctrl-C and SIGTERM,
// evaluate, predict and show-weights, their messages and exit codes, and the Python side of a model file.
#include <gtest/gtest.h>

#include <poll.h>
#include <sys/inotify.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <csignal>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>
#include <tuple>

#include <nlohmann/json.hpp>

#include "sigmanet/backends/factory.hpp"
#include "../formats/safetensors_bytes.hpp"
#include "cpu/fast_network.hpp"
#include "formats/atomic_file.hpp"
#include "formats/image_file.hpp"
#include "formats/safetensors.hpp"
#include "sigmanet/formats/checkpoint.hpp"
#include "sigmanet/formats/mnist.hpp"
#include "sigmanet/formats/model_file.hpp"
#include "test_support.hpp"

namespace sigmanet {
namespace {

using test::run_cli;
using test::TempDir;

std::string quote(const std::filesystem::path& p) { return "'" + p.string() + "'"; }
std::string data_flag() { return "--data " + quote(test::mnist_dir()); }
// Small and fast, on the CPU whatever the machine has.
std::string small_run() {
  return data_flag() + " --device cpu --train-size 2000 --validation-size 1000 --test-size 1000";
}

std::size_t lines(const std::string& s) { return static_cast<std::size_t>(std::count(s.begin(), s.end(), '\n')); }

void expect_identical(const Parameters& a, const Parameters& b) {
  ASSERT_EQ(a.sizes, b.sizes);
  for (std::size_t l = 0; l < a.layers(); ++l) {
    EXPECT_EQ(a.weights[l], b.weights[l]) << "layer " << l;
    EXPECT_EQ(a.biases[l], b.biases[l]) << "layer " << l;
  }
}

// One model trained for the whole suite, with its metrics.
class ModelCli : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir;
    std::string out;
    const int rc = run_cli("train " + small_run() + " --epochs 2 --save " + quote(model()) + " --metrics " +
                               quote(*dir_ / "metrics.jsonl"),
                           &out);
    ASSERT_EQ(rc, 0) << out;
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }
  static std::filesystem::path model() { return *dir_ / "model.safetensors"; }
  static TempDir* dir_;
};
TempDir* ModelCli::dir_ = nullptr;

std::vector<nlohmann::json> read_metrics(const std::filesystem::path& file) {
  std::ifstream in(file);
  std::vector<nlohmann::json> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(nlohmann::json::parse(line));
  return lines;
}

// The model's metadata: its shape and run, and the accuracy of its last epoch on the test set (the metrics' last
// line: 45.70% here, 2,000 training records leaving the network in its first plateau).
TEST_F(ModelCli, SavedModelCarriesItsMetadata) {
  const Model m = load_model(model());
  EXPECT_EQ(m.parameters.sizes, (std::vector<int>{784, 30, 10}));
  EXPECT_EQ(m.metadata.at("sizes"), "784,30,10");
  EXPECT_EQ(m.metadata.at("epochs"), "2");
  EXPECT_EQ(m.metadata.at("seed"), "1");
  EXPECT_EQ(m.metadata.at("batch"), "10");
  EXPECT_EQ(m.metadata.at("test_size"), "1000");
  const std::vector<nlohmann::json> metrics = read_metrics(*dir_ / "metrics.jsonl");
  ASSERT_EQ(metrics.size(), 2u);
  char last[16];
  std::snprintf(last, sizeof last, "%.4f", metrics[1]["test_accuracy"].get<double>());
  EXPECT_EQ(m.metadata.at("accuracy"), last);
  EXPECT_NEAR(std::stod(last), 0.457, 0.03);  // measured; 30 records either way for another build's rounding
}

// Each epoch's line: the three sets' accuracies and costs. The last line is the saved model's, evaluated here
// again on the same records; the first is measured (training cost 0.361, validation 0.363, test 0.406).
TEST_F(ModelCli, MetricsHoldTrainingAndValidationCostPerEpoch) {
  const std::vector<nlohmann::json> lines = read_metrics(*dir_ / "metrics.jsonl");
  ASSERT_EQ(lines.size(), 2u);
  for (std::size_t i = 0; i < lines.size(); ++i) EXPECT_EQ(lines[i]["epoch"], i + 1);
  const Mnist mnist = load_mnist(test::mnist_dir(), {2000, 1000, 1000});
  auto backend = make_backend(Device::cpu, Precision::f32);
  backend->set_parameters(load_model(model()).parameters);
  for (const auto& [set, data] : {std::pair{"train", &mnist.train}, std::pair{"validation", &mnist.validation},
                                  std::pair{"test", &mnist.test}}) {
    const Evaluation e = backend->evaluate(*data);
    const std::string name = set;
    // The model went through F32 in the file, as the backend holds it: the same numbers.
    EXPECT_DOUBLE_EQ(lines[1][name + "_accuracy"].get<double>(), e.accuracy()) << name;
    EXPECT_NEAR(lines[1][name + "_cost"].get<double>(), e.cost, 1e-12) << name;
    EXPECT_GT(lines[0][name + "_cost"].get<double>(), lines[1][name + "_cost"].get<double>()) << name;
  }
  EXPECT_NEAR(lines[0]["train_cost"].get<double>(), 0.361, 0.02);
  EXPECT_NEAR(lines[0]["validation_cost"].get<double>(), 0.363, 0.02);
  EXPECT_NEAR(lines[0]["test_cost"].get<double>(), 0.406, 0.02);
}

TEST_F(ModelCli, TwoEpochsStraightEqualOneEpochResumeOneEpoch) {
  TempDir dir;
  std::string out;
  ASSERT_EQ(run_cli("train " + small_run() + " --epochs 1 --checkpoint " + quote(dir / "ck"), &out), 0) << out;
  EXPECT_NE(out.find("Checkpoint written to"), std::string::npos) << out;
  ASSERT_EQ(run_cli("train " + data_flag() + " --device cpu --resume " + quote(dir / "ck") + " --epochs 2 --save " +
                        quote(dir / "resumed"),
                    &out),
            0)
      << out;
  EXPECT_NE(out.find("Epoch 2/2"), std::string::npos) << out;
  EXPECT_EQ(out.find("Epoch 1/2"), std::string::npos) << out;
  expect_identical(load_model(dir / "resumed").parameters, load_model(model()).parameters);
}

// Every setting a checkpoint keeps is refused when a resumed run is given another value, naming the flag and the
// checkpoint's value; the counts of epochs and the outputs are checked too.
TEST_F(ModelCli, ResumeRefusesChangedSettingsAndNonCheckpoints) {
  TempDir dir;
  std::string out;
  ASSERT_EQ(run_cli("train " + small_run() + " --epochs 1 --batch 20 --checkpoint " + quote(dir / "ck"), &out), 0)
      << out;
  const std::string resume = "--resume " + quote(dir / "ck") + " --epochs 3 ";
  const std::string keeps = "; a resumed run keeps its settings (leave the flag out)\n";
  // Flag, the checkpoint's value as the message gives it (empty: any spelling of the number).
  const std::vector<std::tuple<std::string, std::string, std::string>> kept = {
      {"--sizes", "784,20,10", "784,30,10"},
      {"--batch", "10", "20"},
      {"--eta", "0.5", ""},
      {"--cost", "cross-entropy", "quadratic"},
      {"--lambda", "2", ""},
      {"--early-stopping", "3", "no early stopping"},
      {"--eta-schedule", "halve:3", "eta schedule constant"},
      {"--seed", "2", "1"},
      {"--init", "scaled", "standard"},
      {"--precision", "double", "float"},
      {"--train-size", "3000", "2000"},
  };
  for (const auto& [flag, value, saved] : kept) {
    EXPECT_EQ(run_cli("train " + resume + flag + " " + value, &out), 2) << flag << "\n" << out;
    const std::string start = "sigmanet: " + flag + ": the checkpoint was made with ";
    EXPECT_EQ(out.rfind(start + saved, 0), 0u) << flag << "\n" << out;
    ASSERT_GE(out.size(), keeps.size()) << flag;
    EXPECT_EQ(out.substr(out.size() - keeps.size()), keeps) << flag << "\n" << out;
    EXPECT_EQ(lines(out), 1u) << flag << "\n" << out;
  }
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"--resume " + quote(dir / "ck") + " --epochs 1 " + data_flag(),
       "sigmanet: --epochs: the checkpoint " + (dir / "ck").string() +
           " has already done 1 of 1 epochs; ask for more with --epochs\n"},
      {"--resume " + quote(model()),
       "sigmanet: " + model().string() + ": not a checkpoint (format \"sigmanet-model\"); --resume needs a file "
                                         "written by --checkpoint\n"},
      {"--resume " + quote(dir / "missing"),
       "sigmanet: " + (dir / "missing").string() + ": cannot open: No such file or directory\n"},
      {"--checkpoint-every 2", "sigmanet: --checkpoint-every: needs --checkpoint FILE to say where\n"},
      {"--checkpoint " + quote(dir / "ck") + " --checkpoint-every 0",
       "sigmanet: --checkpoint-every: must be at least 1 (got '0') (see sigmanet --help)\n"},
      {"--save " + quote(dir / "no" / "m"), "sigmanet: --save: folder " + (dir / "no").string() + " does not exist\n"},
  };
  for (const auto& [args, says] : cases) {
    EXPECT_EQ(run_cli("train " + args, &out), 2) << args << "\n" << out;
    EXPECT_EQ(out, says) << args;
  }
}

// A run at batch 20 resumes at batch 20 (the checkpoint's, not the default 10): two epochs straight and one
// resumed after one end with the same bits.
TEST_F(ModelCli, AResumedRunKeepsTheCheckpointsBatch) {
  TempDir dir;
  std::string out;
  ASSERT_EQ(run_cli("train " + small_run() + " --batch 20 --epochs 1 --checkpoint " + quote(dir / "ck"), &out), 0)
      << out;
  ASSERT_EQ(run_cli("train " + data_flag() + " --device cpu --resume " + quote(dir / "ck") + " --epochs 2 --save " +
                        quote(dir / "resumed"),
                    &out),
            0)
      << out;
  EXPECT_NE(out.find(": 2000 samples, batch 20, eta 3, 2 epochs"), std::string::npos) << out;
  ASSERT_EQ(run_cli("train " + small_run() + " --batch 20 --epochs 2 --save " + quote(dir / "straight"), &out), 0)
      << out;
  expect_identical(load_model(dir / "resumed").parameters, load_model(dir / "straight").parameters);
}

// A resumed run adds its epochs to the metrics of the run it continues: the first run's line stays as it was.
TEST_F(ModelCli, AResumedRunAppendsToItsMetrics) {
  TempDir dir;
  std::string out;
  const std::string metrics = " --metrics " + quote(dir / "m.jsonl");
  ASSERT_EQ(run_cli("train " + small_run() + " --epochs 1 --checkpoint " + quote(dir / "ck") + metrics, &out), 0)
      << out;
  const std::vector<nlohmann::json> first = read_metrics(dir / "m.jsonl");
  ASSERT_EQ(first.size(), 1u);
  ASSERT_EQ(run_cli("train " + data_flag() + " --device cpu --resume " + quote(dir / "ck") + " --epochs 3" + metrics,
                    &out),
            0)
      << out;
  const std::vector<nlohmann::json> all = read_metrics(dir / "m.jsonl");
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0], first[0]);
  EXPECT_EQ(all[1]["epoch"], 2);
  EXPECT_EQ(all[2]["epoch"], 3);
}

// --checkpoint-every N writes after epochs N, 2N, ... and the last. Every write renames a temporary file of its own
// name into place, which inotify counts without racing the run (the temporary names differ, so no two events
// merge as the same name's would): 7 epochs every 3 are writes after epochs 3, 6 and 7 (every epoch would be 7,
// epochs 1, 2, 4, 5 and 7 five).
TEST_F(ModelCli, CheckpointEveryNWritesAfterEveryNthEpochAndTheLast) {
  TempDir dir;
  const int watch = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  ASSERT_GE(watch, 0);
  ASSERT_GE(inotify_add_watch(watch, dir.path().c_str(), IN_MOVED_FROM), 0);
  std::string out;
  ASSERT_EQ(run_cli("train " + small_run() + " --epochs 7 --checkpoint-every 3 --checkpoint " + quote(dir / "ck"),
                    &out),
            0)
      << out;
  int writes = 0;
  const std::string temporary = temporary_prefix(dir / "ck");
  alignas(inotify_event) char events[4096];
  for (ssize_t n; (n = read(watch, events, sizeof events)) > 0;)
    for (const char* at = events; at < events + n;) {
      const auto* event = reinterpret_cast<const inotify_event*>(at);
      writes += std::string(event->name).rfind(temporary, 0) == 0;
      at += sizeof(inotify_event) + event->len;
    }
  close(watch);
  EXPECT_EQ(writes, 3);
  EXPECT_EQ(load_checkpoint(dir / "ck").state.epochs_done, 7);
}

// Starts `sigmanet args...` with stdout and stderr on a pipe, sends `signal` once the first epoch line is
// out, and returns the exit status (128 + n for death by signal n) with everything it printed.
int interrupt_after_first_epoch(const std::vector<std::string>& args, int signal, std::string* output) {
  const std::string& cli = test::cli_path();  // before fork: the child only execs
  int fds[2];
  if (pipe(fds) != 0) throw std::runtime_error("pipe failed");
  const pid_t child = fork();
  if (child < 0) throw std::runtime_error("fork failed");
  if (child == 0) {
    dup2(fds[1], STDOUT_FILENO);
    dup2(fds[1], STDERR_FILENO);
    close(fds[0]);
    close(fds[1]);
    std::vector<char*> argv{const_cast<char*>(cli.c_str())};
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(cli.c_str(), argv.data());
    _exit(127);
  }
  close(fds[1]);
  bool sent = false;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  char buf[4096];
  for (;;) {
    pollfd p{fds[0], POLLIN, 0};
    if (poll(&p, 1, 200) > 0) {
      const ssize_t n = read(fds[0], buf, sizeof buf);
      if (n <= 0) break;
      output->append(buf, static_cast<std::size_t>(n));
    }
    if (!sent && output->find("Epoch 1/") != std::string::npos) {
      kill(child, signal);
      sent = true;
    }
    if (std::chrono::steady_clock::now() > deadline) {
      kill(child, SIGKILL);
      break;
    }
  }
  close(fds[0]);
  int status = 0;
  waitpid(child, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

class SignalTest : public ModelCli, public ::testing::WithParamInterface<int> {};

// The signal stops training after the current mini-batch; the checkpoint it leaves continues the run to
// exactly the parameters of a run that was never interrupted.
TEST_P(SignalTest, WritesACheckpointExits128PlusTheSignalAndResumesBitIdentically) {
  TempDir dir;
  const std::string ck = (dir / "ck").string();
  std::vector<std::string> args{"train", "--data", test::mnist_dir().string(), "--device", "cpu", "--train-size",
                                "2000", "--validation-size", "1000", "--test-size", "1000", "--epochs", "500",
                                "--checkpoint", ck, "--checkpoint-every", "1000"};
  std::string out;
  // 128 + the signal, as a shell reports a process the signal ended: 130 after SIGINT, 143 after SIGTERM.
  ASSERT_EQ(interrupt_after_first_epoch(args, GetParam(), &out), 128 + GetParam()) << out;
  EXPECT_NE(out.find(GetParam() == SIGINT ? "SIGINT" : "SIGTERM"), std::string::npos) << out;
  EXPECT_NE(out.find("checkpoint written to " + ck), std::string::npos) << out;
  EXPECT_NE(out.find("--resume " + ck), std::string::npos) << out;

  const Checkpoint saved = load_checkpoint(ck);
  EXPECT_GE(saved.state.epochs_done, 1);
  EXPECT_EQ(saved.config.epochs, 500);
  const std::string target = std::to_string(saved.state.epochs_done + 1);
  ASSERT_EQ(run_cli("train " + data_flag() + " --device cpu --resume " + quote(ck) + " --epochs " + target +
                        " --save " + quote(dir / "resumed"),
                    &out),
            0)
      << out;
  ASSERT_EQ(run_cli("train " + small_run() + " --epochs " + target + " --save " + quote(dir / "straight"), &out), 0)
      << out;
  expect_identical(load_model(dir / "resumed").parameters, load_model(dir / "straight").parameters);
}

INSTANTIATE_TEST_SUITE_P(Signals, SignalTest, ::testing::Values(SIGINT, SIGTERM),
                         [](const auto& info) { return info.param == SIGINT ? "SIGINT" : "SIGTERM"; });

// evaluate's report, read back: the set's count, the per-digit table and the confusion matrix agree with each other
// and with the model evaluated here on the same set; the mistakes picture holds the first 25.
struct EvaluateReport {
  std::size_t correct = 0, total = 0;
  std::array<std::array<std::size_t, 10>, 10> confusion{};  // [true][predicted]
};

EvaluateReport check_evaluate_report(const std::string& out, const std::string& set, const Dataset& data,
                                     const std::filesystem::path& model_file) {
  EvaluateReport r;
  const std::size_t at = out.find(set + " set: ");
  EXPECT_NE(at, std::string::npos) << out;
  if (at == std::string::npos) return r;
  std::sscanf(out.c_str() + at + set.size() + 6, "%zu/%zu", &r.correct, &r.total);
  const auto matrix_at = out.find("Confusion matrix");
  EXPECT_NE(matrix_at, std::string::npos) << out;
  std::istringstream matrix(out.substr(out.find('\n', out.find('\n', matrix_at) + 1) + 1));
  for (std::size_t t = 0; t < 10; ++t) {
    std::size_t row = 99;
    matrix >> row;
    EXPECT_EQ(row, t);
    for (auto& n : r.confusion[t]) matrix >> n;
  }
  // The model, evaluated here: its count and every cell of the matrix.
  auto backend = make_backend(Device::cpu, Precision::f32);
  backend->set_parameters(load_model(model_file).parameters);
  const std::vector<double> outputs = backend->outputs(data, 0, data.size());
  std::array<std::array<std::size_t, 10>, 10> expected{};
  for (std::size_t i = 0; i < data.size(); ++i)
    ++expected[data.labels[i]][std::max_element(&outputs[i * 10], &outputs[i * 10] + 10) - &outputs[i * 10]];
  EXPECT_EQ(r.confusion, expected);
  EXPECT_EQ(r.total, data.size());
  EXPECT_EQ(r.correct, backend->evaluate(data).correct);
  // Per class: correct (the diagonal), total (the row) and their ratio, for each digit.
  std::istringstream digits(out.substr(out.find("accuracy\n", out.find("Per class:")) + 9));
  for (std::size_t d = 0; d < 10; ++d) {
    std::size_t digit = 99, right = 0, all = 0;
    double percent = -1;
    char sign = 0;
    digits >> digit >> right >> all >> percent >> sign;
    EXPECT_EQ(sign, '%');
    std::size_t row = 0;
    for (std::size_t n : expected[d]) row += n;
    EXPECT_EQ(digit, d);
    EXPECT_EQ(right, expected[d][d]) << "digit " << d;
    EXPECT_EQ(all, row) << "digit " << d;
    EXPECT_NEAR(percent, 100.0 * double(right) / double(all), 0.005) << "digit " << d;  // printed to 2 decimals
  }
  return r;
}

// A signal once the last epoch's line is out used to find no handler (it was gone with the epoch loop) or be
// ignored: the run died silently or saved as if never interrupted. Now it ends the run before --save, with the
// final checkpoint, in one line. The metrics' evaluation of 10,000 validation records by 784-2500-2500-10 after
// the line (about 1.8 s here) is the window the signal lands in.
TEST_F(ModelCli, ASignalAfterTheLastEpochKeepsTheFinalCheckpointAndSaysSo) {
  TempDir dir;
  const std::string ck = (dir / "ck").string(), save = (dir / "m.safetensors").string();
  const test::CliRun run = test::run_cli_signalled(
      {"train", "--data", test::mnist_dir().string(), "--device", "cpu", "--sizes", "784,2500,2500,10", "--batch",
       "100", "--train-size", "200", "--validation-size", "10000", "--test-size", "100", "--epochs", "1", "--metrics",
       (dir / "m.jsonl").string(), "--checkpoint", ck, "--save", save},
      "Epoch 1/1:", SIGINT);
  EXPECT_EQ(run.status, 130) << run.out << run.err;
  EXPECT_EQ(run.err, "sigmanet: SIGINT after the last epoch, 1: training is complete and checkpoint " + ck +
                         " holds the network; the model was not saved to " + save +
                         " (the checkpoint is a model too: sigmanet evaluate --model " + ck + ")\n");
  EXPECT_EQ(load_checkpoint(ck).state.epochs_done, 1);
  EXPECT_FALSE(std::filesystem::exists(save));
}

// `train | head -1` died of SIGPIPE at its next line with neither model nor checkpoint. Now the closed output
// stops the run as a first Ctrl-C does: checkpoint, one line on stderr, exit 141 (128 + SIGPIPE).
TEST_F(ModelCli, AClosedOutputStopsTheRunWithACheckpoint) {
  TempDir dir;
  const test::CliRun run = test::run_program(
      "bash",
      {"-c", "set -o pipefail; \"$0\" \"$@\" | head -1", test::cli_path(), "train", "--data", test::mnist_dir().string(),
       "--device", "cpu", "--train-size", "2000", "--validation-size", "100", "--test-size", "200", "--epochs", "50"},
      60, {}, dir.path());
  EXPECT_EQ(run.status, 141) << run.out << run.err;
  EXPECT_EQ(run.out.rfind("Training 784-30-10", 0), 0u) << run.out;
  const std::string stopped = "sigmanet: SIGPIPE (standard output was closed): stopped in epoch ";
  EXPECT_EQ(run.err.rfind(stopped, 0), 0u) << run.err;
  EXPECT_NE(run.err.find("checkpoint written to sigmanet-checkpoint.safetensors (continue with: sigmanet train "
                         "--resume sigmanet-checkpoint.safetensors)\n"),
            std::string::npos)
      << run.err;
  const Checkpoint saved = load_checkpoint(dir / "sigmanet-checkpoint.safetensors");
  EXPECT_GE(saved.state.epochs_done, 1);
  EXPECT_LT(saved.state.epochs_done, 50);
}

// My own: closing the terminal (SIGHUP) killed a run with nothing kept; it now stops as SIGTERM does, exit 129.
// Under nohup (SIGHUP ignored) it stays ignored and the run goes on.
TEST_F(ModelCli, ClosingTheTerminalStopsTheRunWithACheckpointUnlessIgnored) {
  TempDir dir;
  const std::string ck = (dir / "ck").string();
  const std::vector<std::string> args = {"train", "--data", test::mnist_dir().string(), "--device", "cpu",
                                         "--train-size", "2000", "--validation-size", "100", "--test-size", "200",
                                         "--checkpoint", ck};
  std::vector<std::string> long_run = args;
  long_run.insert(long_run.end(), {"--epochs", "500"});
  const test::CliRun hung_up = test::run_cli_signalled(long_run, "Epoch 1/", SIGHUP);
  EXPECT_EQ(hung_up.status, 129) << hung_up.err;
  EXPECT_EQ(hung_up.err.rfind("sigmanet: SIGHUP (the terminal was closed): stopped in epoch ", 0), 0u) << hung_up.err;
  EXPECT_GE(load_checkpoint(ck).state.epochs_done, 1);
  // nohup's way: SIGHUP ignored before the tool starts (the child inherits it from this process).
  std::vector<std::string> short_run = args;
  short_run.insert(short_run.end(), {"--epochs", "3"});
  std::signal(SIGHUP, SIG_IGN);
  const test::CliRun ignored = test::run_cli_signalled(short_run, "Epoch 1/", SIGHUP);
  std::signal(SIGHUP, SIG_DFL);
  EXPECT_EQ(ignored.status, 0) << ignored.err;
  EXPECT_NE(ignored.out.find("Epoch 3/3"), std::string::npos) << ignored.out;
}

// Under a launcher, a SIGCONT from the parent is the launcher ending the job: Open MPI's daemon sends it a second
// before SIGTERM, and SIGKILL follows that SIGTERM at once when a rank has died, so the second is the run's only
// chance to keep its work. It stops the run as SIGTERM does, and the launcher's SIGTERM after it is no second signal
// (which would end the run at once, the checkpoint not updated). Here the launcher's variables say a job of one
// process (which trains alone); without them a SIGCONT only continues the process, and the run goes on to its end.
TEST_F(ModelCli, ALaunchersSigcontStopsTheRunAsSigtermDoes) {
  TempDir dir;
  const std::vector<std::string> args = {"train", "--data", test::mnist_dir().string(), "--device", "cpu",
                                         "--train-size", "2000", "--validation-size", "100", "--test-size", "200"};
  // The launcher's variables make the tool ask MPI how many processes the job has (MPI_Init); in the sanitizer
  // build LeakSanitizer is off for it, as for every process of an mpirun job (test_support.cpp's mpirun_args):
  // Open MPI keeps its start-up memory to the end by design.
  std::vector<std::pair<std::string, std::string>> launched = {{"OMPI_COMM_WORLD_SIZE", "1"},
                                                               {"OMPI_COMM_WORLD_RANK", "0"}};
#ifdef SIGMANET_TEST_SANITIZED
  launched.emplace_back("LSAN_OPTIONS", "detect_leaks=0");
#endif
  // The launcher's signals once epoch 1's line is out: SIGCONT, and then SIGTERM when `and_term`.
  const auto ended_by_launcher = [&](const std::string& ck, bool and_term) {
    std::vector<std::string> long_run = args;
    long_run.insert(long_run.end(), {"--epochs", "500", "--checkpoint", ck});
    bool sent = false;
    return test::run_program_watched(test::cli_path(), long_run, 60, launched,
                                     [&](int pid, const test::CliRun& so_far) {
                                       if (sent || so_far.out.find("Epoch 1/") == std::string::npos) return;
                                       sent = true;
                                       kill(pid, SIGCONT);
                                       if (!and_term) return;
                                       while (test::signal_pending(pid, SIGCONT)) std::this_thread::yield();
                                       kill(pid, SIGTERM);
                                     });
  };
  for (const bool and_term : {false, true}) {
    const std::string ck = (dir / ("ck" + std::to_string(and_term))).string();
    const test::CliRun ended = ended_by_launcher(ck, and_term);
    EXPECT_EQ(ended.status, 143) << ended.err;
    EXPECT_EQ(ended.err.rfind("sigmanet: SIGTERM: stopped in epoch ", 0), 0u) << ended.err;
    EXPECT_EQ(ended.err.find("second signal"), std::string::npos) << ended.err;
    EXPECT_GE(load_checkpoint(ck).state.epochs_done, 1);
  }
  std::vector<std::string> short_run = args;
  short_run.insert(short_run.end(), {"--epochs", "3"});
  const test::CliRun alone = test::run_cli_signalled(short_run, "Epoch 1/", SIGCONT);
  EXPECT_EQ(alone.status, 0) << alone.err;
  EXPECT_NE(alone.out.find("Epoch 3/3"), std::string::npos) << alone.out;
}

TEST_F(ModelCli, EvaluateReportsAccuracyPerDigitConfusionAndDrawsMistakes) {
  TempDir dir;
  std::string out;
  ASSERT_EQ(run_cli("evaluate --device cpu " + data_flag() + " --model " + quote(model()) + " --mistakes " +
                        quote(dir / "mistakes.png") + " --mistakes-count 25",
                    &out),
            0)
      << out;
  const EvaluateReport r = check_evaluate_report(out, "test", test::mnist().test, model());
  EXPECT_NE(out.find("the first 25 of " + std::to_string(r.total - r.correct)), std::string::npos) << out;
  const Image png = decode_png_grey(read_file_bytes(dir / "mistakes.png"), "mistakes.png");
  EXPECT_EQ(png.width, 4u + 10 * (56 + 4));
  EXPECT_EQ(png.height, 4u + 3 * (56 + 14 + 4));
}

// --set validation evaluates the last 10,000 training records, not the test set.
TEST_F(ModelCli, EvaluateOnTheValidationSet) {
  std::string out;
  ASSERT_EQ(run_cli("evaluate --device cpu --set validation " + data_flag() + " --model " + quote(model()), &out), 0)
      << out;
  EXPECT_EQ(out.find("test set: "), std::string::npos) << out;
  check_evaluate_report(out, "validation", test::mnist().validation, model());
}

// MNIST test record 0 written as PNG, binary and plain PGM, and inverted: every form gives one answer.
TEST_F(ModelCli, PredictReadsPngAndPgmLikeTheTestSet) {
  const Mnist mnist = load_mnist(test::mnist_dir(), {2000, 1000, 10});
  const std::uint8_t* pixels = mnist.test.image(0);
  Image img(28, 28, 1);
  std::copy(pixels, pixels + 784, img.pixels.begin());
  TempDir dir;
  write_png(dir / "digit.png", img);
  std::string p5 = "P5\n# test record 0\n28 28\n255\n", p2 = "P2\n28 28\n255\n";
  p5.append(reinterpret_cast<const char*>(pixels), 784);
  for (int i = 0; i < 784; ++i) p2 += std::to_string(pixels[i]) + (i % 28 == 27 ? "\n" : " ");
  test::write_bytes(dir / "digit5.pgm", std::vector<std::uint8_t>(p5.begin(), p5.end()));
  test::write_bytes(dir / "digit2.pgm", std::vector<std::uint8_t>(p2.begin(), p2.end()));
  Image inverted = img;
  for (auto& v : inverted.pixels) v = static_cast<std::uint8_t>(255 - v);
  write_png(dir / "paper.png", inverted);

  std::string out;
  ASSERT_EQ(run_cli("predict --device cpu " + data_flag() + " --model " + quote(model()) + " " +
                        quote(dir / "digit.png") + " " + quote(dir / "digit5.pgm") + " " + quote(dir / "digit2.pgm") +
                        " " + quote(dir / "paper.png") + " --index 0",
                    &out),
            0)
      << out;
  std::istringstream in(out);
  std::vector<std::string> answers;
  for (std::string line; std::getline(in, line);)
    if (line.find("outputs") != std::string::npos) answers.push_back(line);
  ASSERT_EQ(answers.size(), 5u) << out;
  auto tail = [](const std::string& line) { return line.substr(line.find("; outputs")); };
  // The digit is the model's, as evaluated here.
  auto backend = make_backend(Device::cpu, Precision::f32);
  backend->set_parameters(load_model(model()).parameters);
  const std::vector<double> want = backend->outputs(mnist.test, 0, 1);
  const std::string digit = std::to_string(std::max_element(want.begin(), want.end()) - want.begin());
  EXPECT_EQ(answers[4].substr(0, answers[4].find(';')), "test[0]: " + digit + " (true 7)") << out;
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(tail(answers[i]), tail(answers[4])) << out;
    EXPECT_EQ(answers[i].substr(answers[i].find(": ") + 2, 1), digit) << out;
  }
  EXPECT_NE(answers[3].find("inverted"), std::string::npos) << out;
  EXPECT_EQ(answers[3].substr(answers[3].find(": ") + 2, 1), digit) << out;
  // The ten activations, to the 4 decimals printed.
  std::istringstream values(tail(answers[0]).substr(9));
  int count = 0;
  for (double v; values >> v; ++count) EXPECT_NEAR(v, want[std::size_t(count)], 5e-5) << count;
  EXPECT_EQ(count, 10);
}

// Each --index gets the digit whose output is largest, as evaluated here, whichever digit that is (the first 20
// test records: the model predicts 0, 1, 4, 6, 7, 8 and 9 among them).
TEST_F(ModelCli, PredictNamesTheDigitOfTheLargestOutput) {
  std::string out;
  ASSERT_EQ(run_cli("predict --device cpu " + data_flag() + " --model " + quote(model()) +
                        " --index 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19",
                    &out),
            0)
      << out;
  auto backend = make_backend(Device::cpu, Precision::f32);
  backend->set_parameters(load_model(model()).parameters);
  const std::vector<double> want = backend->outputs(test::mnist().test, 0, 20);
  std::istringstream in(out);
  std::set<std::size_t> predicted;
  std::size_t record = 0;
  for (std::string line; std::getline(in, line); ++record) {
    ASSERT_LT(record, 20u) << out;
    const double* row = &want[record * 10];
    const std::size_t digit = std::size_t(std::max_element(row, row + 10) - row);
    predicted.insert(digit);
    EXPECT_EQ(line.rfind("test[" + std::to_string(record) + "]: " + std::to_string(digit) + " (true " +
                             std::to_string(test::mnist().test.labels[record]) + "); outputs ",
                         0),
              0u)
        << line;
  }
  EXPECT_EQ(record, 20u);
  EXPECT_EQ(predicted.count(9), 1u) << "a 9 among the answers, so that every digit's output is taken";
}

TEST_F(ModelCli, BadImagesExit2WithOneLine) {
  TempDir dir;
  write_png(dir / "small.png", Image(20, 20, 1));
  test::write_bytes(dir / "text.png", {'h', 'e', 'l', 'l', 'o'});
  const std::string cut = "P5\n28 28\n255\n" + std::string(100, '\0');
  test::write_bytes(dir / "cut.pgm", std::vector<std::uint8_t>(cut.begin(), cut.end()));
  const std::string big = "P2\n1 1\n255\n300\n";
  test::write_bytes(dir / "big.pgm", std::vector<std::uint8_t>(big.begin(), big.end()));
  auto png = read_file_bytes(dir / "small.png");
  png.resize(png.size() / 2);
  test::write_bytes(dir / "half.png", png);
  for (const auto& [file, says] : std::vector<std::pair<std::string, std::string>>{
           {"small.png", "20x20"}, {"text.png", "not a PNG or PGM"}, {"cut.pgm", "truncated"},
           {"big.pgm", "exceeds maxval"}, {"half.png", "cannot decode PNG"}, {"none.png", "cannot open"}}) {
    std::string out;
    EXPECT_EQ(run_cli("predict --model " + quote(model()) + " " + quote(dir / file), &out), 2) << file << out;
    EXPECT_NE(out.find(file), std::string::npos) << out;
    EXPECT_NE(out.find(says), std::string::npos) << out;
    EXPECT_EQ(lines(out), 1u) << out;
  }
  std::string out;
  EXPECT_EQ(run_cli("predict --model " + quote(model()), &out), 2) << out;
  EXPECT_EQ(run_cli("predict " + data_flag() + " --model " + quote(model()) + " --index 10000", &out), 2) << out;
  EXPECT_NE(out.find("--index"), std::string::npos) << out;
}

// Each bad model file makes evaluate, predict and show-weights say what is wrong in one line naming the
// file, and exit 2.
TEST_F(ModelCli, BadModelsExit2WithOneLineNamingTheFile) {
  TempDir dir;
  const std::vector<std::uint8_t> good = read_file_bytes(model());
  std::vector<std::pair<std::string, std::vector<std::uint8_t>>> files;
  files.push_back({"empty", {}});
  files.push_back({"truncated", std::vector<std::uint8_t>(good.begin(), good.begin() + std::ptrdiff_t(good.size() / 2))});
  auto long_header = good;
  long_header[3] = 0x7f;
  files.push_back({"header-length", long_header});
  auto bad_json = good;
  *std::find(bad_json.begin() + 8, bad_json.end(), ':') = '#';
  files.push_back({"bad-json", bad_json});

  SafeTensors content = read_safetensors(model());
  auto variant = [&](const std::string& name, auto change) {
    SafeTensors f = content;
    change(f);
    files.push_back({name, encode_safetensors(f)});
  };
  variant("no-chain", [](SafeTensors& f) {
    f.tensors["layers.1.weight"] = Tensor::from_doubles(std::vector<double>(290, 0.1), {10, 29}, Dtype::f32);
    f.metadata.erase("sizes");
  });
  variant("nan", [](SafeTensors& f) {
    std::vector<double> b(10, 0.0);
    b[3] = std::nan("");
    f.tensors["layers.1.bias"] = Tensor::from_doubles(b, {10}, Dtype::f32);
  });
  variant("inf", [](SafeTensors& f) {
    auto w = f.tensors["layers.0.weight"].as_doubles("");
    w[100] = HUGE_VAL;
    f.tensors["layers.0.weight"] = Tensor::from_doubles(w, {30, 784}, Dtype::f64);
  });
  variant("dtype", [](SafeTensors& f) { f.tensors["layers.1.bias"] = Tensor::from_u32(std::vector<std::uint32_t>(10), {10}); });
  variant("not-mnist", [](SafeTensors& f) {
    f.tensors["layers.0.weight"] = Tensor::from_doubles(std::vector<double>(300, 0.1), {30, 10}, Dtype::f32);
    f.metadata.erase("sizes");
  });
  // Overlapping ranges: move the second tensor's range 4 bytes back into the first, in the raw header
  // (numbers padded with spaces so the header keeps its length).
  {
    std::string raw(good.begin(), good.end());
    const auto first = raw.find("\"data_offsets\":[0,");
    ASSERT_NE(first, std::string::npos);
    const auto second = raw.find("\"data_offsets\":[", first + 10) + 16;
    const auto comma = raw.find(',', second), close = raw.find(']', comma);
    const std::size_t begin = std::stoul(raw.substr(second, comma - second));
    const std::size_t end = std::stoul(raw.substr(comma + 1, close - comma - 1));
    std::string moved = std::to_string(begin - 4) + "," + std::to_string(end - 4);
    moved.append(close - second - moved.size(), ' ');
    raw.replace(second, close - second, moved);
    files.push_back({"overlap", std::vector<std::uint8_t>(raw.begin(), raw.end())});
  }
  const std::vector<std::pair<std::string, std::string>> expect = {
      {"empty", "truncated"},       {"truncated", "truncated"}, {"header-length", "header length"},
      {"bad-json", "not valid JSON"}, {"no-chain", "do not chain"}, {"nan", "non-finite"},
      {"inf", "non-finite"},        {"dtype", "expected F32 or F64"}, {"not-mnist", "\"input_shape\" is \"28x28\", but the first layer takes 10 inputs"},
      {"overlap", "overlaps"}};
  for (const auto& [name, bytes] : files) test::write_bytes(dir / name, bytes);
  for (const auto& [name, says] : expect) {
    for (const std::string& command : {"evaluate " + data_flag(), "predict --index 0 " + data_flag()}) {
      std::string out;
      EXPECT_EQ(run_cli(command + " --model " + quote(dir / name), &out), 2) << name << ": " << out;
      EXPECT_EQ(out.rfind("sigmanet: " + (dir / name).string() + ": ", 0), 0u) << out;
      EXPECT_NE(out.find(says), std::string::npos) << name << ": " << out;
      EXPECT_EQ(lines(out), 1u) << out;
    }
  }
  std::string out;
  EXPECT_EQ(run_cli("evaluate --model " + quote(dir / "missing"), &out), 2) << out;
  EXPECT_NE(out.find("cannot open"), std::string::npos) << out;
}

// A flipped bit in a finite weight is caught by the tensor's checksum: exit 2, one line naming the file and the
// tensor, for a model and for a checkpoint (which evaluate reads as a model too). The same bytes without
// checksums, as files from before them were, load and evaluate.
TEST_F(ModelCli, AFlippedBitInAModelOrCheckpointIsExit2NamingTheFileAndTheTensor) {
  TempDir dir;
  const Model m = load_model(model());
  Checkpoint ck;
  ck.config.sizes = m.parameters.sizes;
  ck.parameters = m.parameters;
  Rng rng(3);
  ck.state.rng = rng.snapshot();
  save_checkpoint(dir / "ck.safetensors", ck);
  for (const std::filesystem::path& good : {model(), dir / "ck.safetensors"}) {
    test::Bytes bytes = read_file_bytes(good);
    test::flip_bit(bytes, "layers.0.weight", 4 * 1000, 0);  // weight 1000's lowest bit: still finite
    const auto bad = dir / ("bad-" + good.filename().string());
    test::write_bytes(bad, bytes);
    std::string out;
    EXPECT_EQ(run_cli("evaluate " + data_flag() + " --model " + quote(bad), &out), 2) << out;
    EXPECT_EQ(out.rfind("sigmanet: " + bad.string() + ": tensor 'layers.0.weight' is damaged: its bytes have CRC32 ", 0),
              0u)
        << out;
    EXPECT_EQ(lines(out), 1u) << out;
    const auto old = dir / ("old-" + good.filename().string());
    test::write_bytes(old, test::without_checksums(bytes));
    EXPECT_EQ(run_cli("evaluate --device cpu " + data_flag() + " --model " + quote(old), &out), 0) << out;
  }
}

// One tile per hidden neuron, its 28x28 weights each a square of `scale` pixels: red for a positive weight, blue for
// a negative one, fading to white with the weight's size against the tile's largest (host/reports/drawings.cpp).
TEST_F(ModelCli, ShowWeightsDrawsEachWeightInTheColourOfItsSign) {
  TempDir dir;
  std::string out;
  ASSERT_EQ(run_cli("show-weights --model " + quote(model()) + " --out " + quote(dir / "w.png") + " --scale 3", &out),
            0)
      << out;
  const Image png = test::decode_png_rgb(read_file_bytes(dir / "w.png"));
  // 30 tiles: 6 columns x 5 rows of 84 pixels with 3-pixel gaps.
  ASSERT_EQ(png.width, 3u + 6 * (84 + 3));
  ASSERT_EQ(png.height, 3u + 5 * (84 + 3));
  const Parameters p = load_model(model()).parameters;
  std::size_t positive = 0, negative = 0;
  for (std::size_t t = 0; t < 30; ++t) {
    const double* w = &p.weights[0][t * 784];
    double largest = 0;
    for (std::size_t i = 0; i < 784; ++i) largest = std::max(largest, std::abs(w[i]));
    for (std::size_t i = 0; i < 784; ++i) {
      const std::uint8_t* rgb = png.at(3 + (t % 6) * 87 + (i % 28) * 3 + 2, 3 + (t / 6) * 87 + (i / 28) * 3 + 2);
      const auto fade = std::uint8_t(std::lround(255.0 * (1.0 - std::abs(w[i]) / largest)));
      const std::array<std::uint8_t, 3> want = w[i] >= 0 ? std::array<std::uint8_t, 3>{255, fade, fade}
                                                         : std::array<std::uint8_t, 3>{fade, fade, 255};
      ASSERT_EQ((std::array<std::uint8_t, 3>{rgb[0], rgb[1], rgb[2]}), want) << "neuron " << t << ", weight " << i;
      (w[i] >= 0 ? positive : negative) += 1;
    }
  }
  EXPECT_GT(positive, 1000u);  // both signs drawn (N(0, 1) weights: about half each)
  EXPECT_GT(negative, 1000u);
  // A folder that does not exist is bad input, named with the flag, found before the model is read.
  EXPECT_EQ(run_cli("show-weights --model " + quote(model()) + " --out " + quote(dir / "no" / "w.png"), &out), 2)
      << out;
  EXPECT_EQ(out, "sigmanet: --out: folder " + (dir / "no").string() + " does not exist\n");
}

bool have_debian_python() { return std::filesystem::exists("/usr/bin/python3"); }

// The model file read with json + numpy and loaded into torch.nn.Linear gives sigmanet's predictions.
void expect_python_agrees(const std::filesystem::path& model_file) {
  if (!have_debian_python()) GTEST_SKIP() << "/usr/bin/python3 is not installed";
  const Model m = load_model(model_file);
  const Mnist mnist = load_mnist(test::mnist_dir(), {2000, 1000, 100});
  auto backend = make_backend(Device::cpu, Precision::f32);
  backend->set_parameters(m.parameters);
  const std::vector<double> out = backend->outputs(mnist.test, 0, 100);
  nlohmann::json expected = {{"first", 0}, {"count", 100}, {"predictions", nlohmann::json::array()},
                             {"outputs", nlohmann::json::array()}};
  for (std::size_t i = 0; i < 100; ++i) {
    const double* row = &out[i * 10];
    expected["predictions"].push_back(std::max_element(row, row + 10) - row);
    expected["outputs"].push_back(std::vector<double>(row, row + 10));
  }
  TempDir dir;
  std::ofstream(dir / "expected.json") << expected.dump();
  const std::string command = "/usr/bin/python3 " + quote(test::source_path("tests/formats/check_safetensors.py")) + " " +
                              quote(model_file) + " " + quote(dir / "expected.json") + " " + quote(test::mnist_dir()) +
                              " 2>&1";
  FILE* pipe = popen(command.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::string text;
  char buf[4096];
  while (std::size_t n = std::fread(buf, 1, sizeof buf, pipe)) text.append(buf, n);
  const int status = pclose(pipe);
  const int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  if (code == 77) GTEST_SKIP() << text;
  EXPECT_EQ(code, 0) << text;
  const std::string output = m.parameters.output == Activation::softmax ? "softmax output" : "sigmoid output";
  EXPECT_NE(text.find("numpy: 100 predictions match"), std::string::npos) << text;
  EXPECT_NE(text.find(output), std::string::npos) << text;
  // PyTorch comes with the tests' packages (scripts/install-deps.sh): its check runs, never skips.
  const std::size_t torch = text.find("\ntorch ");
  ASSERT_NE(torch, std::string::npos) << text;
  EXPECT_NE(text.find(": 100 predictions match", torch), std::string::npos) << text;
  std::cout << text;
}

TEST_F(ModelCli, PythonReadsTheModelAndAgreesOnPredictions) { expect_python_agrees(model()); }

TEST_F(ModelCli, PythonReadsASoftmaxModelWithItsOutputLayer) {
  TempDir dir;
  std::string out;
  ASSERT_EQ(run_cli("train --device cpu --epochs 1 --train-size 2000 --validation-size 100 --test-size 100 "
                    "--cost log-likelihood --eta 0.5 --data " + quote(test::mnist_dir()) + " --save " +
                        quote(dir / "ll.safetensors"),
                    &out),
            0)
      << out;
  expect_python_agrees(dir / "ll.safetensors");
}

// A model of these sizes whose weights and biases are all 0: every output is 0.5, so it calls every digit a 0.
std::filesystem::path zero_model(const TempDir& dir, const std::vector<int>& sizes) {
  Parameters p;
  p.sizes = sizes;
  for (std::size_t l = 0; l + 1 < sizes.size(); ++l) {
    p.weights.emplace_back(std::size_t(sizes[l]) * std::size_t(sizes[l + 1]), 0.0);
    p.biases.emplace_back(std::size_t(sizes[l + 1]), 0.0);
  }
  const std::filesystem::path file = dir / ("zero-" + sizes_text(sizes, '-') + ".safetensors");
  save_model(file, p, {});
  return file;
}

// Pictures past what can be drawn (stb_image_write's int arithmetic wrapped: a segfault at 784-1681-10, exit 1
// "stb_image_write failed" at 784-900-10) are refused before any drawing, naming the flag and the size.
TEST_F(ModelCli, ShowWeightsRefusesAPictureTooLargeNamingTheScaleThatFits) {
  TempDir dir;
  const std::filesystem::path out = dir / "w.png";
  for (const auto& [sizes, expected] : std::vector<std::pair<std::vector<int>, std::string>>{
           {{784, 1681, 10}, "38080x38080 pixels (4.1 GiB), more than the 256 MiB a picture may have; --scale 7 or "
                             "less fits"},
           {{784, 900, 10}, "27872x27872 pixels (2.2 GiB), more than the 256 MiB a picture may have; --scale 10 or "
                            "less fits"}}) {
    const test::CliRun run = test::run_cli_argv(
        {"show-weights", "--model", zero_model(dir, sizes).string(), "--out", out.string(), "--scale", "32"});
    EXPECT_EQ(run.status, 2) << run.err;
    EXPECT_EQ(run.err, "sigmanet: --scale 32: the tiles of " + std::to_string(sizes[1]) +
                           " first-layer neurons would make " + expected + "\n");
    EXPECT_FALSE(std::filesystem::exists(out));
  }
}

TEST_F(ModelCli, EvaluateRefusesAMistakesPictureTooLargeBeforeEvaluating) {
  TempDir dir;
  // The zero model gets 9020 of the 10,000 test digits wrong, so 5010 would be drawn.
  const test::CliRun run =
      test::run_cli_argv({"evaluate", "--device", "cpu", "--model", zero_model(dir, {784, 30, 10}).string(), "--data",
                          test::mnist_dir().string(), "--mistakes", (dir / "m.png").string(), "--mistakes-count",
                          "5010", "--scale", "16"});
  EXPECT_EQ(run.status, 2) << run.err;
  EXPECT_EQ(run.err,
            "sigmanet: --mistakes-count and --scale 16: a picture of 5010 mistakes would be 4832x296624 pixels "
            "(4.0 GiB), more than the 256 MiB a picture may have; at --scale 16 it holds up to 310\n");
  EXPECT_EQ(run.out, "") << "refused before the model was evaluated";
  EXPECT_FALSE(std::filesystem::exists(dir / "m.png"));
}

// scripts/plot_metrics.py as a person runs it (a PNG of two panels), and what it draws, read back line by line
// (tests/cli/check_plot_metrics.py): each set's accuracies and costs as the metrics hold them.
TEST_F(ModelCli, PlotMetricsDrawsTheCurves) {
  if (!have_debian_python()) GTEST_SKIP() << "/usr/bin/python3 is not installed";
  TempDir dir;
  const test::CliRun run = test::run_program(
      "/usr/bin/python3", {test::source_path("scripts/plot_metrics.py"), (*dir_ / "metrics.jsonl").string(),
                           (dir / "curves.png").string()});
  if (run.status == 77) GTEST_SKIP() << run.err;
  ASSERT_EQ(run.status, 0) << run.out << run.err;
  EXPECT_EQ(run.out, "plot_metrics: 2 epochs drawn in " + (dir / "curves.png").string() + "\n");
  const Image png = decode_png_grey(read_file_bytes(dir / "curves.png"), "curves.png");
  EXPECT_EQ(png.width, 1100u);  // 11 x 4.2 inches at 100 dots an inch
  EXPECT_EQ(png.height, 420u);
  const test::CliRun check = test::run_program(
      "/usr/bin/python3", {test::source_path("tests/cli/check_plot_metrics.py"), (*dir_ / "metrics.jsonl").string()});
  ASSERT_EQ(check.status, 0) << check.out << check.err;
  EXPECT_EQ(check.out, "plot_metrics: 2 epochs of 3 sets drawn as the metrics say\n");
}

}  // namespace
}  // namespace sigmanet
