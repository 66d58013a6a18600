// The benchmark runner's pieces: statistics, the grid, backend names, synthetic data, one measured case.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>

#include "cpu/blas.hpp"
#include "cpu/peak_rate.hpp"
#include "reports/benchmark.hpp"
#include "sigmanet/error.hpp"
#include "test_support.hpp"

namespace sigmanet {
namespace {

TEST(Summarize, OddCountTakesTheMiddleValue) {
  const Spread s = summarize({5.0, 1.0, 3.0, 9.0, 2.0});
  EXPECT_EQ(s.median, 3.0);
  EXPECT_EQ(s.min, 1.0);
  EXPECT_EQ(s.max, 9.0);
}

TEST(Summarize, EvenCountAveragesTheMiddleTwo) {
  const Spread s = summarize({4.0, 1.0, 2.0, 10.0});
  EXPECT_EQ(s.median, 3.0);
  EXPECT_EQ(s.min, 1.0);
  EXPECT_EQ(s.max, 10.0);
}

TEST(Summarize, OneValueIsItsOwnMedian) {
  const Spread s = summarize({0.25});
  EXPECT_EQ(s.median, 0.25);
  EXPECT_EQ(s.min, 0.25);
  EXPECT_EQ(s.max, 0.25);
}

TEST(Summarize, EmptyThrows) {
  EXPECT_EQ(test::thrown<Error>([&] { summarize({}); }), "summarize: no values");
}

BenchResult timed(BenchBackend backend, std::vector<int> sizes, std::size_t batch, double seconds) {
  BenchResult r;
  r.bench_case = BenchCase{std::move(sizes), batch, backend, 50000, 10000};
  r.bench_case.train_samples = 1000;
  r.train = {seconds, seconds, seconds};
  return r;
}

TEST(GpuPathsSideBySide, EachPathAgainstTheGraphPathOfTheSameCase) {
  const BenchBackend persistent{Device::gpu, Precision::f32, CudaOptions::Kernel::persistent};
  const BenchBackend graph{Device::gpu, Precision::f32, CudaOptions::Kernel::graph};
  const BenchBackend cpu{Device::cpu, Precision::f32};
  // 100 batches of 10: 10 us and 50 us a step.
  const std::string text = gpu_paths_side_by_side({timed(persistent, {784, 30, 10}, 10, 1e-3),
                                                   timed(graph, {784, 30, 10}, 10, 5e-3),
                                                   timed(graph, {784, 30, 10}, 100, 1e-3),
                                                   timed(cpu, {784, 30, 10}, 10, 2e-3)});
  EXPECT_EQ(text,
            "GPU paths side by side, the median time of a step:\n"
            "  784-30-10         batch 10     gpu-float-persistent (persistent) 10.00 us, graph 50.00 us: 5.00x the "
            "graph path's rate\n");
  // Nothing to put side by side: no graph row, or no other GPU row of its case.
  EXPECT_EQ(gpu_paths_side_by_side({timed(persistent, {784, 30, 10}, 10, 1e-3), timed(cpu, {784, 30, 10}, 10, 1e-3)}),
            "");
  EXPECT_EQ(gpu_paths_side_by_side({timed(graph, {784, 30, 10}, 10, 1e-3), timed(persistent, {784, 60, 10}, 10, 1e-3)}),
            "");
}

TEST(BenchBackendName, RoundTrips) {
  for (const char* name :
       {"cpu-float", "cpu-double", "gpu-float", "gpu-double", "gpu-float-persistent", "gpu-float-graph"}) {
    const std::optional<BenchBackend> b = bench_backend_from_text(name);
    ASSERT_TRUE(b) << name;
    EXPECT_EQ(to_string(*b), name);
  }
  EXPECT_EQ(bench_backend_from_text("gpu-float-graph")->kernel, CudaOptions::Kernel::graph);
  EXPECT_EQ(bench_backend_from_text("gpu-float")->kernel, CudaOptions::Kernel::automatic);
}

TEST(BenchBackendName, AnyOtherNameIsNone) {
  for (const char* name : {"cpu-float-graph", "tpu-float", "", "cpu-float "})
    EXPECT_FALSE(bench_backend_from_text(name)) << name;
}

const BenchBackend kCpuFloat{Device::cpu, Precision::f32};
const BenchBackend kCpuDouble{Device::cpu, Precision::f64};
const BenchBackend kGpuFloat{Device::gpu, Precision::f32};

bool has_case(const std::vector<BenchCase>& cases, std::vector<int> sizes, std::size_t batch, BenchBackend b) {
  return std::any_of(cases.begin(), cases.end(), [&](const BenchCase& c) {
    return c.sizes == sizes && c.batch == batch && c.backend.device == b.device && c.backend.precision == b.precision;
  });
}

TEST(BenchGrid, FullGridOnTheCpuLeavesOutTheLargeNetwork) {
  BenchGridOptions o;
  o.backends = {kCpuFloat, kCpuDouble};
  const auto cases = bench_grid(o);
  ASSERT_EQ(cases.size(), 8u);  // 4 shapes x 2 backends
  for (const BenchBackend& b : o.backends) {
    EXPECT_TRUE(has_case(cases, {784, 30, 10}, 10, b));
    EXPECT_TRUE(has_case(cases, {784, 30, 10}, 100, b));
    EXPECT_TRUE(has_case(cases, {784, 30, 10}, 1000, b));
    EXPECT_TRUE(has_case(cases, {784, 100, 10}, 10, b));
  }
  for (const BenchCase& c : cases) {
    EXPECT_EQ(c.train_samples, 50000u) << "a repetition is one whole epoch";
    EXPECT_EQ(c.eval_records, 10000u);
  }
}

TEST(BenchGrid, GpuGetsTheLargeNetworkWithWholeEpochs) {
  BenchGridOptions o;
  o.backends = {kGpuFloat};
  const auto cases = bench_grid(o);
  ASSERT_EQ(cases.size(), 7u);
  EXPECT_TRUE(has_case(cases, {784, 1024, 1024, 10}, 256, kGpuFloat));
  EXPECT_TRUE(has_case(cases, {784, 1024, 1024, 10}, 1000, kGpuFloat));
  EXPECT_TRUE(has_case(cases, {784, 1024, 1024, 10}, 4096, kGpuFloat));
  for (const BenchCase& c : cases) EXPECT_EQ(c.train_samples, 50000u);
}

TEST(BenchGrid, AllAddsTheLargeNetworkOnTheCpuAsWholeBatches) {
  BenchGridOptions o;
  o.backends = {kCpuFloat};
  o.all = true;
  const auto cases = bench_grid(o);
  ASSERT_EQ(cases.size(), 7u);
  for (const BenchCase& c : cases) {
    if (c.sizes.size() != 4) continue;
    EXPECT_GE(c.train_samples, kLargeCpuRepetitionSamples);
    EXPECT_LT(c.train_samples, 50000u);
    EXPECT_EQ(c.train_samples % c.batch, 0u) << "a repetition is a whole number of batches";
    EXPECT_LT(c.eval_records, 10000u);
  }
}

TEST(BenchGrid, QuickIsTwoSmallCasesPerBackend) {
  BenchGridOptions o;
  o.backends = {kCpuFloat, kCpuDouble};
  o.quick = true;
  const auto cases = bench_grid(o);
  ASSERT_EQ(cases.size(), 4u);
  for (const BenchCase& c : cases) {
    EXPECT_EQ(c.sizes, (std::vector<int>{784, 30, 10}));
    EXPECT_EQ(c.train_samples, 10000u);
  }
}

TEST(BenchGrid, RepetitionNeverExceedsASmallTrainingSet) {
  BenchGridOptions o;
  o.backends = {kCpuFloat};
  o.quick = true;
  o.train_size = 1234;
  o.test_size = 99;
  for (const BenchCase& c : bench_grid(o)) {
    EXPECT_EQ(c.train_samples, 1234u);
    EXPECT_EQ(c.eval_records, 99u);
  }
}

TEST(BenchGrid, EmptySetsAreInputErrors) {
  BenchGridOptions o;
  o.backends = {kCpuFloat};
  o.train_size = 0;
  EXPECT_THROW(bench_grid(o), InputError);
  o.train_size = 10;
  o.test_size = 0;
  EXPECT_THROW(bench_grid(o), InputError);
}

TEST(RandomDataset, HasMnistShapeAndIsSeeded) {
  const Dataset a = random_dataset("s", 101, 28, 28, 5);
  const Dataset b = random_dataset("s", 101, 28, 28, 5);
  const Dataset c = random_dataset("s", 101, 28, 28, 6);
  EXPECT_EQ(a.size(), 101u);
  EXPECT_EQ(a.features(), 784u);
  EXPECT_EQ(a.pixels.size(), 101u * 784u);
  EXPECT_EQ(a.pixels, b.pixels);
  EXPECT_EQ(a.labels, b.labels);
  EXPECT_NE(a.pixels, c.pixels);
  EXPECT_TRUE(std::all_of(a.labels.begin(), a.labels.end(), [](auto l) { return l < 10; }));
  // Every label and a spread of pixel values turn up.
  for (int d = 0; d < 10; ++d) EXPECT_NE(std::count(a.labels.begin(), a.labels.end(), d), 0) << d;
  EXPECT_GT(*std::max_element(a.pixels.begin(), a.pixels.end()), 200);
  EXPECT_LT(*std::min_element(a.pixels.begin(), a.pixels.end()), 50);
}

TEST(RunBenchCase, MeasuresEveryRepetitionAndTrains) {
  const Dataset train = random_dataset("train", 300, 28, 28, 1);
  const Dataset test = random_dataset("test", 50, 28, 28, 2);
  const BenchCase c{{784, 7, 10}, 10, kCpuFloat, 200, 50};
  BenchSettings s;
  s.repetitions = 3;
  const BenchResult r = run_bench_case(c, train, test, s);
  ASSERT_EQ(r.train_seconds.size(), 3u);
  ASSERT_EQ(r.eval_seconds.size(), 3u);
  for (double t : r.train_seconds) EXPECT_GT(t, 0.0);
  for (double t : r.eval_seconds) EXPECT_GT(t, 0.0);
  ASSERT_EQ(r.train_cpu_seconds.size(), 3u);
  ASSERT_EQ(r.eval_cpu_seconds.size(), 3u);
  for (double t : r.train_cpu_seconds) EXPECT_GE(t, 0.0);
  EXPECT_LE(r.train_cpu.min, r.train_cpu.max);
  EXPECT_LE(r.train.min, r.train.median);
  EXPECT_LE(r.train.median, r.train.max);
  EXPECT_EQ(r.batches_per_repetition(), 20u);
  EXPECT_FALSE(r.whole_epoch(train.size()));
  EXPECT_DOUBLE_EQ(r.epoch_seconds(train.size()), r.train.median * 1.5);
  EXPECT_EQ(r.timer, "steady_clock");
  EXPECT_EQ(r.threads, 1);
  EXPECT_EQ(r.backend_description, blas_available() ? "cpu float, OpenBLAS" : "cpu float");
}

TEST(RunBenchCase, RejectsBadSettingsAndCases) {
  const Dataset train = random_dataset("train", 100, 28, 28, 1);
  const Dataset test = random_dataset("test", 10, 28, 28, 2);
  BenchSettings s;
  s.repetitions = 0;
  EXPECT_EQ(test::thrown<Error>([&] { run_bench_case({{784, 5, 10}, 10, kCpuFloat, 100, 10}, train, test, s); }),
            "run_bench_case: 0 timed and 1 warm-up repetitions (at least 1 and 0)");
  s.repetitions = 1;
  EXPECT_EQ(test::thrown<Error>([&] { run_bench_case({{784, 5, 10}, 10, kCpuFloat, 101, 10}, train, test, s); }),
            "run_bench_case: 101 samples per repetition but the training set has 100");
  EXPECT_EQ(test::thrown<Error>([&] { run_bench_case({{784, 5, 10}, 10, kCpuFloat, 100, 11}, train, test, s); }),
            "run_bench_case: 11 evaluation records but the test set has 10");
  EXPECT_EQ(test::thrown<Error>([&] { run_bench_case({{784, 5, 10}, 0, kCpuFloat, 100, 10}, train, test, s); }),
            "run_bench_case: batch size 0");
  EXPECT_THROW(run_bench_case({{100, 5, 10}, 10, kCpuFloat, 100, 10}, train, test, s), InputError);  // width
}

TEST(RunBenchCase, DivergenceIsAnErrorNotATiming) {
  const Dataset train = random_dataset("train", 100, 28, 28, 1);
  const Dataset test = random_dataset("test", 10, 28, 28, 2);
  BenchSettings s;
  s.repetitions = 1;
  s.eta = std::numeric_limits<double>::infinity();  // the first update makes the weights infinite
  try {
    run_bench_case({{784, 5, 10}, 10, kCpuDouble, 100, 10}, train, test, s);
    FAIL() << "no exception";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("diverged"), std::string::npos) << e.what();
  }
}

TEST(StepFlops, CountsEachProductOfTheStep) {
  // 784-30-10, batch 10: forward 2 x 10 x 23,820; the weight gradients as much; the hidden layer's errors
  // 2 x 10 x 300 (none for the input layer); the update 2 x 23,820.
  EXPECT_DOUBLE_EQ(step_flops({784, 30, 10}, 10), 476400.0 + 476400.0 + 6000.0 + 47640.0);
  EXPECT_DOUBLE_EQ(step_flops({784, 30, 10}, 0), 47640.0);
  EXPECT_DOUBLE_EQ(step_flops({4, 3, 2, 1}, 5), 2 * 5 * 20.0 * 2 + 2 * 5 * 8.0 + 2 * 20.0);
}

TEST(StepFlops, ARepetitionCountsItsLastPartialBatch) {
  BenchResult r;
  r.bench_case = {{784, 30, 10}, 10, kCpuDouble, 25, 10};  // batches of 10, 10 and 5
  EXPECT_DOUBLE_EQ(r.train_flops(), 2 * step_flops({784, 30, 10}, 10) + step_flops({784, 30, 10}, 5));
}

TEST(PeakRate, IsMeasuredOnTheNetworksVectors) {
  for (Precision p : {Precision::f32, Precision::f64}) {
    const PeakRate rate = measure_peak_rate(p, 0.02);
    EXPECT_TRUE(rate.vector_bits == 256 || rate.vector_bits == 512) << rate.vector_bits;
    // Any core sigmanet runs on does at least a billion operations a second, and none a trillion on one thread.
    EXPECT_GT(rate.flops_per_second, 1e9) << to_string(p);
    EXPECT_LT(rate.flops_per_second, 1e12) << to_string(p);
  }
  EXPECT_EQ(test::thrown<Error>([&] { measure_peak_rate(Precision::f32, 0); }),
            "measure_peak_rate: the duration must be positive");
}

TEST(MachineInfo, DescribesThisMachine) {
  const MachineInfo m = machine_info();
  EXPECT_FALSE(m.cpu_model.empty());
  EXPECT_GE(m.logical_cpus, 1u);
  EXPECT_FALSE(m.git_commit.empty());
  EXPECT_FALSE(m.compiler.empty());
  if (!m.gpu) {
    EXPECT_FALSE(m.gpu_absent_reason.empty());
  }
}

}  // namespace
}  // namespace sigmanet
