// The training loop on real MNIST: determinism, partial batches, and Nielsen's first-epoch accuracy.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "sigmanet/backends/factory.hpp"
#include "cpu/fast_network.hpp"
#include "oracle/equivalence.hpp"
#include "sigmanet/trainer.hpp"
#include "test_support.hpp"

namespace sigmanet {
namespace {

using test::mnist;

Parameters train_epochs(TrainConfig c, const Dataset& train, int epochs) {
  auto backend = make_backend(Device::cpu, c.precision);
  Trainer t(c, *backend, train);
  for (int e = 0; e < epochs; ++e) EXPECT_TRUE(t.train_epoch());
  return backend->parameters();
}

TEST(Trainer, SameSeedGivesIdenticalBitsAndOtherSeedDiffers) {
  const Dataset small = mnist().train.slice("small", 0, 3000);
  TrainConfig c;
  c.seed = 17;
  const Parameters a = train_epochs(c, small, 1);
  const Parameters b = train_epochs(c, small, 1);
  EXPECT_EQ(a.weights, b.weights);
  EXPECT_EQ(a.biases, b.biases);
  c.seed = 18;
  const Parameters other = train_epochs(c, small, 1);
  EXPECT_NE(a.weights, other.weights);
}

TEST(Trainer, LastPartialBatchIsTrainedNotDropped) {
  // 25 samples, batch 10: batches of 10, 10 and 5. The run must equal three hand-made steps.
  const Dataset tiny = mnist().train.slice("tiny", 0, 25);
  TrainConfig c;
  c.sizes = {784, 12, 10};
  c.precision = Precision::f64;
  c.seed = 5;

  auto backend = make_backend(Device::cpu, Precision::f64);
  Trainer t(c, *backend, tiny);
  const Parameters start = backend->parameters();
  std::vector<std::size_t> seen;
  ASSERT_TRUE(t.train_epoch([&](std::size_t done) {
    seen.push_back(done);
    return true;
  }));
  EXPECT_EQ(seen, (std::vector<std::size_t>{10, 20, 25}));

  // Replay: same generator, same order.
  Rng rng(c.seed);
  init_parameters(c.sizes, c.init, rng);
  const auto order = rng.permutation(25);
  FastCpuNetwork<double> net(start);
  std::vector<double> x(10 * 784);
  std::vector<std::uint8_t> labels(10);
  for (std::size_t first = 0; first < 25; first += 10) {
    const std::size_t m = std::min<std::size_t>(10, 25 - first);
    gather_inputs(tiny, &order[first], m, x.data());
    for (std::size_t s = 0; s < m; ++s) labels[s] = tiny.labels[order[first + s]];
    net.train_batch(x.data(), labels.data(), m, 3.0);
  }
  EXPECT_EQ(net.parameters().weights, backend->parameters().weights);
}

TEST(Trainer, StopsWhenAskedAndResumesWhereItStopped) {
  const Dataset small = mnist().train.slice("small", 0, 1000);
  TrainConfig c;
  c.seed = 3;
  const Parameters straight = train_epochs(c, small, 2);

  auto backend = make_backend(Device::cpu, c.precision);
  Trainer t(c, *backend, small);
  EXPECT_FALSE(t.train_epoch([](std::size_t done) { return done < 300; }));
  EXPECT_EQ(t.state().position, 300u);
  EXPECT_TRUE(t.mid_epoch());
  EXPECT_TRUE(t.train_epoch());
  EXPECT_TRUE(t.train_epoch());
  EXPECT_EQ(t.epochs_done(), 2);
  EXPECT_EQ(backend->parameters().weights, straight.weights);
}

// begin_training and finish_training around the caller's own train() call are train_epoch: the same bits, the same
// state, a stop mid-epoch included; finishing without a begun epoch, or with more samples than it had, is an Error.
TEST(Trainer, BeginAndFinishTrainingAroundTheBackendAreTrainEpoch) {
  const Dataset small = mnist().train.slice("small", 0, 1000);
  TrainConfig c;
  c.seed = 6;
  const Parameters straight = train_epochs(c, small, 2);

  auto backend = make_backend(Device::cpu, c.precision);
  Trainer t(c, *backend, small);
  EXPECT_THROW(t.finish_training(0), Error);
  std::span<const std::uint32_t> rest = t.begin_training();
  ASSERT_EQ(rest.size(), 1000u);
  EXPECT_EQ(rest.data(), t.state().order.data());
  const std::size_t done = backend->train(rest, c.batch, t.eta(), [](std::size_t n) { return n < 300; });
  EXPECT_FALSE(t.finish_training(done));
  EXPECT_EQ(t.state().position, 300u);
  rest = t.begin_training();
  ASSERT_EQ(rest.size(), 700u);
  EXPECT_THROW(t.finish_training(701), Error);
  EXPECT_TRUE(t.finish_training(backend->train(rest, c.batch, t.eta(), {})));
  EXPECT_EQ(t.epochs_done(), 1);
  EXPECT_FALSE(t.mid_epoch());
  rest = t.begin_training();
  EXPECT_TRUE(t.finish_training(backend->train(rest, c.batch, t.eta(), {})));
  EXPECT_EQ(t.epochs_done(), 2);
  EXPECT_EQ(backend->parameters().weights, straight.weights);
  EXPECT_EQ(backend->parameters().biases, straight.biases);
}

// Each epoch trains in the next permutation the seed's generator draws after the initial parameters: epoch 2 does
// not replay epoch 1's order, and the orders are the ones a fresh generator gives again.
TEST(Trainer, EachEpochTrainsInTheNextPermutationOfTheSeed) {
  const Dataset small = mnist().train.slice("small", 0, 100);
  TrainConfig c;
  c.seed = 4;
  auto backend = make_backend(Device::cpu, c.precision);
  Trainer t(c, *backend, small);
  Rng replay(c.seed);
  init_parameters(c.sizes, c.init, replay);
  std::vector<std::vector<std::uint32_t>> orders;
  for (int epoch = 1; epoch <= 3; ++epoch) {
    ASSERT_FALSE(t.train_epoch([](std::size_t) { return false; }));  // stopped after one batch: the order is there
    orders.push_back(t.state().order);
    EXPECT_EQ(orders.back(), replay.permutation(small.size())) << "epoch " << epoch;
    ASSERT_TRUE(t.train_epoch());
  }
  EXPECT_NE(orders[1], orders[0]);
  EXPECT_NE(orders[2], orders[1]);
}

// Nielsen's run after one epoch, as a statistic: the first epoch's accuracy is bimodal across seeds (measured over
// seeds 1-24: 18 between 90.35% and 91.29%, 6 between 81.76% and 89.84%, runs that start in a plateau), so one
// seed's accuracy is a weak and a flaky test. The median of seeds 1-9 measured 90.72% (cost 0.0759 a record); a
// shuffle or an update that is slightly wrong moves it by more than the half point allowed.
TEST(Trainer, OneEpochOfNielsensRunHasAMedianAccuracyNear90Point7Percent) {
  std::vector<double> accuracy, cost;
  for (std::uint64_t seed = 1; seed <= 9; ++seed) {
    TrainConfig c;  // 784-30-10, batch 10, eta 3.0, float
    c.seed = seed;
    auto backend = make_backend(Device::cpu, c.precision);
    Trainer t(c, *backend, mnist().train);
    ASSERT_TRUE(t.train_epoch());
    const Evaluation e = backend->evaluate(mnist().test);
    ASSERT_EQ(e.total, 10000u);
    accuracy.push_back(e.accuracy());
    cost.push_back(e.cost);
    std::printf("one epoch, seed %llu: %zu/10000 correct, cost %.4f\n", static_cast<unsigned long long>(seed),
                e.correct, e.cost);
  }
  std::sort(accuracy.begin(), accuracy.end());
  std::sort(cost.begin(), cost.end());
  EXPECT_NEAR(accuracy[4], 0.9072, 0.005);
  EXPECT_NEAR(cost[4], 0.0759, 0.004);  // the median quadratic cost a record
}

TEST(Trainer, EvaluateAgreesWithOutputs) {
  TrainConfig c;
  c.sizes = {784, 16, 10};
  auto backend = make_backend(Device::cpu, Precision::f64);
  const Dataset part = mnist().test.slice("part", 0, 777);
  Trainer t(c, *backend, part);
  const Evaluation e = backend->evaluate(part);
  const std::vector<double> out = backend->outputs(part, 0, part.size());
  ASSERT_EQ(out.size(), 7770u);
  std::size_t correct = 0;
  double cost = 0;
  for (std::size_t s = 0; s < part.size(); ++s) {
    const double* row = &out[s * 10];
    if (std::size_t(std::max_element(row, row + 10) - row) == part.labels[s]) ++correct;
    for (std::size_t j = 0; j < 10; ++j) cost += 0.5 * std::pow(row[j] - (part.labels[s] == j), 2);
  }
  EXPECT_EQ(correct, e.correct);
  EXPECT_NEAR(cost / 777.0, e.cost, 1e-12);
}

TEST(Trainer, DoubleNetworkOnMnistTracksFloat) {
  const Dataset small = mnist().train.slice("small", 0, 2000);
  TrainConfig c;
  c.seed = 21;
  const Parameters f = train_epochs(c, small, 1);
  c.precision = Precision::f64;
  const Parameters d = train_epochs(c, small, 1);
  const double rel = relative_difference(f, d);  // float's rounding over 200 steps: measured 2.4e-7
  EXPECT_LT(rel, 2e-6);
  EXPECT_GT(rel, 0.0);
}

}  // namespace
}  // namespace sigmanet

namespace sigmanet {
namespace {

// A trainer whose epochs are never run: end_epoch only reads and writes the rules' state.
struct RulesHarness {
  explicit RulesHarness(TrainConfig c) : config(c), backend(make_backend(Device::cpu, Precision::f32)) {
    config.sizes = {100, 10};
    trainer = std::make_unique<Trainer>(config, *backend, data);
  }
  TrainConfig config;
  Dataset data = synthetic_like();
  std::unique_ptr<Backend> backend;
  std::unique_ptr<Trainer> trainer;

  static Dataset synthetic_like() {
    Dataset d;
    d.name = "rules";
    d.rows = d.cols = 10;
    d.pixels.assign(100 * 20, 0);
    d.labels.assign(20, 0);
    return d;
  }
};

TEST(TrainerRules, EarlyStoppingAfterNEpochsWithoutAStrictlyBetterValidationAccuracy) {
  TrainConfig c;
  c.early_stopping = 3;
  RulesHarness h(c);
  Trainer& t = *h.trainer;
  EXPECT_EQ(t.end_epoch(0.90), EpochVerdict::go_on);
  EXPECT_EQ(t.end_epoch(0.92), EpochVerdict::go_on);
  EXPECT_EQ(t.end_epoch(0.92), EpochVerdict::go_on);  // equal is no improvement: 1
  EXPECT_EQ(t.end_epoch(0.91), EpochVerdict::go_on);  // 2
  EXPECT_FALSE(t.stopped_by_rule());
  EXPECT_EQ(t.end_epoch(0.90), EpochVerdict::stop_early);  // 3
  EXPECT_TRUE(t.stopped_by_rule());
  EXPECT_EQ(t.state().best_validation, 0.92);
  EXPECT_EQ(t.eta(), c.eta);  // early stopping never touches eta
}

TEST(TrainerRules, TheScheduleHalvesEtaAndStopsAt1Over128) {
  TrainConfig c;
  c.eta = 0.5;
  c.halve_eta_after = 2;
  RulesHarness h(c);
  Trainer& t = *h.trainer;
  EXPECT_EQ(t.end_epoch(0.5), EpochVerdict::go_on);
  int halvings = 0;
  EpochVerdict v = EpochVerdict::go_on;
  for (int epoch = 0; epoch < 100 && v != EpochVerdict::stop_eta_floor; ++epoch) {
    v = t.end_epoch(0.4);  // never better
    if (v == EpochVerdict::eta_halved) {
      ++halvings;
      EXPECT_EQ(t.eta(), std::ldexp(0.5, -halvings));
      EXPECT_EQ(epoch % 2, 1) << "halved after 2 epochs without improvement, each time";
    }
  }
  EXPECT_EQ(v, EpochVerdict::stop_eta_floor);
  EXPECT_EQ(halvings, kMaxEtaHalvings - 1);
  EXPECT_EQ(t.eta(), 0.5 / 128);
  EXPECT_TRUE(t.stopped_by_rule());
}

TEST(TrainerRules, AnImprovementResetsTheScheduleCount) {
  TrainConfig c;
  c.halve_eta_after = 2;
  RulesHarness h(c);
  Trainer& t = *h.trainer;
  EXPECT_EQ(t.end_epoch(0.5), EpochVerdict::go_on);
  EXPECT_EQ(t.end_epoch(0.4), EpochVerdict::go_on);
  EXPECT_EQ(t.end_epoch(0.6), EpochVerdict::go_on);  // better: the count starts again
  EXPECT_EQ(t.end_epoch(0.6), EpochVerdict::go_on);
  EXPECT_EQ(t.end_epoch(0.6), EpochVerdict::eta_halved);
  EXPECT_EQ(t.end_epoch(0.6), EpochVerdict::go_on);  // counting from the change
  EXPECT_EQ(t.end_epoch(0.6), EpochVerdict::eta_halved);
  EXPECT_EQ(t.eta(), c.eta / 4);
}

TEST(TrainerRules, WithoutRulesEveryEpochGoesOn) {
  RulesHarness h(TrainConfig{});
  for (int i = 0; i < 50; ++i) EXPECT_EQ(h.trainer->end_epoch(0.1), EpochVerdict::go_on);
  EXPECT_FALSE(h.trainer->stopped_by_rule());
}

TEST(TrainerRules, TheHalvedEtaIsWhatTheNextEpochTrainsWith) {
  // Run a halves eta after its first epoch; run b, resumed from a's state after that epoch but configured with
  // eta / 2 from the start and no schedule, must train the second epoch to the same bits.
  const Dataset small = mnist().train.slice("small", 0, 500);
  TrainConfig c;
  c.halve_eta_after = 1;
  auto a = make_backend(Device::cpu, Precision::f32);
  Trainer ta(c, *a, small);
  ASSERT_TRUE(ta.train_epoch());
  const Parameters after_first = a->parameters();
  TrainerState first = ta.state();
  ASSERT_EQ(ta.end_epoch(0.5), EpochVerdict::go_on);
  ASSERT_EQ(ta.end_epoch(0.5), EpochVerdict::eta_halved);
  ASSERT_TRUE(ta.train_epoch());

  TrainConfig half = c;
  half.eta = c.eta / 2;
  half.halve_eta_after = 0;
  auto b = make_backend(Device::cpu, Precision::f32);
  Trainer tb(half, *b, small);
  tb.resume(after_first, first);
  ASSERT_TRUE(tb.train_epoch());
  EXPECT_EQ(a->parameters().weights, b->parameters().weights);
  EXPECT_NE(a->parameters().weights, after_first.weights);
}

TEST(TrainerRules, BadSettingsAreRefusedNamingTheSetting) {
  const auto refused = [](TrainConfig c, Setting s) {
    try {
      validate_config(c);
      ADD_FAILURE() << "accepted";
    } catch (const SettingError& e) {
      EXPECT_EQ(e.setting(), s) << e.what();
    }
  };
  TrainConfig c;
  c.lambda = -1;
  refused(c, Setting::lambda);
  c.lambda = std::nan("");
  refused(c, Setting::lambda);
  c.lambda = 0;
  c.early_stopping = 2;
  c.split.validation = 0;
  refused(c, Setting::early_stopping);
  c.early_stopping = 0;
  c.halve_eta_after = 2;
  refused(c, Setting::eta_schedule);
  EXPECT_EQ(eta_schedule_from_text("halve:10"), 10);
  EXPECT_EQ(eta_schedule_from_text("constant"), 0);
  for (const char* bad : {"halve:0", "halve:", "halve:-1", "halve:1x", "halve:99999999999", "halve 3", "Halve:3", ""})
    EXPECT_FALSE(eta_schedule_from_text(bad)) << bad;
  EXPECT_EQ(eta_schedule_text(4), "halve:4");
}

}  // namespace
}  // namespace sigmanet
