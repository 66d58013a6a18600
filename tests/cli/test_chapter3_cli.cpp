// sigmanet train with chapter 3's flags: --cost, --lambda, --early-stopping and --eta-schedule, what they refuse,
// what they write into models, checkpoints and metrics, and how evaluate and predict read such models.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "formats/safetensors.hpp"
#include "test_support.hpp"

namespace sigmanet {
namespace {

namespace fs = std::filesystem;
using Args = std::vector<std::string>;
using test::CliRun;
using test::run_cli_argv;

Args small(Args more, const std::string& validation = "100") {
  Args a = {"train", "--device", "cpu", "--train-size", "300", "--validation-size", validation, "--test-size", "100",
            "--data", test::mnist_dir().string()};
  a.insert(a.end(), more.begin(), more.end());
  return a;
}

int lines(const std::string& s) { return int(std::count(s.begin(), s.end(), '\n')); }

void expect_refused(const Args& args, const std::string& names) {
  const CliRun run = run_cli_argv(args);
  std::string context;
  for (const std::string& a : args) context += a + " ";
  EXPECT_EQ(run.status, 2) << context << "\n" << run.err;
  EXPECT_EQ(lines(run.err), 1) << context << "\n" << run.err;
  EXPECT_NE(run.err.find(names), std::string::npos) << context << ": should name " << names << "\n" << run.err;
  EXPECT_EQ(run.out, "") << context;
}

std::vector<nlohmann::json> read_metrics(const fs::path& file) {
  std::ifstream in(file);
  std::vector<nlohmann::json> out;
  for (std::string line; std::getline(in, line);) out.push_back(nlohmann::json::parse(line));
  return out;
}

TEST(Chapter3Cli, BadValuesAreRefusedWithOneLineNamingTheFlag) {
  const auto not_decimal = [](const std::string& value) {
    return "sigmanet: --lambda: expected a decimal number such as 0.5 or 3e-2 (got '" + value + "')";
  };
  expect_refused(small({"--lambda", "-1"}), "sigmanet: --lambda: must be a finite number, 0 or more (got -1)");
  expect_refused(small({"--lambda", "nan"}), not_decimal("nan"));
  expect_refused(small({"--lambda", "inf"}), not_decimal("inf"));
  expect_refused(small({"--early-stopping", "0"}), "sigmanet: --early-stopping: must be at least 1 (got '0')");
  expect_refused(small({"--early-stopping", "-3"}), "sigmanet: --early-stopping: must be at least 1 (got '-3')");
  for (const std::string bad : {"halve:0", "halve:x", "halve", "halve:", "linear:3", "halve:-2"})
    expect_refused(small({"--eta-schedule", bad}),
                   "sigmanet: --eta-schedule: expected halve:N (halve eta after N epochs without a better validation "
                   "accuracy, N >= 1) or constant, got '" + bad + "'");
  expect_refused(small({"--cost", "hinge"}),
                 "sigmanet: --cost: expected quadratic, cross-entropy or log-likelihood (got 'hinge')");
  expect_refused(small({"--early-stopping", "2"}, "0"),
                 "sigmanet: --early-stopping watches the validation accuracy, but --validation-size is 0");
  expect_refused(small({"--eta-schedule", "halve:2"}, "0"),
                 "sigmanet: --eta-schedule watches the validation accuracy, but --validation-size is 0");
}

TEST(Chapter3Cli, ResumingWithAnotherCostOrLambdaIsRefused) {
  test::TempDir dir;
  const std::string ck = (dir / "ck.safetensors").string();
  const CliRun run = run_cli_argv(small({"--epochs", "1", "--cost", "cross-entropy", "--eta", "0.5", "--lambda", "2",
                                         "--checkpoint", ck}));
  ASSERT_EQ(run.status, 0) << run.err;
  const std::string made = ": the checkpoint was made with ";
  expect_refused({"train", "--resume", ck, "--epochs", "2", "--cost", "quadratic"}, "--cost" + made + "cross-entropy;");
  // (lambda's value in any spelling of 2)
  expect_refused({"train", "--resume", ck, "--epochs", "2", "--lambda", "3"}, "--lambda" + made + "lambda 2");
  expect_refused({"train", "--resume", ck, "--epochs", "2", "--early-stopping", "3"},
                 "--early-stopping" + made + "no early stopping;");
  expect_refused({"train", "--resume", ck, "--epochs", "2", "--eta-schedule", "halve:3"},
                 "--eta-schedule" + made + "eta schedule constant;");
  // The same values, or none, continue the run.
  const CliRun more = run_cli_argv({"train", "--resume", ck, "--epochs", "2", "--cost", "cross-entropy", "--lambda",
                                    "2", "--data", test::mnist_dir().string(), "--device", "cpu"});
  EXPECT_EQ(more.status, 0) << more.err;
  EXPECT_NE(more.out.find("cross-entropy cost, L2 lambda 2"), std::string::npos) << more.out;
}

// Numbers are written so they read back exactly: --lambda 1e-7 was saved as "0.000000" (std::to_string), so
// evaluate lost the model's L2 term, and a resume refusal quoted the checkpoint's eta rounded to six digits.
TEST(Chapter3Cli, NumbersAreWrittenAndQuotedExactly) {
  test::TempDir dir;
  const std::string model = (dir / "m.safetensors").string(), ck = (dir / "ck").string();
  ASSERT_EQ(run_cli_argv(small({"--epochs", "1", "--cost", "cross-entropy", "--eta", "0.1234567", "--lambda",
                                "1e-7", "--save", model, "--checkpoint", ck}))
                .status,
            0);
  const SafeTensors saved = read_safetensors(model);
  EXPECT_EQ(saved.metadata.at("lambda"), "1e-07");
  EXPECT_EQ(saved.metadata.at("eta"), "0.1234567");
  const CliRun evaluate = run_cli_argv({"evaluate", "--device", "cpu", "--model", model, "--data",
                                        test::mnist_dir().string()});
  ASSERT_EQ(evaluate.status, 0) << evaluate.err;
  EXPECT_NE(evaluate.out.find(" + L2 "), std::string::npos) << evaluate.out;
  EXPECT_NE(evaluate.out.find("(lambda 1e-07)"), std::string::npos) << evaluate.out;
  expect_refused({"train", "--resume", ck, "--epochs", "2", "--eta", "0.5"},
                 "--eta: the checkpoint was made with 0.1234567; a resumed run keeps its settings");
  expect_refused({"train", "--resume", ck, "--epochs", "2", "--lambda", "2"},
                 "--lambda: the checkpoint was made with lambda 1e-07; a resumed run keeps its settings");
}

TEST(Chapter3Cli, ModelsRecordTheObjectiveAndEvaluateReportsItsCost) {
  test::TempDir dir;
  const fs::path model = dir / "ce.safetensors", metrics = dir / "m.jsonl";
  const CliRun run = run_cli_argv(small({"--epochs", "2", "--cost", "cross-entropy", "--eta", "0.5", "--lambda", "5",
                                         "--save", model.string(), "--metrics", metrics.string()}));
  ASSERT_EQ(run.status, 0) << run.err;
  const SafeTensors file = read_safetensors(model);
  EXPECT_EQ(file.metadata.at("cost"), "cross-entropy");
  EXPECT_EQ(std::stod(file.metadata.at("lambda")), 5.0);
  EXPECT_EQ(file.metadata.at("output_activation"), "sigmoid");
  const std::vector<nlohmann::json> m = read_metrics(metrics);
  ASSERT_EQ(m.size(), 2u);
  EXPECT_EQ(m[1]["cost_function"], "cross-entropy");
  EXPECT_EQ(m[1]["lambda"], 5.0);
  // The L2 term over each set's own size, as network2.py reports it: the 100-record sets carry three times the
  // 300-record training set's share, so the costs cannot all be near the data term alone.
  EXPECT_GT(m[1]["test_cost"].get<double>(), 0.0);
  EXPECT_GT(m[1]["validation_cost"].get<double>(), m[1]["train_cost"].get<double>());

  const CliRun eval = run_cli_argv({"evaluate", "--model", model.string(), "--data", test::mnist_dir().string(),
                                    "--device", "cpu"});
  ASSERT_EQ(eval.status, 0) << eval.err;
  EXPECT_NE(eval.out.find("cross-entropy cost"), std::string::npos) << eval.out;
  EXPECT_NE(eval.out.find("+ L2"), std::string::npos) << eval.out;
}

TEST(Chapter3Cli, ASoftmaxModelPredictsProbabilities) {
  test::TempDir dir;
  const fs::path model = dir / "ll.safetensors";
  const CliRun run = run_cli_argv(small({"--epochs", "2", "--cost", "log-likelihood", "--eta", "0.5", "--save",
                                         model.string()}));
  ASSERT_EQ(run.status, 0) << run.err;
  EXPECT_EQ(read_safetensors(model).metadata.at("output_activation"), "softmax");
  const CliRun predict = run_cli_argv({"predict", "--model", model.string(), "--data", test::mnist_dir().string(),
                                       "--index", "3", "--device", "cpu"});
  ASSERT_EQ(predict.status, 0) << predict.err;
  // "test[3]: D (true D); outputs a0 ... a9": softmax outputs add up to 1.
  std::istringstream in(predict.out.substr(predict.out.find("outputs") + 7));
  double sum = 0, v = 0;
  int n = 0;
  while (in >> v) sum += v, ++n;
  EXPECT_EQ(n, 10) << predict.out;
  EXPECT_NEAR(sum, 1.0, 5e-4) << predict.out;  // ten values printed to 4 decimals
  const CliRun eval = run_cli_argv({"evaluate", "--model", model.string(), "--data", test::mnist_dir().string(),
                                    "--device", "cpu"});
  ASSERT_EQ(eval.status, 0) << eval.err;
  EXPECT_NE(eval.out.find("log-likelihood cost"), std::string::npos) << eval.out;
}

TEST(Chapter3Cli, EarlyStoppingEndsTheRunAndItsCheckpointCannotBeContinued) {
  test::TempDir dir;
  const std::string ck = (dir / "ck.safetensors").string();
  const CliRun run = run_cli_argv(small({"--epochs", "40", "--cost", "cross-entropy", "--eta", "0.5",
                                         "--early-stopping", "1", "--checkpoint", ck}));
  ASSERT_EQ(run.status, 0) << run.err;
  const std::size_t at = run.out.find("Stopping early after epoch ");
  ASSERT_NE(at, std::string::npos) << run.out;
  const int stopped = std::stoi(run.out.substr(at + 27));
  EXPECT_LT(stopped, 40);
  EXPECT_EQ(run.out.find("Epoch " + std::to_string(stopped + 1) + "/40"), std::string::npos) << run.out;
  expect_refused({"train", "--resume", ck, "--epochs", "50", "--data", test::mnist_dir().string()},
                 "nothing to continue");
}

TEST(Chapter3Cli, TheEtaScheduleHalvesEtaAndStopsAtOne128th) {
  test::TempDir dir;
  const fs::path metrics = dir / "m.jsonl";
  const CliRun run = run_cli_argv(small({"--epochs", "60", "--cost", "cross-entropy", "--eta", "0.5",
                                         "--eta-schedule", "halve:1", "--metrics", metrics.string()}));
  ASSERT_EQ(run.status, 0) << run.err;
  EXPECT_NE(run.out.find("eta halved to 0.25"), std::string::npos) << run.out;
  ASSERT_NE(run.out.find("1/128 of its start"), std::string::npos) << run.out;
  // Each epoch's line records the rate it trained with: never rising, from 0.5 down to 0.5/64 (the halving to
  // 0.5/128 ends the run instead of training with it).
  const std::vector<nlohmann::json> m = read_metrics(metrics);
  ASSERT_GE(m.size(), 8u);
  EXPECT_EQ(m.front()["eta"], 0.5);
  EXPECT_EQ(m.back()["eta"], 0.5 / 64);
  for (std::size_t i = 1; i < m.size(); ++i) EXPECT_LE(m[i]["eta"].get<double>(), m[i - 1]["eta"].get<double>());
}

// What network2.py's rules decide from a sequence of accuracies, epoch by epoch (TrainConfig): the eta each epoch
// trains with, and the epoch after which the run stops (0: it does not).
struct RulesTrace {
  std::vector<double> etas;
  std::size_t stopped_after = 0;
};
RulesTrace rules_on(const std::vector<double>& accuracy, double eta, int early_stopping, int halve_after) {
  RulesTrace t;
  double best = -1;
  int since_best = 0, since_change = 0, halvings = 0;
  for (std::size_t e = 0; e < accuracy.size() && !t.stopped_after; ++e) {
    t.etas.push_back(eta / (1 << halvings));
    if (accuracy[e] > best) {
      best = accuracy[e];
      since_best = since_change = 0;
    } else {
      ++since_best, ++since_change;
    }
    if (early_stopping && since_best >= early_stopping) {
      t.stopped_after = e + 1;
    } else if (halve_after && since_change >= halve_after) {
      since_change = 0;
      if (++halvings == 7) t.stopped_after = e + 1;
    }
  }
  return t;
}

// Early stopping and the eta schedule watch the validation accuracy, never the test set's: replayed on the
// accuracies the run's metrics hold, the rules give the run's own etas and its last epoch; replayed on the test
// accuracies they would give others (checked too, so that the test can tell the two apart). Measured: eta halved
// after epochs 12 and 15, and the run stopped after epoch 17; fed the test accuracies, the rules stop after 14.
TEST(Chapter3Cli, TheRulesWatchTheValidationAccuracy) {
  test::TempDir dir;
  const fs::path metrics = dir / "m.jsonl";
  const CliRun run = run_cli_argv(small({"--epochs", "40", "--cost", "cross-entropy", "--eta", "0.5",
                                         "--early-stopping", "4", "--eta-schedule", "halve:2",
                                         "--metrics", metrics.string()}));
  ASSERT_EQ(run.status, 0) << run.err;
  const std::vector<nlohmann::json> m = read_metrics(metrics);
  std::vector<double> validation, test, etas;
  for (const nlohmann::json& line : m) {
    validation.push_back(line["validation_accuracy"].get<double>());
    test.push_back(line["test_accuracy"].get<double>());
    etas.push_back(line["eta"].get<double>());
  }
  const RulesTrace watched = rules_on(validation, 0.5, 4, 2);
  EXPECT_EQ(watched.etas, etas) << run.out;
  EXPECT_EQ(watched.stopped_after, m.size()) << run.out;
  const RulesTrace wrong = rules_on(test, 0.5, 4, 2);
  EXPECT_TRUE(wrong.etas != watched.etas || wrong.stopped_after != watched.stopped_after);
}

}  // namespace
}  // namespace sigmanet
