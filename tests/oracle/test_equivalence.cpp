// The comparison library behind `sigmanet verify` and the gpu tests: it must pass what agrees, and fail
// what does not (a check that cannot fail proves nothing).
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "sigmanet/backends/factory.hpp"
#include "cpu/fast_network.hpp"
#include "oracle/equivalence.hpp"
#include "sigmanet/error.hpp"
#include "test_support.hpp"

namespace sigmanet {
namespace {

TEST(Compare, MeasuresMaxAbsAndRelativeError) {
  const std::vector<double> ref{3.0, 4.0}, got{3.0, 4.5};
  const Comparison c = compare(std::span<const double>(got), std::span<const double>(ref));
  EXPECT_DOUBLE_EQ(c.max_abs, 0.5);
  EXPECT_DOUBLE_EQ(c.relative, 0.5 / 5.0);
  const std::vector<float> got_f{3.0f, 4.0f};
  EXPECT_EQ(compare(std::span<const float>(got_f), std::span<const double>(ref)).relative, 0.0);
}

TEST(Compare, NanOrInfNeverPasses) {
  const std::vector<double> ref{1.0, 2.0};
  for (double bad : {std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::infinity()}) {
    const std::vector<double> got{1.0, bad};
    const StageCheck c{"x", compare(std::span<const double>(got), std::span<const double>(ref)), 1e300};
    EXPECT_FALSE(c.ok());
    const StageCheck by_abs{"x", c.result, 1e300, true};
    EXPECT_FALSE(by_abs.ok());
  }
}

TEST(Compare, ZeroReferenceAndMismatchedSizes) {
  const std::vector<double> zero{0.0, 0.0}, also_zero{0.0, 0.0}, not_zero{0.0, 1e-30};
  EXPECT_EQ(compare(std::span<const double>(also_zero), std::span<const double>(zero)).relative, 0.0);
  EXPECT_TRUE(std::isinf(compare(std::span<const double>(not_zero), std::span<const double>(zero)).relative));
  const std::vector<double> three{1, 2, 3};
  EXPECT_EQ(test::thrown<Error>([&] { compare(std::span<const double>(three), std::span<const double>(zero)); }),
            "compare: 3 values against 2");
}

TEST(StageCheck, JudgedByTheRightMeasureAgainstTheTolerance) {
  EXPECT_TRUE((StageCheck{"a", {5.0, 1e-6}, 1e-5}).ok());
  EXPECT_FALSE((StageCheck{"a", {5.0, 2e-5}, 1e-5}).ok());
  EXPECT_TRUE((StageCheck{"a", {0.1, 9.0}, 0.2, true}).ok());
  EXPECT_FALSE((StageCheck{"a", {0.3, 0.0}, 0.2, true}).ok());
  EXPECT_TRUE((StageCheck{"exact", {0.0, 0.0}, 0.0, true}).ok());
}

TEST(FormatChecks, OneLinePerStageWithVerdicts) {
  const std::string table = format_checks({{"good stage", {1e-7, 2e-7}, 1e-5}, {"bad stage", {1.0, 0.5}, 1e-5}});
  EXPECT_NE(table.find("max abs error"), std::string::npos);
  EXPECT_NE(table.find("relative"), std::string::npos);
  EXPECT_NE(table.find("tolerance"), std::string::npos);
  EXPECT_NE(table.find("good stage"), std::string::npos);
  EXPECT_NE(table.find("1.0e-05 rel"), std::string::npos);
  EXPECT_NE(table.find("NOT OK"), std::string::npos);
  EXPECT_EQ(std::count(table.begin(), table.end(), '\n'), 3);
}

// A backend that gets the update slightly wrong: the learning rate off by a factor (1% unless told).
class EtaOff final : public Backend {
 public:
  explicit EtaOff(Precision precision = Precision::f32, double factor = 1.01)
      : inner_(make_backend(Device::cpu, precision)), factor_(factor) {}
  std::string describe() const override { return "faulty"; }
  Precision precision() const override { return inner_->precision(); }
  void set_parameters(const Parameters& p) override { inner_->set_parameters(p); }
  void set_objective(const Objective& o) override { inner_->set_objective(o); }
  Parameters parameters() const override { return inner_->parameters(); }
  void set_training_data(const Dataset& d) override { inner_->set_training_data(d); }
  std::size_t train(std::span<const std::uint32_t> order, std::size_t batch, double eta,
                    const AfterBatch& after) override {
    return inner_->train(order, batch, eta * factor_, after);
  }
  Evaluation evaluate(const Dataset& d) override { return inner_->evaluate(d); }
  std::vector<double> outputs(const Dataset& d, std::size_t f, std::size_t c) override {
    return inner_->outputs(d, f, c);
  }
  std::optional<std::size_t> nonfinite_batch() const override { return inner_->nonfinite_batch(); }

 private:
  std::unique_ptr<Backend> inner_;
  double factor_;
};

const Dataset& data() {
  static const Dataset d = synthetic_dataset("synthetic", 1200, 28, 28, 5);
  return d;
}

TEST(BackendChecks, TheCpuFloatNetworkPassesAndAFaultyBackendFails) {
  auto good = make_backend(Device::cpu, Precision::f32);
  EtaOff bad;
  for (std::size_t m : {1, 7, 1000}) {
    EXPECT_TRUE(check_one_step(*good, data(), {784, 30, 10}, m, 1).ok()) << m;
    const StageCheck c = check_one_step(bad, data(), {784, 30, 10}, m, 1);
    EXPECT_FALSE(c.ok()) << m;
    EXPECT_NEAR(c.result.relative, 0.01, 0.002) << m;  // the update is 1% too large
  }
  const Dataset test = synthetic_dataset("synthetic test", 300, 28, 28, 6);
  const std::vector<StageCheck> ok = check_epoch(*good, data(), test, {784, 17, 13, 10}, 7, 2);
  ASSERT_EQ(ok.size(), 3u);
  EXPECT_TRUE(all_ok(ok)) << format_checks(ok);
  EXPECT_EQ(ok[0].stage, "epoch 784-17-13-10 batch 7 (scaled init): parameters");
  EXPECT_FALSE(all_ok(check_epoch(bad, data(), test, {784, 30, 10}, 10, 2)));
  const std::vector<StageCheck> part = check_epoch(*good, data(), test, {784, 30, 10}, 10, 2, 105);
  EXPECT_EQ(part[0].stage, "11 batches 784-30-10 batch 10 (scaled init): parameters");
  EXPECT_EQ(test::thrown<Error>([&] { check_one_step(*good, data(), {784, 30, 10}, 0, 1); }),
            "check_one_step: batch of 0 from a set of 1200");
  EXPECT_EQ(test::thrown<Error>([&] { check_one_step(*good, data(), {784, 30, 10}, 1201, 1); }),
            "check_one_step: batch of 1201 from a set of 1200");
  EXPECT_EQ(test::thrown<Error>([&] { check_epoch(*good, data(), test, {784, 30, 10}, 0, 1); }),
            "check_epoch: batch size 0");
}

// The fast CPU network in double is held to summation-order rounding: an update off by a part in a
// billion fails where float tolerances would pass it.
TEST(BackendChecks, TheCpuDoubleNetworkIsHeldToDoubleRounding) {
  auto good = make_backend(Device::cpu, Precision::f64);
  EtaOff slightly(Precision::f64, 1.0 + 1e-9);
  for (std::size_t m : {1, 10}) {
    const StageCheck c = check_one_step(*good, data(), {784, 30, 10}, m, 1);
    EXPECT_TRUE(c.ok()) << m;
    EXPECT_EQ(c.tolerance, kDoubleStepTolerance);
    const StageCheck off = check_one_step(slightly, data(), {784, 30, 10}, m, 1);
    EXPECT_FALSE(off.ok()) << m;
    EXPECT_NEAR(off.result.relative, 1e-9, 1e-10) << m;
    EXPECT_LT(off.result.relative, kStepTolerance);  // a float tolerance would let it through
  }
  const Dataset test = synthetic_dataset("synthetic test", 300, 28, 28, 6);
  const std::vector<StageCheck> epoch = check_epoch(*good, data(), test, {784, 17, 13, 10}, 7, 2);
  EXPECT_TRUE(all_ok(epoch)) << format_checks(epoch);
  EXPECT_EQ(epoch[0].tolerance, kDoubleEpochTolerance);
  EXPECT_FALSE(all_ok(check_epoch(slightly, data(), test, {784, 30, 10}, 10, 2)));
}

TEST(SyntheticDataset, IsSeededLabelledAndLearnable) {
  const Dataset a = synthetic_dataset("a", 100, 28, 28, 1), b = synthetic_dataset("b", 100, 28, 28, 1);
  EXPECT_EQ(a.pixels, b.pixels);
  EXPECT_EQ(a.labels, b.labels);
  EXPECT_EQ(a.size(), 100u);
  EXPECT_EQ(a.features(), 784u);
  for (auto l : a.labels) EXPECT_LT(l, 10);
  EXPECT_NE(synthetic_dataset("c", 100, 28, 28, 2).pixels, a.pixels);
  EXPECT_EQ(test::thrown<Error>([&] { synthetic_dataset("d", 1, 9, 9, 1); }),
            "synthetic_dataset: needs at least 10 rows, one band per digit");
  // One epoch of the CPU network learns it well: the pattern is there.
  auto cpu = make_backend(Device::cpu, Precision::f32);
  Rng rng(1);
  cpu->set_parameters(init_parameters({784, 30, 10}, Init::scaled, rng));
  const Dataset train = synthetic_dataset("t", 2000, 28, 28, 3);
  cpu->set_training_data(train);
  cpu->train(rng.permutation(train.size()), 10, 3.0, {});
  EXPECT_GE(cpu->evaluate(synthetic_dataset("e", 500, 28, 28, 4)).accuracy(), 0.98);  // measured: all 500
}

}  // namespace
}  // namespace sigmanet
