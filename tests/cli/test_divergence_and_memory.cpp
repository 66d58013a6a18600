// Training under numerically bad settings and absurd sizes: divergence stops with the epoch, the batch and
// the likely cause (exit 3); sizes that cannot fit in memory are refused with the estimate (exit 2) before
// anything is allocated.
#include <gtest/gtest.h>

#include <algorithm>
#include <limits>

#include "sigmanet/backends/factory.hpp"
#include "cpu/fast_network.hpp"
#include "training/physical_memory.hpp"
#include "sigmanet/trainer.hpp"
#include "test_support.hpp"

namespace sigmanet {
namespace {

using test::run_cli;

std::string data_flag() { return "--data '" + test::mnist_dir().string() + "'"; }

using test::small_mnist;

int lines(const std::string& s) { return int(std::count(s.begin(), s.end(), '\n')); }

// eta 1e6 does not make NaN with sigmoids: the first epoch's steps saturate every neuron, after which every
// gradient is exactly zero and nothing moves (measured: 0 of 23,860 parameters change in epoch 2, float and
// double). The trainer calls that a stall and names the learning rate.
TEST(DivergenceAndMemory, Eta1e6StallsInEpoch2WithTheLikelyCause) {
  for (Precision precision : {Precision::f32, Precision::f64}) {
    TrainConfig c;
    c.eta = 1e6;
    c.precision = precision;
    auto backend = make_backend(Device::cpu, precision);
    Trainer t(c, *backend, small_mnist().train);
    EXPECT_TRUE(t.train_epoch());
    try {
      t.train_epoch();
      FAIL() << "no DivergenceError";
    } catch (const DivergenceError& e) {
      EXPECT_EQ(e.epoch(), 2);
      EXPECT_EQ(e.batch(), 20u);
      const std::string m = e.what();
      EXPECT_EQ(m.rfind("training stalled at epoch 2, batches 1-20: no weight or bias changed", 0), 0u) << m;
      EXPECT_NE(m.find("likely cause: learning rate too large (eta 1e+06)"), std::string::npos) << m;
      // The tool names the flag instead (see DivergenceAndMemory.NonFiniteOutputsNameEpochAndBatch's CLI run).
      EXPECT_NE(e.message().render([](Setting s) { return std::string("<") + setting_name(s) + ">"; }).find("(<eta> 1e+06)"),
                std::string::npos);
    }
  }
}

// An eta beyond float's range becomes Inf in a float network: the first update makes the weights NaN and the
// next batch's outputs show it.
TEST(DivergenceAndMemory, NonFiniteOutputsNameEpochAndBatch) {
  TrainConfig c;
  c.eta = 1e39;
  auto backend = make_backend(Device::cpu, Precision::f32);
  Trainer t(c, *backend, small_mnist().train);
  try {
    t.train_epoch();
    FAIL() << "no DivergenceError";
  } catch (const DivergenceError& e) {
    EXPECT_EQ(e.epoch(), 1);
    EXPECT_EQ(e.batch(), 2u);
    EXPECT_STREQ(e.what(),
                 "training diverged at epoch 1, batch 2 of 20: the network's outputs became NaN or Inf; likely "
                 "cause: learning rate too large (eta 1e+39); the last saved checkpoint, if any, is left as it was");
  }
}

// Infinite weights need not make the outputs non-finite (sigmoid(Inf) = 1); the end-of-epoch check sees them.
class InfiniteWeightsAfterLastBatch final : public Backend {
 public:
  explicit InfiniteWeightsAfterLastBatch(std::unique_ptr<Backend> inner) : inner_(std::move(inner)) {}
  std::string describe() const override { return inner_->describe(); }
  Precision precision() const override { return inner_->precision(); }
  void set_parameters(const Parameters& p) override { inner_->set_parameters(p); }
  void set_objective(const Objective& o) override { inner_->set_objective(o); }
  Parameters parameters() const override { return p_ ? *p_ : inner_->parameters(); }
  void set_training_data(const Dataset& d) override { inner_->set_training_data(d); }
  std::size_t train(std::span<const std::uint32_t> order, std::size_t batch, double eta,
                    const AfterBatch& after) override {
    const std::size_t done = inner_->train(order, batch, eta, after);
    p_ = inner_->parameters();
    p_->weights[0][3] = std::numeric_limits<double>::infinity();
    return done;
  }
  Evaluation evaluate(const Dataset& d) override { return inner_->evaluate(d); }
  std::vector<double> outputs(const Dataset& d, std::size_t f, std::size_t n) override { return inner_->outputs(d, f, n); }
  std::optional<std::size_t> nonfinite_batch() const override { return inner_->nonfinite_batch(); }

 private:
  std::unique_ptr<Backend> inner_;
  std::optional<Parameters> p_;
};

TEST(DivergenceAndMemory, NonFiniteParametersAtTheEndOfAnEpochAreDivergence) {
  TrainConfig c;
  InfiniteWeightsAfterLastBatch backend(make_backend(Device::cpu, Precision::f32));
  Trainer t(c, backend, small_mnist().train);
  try {
    t.train_epoch();
    FAIL() << "no DivergenceError";
  } catch (const DivergenceError& e) {
    EXPECT_EQ(e.epoch(), 1);
    EXPECT_EQ(e.batch(), 20u);
    EXPECT_NE(std::string(e.what()).find("the weights or biases became NaN or Inf"), std::string::npos) << e.what();
  }
}

TEST(DivergenceAndMemory, ANormalRunIsNotCalledDivergent) {
  TrainConfig c;  // Nielsen's eta 3.0
  auto backend = make_backend(Device::cpu, Precision::f32);
  Trainer t(c, *backend, small_mnist().train);
  for (int e = 0; e < 5; ++e) EXPECT_NO_THROW(EXPECT_TRUE(t.train_epoch()));
}

TEST(DivergenceAndMemory, CliExits3WithOneLineForEta1e6) {
  std::string out;
  EXPECT_EQ(run_cli("train --device cpu --eta 1e6 --epochs 3 --train-size 200 --validation-size 100 "
                    "--test-size 100 " + data_flag(), &out),
            3)
      << out;
  const std::string expected =
      "sigmanet: training stalled at epoch 2, batches 1-20: no weight or bias changed in the whole epoch";
  EXPECT_NE(out.find(expected), std::string::npos) << out;
  EXPECT_NE(out.find("likely cause: learning rate too large (--eta 1e+06)"), std::string::npos) << out;
  EXPECT_EQ(out.find("Epoch 2/3"), std::string::npos) << "no epoch line after divergence\n" << out;
}

TEST(DivergenceAndMemory, CliExits3ForNaN) {
  std::string out;
  EXPECT_EQ(run_cli("train --device cpu --eta 1e39 --epochs 1 --train-size 200 --validation-size 100 "
                    "--test-size 100 " + data_flag(), &out),
            3)
      << out;
  EXPECT_NE(out.find("sigmanet: training diverged at epoch 1, batch 2 of 20: the network's outputs became NaN or "
                     "Inf; likely cause: learning rate too large (--eta 1e+39)"),
            std::string::npos)
      << out;
}

// An L2 decay 1 - eta*lambda/n below -1 grows the weights whatever eta does: the run diverged by --lambda 1e300
// used to blame --eta.
TEST(DivergenceAndMemory, AnL2DecayThatGrowsTheWeightsBlamesLambda) {
  std::string out;
  EXPECT_EQ(run_cli("train --device cpu --lambda 1e300 --epochs 1 --train-size 200 --validation-size 100 "
                    "--test-size 100 " + data_flag(), &out),
            3)
      << out;
  EXPECT_NE(out.find("sigmanet: training diverged at epoch 1, batch 2 of 20: the network's outputs became NaN or "
                     "Inf; likely cause: L2 too strong: each step multiplies the weights by 1 - eta*lambda/n = "
                     "-1.5e+298 (--lambda 1e+300 with --eta 3 and 200 training records; it needs eta*lambda/n below "
                     "2); the last saved checkpoint, if any, is left as it was\n"),
            std::string::npos)
      << out;
}

// My own: with --device auto (the default) on a machine without a usable GPU the estimate counted a GPU's share,
// none of it on the host, so activations the CPU could never hold went unrefused and the run tried to allocate them.
TEST(DivergenceAndMemory, AutoFallingBackToTheCpuIsEstimatedAsTheCpu) {
  if (gpu_available()) GTEST_SKIP() << "a GPU is usable here: auto takes it";
  std::string out;
  // 7.95e8 parameters (6.4 GB as the host's doubles, all the old estimate counted) and 5,000,000 rows of a million
  // activations (the CPU's share: 40 TB).
  EXPECT_EQ(run_cli("train --sizes 784,1000000,10 --batch 5000000 " + data_flag(), &out), 2) << out;
  EXPECT_EQ(out.rfind("sigmanet: --batch 5000000 (with --sizes 784,1000000,10): training would need about ", 0), 0u)
      << out;
  EXPECT_EQ(lines(out), 1) << out;
}

TEST(DivergenceAndMemory, MemoryEstimateCountsParametersGradientsAndActivations) {
  TrainConfig c;  // 784-30-10, batch 10 -> the CPU's 500 evaluation rows through the training buffers
  c.device = Device::cpu;
  const MemoryEstimate e = estimate_memory(c);
  EXPECT_EQ(e.parameters, 23860.0);
  EXPECT_EQ(e.host_bytes, 8 * 23860.0 + 4 * (2 * 23860.0 + 2 * 500 * 824.0));
  EXPECT_EQ(e.device_bytes, 0.0);
  c.device = Device::gpu;  // a GPU: 10 training rows and its own 8192-row evaluation workspace
  c.precision = Precision::f64;
  EXPECT_EQ(estimate_memory(c).host_bytes, 8 * 23860.0);
  EXPECT_EQ(estimate_memory(c).device_bytes, 8 * (2 * 23860.0 + 2 * (10 + 8192) * 824.0));
  c.sizes = {784, 100000000, 10};
  EXPECT_EQ(estimate_memory(c).parameters, 784e8 + 1e8 + 1e9 + 10);
  c.sizes = {2000000000, 2000000000, 2000000000};  // would wrap a 64-bit byte count
  EXPECT_GT(estimate_memory(c).host_bytes, 6.4e19);
  EXPECT_GT(physical_memory_bytes(), std::size_t{1} << 26);
}

TEST(DivergenceAndMemory, AbsurdSizesAreRefusedWithTheEstimateBeforeLoadingAnything) {
  // The data folder does not exist: a refusal that names memory, not MNIST, was made before loading anything,
  // and so before any of the 636 GB could be allocated.
  test::TempDir dir;
  for (const std::string device : {"cpu", "auto"}) {
    std::string out;
    EXPECT_EQ(run_cli("train --device " + device + " --sizes 784,100000000,10 --data '" +
                          (dir / "missing").string() + "'",
                      &out),
              2)
        << out;
    EXPECT_EQ(lines(out), 1) << out;
    EXPECT_EQ(out.rfind("sigmanet: --sizes 784,100000000,10: training would need about ", 0), 0u) << out;
    EXPECT_NE(out.find("7.95e+10 parameters"), std::string::npos) << out;
    EXPECT_NE(out.find("more than this machine's"), std::string::npos) << out;
  }
}

}  // namespace
}  // namespace sigmanet
