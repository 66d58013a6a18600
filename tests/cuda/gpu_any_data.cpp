// The CUDA backend on data unlike MNIST: float features (used as given, negative and past 1) and input widths and
// class counts other than 784 and 10, against the oracle through the Backend interface, with the tolerances MNIST
// is held to (equivalence.hpp); measured worst on the emulator: one step 5.9e-6 (5e-5 allowed), 30 steps'
// parameters 1.5e-7 (1e-4), the same accuracy. The graph path trains both kinds of features, at the fused
// small-batch step and at the GEMM step; the persistent kernel trains pixel data of any geometry it fits and
// refuses float values (its batch pipeline moves bytes), which auto then trains on the graph path.
#include <gtest/gtest.h>

#include <string>
#include <tuple>
#include <vector>

#include "gpu_support.hpp"
#include "oracle/equivalence.hpp"
#include "sigmanet/backends/factory.hpp"
#include "sigmanet/error.hpp"
#include "sigmanet/random.hpp"
#include "test_support.hpp"

#ifdef SIGMANET_HAVE_CUDA
#include "cuda/cuda_backend.hpp"
#include "cuda/cuda_resources.hpp"
#include "cuda_checks/check_support.hpp"
#include "kernels.hpp"
#endif

namespace sigmanet {
namespace {

#ifdef SIGMANET_HAVE_CUDA

using test::Geometry;

const Geometry kFloat13x3{1, 13, 3, true}, kPixels20x20x47{20, 20, 47, false}, kFloat5x2{1, 5, 2, true},
    kFloat300x12{1, 300, 12, true};

CudaOptions path(CudaOptions::Kernel kernel) {
  CudaOptions o;
  o.kernel = kernel;
  return o;
}

void expect_ok(const StageCheck& c, const std::string& where) {
  EXPECT_TRUE(c.ok()) << where << "\n" << format_checks({c});
}

// Both gathers of float values, the batch gather and the first layer's own, read record order[step * batch + s]
// and pass its values through unchanged: x equals them to the bit, and the labels follow.
TEST(GpuAnyData, FloatGathersCopyTheValuesBitForBit) {
  SIGMANET_SKIP_WITHOUT_GPU();
  using cuda_checks::to_device, cuda_checks::to_host;
  const Dataset data = kFloat13x3.records("train", 40, 13);
  Rng rng(14);
  const std::vector<std::uint32_t> order = rng.permutation(data.size());
  const std::size_t m = 7, n = 13, n1 = 5;
  const unsigned step = 2;
  const cudaStream_t s = nullptr;
  auto values = to_device(data.values, s);
  auto labels = to_device(data.labels, s);
  auto order_d = to_device(order, s);
  auto step_d = to_device(std::vector<unsigned>{step}, s);
  auto w = to_device(std::vector<float>(n1 * n, 0.5f), s), b = to_device(std::vector<float>(n1, 0.0f), s);
  cuda::DeviceBuffer<float> x(m * n), x_fused(m * n), out(m * n1);
  cuda::DeviceBuffer<std::uint8_t> batch_labels(m), fused_labels(m);
  const kernels::BatchView<const float> set{values.get(), data.size(), n};
  kernels::gather_batch(set, {labels.get(), data.size()}, {order_d.get(), order.size()}, step_d.get(), m, 0,
                        {x.get(), m, n}, {batch_labels.get(), m}, s);
  kernels::fused_gather_forward(set, {labels.get(), data.size()}, {order_d.get(), order.size()}, step_d.get(), m,
                                {w.get(), n1, n}, {b.get(), n1}, {x_fused.get(), m, n}, {fused_labels.get(), m},
                                {out.get(), m, n1}, s);
  std::vector<float> want;
  std::vector<std::uint8_t> want_labels;
  for (std::size_t i = 0; i < m; ++i) {
    const std::uint32_t record = order[step * m + i];
    want.insert(want.end(), data.row(record), data.row(record) + n);
    want_labels.push_back(data.labels[record]);
  }
  EXPECT_EQ(to_host(x, s), want);
  EXPECT_EQ(to_host(x_fused, s), want);
  EXPECT_EQ(to_host(batch_labels, s), want_labels);
  EXPECT_EQ(to_host(fused_labels, s), want_labels);
}

// Batches 1, 7 and 10 take the fused small-batch step (the first layer gathering its own input), 100 the GEMM
// step after gather_batch; a log-likelihood objective the softmax output.
TEST(GpuAnyData, GraphPathOneStepMatchesTheOracle) {
  SIGMANET_SKIP_WITHOUT_GPU();
  for (const Geometry& g : {kFloat13x3, kPixels20x20x47, kFloat5x2, kFloat300x12}) {
    const Dataset train = g.records("train", 100, 1);
    auto gpu = make_backend(Device::gpu, Precision::f32, nullptr, path(CudaOptions::Kernel::graph));
    for (const std::vector<int>& sizes :
         {std::vector<int>{g.width(), 17, int(g.classes)}, std::vector<int>{g.width(), 9, 7, int(g.classes)}})
      for (std::size_t m : {1u, 7u, 10u, 100u})
        for (const Objective& objective : {Objective{}, Objective{Cost::log_likelihood, 0.0}})
          expect_ok(check_one_step(*gpu, train, sizes, m, 3, objective), g.text() + " m=" + std::to_string(m));
  }
}

// 300 samples (30 steps of 10) and 200 evaluated: the GPU's evaluation of float data included.
TEST(GpuAnyData, GraphPathEpochMatchesTheOracle) {
  SIGMANET_SKIP_WITHOUT_GPU();
  for (const Geometry& g : {kFloat13x3, kPixels20x20x47, kFloat5x2}) {
    const Dataset train = g.records("train", 300, 2), test = g.records("test", 200, 3);
    auto gpu = make_backend(Device::gpu, Precision::f32, nullptr, path(CudaOptions::Kernel::graph));
    for (const StageCheck& c : check_epoch(*gpu, train, test, {g.width(), 17, int(g.classes)}, 10, 4))
      expect_ok(c, g.text());
  }
}

TEST(GpuAnyData, PersistentPathTrainsPixelsOfAnyGeometry) {
  SIGMANET_SKIP_WITHOUT_GPU();
  for (const Geometry& g : {kPixels20x20x47, Geometry{1, 13, 3, false}}) {
    const Dataset train = g.records("train", 300, 5), test = g.records("test", 200, 6);
    auto gpu = make_backend(Device::gpu, Precision::f32, nullptr, path(CudaOptions::Kernel::persistent));
    for (std::size_t m : {1u, 7u, 10u})
      expect_ok(check_one_step(*gpu, train, {g.width(), 17, int(g.classes)}, m, 7), g.text());
    for (const StageCheck& c : check_epoch(*gpu, train, test, {g.width(), 17, int(g.classes)}, 10, 8))
      expect_ok(c, g.text());
  }
}

TEST(GpuAnyData, PersistentPathRefusesFloatValuesAndAutoTakesTheGraphPath) {
  SIGMANET_SKIP_WITHOUT_GPU();
  const Dataset train = kFloat13x3.records("train", 100, 9);
  Rng rng(10);
  const Parameters start = init_parameters({13, 17, 3}, Init::scaled, rng);
  const std::vector<std::uint32_t> order = rng.permutation(train.size());
  const auto trained = [&](const CudaOptions& options) {
    auto gpu = make_backend(Device::gpu, Precision::f32, nullptr, options);
    gpu->set_training_data(train);
    gpu->set_parameters(start);
    EXPECT_EQ(gpu->train(order, 10, 3.0, {}), train.size());
    return gpu->parameters();
  };
  const char* why = "the persistent kernel trains pixel data only (its batch pipeline moves bytes), and these "
                    "features are float values";
  EXPECT_EQ(test::thrown<SettingError>([&] { trained(path(CudaOptions::Kernel::persistent)); }),
            std::string("gpu_kernel persistent: ") + why + "; use gpu_kernel graph or auto");
  CudaOptions cluster = path(CudaOptions::Kernel::automatic);
  cluster.persistent_blocks = 2;
  EXPECT_EQ(test::thrown<SettingError>([&] { trained(cluster); }), std::string("gpu_cluster 2: ") + why);
  const Parameters automatic = trained(path(CudaOptions::Kernel::automatic));
  const Parameters graph = trained(path(CudaOptions::Kernel::graph));
  EXPECT_EQ(automatic.weights, graph.weights);
  EXPECT_EQ(automatic.biases, graph.biases);
  EXPECT_NE(automatic.weights, start.weights);
}

TEST(GpuAnyData, ALabelPastTheOutputLayerIsRefused) {
  SIGMANET_SKIP_WITHOUT_GPU();
  Dataset bad = kFloat13x3.records("train", 50, 11);
  bad.labels[34] = 12;
  Rng rng(12);
  auto gpu = make_backend(Device::gpu, Precision::f32, nullptr, path(CudaOptions::Kernel::graph));
  gpu->set_training_data(bad);
  gpu->set_parameters(init_parameters({13, 5, 3}, Init::standard, rng));
  const char* refusal = "sizes: train: label 12 at record 34 is not below the output layer's 3 neurons";
  EXPECT_EQ(test::thrown<SettingError>([&] { gpu->train(rng.permutation(bad.size()), 10, 3.0, {}); }), refusal);
  EXPECT_EQ(test::thrown<SettingError>([&] { gpu->evaluate(bad); }), refusal);
}

// verify follows the data on a GPU too: a table of float features gets its own network's rows, the graph path's
// checks, and no persistent kernel's (it trains pixel data only), which it says, all OK.
TEST(GpuAnyData, VerifyOnFloatDataChecksTheGraphPathAndSaysThePersistentIsLeftOut) {
  SIGMANET_SKIP_WITHOUT_GPU();
  test::TempDir dir;
  for (const auto& [name, count, seed] : {std::tuple{"train.csv", 300, 21}, std::tuple{"test.csv", 100, 22}}) {
    const Dataset d = kFloat5x2.records(name, std::size_t(count), std::uint64_t(seed));
    std::string text = "label,a,b,c,d,e\n";
    for (std::size_t i = 0; i < d.size(); ++i) {
      text += std::to_string(d.labels[i]);
      for (std::size_t k = 0; k < d.features(); ++k) text += "," + std::to_string(d.row(i)[k]);
      text += "\n";
    }
    test::write_bytes(dir / name, std::vector<std::uint8_t>(text.begin(), text.end()));
  }
  const test::CliRun run = test::run_cli_argv({"verify", "--data", dir.path().string()}, 900);
  ASSERT_EQ(run.status, 0) << run.out << run.err;
  EXPECT_NE(run.out.find("The persistent kernel trains pixel data only: its checks are left out for these float "
                         "features."),
            std::string::npos)
      << run.out;
  EXPECT_NE(run.out.find("\ngraph path: one SGD step 5-30-2 m=10 (update)"), std::string::npos) << run.out;
  EXPECT_EQ(run.out.find("\npersistent kernel:"), std::string::npos) << run.out;
  EXPECT_EQ(run.out.find("NOT OK"), std::string::npos) << run.out;
}

#else

TEST(GpuAnyData, NeedsACudaBuild) { GTEST_SKIP() << "this build of sigmanet has no CUDA backend"; }

#endif

}  // namespace
}  // namespace sigmanet
