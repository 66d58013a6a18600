// sigmanet sweep on the CPU: every run of the grid is the run `train --save` makes (the model files identical byte
// for byte), whatever runs beside it; the outputs; lists refused before any work; a stop and --resume giving the
// same bits as an uninterrupted sweep; the plot.
#include <gtest/gtest.h>

#include <signal.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

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

std::vector<nlohmann::json> json_lines(const fs::path& file) {
  std::ifstream in(file);
  std::vector<nlohmann::json> out;
  for (std::string line; std::getline(in, line);) out.push_back(nlohmann::json::parse(line));
  return out;
}

// The small data every run here trains on.
Args data_flags(const std::string& train_size = "2000") {
  return {"--device", "cpu", "--train-size", train_size, "--validation-size", "300", "--test-size", "300",
          "--data", test::mnist_dir().string()};
}

Args sweep(const fs::path& out, Args grid, const std::string& train_size = "2000") {
  Args args{"sweep", "--out", out.string()};
  for (const std::string& a : data_flags(train_size)) args.push_back(a);
  args.insert(args.end(), grid.begin(), grid.end());
  return args;
}

TEST(SweepCli, EveryRunIsByteIdenticalToTrainsModel) {
  test::TempDir dir;
  const test::CliRun run =
      test::run_cli_argv(sweep(dir / "out", {"--eta", "0.5,3", "--seed", "1-2", "--epochs", "2", "--save", "all",
                                             "--threads", "2"}),
                         120);
  ASSERT_EQ(run.status, 0) << run.err;
  for (const std::string eta : {"0.5", "3"})
    for (const std::string seed : {"1", "2"}) {
      Args train{"train", "--eta", eta, "--seed", seed, "--epochs", "2", "--save", (dir / "train").string()};
      for (const std::string& a : data_flags()) train.push_back(a);
      const test::CliRun alone = test::run_cli_argv(train, 60);
      ASSERT_EQ(alone.status, 0) << alone.err;
      const Bytes model = read_all(dir / "out" / "models" / ("eta=" + eta + "_seed=" + seed + ".safetensors"));
      ASSERT_GT(model.size(), 95000u);  // 23,860 F32 parameters and the header
      EXPECT_EQ(model, read_all(dir / "train")) << "eta " << eta << ", seed " << seed;
    }
  // The comparison can fail: two runs of the grid differ.
  EXPECT_NE(read_all(dir / "out" / "models" / "eta=3_seed=1.safetensors"),
            read_all(dir / "out" / "models" / "eta=3_seed=2.safetensors"));
}

TEST(SweepCli, WritesRunsSummaryBestAndARankedTable) {
  test::TempDir dir;
  const fs::path out = dir / "out";
  const test::CliRun run =
      test::run_cli_argv(sweep(out, {"--eta", "0.5,3", "--sizes", "784,30,10/784,10,10", "--epochs", "2"}), 120);
  ASSERT_EQ(run.status, 0) << run.err;
  const std::vector<nlohmann::json> lines = json_lines(out / "runs.jsonl");
  ASSERT_EQ(lines.size(), 8u);  // 4 runs x 2 epochs
  for (const nlohmann::json& line : lines) {
    EXPECT_TRUE(line.contains("validation_accuracy") && line.contains("test_cost") && line.contains("train_cost"));
    EXPECT_EQ(line["settings"]["batch"], 10);
  }
  EXPECT_EQ(lines[0]["run"], "sizes=784-30-10_eta=0.5");
  EXPECT_EQ(lines[0]["settings"]["sizes"], nlohmann::json({784, 30, 10}));
  const std::vector<nlohmann::json> summary = json_lines(out / "summary.jsonl");
  ASSERT_EQ(summary.size(), 4u);
  const nlohmann::json* best = nullptr;
  for (const nlohmann::json& s : summary) {
    EXPECT_EQ(s["epochs"], 2);
    EXPECT_EQ(s["ended"], "completed");
    if (!best || s["best_validation_accuracy"] > (*best)["best_validation_accuracy"]) best = &s;
  }
  // The table: the best run ranked first.
  const std::string first_row = "   1  " + (*best)["run"].get<std::string>();
  EXPECT_NE(run.out.find(first_row), std::string::npos) << run.out;
  // best.safetensors is the best run's model: the same as training it alone.
  const nlohmann::json& settings = (*best)["settings"];
  Args train{"train", "--eta", settings["eta"].dump(), "--epochs", "2", "--save", (dir / "train").string(), "--sizes",
             std::to_string(settings["sizes"][0].get<int>()) + "," +
                 std::to_string(settings["sizes"][1].get<int>()) + ",10"};
  for (const std::string& a : data_flags()) train.push_back(a);
  ASSERT_EQ(test::run_cli_argv(train, 60).status, 0);
  EXPECT_EQ(read_all(out / "best.safetensors"), read_all(dir / "train"));
  EXPECT_FALSE(fs::exists(out / "models"));  // --save best by default
  EXPECT_FALSE(fs::exists(out / "sweep-checkpoint"));  // a finished sweep leaves no checkpoint
}

TEST(SweepCli, EarlyStoppingEndsOneRunNotTheSweep) {
  test::TempDir dir;
  const fs::path out = dir / "out";
  // eta 0.001 hardly moves the network: its validation accuracy stalls at once and early stopping ends it; eta 3
  // keeps improving over the 3 epochs (measured: 2 epochs stopped, 3 trained).
  const test::CliRun run =
      test::run_cli_argv(sweep(out, {"--eta", "0.001,3", "--epochs", "3", "--early-stopping", "1"}), 120);
  ASSERT_EQ(run.status, 0) << run.err;
  const std::vector<nlohmann::json> summary = json_lines(out / "summary.jsonl");
  ASSERT_EQ(summary.size(), 2u);
  EXPECT_EQ(summary[0]["ended"], "early stopping");
  EXPECT_LT(summary[0]["epochs"], 3);
  EXPECT_EQ(summary[1]["ended"], "completed");
  EXPECT_EQ(summary[1]["epochs"], 3);
}

// eta 1e30 saturates every sigmoid: train stops that run with exit 3 (stalled); the sweep records why, keeps no
// model of it and finishes the other run.
TEST(SweepCli, ADivergedRunEndsAloneWithoutAModel) {
  test::TempDir dir;
  const fs::path out = dir / "out";
  const test::CliRun run = test::run_cli_argv(sweep(out, {"--eta", "3,1e30", "--epochs", "2", "--save", "all"}), 120);
  ASSERT_EQ(run.status, 0) << run.err;
  const std::vector<nlohmann::json> summary = json_lines(out / "summary.jsonl");
  ASSERT_EQ(summary.size(), 2u);
  EXPECT_EQ(summary[0]["ended"], "completed");
  EXPECT_EQ(summary[1]["ended"].get<std::string>().rfind("diverged: training stalled at epoch 2", 0), 0u)
      << summary[1]["ended"];
  EXPECT_TRUE(summary[1]["model"].is_null());
  EXPECT_TRUE(fs::exists(out / "models" / "eta=3.safetensors"));
  EXPECT_FALSE(fs::exists(out / "models" / "eta=1e+30.safetensors"));
  EXPECT_EQ(read_all(out / "best.safetensors"), read_all(out / "models" / "eta=3.safetensors"));
}

struct Refusal {
  Args grid;
  std::string message;
};

TEST(SweepCli, RefusesBadListsWithOneLineNamingTheFlag) {
  const std::vector<Refusal> cases = {
      {{"--eta", "0.1,,3"}, "--eta: entry 2 of the list is empty"},
      {{"--eta", "0.5,0.50"}, "--eta: entries 1 and 2 (0.5, 0.50) are the same value"},
      {{"--seed", "1,2,1-3"}, "--seed: entries 1 and 3 (1, 1) are the same value"},
      {{"--seed", "5-1"}, "--seed: the range 5-1 runs backwards"},
      {{"--sizes", "784,30,10/"}, "--sizes: entry 2 of the list is empty"},
      {{"--cost", "quadratic,cubic"}, "--cost: expected quadratic, cross-entropy or log-likelihood (got 'cubic')"},
      {{"--batch", "10,0"}, "--batch: must be at least 1"},
      {{"--eta", "1,2", "--seed", "1-501"}, "--eta, --seed: the grid has 1002 runs; a sweep trains at most 1000"},
      {{"--eta", "-1,3"}, "--eta"},
      {{"--sizes", "784,30,9"}, "--sizes: the network takes 784 inputs and gives 9 outputs, but the data has 784 features and 10 classes"},
  };
  test::TempDir dir;
  for (const Refusal& c : cases) {
    const test::CliRun run = test::run_cli_argv(sweep(dir / "out", c.grid), 60);
    EXPECT_EQ(run.status, 2) << c.message << "\n" << run.err;
    EXPECT_NE(run.err.find(c.message), std::string::npos) << run.err;
    EXPECT_EQ(std::count(run.err.begin(), run.err.end(), '\n'), 1) << run.err;
    EXPECT_FALSE(fs::exists(dir / "out")) << c.message;  // before any work
  }
  Args no_out{"sweep", "--eta", "1,2"};
  const test::CliRun run = test::run_cli_argv(no_out, 60);
  EXPECT_EQ(run.status, 2);
  EXPECT_NE(run.err.find("--out: required"), std::string::npos) << run.err;
}

// An uninterrupted sweep against one stopped by SIGINT once its first run has finished (the line it prints then)
// and resumed: every model, the best one and the summary's numbers the same.
TEST(SweepCli, StopAndResumeGivesTheBitsOfAnUninterruptedSweep) {
  test::TempDir dir;
  // Runs long enough (20,000 records) that the signal comes while the grid has runs left.
  const Args grid{"--eta", "0.5,3", "--seed", "1-3", "--epochs", "2", "--save", "all", "--threads", "2"};
  const test::CliRun whole = test::run_cli_argv(sweep(dir / "whole", grid, "20000"), 300);
  ASSERT_EQ(whole.status, 0) << whole.err;
  const test::CliRun stopped =
      test::run_cli_signalled(sweep(dir / "part", grid, "20000"), " finished (1/6)", SIGINT, 300);
  ASSERT_EQ(stopped.status, 130) << stopped.err;
  EXPECT_NE(stopped.err.find("SIGINT: sweep stopped with"), std::string::npos) << stopped.err;
  EXPECT_NE(stopped.err.find("sigmanet sweep --resume " + (dir / "part").string()), std::string::npos);
  ASSERT_TRUE(fs::exists(dir / "part" / "sweep-checkpoint" / "sweep.json"));
  EXPECT_EQ(json_lines(dir / "part" / "runs.jsonl").size() % 2, 0u);  // finished runs' lines only
  EXPECT_GE(json_lines(dir / "part" / "runs.jsonl").size(), 2u);

  // Resuming with other flags is refused, naming the flag.
  const test::CliRun other = test::run_cli_argv({"sweep", "--resume", (dir / "part").string(), "--eta", "1"}, 60);
  EXPECT_EQ(other.status, 2);
  EXPECT_NE(other.err.find("--eta: a resumed sweep keeps the flags it was started with"), std::string::npos)
      << other.err;

  const test::CliRun resumed = test::run_cli_argv({"sweep", "--resume", (dir / "part").string()}, 300);
  ASSERT_EQ(resumed.status, 0) << resumed.err;
  for (const auto& entry : fs::directory_iterator(dir / "whole" / "models"))
    EXPECT_EQ(read_all(entry.path()), read_all(dir / "part" / "models" / entry.path().filename()))
        << entry.path().filename();
  EXPECT_EQ(read_all(dir / "whole" / "best.safetensors"), read_all(dir / "part" / "best.safetensors"));
  const std::vector<nlohmann::json> a = json_lines(dir / "whole" / "summary.jsonl");
  const std::vector<nlohmann::json> b = json_lines(dir / "part" / "summary.jsonl");
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i]["best_validation_accuracy"], b[i]["best_validation_accuracy"]);
    EXPECT_EQ(a[i]["test_accuracy_at_best"], b[i]["test_accuracy_at_best"]);
  }
  EXPECT_EQ(json_lines(dir / "part" / "runs.jsonl").size(), 12u);
  EXPECT_FALSE(fs::exists(dir / "part" / "sweep-checkpoint"));
}

TEST(SweepCli, RefusesAFolderThatHoldsASweep) {
  test::TempDir dir;
  ASSERT_EQ(test::run_cli_argv(sweep(dir / "out", {"--epochs", "1"}), 60).status, 0);
  const test::CliRun again = test::run_cli_argv(sweep(dir / "out", {"--epochs", "1"}), 60);
  EXPECT_EQ(again.status, 2);
  EXPECT_NE(again.err.find("already holds a sweep's runs.jsonl"), std::string::npos) << again.err;
}

TEST(SweepCli, PlotsCurvesAndAHeatMapWhenTwoSettingsVary) {
  test::TempDir dir;
  const test::CliRun run =
      test::run_cli_argv(sweep(dir / "out", {"--eta", "0.5,3", "--seed", "1-3", "--epochs", "2", "--plot"}), 120);
  ASSERT_EQ(run.status, 0) << run.err;
  const Image png = test::decode_png_rgb(read_all(dir / "out" / "sweep.png"));
  EXPECT_EQ(png.width, 1300u);  // two panels: the curves and the heat map
  EXPECT_EQ(png.height, 640u);
  const test::CliRun one = test::run_cli_argv(sweep(dir / "one", {"--eta", "0.5,3", "--epochs", "2", "--plot"}), 120);
  ASSERT_EQ(one.status, 0) << one.err;
  EXPECT_EQ(test::decode_png_rgb(read_all(dir / "one" / "sweep.png")).width, 600u);  // the curves alone
}

}  // namespace
}  // namespace sigmanet
