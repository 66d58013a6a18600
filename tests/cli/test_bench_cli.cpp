// `sigmanet bench` end to end: the quick grid on real MNIST, its table and JSON, and bad input.
#include <gtest/gtest.h>

#include <algorithm>
#include <csignal>
#include <fstream>
#include <iterator>
#include <string>

#include <nlohmann/json.hpp>

#include "sigmanet/backends/factory.hpp"
#include "sigmanet/backend.hpp"
#include "sigmanet/collective.hpp"
#include "test_support.hpp"

namespace sigmanet {
namespace {

using test::mnist_dir;
using test::run_cli;
using test::TempDir;

// Built with append: GCC 12 misreports "'" + std::string as an overlapping copy (-Wrestrict).
std::string quoted(const std::filesystem::path& p) {
  std::string q(1, '\'');
  q.append(p.string()).push_back('\'');
  return q;
}

void expect_positive_spread(const nlohmann::json& j, const std::string& what) {
  for (const char* k : {"median", "min", "max"}) {
    ASSERT_TRUE(j.contains(k) && j[k].is_number()) << what << "." << k;
    EXPECT_GT(j[k].get<double>(), 0.0) << what << "." << k;
  }
  EXPECT_LE(j["min"].get<double>(), j["median"].get<double>()) << what;
  EXPECT_LE(j["median"].get<double>(), j["max"].get<double>()) << what;
}

// The quick run is the slow part (seconds), so one test runs it once and checks its table and its JSON
// (ctest runs every TEST in a process of its own, so a shared fixture would run it once per test).
void check_table(const std::string& output) {
  EXPECT_NE(output.find("train/s"), std::string::npos) << output;
  for (const char* row : {"cpu-float            784-30-10             10", "cpu-float            784-30-10            100",
                          "cpu-double           784-30-10             10", "cpu-double           784-30-10            100"})
    EXPECT_NE(output.find(row), std::string::npos) << row << "\n" << output;
  // The default: this machine's cores.
  const int threads = default_threads();
  EXPECT_NE(output.find("use " + std::to_string(threads) + " thread"), std::string::npos) << output;
}

void check_header(const nlohmann::json& doc) {
  EXPECT_EQ(doc["schema"], "sigmanet-bench/1");
  EXPECT_EQ(doc["tool"], "sigmanet");
  EXPECT_TRUE(doc["date"].is_string());
  const auto& m = doc["machine"];
  EXPECT_TRUE(m["cpu_model"].is_string() && !m["cpu_model"].get<std::string>().empty());
  EXPECT_GE(m["logical_cpus"].get<int>(), 1);
  EXPECT_TRUE(m.contains("gpu"));
  if (m["gpu"].is_null()) {
    EXPECT_FALSE(m["gpu_absent_reason"].get<std::string>().empty());
  } else {
    for (const char* k : {"name", "driver_version", "runtime_version"}) EXPECT_TRUE(m["gpu"][k].is_string()) << k;
  }
  EXPECT_FALSE(doc["build"]["git_commit"].get<std::string>().empty());
  EXPECT_EQ(doc["data"]["source"], "mnist:" + mnist_dir().string());
  EXPECT_EQ(doc["data"]["train_records"], 50000);
  EXPECT_EQ(doc["data"]["test_records"], 10000);
  EXPECT_EQ(doc["settings"]["repetitions"], 5);
  EXPECT_EQ(doc["settings"]["warmup_repetitions"], 1);
  EXPECT_EQ(doc["settings"]["threads"], default_threads());
}

// One core's peak in the JSON, in FLOP/s.
double peak_of(const nlohmann::json& doc, const std::string& precision) {
  return 1e9 * doc["cpu_peak"][precision + "_gflop_per_second_per_core"].get<double>();
}

void check_results(const nlohmann::json& doc) {
  const nlohmann::json& results = doc["results"];
  // Any CPU sigmanet runs on does a billion multiply-adds a second (in a sanitizer build too: the peak loop is
  // built optimised and unchecked).
  EXPECT_GT(peak_of(doc, "float"), 1e9);
  EXPECT_GT(peak_of(doc, "double"), 1e9);
  EXPECT_TRUE(doc["cpu_peak"]["vector_bits"] == 256 || doc["cpu_peak"]["vector_bits"] == 512);
  ASSERT_TRUE(results.is_array());
  ASSERT_EQ(results.size(), 4u);
  int seen_float = 0, seen_double = 0;
  for (const auto& r : results) {
    const std::string backend = r["backend"];
    seen_float += backend == "cpu-float";
    seen_double += backend == "cpu-double";
    EXPECT_EQ(r["sizes"], (std::vector<int>{784, 30, 10}));
    const int batch = r["batch"];
    EXPECT_TRUE(batch == 10 || batch == 100) << batch;
    EXPECT_EQ(r["config"], "784-30-10/b" + std::to_string(batch));
    EXPECT_EQ(r["device"], "cpu");
    EXPECT_EQ(r["threads"], default_threads());
    EXPECT_EQ(r["timer"], "steady_clock");
    const auto& t = r["train"];
    EXPECT_EQ(t["repetition"], "batches");
    EXPECT_EQ(t["samples_per_repetition"], 10000);
    EXPECT_EQ(t["batches_per_repetition"].get<int>(), 10000 / batch);
    EXPECT_EQ(t["repetitions"], 5);
    ASSERT_EQ(t["seconds_each"].size(), 5u);
    expect_positive_spread(t["seconds"], backend + " train.seconds");
    expect_positive_spread(t["samples_per_second"], backend + " train.samples_per_second");
    EXPECT_TRUE(t["epoch_seconds_extrapolated"].get<bool>());
    EXPECT_GT(t["cpu_seconds"]["median"].get<double>(), 0.0) << "training 10,000 samples takes CPU time";
    // The median rate and the median time describe the same repetition.
    EXPECT_NEAR(t["samples_per_second"]["median"].get<double>() * t["seconds"]["median"].get<double>(), 10000.0,
                1e-6 * 10000.0);
    EXPECT_NEAR(t["epoch_seconds"].get<double>(), 5.0 * t["seconds"]["median"].get<double>(), 1e-9);
    // A sample of 784-30-10 is 95,880 operations forward and back (step_flops), and a step's update 2 x 23,820.
    const double steps = 10000.0 / batch;
    EXPECT_DOUBLE_EQ(t["flops_per_repetition"].get<double>(), 10000 * 95880.0 + steps * 47640.0);
    EXPECT_NEAR(t["gflop_per_second"].get<double>(),
                1e-9 * t["flops_per_repetition"].get<double>() / t["seconds"]["median"].get<double>(), 1e-9);
    // A fraction of the measured peak of the threads it had. The FLOPs are counted as dense products, and on
    // MNIST the first layer skips the zero pixels (four fifths), so the rate may pass the peak in principle; it
    // measured 0.5-0.7 of it. Twice the peak would be a units slip, not sparsity.
    const double fraction = t["fraction_of_peak"];
    EXPECT_GT(fraction, 0.0);
#ifndef SIGMANET_TEST_SANITIZED  // there the network's own code runs at -O1 with checks, OpenBLAS at full speed
    EXPECT_LT(fraction, 2.0);
#endif
    EXPECT_NEAR(fraction,
                t["gflop_per_second"].get<double>() /
                    (1e-9 * r["threads"].get<double>() * peak_of(doc, backend == "cpu-float" ? "float" : "double")),
                1e-9);
    const auto& e = r["evaluate"];
    EXPECT_EQ(e["records"], 10000);
    expect_positive_spread(e["seconds"], backend + " evaluate.seconds");
    expect_positive_spread(e["samples_per_second"], backend + " evaluate.samples_per_second");
    EXPECT_GE(e["cpu_seconds"]["min"].get<double>(), 0.0);
  }
  EXPECT_EQ(seen_float, 2);
  EXPECT_EQ(seen_double, 2);
}

TEST(BenchCli, QuickRunOnMnistPrintsATableAndWritesJson) {
  TempDir dir;
  std::string output;
  const int status = run_cli("bench --quick --backends cpu-float,cpu-double --repetitions 5 --data " +
                                 quoted(mnist_dir()) + " --json " + quoted(dir / "bench.json"),
                             &output);
  ASSERT_EQ(status, 0) << output;
  check_table(output);
  std::ifstream in(dir / "bench.json");
  ASSERT_TRUE(in) << "no bench.json";
  const nlohmann::json doc = nlohmann::json::parse(in, nullptr, false);
  ASSERT_TRUE(doc.is_object()) << "bench.json is not a JSON object";
  check_header(doc);
  check_results(doc);
}

TEST(BenchCli, RejectsBadFlagsWithExitStatus2) {
  TempDir dir;
  const std::string data = " --data " + quoted(mnist_dir());
  std::string out;
  EXPECT_EQ(run_cli("bench --quick --repetitions 0" + data, &out), 2) << out;
  EXPECT_EQ(out, "sigmanet: --repetitions: must be at least 1 (got '0') (see sigmanet --help)\n");
  EXPECT_EQ(run_cli("bench --quick --backends tpu-float" + data, &out), 2) << out;
  EXPECT_EQ(out, "sigmanet: --backends: unknown backend 'tpu-float' (use cpu-float, cpu-double, gpu-float, "
                 "gpu-float-persistent, gpu-float-graph)\n");
  EXPECT_EQ(run_cli("bench --quick --eta -1" + data, &out), 2) << out;
  EXPECT_EQ(out, "sigmanet: --eta: must be a positive number\n");
  EXPECT_EQ(run_cli("bench --quick --synthetic" + data, &out), 2) << out;
  EXPECT_EQ(out, "sigmanet: --synthetic: reads no data, so --data cannot be used with it\n");
  const auto unwritable = dir / "no-such-folder" / "bench.json";
  EXPECT_EQ(run_cli("bench --quick" + data + " --json " + quoted(unwritable), &out), 2) << out;
  EXPECT_EQ(out, "sigmanet: --json: folder " + (dir / "no-such-folder").string() + " does not exist\n");
}

TEST(BenchCli, MissingDataIsExitStatus2NamingTheFiles) {
  TempDir dir;
  std::string out;
  EXPECT_EQ(run_cli("bench --quick --data " + quoted(dir.path()), &out), 2) << out;
  EXPECT_NE(out.find("train-images-idx3-ubyte"), std::string::npos) << out;
}

TEST(BenchCli, GpuBackendWithoutAGpuIsExitStatus2) {
  std::string reason;
  if (gpu_available(&reason)) GTEST_SKIP() << "a GPU is present, so gpu-float is a valid request";
  std::string out;
  EXPECT_EQ(run_cli("bench --quick --backends gpu-float --data " + quoted(mnist_dir()), &out), 2) << out;
  EXPECT_NE(out.find("--backends gpu-float: no usable GPU"), std::string::npos) << out;
}

TEST(BenchCli, SyntheticDataNeedsNoFilesAndSaysSo) {
  TempDir dir;
  std::string out;
  const std::string cmd = "bench --quick --synthetic --backends cpu-float --repetitions 1 --warmup 0 --json " +
                          quoted(dir / "s.json");
  ASSERT_EQ(run_cli(cmd, &out), 0) << out;
  std::ifstream in(dir / "s.json");
  const auto doc = nlohmann::json::parse(in);
  EXPECT_EQ(doc["data"]["source"], "synthetic");
  EXPECT_EQ(doc["results"].size(), 2u);
  EXPECT_NE(out.find("data synthetic"), std::string::npos) << out;
}

TEST(BenchCli, SizesAndBatchesMakeAGridOfOnesOwn) {
  TempDir dir;
  std::string out;
  const std::string cmd = "bench --quick --synthetic --backends cpu-float --sizes 784,16,10 --batches 5,20 "
                          "--repetitions 1 --warmup 0 --json " + quoted(dir / "own.json");
  ASSERT_EQ(run_cli(cmd, &out), 0) << out;
  std::ifstream in(dir / "own.json");
  const auto doc = nlohmann::json::parse(in);
  ASSERT_EQ(doc["results"].size(), 2u);
  EXPECT_EQ(doc["results"][0]["config"], "784-16-10/b5");
  EXPECT_EQ(doc["results"][1]["config"], "784-16-10/b20");
  EXPECT_NE(doc["command"].get<std::string>().find("--sizes 784,16,10 --batches 5,20"), std::string::npos);
  // Either flag alone keeps the other's default: 784-30-10, batch 10.
  ASSERT_EQ(run_cli("bench --quick --synthetic --backends cpu-float --batches 7 --repetitions 1 --warmup 0 --json " +
                        quoted(dir / "batches.json"),
                    &out),
            0)
      << out;
  std::ifstream in2(dir / "batches.json");
  EXPECT_EQ(nlohmann::json::parse(in2)["results"][0]["config"], "784-30-10/b7");
}

// --all adds 784-1024-1024-10 on the CPU, each case a repetition of whole batches of at least 8,192 samples; the
// full grid leaves it out (BenchGrid.FullGridOnTheCpuLeavesOutTheLargeNetwork). One repetition of cpu-float:
// measured 3.2 s of CPU time.
TEST(BenchCli, AllAddsTheLargeNetworkOnTheCpu) {
  TempDir dir;
  std::string out;
  ASSERT_EQ(run_cli("bench --all --synthetic --backends cpu-float --repetitions 1 --warmup 0 --json " +
                        quoted(dir / "all.json"),
                    &out),
            0)
      << out;
  std::ifstream in(dir / "all.json");
  const auto doc = nlohmann::json::parse(in);
  std::vector<std::string> configs;
  for (const auto& r : doc["results"]) configs.push_back(r["config"]);
  EXPECT_EQ(configs, (std::vector<std::string>{"784-30-10/b10", "784-30-10/b100", "784-30-10/b1000",
                                               "784-100-10/b10", "784-1024-1024-10/b256", "784-1024-1024-10/b1000",
                                               "784-1024-1024-10/b4096"}));
  for (const auto& [row, batches] : {std::pair{4, 32}, std::pair{5, 9}, std::pair{6, 2}}) {
    const auto& train = doc["results"][std::size_t(row)]["train"];
    EXPECT_EQ(train["repetition"], "batches") << row;
    EXPECT_EQ(train["batches_per_repetition"], batches) << row;
  }
  EXPECT_NE(doc["command"].get<std::string>().find(" --all"), std::string::npos) << doc["command"];
  EXPECT_NE(out.find("784-1024-1024-10     256     32 batches"), std::string::npos) << out;
}

std::string read_text(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

const std::vector<std::string> kQuickSynthetic = {"bench",     "--quick",       "--synthetic", "--backends",
                                                  "cpu-float", "--repetitions", "1",           "--warmup", "0"};

std::vector<std::string> quick_synthetic(const std::vector<std::string>& more) {
  std::vector<std::string> args = kQuickSynthetic;
  args.insert(args.end(), more.begin(), more.end());
  return args;
}

// --json is written whole, once every case has run: a run refused for a batch too large (found after the data was
// read) used to truncate it, and Ctrl-C during the run left it at 0 bytes.
TEST(BenchCli, ARefusedOrInterruptedRunLeavesTheJsonAsItWas) {
  TempDir dir;
  const std::string json = (dir / "b.json").string();
  test::write_bytes(json, {'{', '}', '\n'});
  const test::CliRun refused = test::run_cli_argv(quick_synthetic({"--batches", "60000", "--json", json}));
  EXPECT_EQ(refused.status, 2) << refused.err;
  EXPECT_EQ(read_text(json), "{}\n");
  // Interrupted once the table has begun (the default grid runs for minutes): the signal ends it as for any tool.
  const test::CliRun interrupted = test::run_cli_signalled(
      {"bench", "--synthetic", "--backends", "cpu-float", "--json", json}, "backend ", SIGINT);
  EXPECT_EQ(interrupted.status, 128 + SIGINT) << interrupted.out << interrupted.err;
  EXPECT_EQ(read_text(json), "{}\n");
}

// A full disk (a file-size limit of 512 bytes) used to leave a truncated --json and exit 1 without the reason.
TEST(BenchCli, AFullDiskLeavesTheJsonWholeAndSaysWhy) {
  TempDir dir;
  const std::string json = (dir / "b.json").string();
  test::write_bytes(json, {'{', '}', '\n'});
  const test::CliRun run = test::run_cli_with_file_limit(1, quick_synthetic({"--json", json}));
  EXPECT_EQ(run.status, 1) << run.err;
  EXPECT_EQ(run.err, "sigmanet: error: " + json + ": write failed: File too large\n");
  EXPECT_EQ(read_text(json), "{}\n");
}

// Every case's memory is estimated before any allocates, as train's run is: sizes train refuses used to end bench
// with std::bad_alloc, exit 1. The setting blamed is the one that grows it: --sizes, or (my own example, 50,000
// rows of a million neurons' activations) --batches.
TEST(BenchCli, ACaseTooLargeForMemoryIsRefusedBeforeAnyRunsNamingTheFlag) {
  const test::CliRun sizes = test::run_cli_argv(quick_synthetic({"--sizes", "784,100000000,10"}));
  EXPECT_EQ(sizes.status, 2) << sizes.err;
  EXPECT_EQ(sizes.err.rfind("sigmanet: --sizes 784,100000000,10: measuring it would need about 1557.2 GiB of memory "
                            "(7.95e+10 parameters with gradients and activations, float), more than this machine's ",
                            0),
            0u)
      << sizes.err;
  const test::CliRun batches =
      test::run_cli_argv(quick_synthetic({"--sizes", "784,1000000,10", "--batches", "50000"}));
  EXPECT_EQ(batches.status, 2) << batches.err;
  EXPECT_EQ(batches.err.rfind("sigmanet: --batches 50000 (with --sizes 784,1000000,10): measuring it would need about "
                              "384.7 GiB of memory",
                              0),
            0u)
      << batches.err;
  for (const test::CliRun* run : {&sizes, &batches}) {
    EXPECT_EQ(std::count(run->err.begin(), run->err.end(), '\n'), 1) << run->err;
    EXPECT_EQ(run->out, "") << "refused before the table";
  }
}

// --gpu-cluster or --gpu-kernel where no backend runs on a GPU is one line naming the flag and the reason (before,
// --gpu-cluster printed the "no usable GPU" notice too, and --gpu-kernel was ignored).
TEST(BenchCli, GpuFlagsWithoutAGpuAreOneLineNamingTheFlag) {
  if (gpu_available()) GTEST_SKIP() << "a GPU is usable here";
  for (const auto& [flag, value] : std::vector<std::pair<std::string, std::string>>{{"--gpu-cluster", "4"},
                                                                                     {"--gpu-kernel", "graph"}}) {
    const test::CliRun run = test::run_cli_argv({"bench", "--synthetic", flag, value});
    EXPECT_EQ(run.status, 2) << run.err;
    EXPECT_EQ(run.err.rfind("sigmanet: " + flag + " " + value + ": no backend here runs ", 0), 0u) << run.err;
    EXPECT_NE(run.err.find("(no usable GPU: "), std::string::npos) << run.err;
    EXPECT_EQ(std::count(run.err.begin(), run.err.end(), '\n'), 1) << run.err;
  }
}

// A backend listed twice was measured twice; so (my own example) was a batch.
TEST(BenchCli, ABackendOrBatchListedTwiceIsRefused) {
  const test::CliRun backends = test::run_cli_argv({"bench", "--synthetic", "--backends", "cpu-float,cpu-float"});
  EXPECT_EQ(backends.status, 2) << backends.err;
  EXPECT_EQ(backends.err, "sigmanet: --backends: cpu-float is listed twice; each backend is measured once\n");
  const test::CliRun batches = test::run_cli_argv(quick_synthetic({"--batches", "10,20,10"}));
  EXPECT_EQ(batches.status, 2) << batches.err;
  EXPECT_EQ(batches.err, "sigmanet: --batches: 10 is listed twice; each batch is measured once\n");
}

TEST(BenchCli, ABadGridOfOnesOwnIsExitStatus2NamingTheFlag) {
  std::string out;
  const std::string base = "bench --quick --synthetic --backends cpu-float --repetitions 1 --warmup 0";
  EXPECT_EQ(run_cli(base + " --batches 0", &out), 2) << out;
  EXPECT_NE(out.find("--batches: entry 1 ('0'): must be at least 1"), std::string::npos) << out;
  EXPECT_EQ(run_cli(base + " --batches 10,60000", &out), 2) << out;
  EXPECT_NE(out.find("--batches: batch 60000 is outside 1..50000"), std::string::npos) << out;
  EXPECT_EQ(run_cli(base + " --sizes 100,10", &out), 2) << out;
  EXPECT_NE(out.find("--sizes: the input layer has 100 neurons"), std::string::npos) << out;
  EXPECT_EQ(run_cli(base + " --sizes 784", &out), 2) << out;
  EXPECT_NE(out.find("--sizes: needs at least two layers (input and output), e.g. 784,30,10"), std::string::npos)
      << out;
  EXPECT_EQ(out.find("backend "), std::string::npos) << "no table before the refusal:\n" << out;
}

}  // namespace
}  // namespace sigmanet
