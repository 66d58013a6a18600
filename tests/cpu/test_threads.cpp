// The CPU network on several threads: the pool's contract; on its own kernels, the same bits whatever the
// number of threads, for training (large enough batches to be split) and evaluation; on OpenBLAS, the same
// bits run to run for a number of threads, and the same values up to rounding for any other.
#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>
#include <vector>

#include "sigmanet/backends/factory.hpp"
#include "cpu/blas.hpp"
#include "cpu/fast_network.hpp"
#include "cpu/float_mode.hpp"
#include "cpu/thread_pool.hpp"
#include "oracle/equivalence.hpp"
#include "sigmanet/random.hpp"

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

// 784-200-100-10 at batch 200, every stage of a million multiply-adds or more split over the threads (the
// default threshold is for speed; this one makes a small case split like a large one).
constexpr double kSplitFrom = 1 << 20;

// Numbers too small to be normal are taken as zero inside the guard, worked out gradually again after it, and
// each part of a split runs in its caller's mode whichever thread has it.
TEST(FloatMode, SmallNumbersAreZeroInsideTheGuardAndInEveryPartOfASplit) {
#ifndef SIGMANET_HAVE_MXCSR
  GTEST_SKIP() << "only x86 has the flush-to-zero mode";
#endif
  volatile float tiny = 1e-30f, scale = 1e-10f;  // volatile: worked out at run time, in the mode of the moment
  EXPECT_GT(tiny * scale, 0.0f) << "a denormal result outside the guard";
  ThreadPool pool(3);
  {
    const FlushSmallNumbers flush;
    EXPECT_EQ(tiny * scale, 0.0f);
    std::vector<float> products(30, -1.0f);
    pool.split(30, [&](std::size_t first, std::size_t last) {
      for (std::size_t i = first; i < last; ++i) products[i] = tiny * scale;
    });
    for (float p : products) EXPECT_EQ(p, 0.0f);
  }
  EXPECT_GT(tiny * scale, 0.0f) << "the mode before the guard is restored";
  std::vector<float> products(30, -1.0f);
  pool.split(30, [&](std::size_t first, std::size_t last) {
    for (std::size_t i = first; i < last; ++i) products[i] = tiny * scale;
  });
  for (float p : products) EXPECT_GT(p, 0.0f);
}

template <class T>
Parameters train_steps(const Parameters& start, Cost cost, int threads, const std::vector<T>& x,
                       const std::vector<std::uint8_t>& labels, std::size_t m, CpuGemm gemm = CpuGemm::own) {
  FastCpuNetwork<T> net(start, cost);
  net.set_gemm(gemm);
  net.set_threads(threads, kSplitFrom);
  EXPECT_EQ(net.threads(), threads);
  for (int step = 0; step < 3; ++step) net.train_batch(x.data(), labels.data(), m, T(0.5), T(0.999));
  return net.parameters();
}

// 784-200-100-10 at batch 200.
struct SplitCase {
  Parameters start;
  std::vector<double> x;
  std::vector<std::uint8_t> labels;
  static constexpr std::size_t m = 200;
  explicit SplitCase(Cost cost) {
    Rng rng(3);
    start = init_parameters({784, 200, 100, 10}, Init::scaled, rng);
    start.output = output_activation(cost);
    for (std::size_t i = 0; i < m * 784; ++i) x.push_back(rng.uniform());
    for (std::size_t s = 0; s < m; ++s) labels.push_back(std::uint8_t(rng.below(10)));
  }
};

template <class T>
void expect_same_bits_whatever_the_threads() {
  for (Cost cost : {Cost::quadratic, Cost::cross_entropy, Cost::log_likelihood}) {
    const SplitCase c(cost);
    const std::vector<T> x(c.x.begin(), c.x.end());
    const Parameters one = train_steps(c.start, cost, 1, x, c.labels, c.m);
    for (int threads : {2, 3, 5}) {
      const Parameters many = train_steps(c.start, cost, threads, x, c.labels, c.m);
      EXPECT_EQ(many.weights, one.weights) << threads << " threads, " << to_string(cost);
      EXPECT_EQ(many.biases, one.biases) << threads << " threads, " << to_string(cost);
    }
  }
}

TEST(Threads, OwnKernelsGiveTheSameBitsWhateverTheThreadsFloat) { expect_same_bits_whatever_the_threads<float>(); }
TEST(Threads, OwnKernelsGiveTheSameBitsWhateverTheThreadsDouble) { expect_same_bits_whatever_the_threads<double>(); }

// OpenBLAS picks its kernels and blocking by each call's shape, and a thread's share of a product is one call,
// so another number of threads may sum a value in another order: the same bits for the same threads, run to run,
// and otherwise agreement to a few units of rounding over the three steps (measured on a 2-core Xeon, OpenBLAS
// 0.3.21: float identical, double 2.1e-17; the bounds allow sums in other orders elsewhere).
template <class T>
void expect_blas_repeatable_and_close_whatever_the_threads(double tolerance) {
  std::string why;
  if (!blas_available(&why)) GTEST_SKIP() << why;
  for (Cost cost : {Cost::quadratic, Cost::cross_entropy, Cost::log_likelihood}) {
    const SplitCase c(cost);
    const std::vector<T> x(c.x.begin(), c.x.end());
    const Parameters one = train_steps(c.start, cost, 1, x, c.labels, c.m, CpuGemm::blas);
    for (int threads : {1, 2, 3}) {
      const Parameters first = train_steps(c.start, cost, threads, x, c.labels, c.m, CpuGemm::blas);
      const Parameters again = train_steps(c.start, cost, threads, x, c.labels, c.m, CpuGemm::blas);
      EXPECT_EQ(again.weights, first.weights) << threads << " threads, " << to_string(cost);
      EXPECT_EQ(again.biases, first.biases) << threads << " threads, " << to_string(cost);
      EXPECT_LT(relative_difference(first, one), tolerance) << threads << " threads, " << to_string(cost);
      // And the library did the work: its sums differ from the own kernels' somewhere.
      EXPECT_NE(first.weights, train_steps(c.start, cost, threads, x, c.labels, c.m, CpuGemm::own).weights);
    }
  }
}

TEST(Threads, OpenBlasIsRepeatableAndCloseWhateverTheThreadsFloat) {
  expect_blas_repeatable_and_close_whatever_the_threads<float>(1e-6);
}
TEST(Threads, OpenBlasIsRepeatableAndCloseWhateverTheThreadsDouble) {
  expect_blas_repeatable_and_close_whatever_the_threads<double>(1e-14);
}

// Batch 200 of 784-300-10: its first layer's products (47 million multiply-adds) are split at the default threshold.
TEST(Threads, TheBackendTrainsAndEvaluatesTheSameWhateverTheThreads) {
  const Dataset train = synthetic_dataset("train", 2000, 28, 28, 5);
  const Dataset test = synthetic_dataset("test", 1500, 28, 28, 6);
  Rng rng(7);
  const Parameters start = init_parameters({784, 300, 10}, Init::scaled, rng);
  const std::vector<std::uint32_t> order = rng.permutation(train.size());
  std::vector<Parameters> trained;
  std::vector<Evaluation> evaluated;
  for (int threads : {1, 2, 4}) {
    const auto cpu = make_backend(Device::cpu, Precision::f32);
    cpu->set_threads(threads);
    cpu->set_parameters(start);
    cpu->set_training_data(train);
    ASSERT_EQ(cpu->train(order, 200, 3.0, {}), order.size());
    trained.push_back(cpu->parameters());
    evaluated.push_back(cpu->evaluate(test));
  }
  // Bits only on the own kernels; on OpenBLAS (where installed) the values to rounding (see above): measured
  // 4.3e-8 apart, the same count correct and the same cost to every digit printed.
  const bool bits = !blas_available();
  for (std::size_t i = 1; i < trained.size(); ++i) {
    if (bits) {
      EXPECT_EQ(trained[i].weights, trained[0].weights) << i;
      EXPECT_EQ(evaluated[i].cost, evaluated[0].cost);
    }
    EXPECT_LT(relative_difference(trained[i], trained[0]), 1e-6) << i;
    EXPECT_NEAR(evaluated[i].correct, evaluated[0].correct, 1) << i;
    EXPECT_NEAR(evaluated[i].cost, evaluated[0].cost, 1e-6 * evaluated[0].cost) << i;
  }
}

}  // namespace
}  // namespace sigmanet
