// The CPU network on several threads: the pool's contract, and the same bits whatever the number of threads,
// for training (large enough batches to be split) and evaluation.
#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>
#include <vector>

#include "cpu/thread_pool.hpp"
#include "sigmanet/cpu/fast_network.hpp"
#include "sigmanet/random.hpp"
#include "sigmanet/reports/equivalence.hpp"

namespace sigmanet {
namespace {

TEST(ThreadPool, SplitCoversTheRangeOnceInContiguousParts) {
  for (int threads : {1, 2, 3, 8}) {
    ThreadPool pool(threads);
    EXPECT_EQ(pool.threads(), threads);
    for (std::size_t n : {0, 1, 2, 7, 1000}) {
      std::vector<std::atomic<int>> hits(n);
      std::atomic<int> parts{0};
      pool.split(n, [&](std::size_t first, std::size_t last) {
        EXPECT_LT(first, last);
        ++parts;
        for (std::size_t i = first; i < last; ++i) ++hits[i];
      });
      for (std::size_t i = 0; i < n; ++i) EXPECT_EQ(hits[i], 1) << threads << " threads, n " << n << ", i " << i;
      EXPECT_LE(parts, threads);
    }
  }
}

TEST(ThreadPool, AnExceptionInAPartReachesTheCallerAndThePoolStaysUsable) {
  ThreadPool pool(3);
  EXPECT_THROW(pool.split(30, [](std::size_t first, std::size_t) {
    if (first == 0) throw std::runtime_error("part 0");
  }),
               std::runtime_error);
  std::atomic<std::size_t> sum{0};
  pool.split(30, [&](std::size_t first, std::size_t last) { sum += last - first; });
  EXPECT_EQ(sum, 30u);
}

template <class T>
Parameters train_steps(const Parameters& start, Cost cost, int threads, const std::vector<T>& x,
                       const std::vector<std::uint8_t>& labels, std::size_t m) {
  FastCpuNetwork<T> net(start, cost);
  net.set_threads(threads);
  EXPECT_EQ(net.threads(), threads);
  for (int step = 0; step < 3; ++step) net.train_batch(x.data(), labels.data(), m, T(0.5), T(0.999));
  return net.parameters();
}

template <class T>
void expect_same_bits_whatever_the_threads() {
  // 784-200-100-10 at batch 200: every stage is past the threshold, so each is split over the threads.
  for (Cost cost : {Cost::quadratic, Cost::cross_entropy, Cost::log_likelihood}) {
    Rng rng(3);
    Parameters start = init_parameters({784, 200, 100, 10}, Init::scaled, rng);
    start.output = output_activation(cost);
    const std::size_t m = 200;
    std::vector<T> x(m * 784);
    for (T& v : x) v = T(rng.uniform());
    std::vector<std::uint8_t> labels(m);
    for (auto& l : labels) l = std::uint8_t(rng.below(10));
    const Parameters one = train_steps(start, cost, 1, x, labels, m);
    for (int threads : {2, 3, 5}) {
      const Parameters many = train_steps(start, cost, threads, x, labels, m);
      EXPECT_EQ(many.weights, one.weights) << threads << " threads, " << to_string(cost);
      EXPECT_EQ(many.biases, one.biases) << threads << " threads, " << to_string(cost);
    }
  }
}

TEST(Threads, TrainingGivesTheSameBitsWhateverTheThreadsFloat) { expect_same_bits_whatever_the_threads<float>(); }
TEST(Threads, TrainingGivesTheSameBitsWhateverTheThreadsDouble) { expect_same_bits_whatever_the_threads<double>(); }

TEST(Threads, TheBackendTrainsAndEvaluatesTheSameWhateverTheThreads) {
  const Dataset train = synthetic_dataset("train", 2000, 28, 28, 5);
  const Dataset test = synthetic_dataset("test", 1500, 28, 28, 6);
  Rng rng(7);
  const Parameters start = init_parameters({784, 300, 10}, Init::scaled, rng);
  const std::vector<std::uint32_t> order = rng.permutation(train.size());
  std::vector<Parameters> trained;
  std::vector<Evaluation> evaluated;
  for (int threads : {1, 2, 4}) {
    const auto cpu = make_cpu_backend(Precision::f32);
    cpu->set_threads(threads);
    cpu->set_parameters(start);
    cpu->set_training_data(train);
    ASSERT_EQ(cpu->train(order, 100, 3.0, {}), order.size());
    trained.push_back(cpu->parameters());
    evaluated.push_back(cpu->evaluate(test));
  }
  for (std::size_t i = 1; i < trained.size(); ++i) {
    EXPECT_EQ(trained[i].weights, trained[0].weights) << i;
    EXPECT_EQ(evaluated[i].correct, evaluated[0].correct);
    EXPECT_EQ(evaluated[i].cost, evaluated[0].cost);
  }
}

}  // namespace
}  // namespace sigmanet
