// The CUDA backend's persistent path (kernels/persistent_train.cu): the network held in shared memory for a
// chunk of batches, by one block or a thread-block cluster. Against the oracle for one step and an epoch at
// every cluster size, the same bits whatever the chunk, chunk boundaries, partial batches, stopping inside a
// chunk, divergence, and the fit rule.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "sigmanet/backends/factory.hpp"
#include "cpu/fast_network.hpp"
#include "gpu_support.hpp"
#include "oracle/equivalence.hpp"
#include "sigmanet/error.hpp"
#include "sigmanet/formats/model_file.hpp"
#include "sigmanet/random.hpp"
#include "sigmanet/trainer.hpp"
#include "test_support.hpp"

#ifdef SIGMANET_HAVE_CUDA
#include "cuda/cuda_backend.hpp"
#include "cuda_checks/cuda_checks.hpp"
#include "sigmanet/formats/mnist.hpp"
#endif

namespace sigmanet {
namespace {

#ifdef SIGMANET_HAVE_CUDA

const Dataset& synthetic_train() {
  static const Dataset d = synthetic_dataset("synthetic", test::kEmulatedEpochSamples ? 500 : 1000, 28, 28, 7);
  return d;
}

CudaOptions persistent(std::size_t chunk = 0, int blocks = 0) {
  CudaOptions o;
  o.kernel = CudaOptions::Kernel::persistent;
  o.persistent_chunk = chunk;
  o.persistent_blocks = blocks;
  return o;
}

CudaOptions graph() {
  CudaOptions o;
  o.kernel = CudaOptions::Kernel::graph;
  return o;
}

bool same_bits(const Parameters& a, const Parameters& b) {
  for (std::size_t l = 0; l < a.layers(); ++l)
    if (a.weights[l] != b.weights[l] || a.biases[l] != b.biases[l]) return false;
  return a.sizes == b.sizes;
}

Parameters train_with(const CudaOptions& options, const std::vector<int>& sizes, std::size_t batch, std::size_t samples,
                      std::uint64_t seed, double eta = 3.0) {
  Rng rng(seed);
  const Parameters start = init_parameters(sizes, Init::scaled, rng);
  std::vector<std::uint32_t> order = rng.permutation(synthetic_train().size());
  order.resize(samples);
  auto gpu = make_backend(Device::gpu, Precision::f32, nullptr, options);
  gpu->set_training_data(synthetic_train());
  gpu->set_parameters(start);
  EXPECT_EQ(gpu->train(order, batch, eta, {}), samples);
  return gpu->parameters();
}

void expect_ok(const StageCheck& c) { EXPECT_TRUE(c.ok()) << "\n" << format_checks({c}); }

TEST(GpuPersistent, OneStepMatchesTheReference) {
  SIGMANET_SKIP_WITHOUT_GPU();
  auto gpu = make_backend(Device::gpu, Precision::f32, nullptr, persistent());
  for (std::size_t m : {1, 7, 10, 32}) {
    expect_ok(check_one_step(*gpu, synthetic_train(), {784, 30, 10}, m, 3));
    expect_ok(check_one_step(*gpu, synthetic_train(), {784, 17, 13, 10}, m, 4));
  }
  // The second size: 784-60-10 fills 217,344 of the 232,448 bytes a block may have.
  expect_ok(check_one_step(*gpu, synthetic_train(), {784, 60, 10}, 10, 5));
}

// The kernel's shapes past Nielsen's: images of 50, 60, 40 and 783 pixels, whose copies go in pieces of 1, 4, 8
// and 1 bytes (784 takes 16); 784-40-10 and 783-40-10 at batch 32 have 20 forward tiles for 16 warps, and at
// batch 10, 10 tiles, whose inputs are not split; 783 inputs make the update's last span one input short.
TEST(GpuPersistent, OneStepForEveryRowWidthAndTileShape) {
  SIGMANET_SKIP_WITHOUT_GPU();
  auto gpu = make_backend(Device::gpu, Precision::f32, nullptr, persistent());
  for (const auto& [rows, columns] : {std::pair{10, 5}, std::pair{10, 6}, std::pair{10, 4}}) {
    const Dataset small = synthetic_dataset("small", 200, std::size_t(rows), std::size_t(columns), 8);
    for (std::size_t m : {1, 7, 32}) expect_ok(check_one_step(*gpu, small, {rows * columns, 9, 10}, m, 6));
  }
  const Dataset odd = synthetic_dataset("odd", 200, 27, 29, 9);
  for (std::size_t m : {10, 32}) {
    expect_ok(check_one_step(*gpu, synthetic_train(), {784, 40, 10}, m, 7));
    expect_ok(check_one_step(*gpu, odd, {783, 40, 10}, m, 8));
  }
}

TEST(GpuPersistent, AnEpochMatchesTheReference) {
  SIGMANET_SKIP_WITHOUT_GPU();
  // MNIST's first samples where the tests find it, else the synthetic set: 784-30-10 at batch 10.
  const Mnist* mnist = test::find_mnist();
  const Dataset& train = mnist ? mnist->train : synthetic_train();
  const Dataset& test = mnist ? mnist->test : synthetic_train();
  auto gpu = make_backend(Device::gpu, Precision::f32, nullptr, persistent());
  for (const StageCheck& c :
       check_epoch(*gpu, train, test::epoch_test_set(test), {784, 30, 10}, 10, 1, test::epoch_samples()))
    expect_ok(c);
}

TEST(GpuPersistent, TheSameBitsWhateverTheChunkAndRunToRun) {
  SIGMANET_SKIP_WITHOUT_GPU();
  // 150 samples at batch 7: 21 full batches and one of 3, so chunks of 1, 5 and 64 (or as many as take 0.25 s:
  // all 22) end in different places; one block, and the cluster of 4 that 784-30-10 gets on a GPU with clusters.
  const std::size_t n = 150;
  for (int blocks : {1, 4}) {
    const Parameters one = train_with(persistent(1, blocks), {784, 30, 10}, 7, n, 21);
    for (std::size_t chunk : blocks == 1 ? std::vector<std::size_t>{64} : std::vector<std::size_t>{5, 0}) {
      const Parameters other = train_with(persistent(chunk, blocks), {784, 30, 10}, 7, n, 21);
      EXPECT_TRUE(same_bits(one, other)) << blocks << " blocks, chunk " << chunk << ": relative difference "
                                         << relative_difference(one, other);
    }
    if (blocks > 1) {
      EXPECT_TRUE(same_bits(one, train_with(persistent(1, blocks), {784, 30, 10}, 7, n, 21))) << "run to run";
    }
  }
}

// Every cluster size against the oracle, and against each other: 784-30-10 splits 30 neurons as 15 + 15,
// 8 + 8 + 8 + 6 and 4 x 7 + 2; 784-17-13-10 (3 layers: the second repeated in every block) as 9 + 8 and
// 5 + 5 + 5 + 2; a softmax 784-10 splits its output layer itself.
TEST(GpuPersistent, EveryClusterSizeMatchesTheReference) {
  SIGMANET_SKIP_WITHOUT_GPU();
  for (int blocks : {1, 2, 4, 8}) {
    auto gpu = make_backend(Device::gpu, Precision::f32, nullptr, persistent(0, blocks));
    expect_ok(check_one_step(*gpu, synthetic_train(), {784, 30, 10}, 10, 40 + blocks));
    if (blocks == 8) expect_ok(check_one_step(*gpu, synthetic_train(), {784, 30, 10}, 1, 40));
    if (blocks <= 4) expect_ok(check_one_step(*gpu, synthetic_train(), {784, 17, 13, 10}, 7, 50 + blocks));
  }
  const Parameters one = train_with(persistent(0, 1), {784, 30, 10}, 10, 100, 23);
  for (int blocks : {2, 4, 8}) {
    const Parameters split = train_with(persistent(0, blocks), {784, 30, 10}, 10, 100, 23);
    EXPECT_LE(relative_difference(one, split), 1e-5) << blocks << " blocks";
    EXPECT_GT(relative_difference(one, split), 0.0) << blocks << " blocks: the sums' order is the cluster's";
  }
  for (const StageCheck& c : check_objective_training(persistent(0, 2), Objective{Cost::log_likelihood, 0.0},
                                                      synthetic_train(), nullptr, {784, 10}, 10, 10, 3.0, 3))
    expect_ok(c);
}

TEST(GpuPersistent, AgreesWithTheGraphPathAndTheCpuOverChunksAndAPartialBatch) {
  SIGMANET_SKIP_WITHOUT_GPU();
  for (const std::vector<int>& sizes : {std::vector<int>{784, 30, 10}, std::vector<int>{784, 17, 13, 10}}) {
    const Parameters p = train_with(persistent(7), sizes, 10, 205, 22);
    const Parameters g = train_with(graph(), sizes, 10, 205, 22);
    EXPECT_LE(relative_difference(p, g), 1e-5) << sizes_text(sizes);
    Rng rng(22);
    const Parameters start = init_parameters(sizes, Init::scaled, rng);
    std::vector<std::uint32_t> order = rng.permutation(synthetic_train().size());
    order.resize(205);
    auto cpu = make_backend(Device::cpu, Precision::f64);
    cpu->set_training_data(synthetic_train());
    cpu->set_parameters(start);
    cpu->train(order, 10, 3.0, {});
    EXPECT_LE(relative_difference(p, cpu->parameters()), 1e-5) << sizes_text(sizes);
    EXPECT_GT(relative_difference(p, start), 1e-3) << "it trained";
  }
}

TEST(GpuPersistent, AfterBatchStopsExactlyInsideAChunk) {
  SIGMANET_SKIP_WITHOUT_GPU();
  Rng rng(12);
  const Parameters start = init_parameters({784, 30, 10}, Init::standard, rng);
  const std::vector<std::uint32_t> order = rng.permutation(synthetic_train().size());
  auto whole = make_backend(Device::gpu, Precision::f32, nullptr, persistent(16)),
       parts = make_backend(Device::gpu, Precision::f32, nullptr, persistent(16));
  for (Backend* b : {whole.get(), parts.get()}) {
    b->set_training_data(synthetic_train());
    b->set_parameters(start);
  }
  whole->train(order, 10, 3.0, {});
  std::vector<std::size_t> seen;
  const std::size_t done = parts->train(order, 10, 3.0, [&](std::size_t n) {
    seen.push_back(n);
    return n < 370;  // batch 37: inside the third chunk of 16
  });
  EXPECT_EQ(done, 370u);
  ASSERT_EQ(seen.size(), 37u);
  EXPECT_EQ(seen.front(), 10u);
  EXPECT_EQ(seen.back(), 370u);
  parts->train(std::span<const std::uint32_t>(order).subspan(done), 10, 3.0, {});
  EXPECT_TRUE(same_bits(whole->parameters(), parts->parameters()));
}

TEST(GpuPersistent, DivergenceIsReportedWithTheFirstBadBatch) {
  SIGMANET_SKIP_WITHOUT_GPU();
  Rng rng(13);
  const Parameters start = init_parameters({784, 30, 10}, Init::standard, rng);
  const std::vector<std::uint32_t> order = rng.permutation(synthetic_train().size());
  auto gpu = make_backend(Device::gpu, Precision::f32, nullptr, persistent(8));
  auto cpu = make_backend(Device::cpu, Precision::f32);
  for (Backend* b : {gpu.get(), cpu.get()}) {
    b->set_training_data(synthetic_train());
    b->set_parameters(start);
    b->train(std::span<const std::uint32_t>(order.data(), 200), 10, std::nan(""), {});
  }
  ASSERT_TRUE(cpu->nonfinite_batch().has_value());
  ASSERT_TRUE(gpu->nonfinite_batch().has_value());
  EXPECT_EQ(*gpu->nonfinite_batch(), *cpu->nonfinite_batch());
  gpu->set_parameters(start);
  gpu->train(std::span<const std::uint32_t>(order.data(), 200), 10, 3.0, {});
  EXPECT_FALSE(gpu->nonfinite_batch().has_value()) << "a clean run clears the report";
}

TEST(GpuPersistent, AutomaticChoosesByBatchAndFit) {
  SIGMANET_SKIP_WITHOUT_GPU();
  // Automatic is persistent at batch 10 and the graph path at batch 100: the same bits as each forced one.
  EXPECT_TRUE(
      same_bits(train_with({}, {784, 30, 10}, 10, 200, 30), train_with(persistent(), {784, 30, 10}, 10, 200, 30)));
  EXPECT_TRUE(same_bits(train_with({}, {784, 30, 10}, 100, 200, 31), train_with(graph(), {784, 30, 10}, 100, 200, 31)));
}

TEST(GpuPersistent, ANetworkThatDoesNotFitIsRefusedWhenForced) {
  SIGMANET_SKIP_WITHOUT_GPU();
  // 784-100-500-10's second layer alone is 50,000 weights, 200 KB in float, which every block of a cluster
  // holds in full; 784-100-10 fits a cluster of 8 (79,510 parameters, 318 KB, past any one block) but not
  // one block. A refusal gives the least any cluster size needs.
  Rng rng(1);
  const std::vector<std::uint32_t> order(10, 0u);
  const auto refused = [&](const CudaOptions& options, const std::vector<int>& sizes, Setting setting,
                           const std::string& why) {
    auto gpu = make_backend(Device::gpu, Precision::f32, nullptr, options);
    gpu->set_training_data(synthetic_train());
    gpu->set_parameters(init_parameters(sizes, Init::scaled, rng));
    try {
      gpu->train(order, 10, 3.0, {});
      ADD_FAILURE() << "no exception";
    } catch (const SettingError& e) {
      EXPECT_EQ(e.setting(), setting);
      const std::string named = setting == Setting::gpu_kernel ? "gpu_kernel persistent: " : "gpu_cluster 1: ";
      EXPECT_NE(std::string(e.what()).find(named + "a " + sizes_text(sizes, '-') + " network at batch 10 "
                                           "does not fit the persistent kernel (" + why),
                std::string::npos)
          << e.what();
    }
  };
  refused(persistent(), {784, 100, 500, 10}, Setting::gpu_kernel,
          "it needs 424096 bytes of shared memory a block split over a cluster of 8, this GPU allows 232448");
  // A cluster size asked for is the setting blamed.
  refused(persistent(0, 1), {784, 100, 10}, Setting::gpu_cluster,
          "it needs 486480 bytes of shared memory a block, this GPU allows 232448");
  // Automatic falls back to the graph path instead.
  auto automatic = make_backend(Device::gpu, Precision::f32);
  automatic->set_training_data(synthetic_train());
  automatic->set_parameters(init_parameters({784, 100, 500, 10}, Init::scaled, rng));
  EXPECT_EQ(automatic->train(order, 10, 3.0, {}), 10u);
}

// --gpu-cluster on the command line: a size that runs, and each way one cannot, refused with the reason. The size
// that ran shows in the bits (the cluster's sums are in its own order): --gpu-cluster 2 trains exactly what a
// 2-block cluster trains here, and not what 1 or 8 blocks (784-30-10's own choice) train.
TEST(GpuPersistent, TheClusterFlagRunsOrSaysWhyNot) {
  SIGMANET_SKIP_WITHOUT_GPU();
  if (!test::find_mnist()) GTEST_SKIP() << "MNIST is not at " << test::mnist_dir();
  const auto train = [](std::vector<std::string> more) {
    std::vector<std::string> args = {"train",        "--device",      "gpu", "--epochs",          "1",
                                     "--train-size", "200",           "--test-size", "100", "--validation-size",
                                     "0",            "--data",        test::mnist_dir().string()};
    args.insert(args.end(), more.begin(), more.end());
    return test::run_cli_argv(args, 120);
  };
  test::TempDir dir;
  const test::CliRun two = train({"--gpu-cluster", "2", "--save", (dir / "two").string()});
  ASSERT_EQ(two.status, 0) << two.out << two.err;
  const Mnist data = load_mnist(test::mnist_dir(), {200, 0, 100});
  const auto blocks_train = [&](int blocks) {
    TrainConfig c;
    c.split = {200, 0, 100};
    auto gpu = make_backend(Device::gpu, Precision::f32, nullptr, persistent(0, blocks));
    Trainer t(c, *gpu, data.train);
    EXPECT_TRUE(t.train_epoch());
    return gpu->parameters();
  };
  const Parameters ran = load_model(dir / "two").parameters;
  EXPECT_TRUE(same_bits(ran, blocks_train(2)));
  EXPECT_FALSE(same_bits(ran, blocks_train(1)));
  EXPECT_FALSE(same_bits(ran, blocks_train(8)));
  const test::CliRun one = train({"--gpu-cluster", "1", "--sizes", "784,100,10"});
  EXPECT_EQ(one.status, 2) << one.out << one.err;
  EXPECT_NE(one.err.find("sigmanet: --gpu-cluster 1: a 784-100-10 network at batch 10 does not fit the persistent "
                         "kernel (it needs 486480 bytes of shared memory a block, this GPU allows 232448)"),
            std::string::npos)
      << one.err;
  const test::CliRun big = train({"--gpu-cluster", "4", "--batch", "100"});
  EXPECT_EQ(big.status, 2) << big.out << big.err;
  EXPECT_NE(big.err.find("sigmanet: --gpu-cluster 4: batch 100 trains on the graph path, which has no cluster"),
            std::string::npos)
      << big.err;
}

// gpu-double is refused before any case runs, not when its turn comes.
TEST(GpuPersistent, BenchRefusesGpuDoubleBeforeAnyCase) {
  SIGMANET_SKIP_WITHOUT_GPU();
  const test::CliRun run =
      test::run_cli_argv({"bench", "--quick", "--synthetic", "--backends", "gpu-float,gpu-double"}, 60);
  EXPECT_EQ(run.status, 2) << run.out << run.err;
  EXPECT_NE(run.err.find("--backends gpu-double: the GPU backend computes in float"), std::string::npos) << run.err;
  EXPECT_EQ(run.out.find("784-30-10"), std::string::npos) << "a case ran before the refusal:\n" << run.out;
}

#else

TEST(GpuPersistent, NeedsACudaBuild) { GTEST_SKIP() << "this build of sigmanet has no CUDA backend"; }

#endif

}  // namespace
}  // namespace sigmanet
