// The CUDA backend's graph path against the oracle (and the fast CPU network) through the Backend interface:
// one step, an epoch, a deeper odd net, determinism, graphs, partial batches, stopping, divergence, evaluation
// and errors. The training tests ask for the graph path: at their small batches auto takes the persistent
// kernel, whose own suite is gpu_persistent.cpp.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <numeric>

#include "sigmanet/backends/factory.hpp"
#include "cpu/fast_network.hpp"
#include "gpu_support.hpp"
#include "oracle/equivalence.hpp"
#include "sigmanet/error.hpp"
#include "sigmanet/random.hpp"
#include "test_support.hpp"

#ifdef SIGMANET_HAVE_CUDA
#include "cuda/cuda_backend.hpp"
#include "cuda_checks/cuda_checks.hpp"
#include "sigmanet/formats/mnist.hpp"
#endif
#if defined(SIGMANET_TEST_EMULATED_GPU)
#include "emulator.hpp"
#endif

namespace sigmanet {
namespace {

#ifdef SIGMANET_HAVE_CUDA

// MNIST when the tests can find it, else nothing (the tests that need it skip).
const Mnist* mnist() { return test::find_mnist(); }

#define SKIP_WITHOUT_MNIST() \
  if (!mnist()) GTEST_SKIP() << "MNIST not found in " << test::mnist_dir().string() << " (set SIGMANET_DATA)"

const Dataset& synthetic_train() {
  // Enough for every test below (one step of 1,000 samples; a stop after 730); fewer on the emulator.
  static const Dataset d = synthetic_dataset("synthetic", test::kEmulatedEpochSamples ? 1000 : 2000, 28, 28, 7);
  return d;
}

bool same_bits(const Parameters& a, const Parameters& b) {
  if (a.sizes != b.sizes) return false;
  for (std::size_t l = 0; l < a.layers(); ++l)
    if (a.weights[l].size() != b.weights[l].size() ||
        std::memcmp(a.weights[l].data(), b.weights[l].data(), a.weights[l].size() * sizeof(double)) != 0 ||
        std::memcmp(a.biases[l].data(), b.biases[l].data(), a.biases[l].size() * sizeof(double)) != 0)
      return false;
  return true;
}

void expect_ok(const StageCheck& c) { EXPECT_TRUE(c.ok()) << "\n" << format_checks({c}); }

CudaOptions graph_path(bool graphs = true) {
  CudaOptions o;
  o.kernel = CudaOptions::Kernel::graph;
  o.graphs = graphs;
  return o;
}

TEST(GpuBackend, OneStepMatchesTheReferenceForEveryForwardPath) {
  SIGMANET_SKIP_WITHOUT_GPU();
  for (auto forward : {CudaOptions::Forward::automatic, CudaOptions::Forward::fused, CudaOptions::Forward::gemm}) {
    CudaOptions options = graph_path();
    options.forward = forward;
    auto gpu = make_backend(Device::gpu, Precision::f32, nullptr, options);
    for (std::size_t m : {1, 7, 10, 1000}) {
      expect_ok(check_one_step(*gpu, synthetic_train(), {784, 30, 10}, m, 3));
      expect_ok(check_one_step(*gpu, synthetic_train(), {784, 17, 13, 10}, m, 4));
    }
  }
}

TEST(GpuBackend, NielsenEpochMatchesTheReference) {
  SIGMANET_SKIP_WITHOUT_GPU();
  SKIP_WITHOUT_MNIST();
  auto gpu = make_backend(Device::gpu, Precision::f32, nullptr, graph_path());
  // Parameters within 1e-4 relative, test accuracy within 0.2 points, cost within 1e-4.
  for (const StageCheck& c : check_epoch(*gpu, mnist()->train, test::epoch_test_set(mnist()->test), {784, 30, 10}, 10,
                                         1, test::epoch_samples()))
    expect_ok(c);
}

TEST(GpuBackend, DeeperOddNetAtBatch7MatchesTheReference) {
  SIGMANET_SKIP_WITHOUT_GPU();
  SKIP_WITHOUT_MNIST();
  auto gpu = make_backend(Device::gpu, Precision::f32, nullptr, graph_path());
  for (const StageCheck& c : check_epoch(*gpu, mnist()->train, test::epoch_test_set(mnist()->test), {784, 17, 13, 10},
                                         7, 1, test::epoch_samples(7000)))
    expect_ok(c);
}

Parameters train_gpu(const CudaOptions& options, const Dataset& train, const std::vector<int>& sizes, std::size_t batch,
                     std::size_t samples, std::uint64_t seed) {
  Rng rng(seed);
  const Parameters start = init_parameters(sizes, Init::standard, rng);
  std::vector<std::uint32_t> order = rng.permutation(train.size());
  order.resize(std::min(samples, order.size()));
  auto gpu = make_backend(Device::gpu, Precision::f32, nullptr, options);
  gpu->set_training_data(train);
  gpu->set_parameters(start);
  EXPECT_EQ(gpu->train(order, batch, 3.0, {}), order.size());
  EXPECT_FALSE(gpu->nonfinite_batch().has_value());
  return gpu->parameters();
}

// Under the sanitizers, the runs below train 500 samples (the step's time budget, 10 minutes in CI), where the
// emulator's synthetic set of 1,000 otherwise gives them all of it: still 50 steps of 10, and a batch of 500 for
// batch 1000, which is what the determinism needs.
#ifdef SIGMANET_TEST_SANITIZED
constexpr std::size_t kSanitizedSamples = 500;
#else
constexpr std::size_t kSanitizedSamples = 0;
#endif

TEST(GpuBackend, SameSeedTwiceGivesIdenticalBits) {
  SIGMANET_SKIP_WITHOUT_GPU();
  const std::size_t samples = kSanitizedSamples ? kSanitizedSamples : 2000;
  for (std::size_t batch : {10, 1000}) {
    const Parameters a = train_gpu(graph_path(), synthetic_train(), {784, 30, 10}, batch, samples, 9);
    const Parameters b = train_gpu(graph_path(), synthetic_train(), {784, 30, 10}, batch, samples, 9);
    EXPECT_TRUE(same_bits(a, b)) << "batch " << batch << ": relative difference " << relative_difference(a, b);
    const Parameters other = train_gpu(graph_path(), synthetic_train(), {784, 30, 10}, batch, samples, 10);
    EXPECT_FALSE(same_bits(a, other));
  }
}

TEST(GpuBackend, GraphReplayComputesWhatEagerLaunchesCompute) {
  SIGMANET_SKIP_WITHOUT_GPU();
  // The same kernels and SGEMMs either way; a stale step counter or a wrong captured argument would give
  // differences of order 1. (Bits may differ only if cuBLAS picked another algorithm under capture.)
  const CudaOptions eager = graph_path(false);
  // 1995 samples (495 under the sanitizers) leave a last batch smaller than the others at each batch size.
  const std::size_t samples = kSanitizedSamples ? kSanitizedSamples - 5 : 1995;
  for (std::size_t batch : {7, 10, 100}) {
    const Parameters with_graph = train_gpu(graph_path(), synthetic_train(), {784, 17, 13, 10}, batch, samples, 5);
    const Parameters without = train_gpu(eager, synthetic_train(), {784, 17, 13, 10}, batch, samples, 5);
    EXPECT_LE(relative_difference(with_graph, without), 1e-6) << "batch " << batch;
  }
}

TEST(GpuBackend, TheGraphFollowsTheOrderAndTheDataWhenTheyMove) {
  SIGMANET_SKIP_WITHOUT_GPU();
  // The captured graph holds buffer addresses: a longer order or a new training set reallocates them, and a
  // graph still pointing at the old ones would train on freed memory. Graphs on and off must agree throughout.
  const Dataset other = synthetic_dataset("other", 700, 28, 28, 8);
  Rng rng(6);
  const Parameters start = init_parameters({784, 17, 10}, Init::standard, rng);
  const std::vector<std::uint32_t> order = rng.permutation(synthetic_train().size());
  const std::vector<std::uint32_t> other_order = rng.permutation(other.size());
  auto with_graph = make_backend(Device::gpu, Precision::f32, nullptr, graph_path()),
       without = make_backend(Device::gpu, Precision::f32, nullptr, graph_path(false));
  for (Backend* b : {with_graph.get(), without.get()}) {
    b->set_parameters(start);
    b->set_training_data(synthetic_train());
    b->train(std::span<const std::uint32_t>(order.data(), 100), 10, 3.0, {});
    b->train(order, 10, 3.0, {});  // a longer order: a new order buffer
    b->set_training_data(other);   // new pixels and labels on the device
    b->train(other_order, 10, 3.0, {});
  }
  EXPECT_LE(relative_difference(with_graph->parameters(), without->parameters()), 1e-6);
}

TEST(GpuBackend, PartialLastBatchUsesItsOwnSizeAsTheCpuDoes) {
  SIGMANET_SKIP_WITHOUT_GPU();
  // 25 samples at batch 10: batches of 10, 10 and 5 (the last one eager, the middle one from the graph).
  Rng rng(11);
  const Parameters start = init_parameters({784, 30, 10}, Init::standard, rng);
  std::vector<std::uint32_t> order(25);
  std::iota(order.begin(), order.end(), 100u);
  auto gpu = make_backend(Device::gpu, Precision::f32, nullptr, graph_path());
  auto cpu = make_backend(Device::cpu, Precision::f64);
  for (Backend* b : {gpu.get(), cpu.get()}) {
    b->set_training_data(synthetic_train());
    b->set_parameters(start);
    EXPECT_EQ(b->train(order, 10, 3.0, {}), 25u);
  }
  EXPECT_LE(relative_difference(gpu->parameters(), cpu->parameters()), 1e-6);
  // And it differs from dropping the last five.
  gpu->set_parameters(start);
  gpu->train(std::span<const std::uint32_t>(order.data(), 20), 10, 3.0, {});
  EXPECT_GT(relative_difference(gpu->parameters(), cpu->parameters()), 1e-6);
}

TEST(GpuBackend, AfterBatchCanStopTrainingAndTheRestContinuesExactly) {
  SIGMANET_SKIP_WITHOUT_GPU();
  Rng rng(12);
  const Parameters start = init_parameters({784, 30, 10}, Init::standard, rng);
  const std::vector<std::uint32_t> order = rng.permutation(synthetic_train().size());
  auto whole = make_backend(Device::gpu, Precision::f32, nullptr, graph_path()), parts = make_backend(Device::gpu, Precision::f32, nullptr, graph_path());
  for (Backend* b : {whole.get(), parts.get()}) {
    b->set_training_data(synthetic_train());
    b->set_parameters(start);
  }
  whole->train(order, 10, 3.0, {});
  std::vector<std::size_t> seen;
  const std::size_t done = parts->train(order, 10, 3.0, [&](std::size_t n) {
    seen.push_back(n);
    return n < 730;
  });
  EXPECT_EQ(done, 730u);
  ASSERT_EQ(seen.size(), 73u);
  EXPECT_EQ(seen.front(), 10u);
  parts->train(std::span<const std::uint32_t>(order).subspan(done), 10, 3.0, {});
  EXPECT_TRUE(same_bits(whole->parameters(), parts->parameters()));
}

TEST(GpuBackend, DivergenceIsReportedWithTheFirstBadBatch) {
  SIGMANET_SKIP_WITHOUT_GPU();
  // eta = NaN: batch 0's outputs are finite, its update poisons the weights, batch 1's outputs are NaN.
  // 30 samples: three batches, over before the first look at the flag during training (every 64 batches),
  // so only the final read finds it; the whole set: the look during training stops it early.
  Rng rng(13);
  const Parameters start = init_parameters({784, 30, 10}, Init::standard, rng);
  const std::vector<std::uint32_t> order = rng.permutation(synthetic_train().size());
  auto gpu = make_backend(Device::gpu, Precision::f32, nullptr, graph_path());
  auto cpu = make_backend(Device::cpu, Precision::f32);
  for (std::size_t samples : {std::size_t(30), order.size()}) {
    for (Backend* b : {gpu.get(), cpu.get()}) {
      b->set_training_data(synthetic_train());
      b->set_parameters(start);
      b->train(std::span<const std::uint32_t>(order.data(), samples), 10, std::nan(""), {});
    }
    ASSERT_TRUE(cpu->nonfinite_batch().has_value());
    ASSERT_TRUE(gpu->nonfinite_batch().has_value()) << samples << " samples";
    EXPECT_EQ(*gpu->nonfinite_batch(), *cpu->nonfinite_batch());
    EXPECT_EQ(*gpu->nonfinite_batch(), 1u);
  }
  // A clean run afterwards clears the report.
  gpu->set_parameters(start);
  gpu->train(order, 10, 3.0, {});
  EXPECT_FALSE(gpu->nonfinite_batch().has_value());
}

TEST(GpuBackend, EvaluationAndOutputsMatchTheCpuFloatNetwork) {
  SIGMANET_SKIP_WITHOUT_GPU();
  const Dataset test = synthetic_dataset("synthetic test", 9000, 28, 28, 21);  // more than one 8192 chunk
  Rng rng(14);
  const Parameters p = init_parameters({784, 30, 10}, Init::scaled, rng);
  auto gpu = make_backend(Device::gpu, Precision::f32);
  auto cpu = make_backend(Device::cpu, Precision::f32);
  gpu->set_parameters(p);
  cpu->set_parameters(p);
  const Evaluation g = gpu->evaluate(test), c = cpu->evaluate(test);
  EXPECT_EQ(g.total, 9000u);
  EXPECT_NEAR(double(g.correct), double(c.correct), 2.0);  // only near-ties may fall differently
  EXPECT_NEAR(g.cost, c.cost, 1e-5 * c.cost);
  const std::vector<double> go = gpu->outputs(test, 8150, 77), co = cpu->outputs(test, 8150, 77);
  ASSERT_EQ(go.size(), 770u);
  EXPECT_LE(compare(std::span<const double>(go), std::span<const double>(co)).relative, 1e-5);
  EXPECT_THROW(gpu->outputs(test, 8990, 11), Error);
  EXPECT_TRUE(gpu->outputs(test, 9000, 0).empty());
  // Evaluating the training set uses its device copy; same numbers as a fresh upload.
  gpu->set_training_data(test);
  const Evaluation again = gpu->evaluate(test);
  EXPECT_EQ(again.correct, g.correct);
  EXPECT_EQ(again.cost, g.cost);
}

#if defined(SIGMANET_TEST_EMULATED_GPU)
// A small batch's step is few launches: 2L for L layers of sigmoids, two more for a softmax output layer.
TEST(GpuBackend, ASmallBatchsStepIsAGraphOfTwoLaunchesALayer) {
  SIGMANET_SKIP_WITHOUT_GPU();
  Rng rng(16);
  const std::vector<std::uint32_t> order = rng.permutation(50);
  const auto nodes = [&](const std::vector<int>& sizes, Activation output, Cost cost) {
    Parameters p = init_parameters(sizes, Init::scaled, rng);
    p.output = output;
    auto gpu = make_backend(Device::gpu, Precision::f32, nullptr, graph_path());
    gpu->set_training_data(synthetic_train());
    gpu->set_objective({cost, 0.0});
    gpu->set_parameters(p);
    EXPECT_EQ(gpu->train(order, 10, 3.0, {}), 50u);
    return gpu_emulator::last_graph_nodes();
  };
  EXPECT_EQ(nodes({784, 30, 10}, Activation::sigmoid, Cost::quadratic), 4u);
  EXPECT_EQ(nodes({784, 30, 10}, Activation::sigmoid, Cost::cross_entropy), 4u);
  EXPECT_EQ(nodes({784, 17, 13, 10}, Activation::sigmoid, Cost::quadratic), 6u);
  EXPECT_EQ(nodes({784, 30, 10}, Activation::softmax, Cost::log_likelihood), 6u);
}

// The emulator counts every allocation and free; a GPU has no such count.
TEST(GpuBackend, AnEvaluationAllocatesNothingOnceItsBuffersExist) {
  SIGMANET_SKIP_WITHOUT_GPU();
  const Dataset test = synthetic_dataset("synthetic test", 700, 28, 28, 22);
  Rng rng(15);
  auto gpu = make_backend(Device::gpu, Precision::f32);
  gpu->set_parameters(init_parameters({784, 30, 10}, Init::scaled, rng));
  gpu->set_training_data(test);  // resident, as training's evaluations of the training set are
  const Evaluation first = gpu->evaluate(test);  // makes the per-sample buffers
  const std::size_t before = gpu_emulator::memory_calls();
  for (int k = 0; k < 3; ++k) {
    const Evaluation again = gpu->evaluate(test);
    EXPECT_EQ(again.correct, first.correct);
    EXPECT_EQ(again.cost, first.cost);
  }
  EXPECT_EQ(gpu_emulator::memory_calls(), before) << "allocations or frees in three evaluations";
}
#endif

TEST(GpuBackend, ArgmaxTiesGoToTheLowestIndexLikeTheCpu) {
  SIGMANET_SKIP_WITHOUT_GPU();
  // All-zero parameters: every output is sigma(0) = 0.5, a ten-way tie that must resolve to digit 0.
  Parameters p;
  p.sizes = {784, 10};
  p.weights = {std::vector<double>(7840, 0.0)};
  p.biases = {std::vector<double>(10, 0.0)};
  const Dataset test = synthetic_dataset("ties", 500, 28, 28, 3);
  auto gpu = make_backend(Device::gpu, Precision::f32);
  gpu->set_parameters(p);
  const Evaluation e = gpu->evaluate(test);
  const auto zeros = std::size_t(std::count(test.labels.begin(), test.labels.end(), 0));
  ASSERT_GT(zeros, 0u);
  EXPECT_EQ(e.correct, zeros);
  EXPECT_NEAR(e.cost, 0.5 * (9 * 0.25 + 0.25), 1e-12);  // 1/2 (nine 0.5^2 and one (0.5 - 1)^2)
}

TEST(GpuBackend, ParametersSurviveTheRoundTripAsFloats) {
  SIGMANET_SKIP_WITHOUT_GPU();
  Rng rng(15);
  const Parameters p = init_parameters({784, 17, 13, 10}, Init::standard, rng);
  auto gpu = make_backend(Device::gpu, Precision::f32);
  gpu->set_parameters(p);
  const Parameters back = gpu->parameters();
  ASSERT_EQ(back.sizes, p.sizes);
  for (std::size_t l = 0; l < p.layers(); ++l)
    for (std::size_t i = 0; i < p.weights[l].size(); ++i) ASSERT_EQ(back.weights[l][i], double(float(p.weights[l][i])));
  // New sizes replace the old network.
  const Parameters small = init_parameters({784, 10}, Init::standard, rng);
  gpu->set_parameters(small);
  EXPECT_EQ(gpu->parameters().sizes, small.sizes);
}

TEST(GpuBackend, DescribesItselfAndRefusesWhatItCannotDo) {
  SIGMANET_SKIP_WITHOUT_GPU();
  auto gpu = make_backend(Device::gpu, Precision::f32);
  const auto info = cuda_device_info();
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(gpu->describe(), "gpu float (" + info->name + ")");
  EXPECT_EQ(gpu->precision(), Precision::f32);
  EXPECT_GT(info->compute_capability, 0);
  EXPECT_GT(info->memory_bytes, 0u);
  EXPECT_THROW(gpu->parameters(), Error);  // no parameters yet
  const std::vector<std::uint32_t> order{0, 1};
  EXPECT_THROW(gpu->train(order, 10, 3.0, {}), Error);  // no training data
  Rng rng(16);
  gpu->set_parameters(init_parameters({784, 30, 10}, Init::standard, rng));
  gpu->set_training_data(synthetic_train());
  EXPECT_THROW(gpu->train(order, 0, 3.0, {}), Error);
  const std::vector<std::uint32_t> past{0, std::uint32_t(synthetic_train().size())};
  EXPECT_THROW(gpu->train(past, 10, 3.0, {}), Error);
  EXPECT_EQ(gpu->train({}, 10, 3.0, {}), 0u);
  const Dataset small_images = synthetic_dataset("10x10", 20, 10, 10, 1);
  EXPECT_THROW(gpu->evaluate(small_images), InputError);
  // The backend's clock times the work inside the call, so never more than the host saw the call take.
  const auto host_start = std::chrono::steady_clock::now();
  const double seconds = gpu->time_seconds([&] { gpu->train(order, 2, 3.0, {}); });
  const double host = std::chrono::duration<double>(std::chrono::steady_clock::now() - host_start).count();
  EXPECT_GT(seconds, 0.0);
  EXPECT_LE(seconds, host);
}

TEST(GpuBackend, Tf32IsOffUnlessAskedFor) {
  SIGMANET_SKIP_WITHOUT_GPU();
  // Default math keeps SGEMM in float: one step at batch 1000 (the SGEMM path) agrees to float accuracy
  // (measured near 4e-6 on the CPU), while TF32 rounds the inputs to 10 mantissa bits.
  auto gpu = make_backend(Device::gpu, Precision::f32);
  const StageCheck c = check_one_step(*gpu, synthetic_train(), {784, 300, 10}, 1000, 17);
  EXPECT_LT(c.result.relative, 1e-4) << format_checks({c});  // TF32 would land near 1e-3
}

// sigmanet verify on this GPU (on the emulator: the kernels on the SIMT executor) through the CLI, its GPU rows on the
// first 100 records (--samples; all 50,000 took minutes there): every kernel's rows (cuda_kernel_checks at batches 1
// to 1000, 81 rows), the backend's, chapter 3's on each path, the same seed twice, each path by name, and the
// persistent kernel's 10 batches against the oracle and in chunks of 1 and 10 (a chunk of 64 holds them all), all OK.
// Measured: 41 s here on the emulator, 20 s of them the kernel rows.
TEST(GpuBackend, VerifyPrintsTheGpuTableWithEveryRowOk) {
  SIGMANET_SKIP_WITHOUT_GPU();
  SKIP_WITHOUT_MNIST();
  const test::CliRun run =
      test::run_cli_argv({"verify", "--samples", "100", "--data", test::mnist_dir().string()}, 900);
  ASSERT_EQ(run.status, 0) << run.out << run.err;
  EXPECT_NE(run.out.find("\nGPU: " + cuda_device_info()->name + ", sm_"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("checked on the first 100 training and 100 test records (--samples)"), std::string::npos);
  for (const char* row : {"same seed twice on the GPU: identical bits", "persistent kernel: one SGD step",
                          "graph path: one SGD step", "persistent kernel: 10 batches of 10 against the oracle",
                          "persistent kernel: chunks of 1 and 64 batches: identical bits",
                          "persistent kernel: chunks of 1 and by time: identical bits"}) {
    const std::size_t at = run.out.find(std::string("\n") + row);
    ASSERT_NE(at, std::string::npos) << row << "\n" << run.out;
    const std::string line = run.out.substr(at + 1, run.out.find('\n', at + 1) - at - 1);
    EXPECT_EQ(line.substr(line.size() - 3), " OK") << line;
  }
  EXPECT_EQ(run.out.find("NOT OK"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("\nverify: all 152 checks OK\n"), std::string::npos) << run.out;
}

#else

TEST(GpuBackend, NeedsACudaBuild) { GTEST_SKIP() << "this build of sigmanet has no CUDA backend"; }

#endif

}  // namespace
}  // namespace sigmanet
