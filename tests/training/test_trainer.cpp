// The training loop on real MNIST: determinism, partial batches, and Nielsen's first-epoch accuracy.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "sigmanet/cpu/fast_network.hpp"
#include "sigmanet/trainer.hpp"
#include "test_support.hpp"

namespace sigmanet {
namespace {

using test::mnist;

Parameters train_epochs(TrainConfig c, const Dataset& train, int epochs) {
  auto backend = make_cpu_backend(c.precision);
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

  auto backend = make_cpu_backend(Precision::f64);
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

  auto backend = make_cpu_backend(c.precision);
  Trainer t(c, *backend, small);
  EXPECT_FALSE(t.train_epoch([](std::size_t done) { return done < 300; }));
  EXPECT_EQ(t.state().position, 300u);
  EXPECT_TRUE(t.mid_epoch());
  EXPECT_TRUE(t.train_epoch());
  EXPECT_TRUE(t.train_epoch());
  EXPECT_EQ(t.epochs_done(), 2);
  EXPECT_EQ(backend->parameters().weights, straight.weights);
}

TEST(Trainer, OneEpochOfNielsensRunReaches90Percent) {
  TrainConfig c;  // 784-30-10, batch 10, eta 3.0, float
  auto backend = make_cpu_backend(c.precision);
  Trainer t(c, *backend, mnist().train);
  ASSERT_TRUE(t.train_epoch());
  const Evaluation e = backend->evaluate(mnist().test);
  EXPECT_EQ(e.total, 10000u);
  EXPECT_GE(e.accuracy(), 0.90) << e.correct << "/10000";
  EXPECT_GT(e.cost, 0.0);
  EXPECT_LT(e.cost, 0.1);
  std::printf("one epoch, seed %llu: %zu/10000 correct, cost %.4f\n", static_cast<unsigned long long>(c.seed),
              e.correct, e.cost);
}

TEST(Trainer, EvaluateAgreesWithOutputs) {
  TrainConfig c;
  c.sizes = {784, 16, 10};
  auto backend = make_cpu_backend(Precision::f64);
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
  const double rel = relative_difference(f, d);
  EXPECT_LT(rel, 1e-4);
  EXPECT_GT(rel, 0.0);
}

}  // namespace
}  // namespace sigmanet
