// The fast CPU network: backpropagation against central finite differences, batching against
// per-sample gradients, and the SGD step against its formula.
#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "cpu/blas.hpp"
#include "cpu/fast_network.hpp"
#include "sigmanet/error.hpp"

namespace sigmanet {
namespace {

struct Batch {
  std::vector<double> x;
  std::vector<std::uint8_t> labels;
};

Batch random_batch(Rng& rng, std::size_t n_in, std::size_t m, std::size_t classes) {
  Batch b;
  for (std::size_t i = 0; i < m * n_in; ++i) b.x.push_back(rng.uniform());
  for (std::size_t s = 0; s < m; ++s) b.labels.push_back(static_cast<std::uint8_t>(rng.below(classes)));
  return b;
}

double cost_of(const Parameters& p, const Batch& b, std::size_t m) {
  FastCpuNetwork<double> net(p);
  net.forward(b.x.data(), m);
  return net.batch_cost(b.labels.data());
}

// Compares every analytic gradient with (C(w + h) - C(w - h)) / 2h, as one relative error over all of them.
double finite_difference_error(const std::vector<int>& sizes, std::size_t m, std::uint64_t seed) {
  Rng rng(seed);
  const Parameters p = init_parameters(sizes, Init::scaled, rng);
  const Batch b = random_batch(rng, sizes.front(), m, sizes.back());
  FastCpuNetwork<double> net(p);
  net.forward(b.x.data(), m);
  net.backward(b.labels.data());

  const double h = 1e-5;
  double diff = 0, norm = 0;
  for (std::size_t l = 0; l < p.layers(); ++l) {
    for (int which = 0; which < 2; ++which) {
      const AlignedVector<double>& analytic = which == 0 ? net.weight_gradient(l) : net.bias_gradient(l);
      for (std::size_t i = 0; i < analytic.size(); ++i) {
        Parameters plus = p, minus = p;
        (which == 0 ? plus.weights : plus.biases)[l][i] += h;
        (which == 0 ? minus.weights : minus.biases)[l][i] -= h;
        const double numeric = (cost_of(plus, b, m) - cost_of(minus, b, m)) / (2 * h);
        diff += (numeric - analytic[i]) * (numeric - analytic[i]);
        norm += analytic[i] * analytic[i];
      }
    }
  }
  return std::sqrt(diff / norm);
}

TEST(FastCpuNetwork, BackpropMatchesFiniteDifferences) {
  const std::vector<std::vector<int>> nets = {{5, 3}, {7, 4, 3}, {9, 6, 5, 4}, {6, 5, 4, 3, 2}, {12, 8, 8, 8, 8, 10}};
  std::uint64_t seed = 100;
  for (const auto& sizes : nets)
    for (std::size_t m : {1u, 3u, 7u}) {
      const double err = finite_difference_error(sizes, m, ++seed);
      EXPECT_LT(err, 1e-6) << "sizes " << sizes.size() << " layers, batch " << m;
      EXPECT_GT(err, 0.0);  // a zero would mean the comparison compared nothing
    }
}

TEST(FastCpuNetwork, BatchGradientIsTheSumOfPerSampleGradients) {
  Rng rng(7);
  const Parameters p = init_parameters({11, 6, 4}, Init::standard, rng);
  const std::size_t m = 9;
  const Batch b = random_batch(rng, 11, m, 4);
  FastCpuNetwork<double> batched(p);
  batched.forward(b.x.data(), m);
  batched.backward(b.labels.data());
  for (std::size_t l = 0; l < 2; ++l) {
    std::vector<double> sum_w(batched.weight_gradient(l).size()), sum_b(batched.bias_gradient(l).size());
    for (std::size_t s = 0; s < m; ++s) {
      FastCpuNetwork<double> one(p);
      one.forward(&b.x[s * 11], 1);
      one.backward(&b.labels[s]);
      for (std::size_t i = 0; i < sum_w.size(); ++i) sum_w[i] += one.weight_gradient(l)[i];
      for (std::size_t i = 0; i < sum_b.size(); ++i) sum_b[i] += one.bias_gradient(l)[i];
    }
    for (std::size_t i = 0; i < sum_w.size(); ++i) EXPECT_NEAR(sum_w[i], batched.weight_gradient(l)[i], 1e-12);
    for (std::size_t i = 0; i < sum_b.size(); ++i) EXPECT_NEAR(sum_b[i], batched.bias_gradient(l)[i], 1e-12);
  }
}

TEST(FastCpuNetwork, UpdateStepsAgainstTheMeanGradient) {
  Rng rng(8);
  const Parameters p = init_parameters({8, 5, 3}, Init::standard, rng);
  const std::size_t m = 4;
  const Batch b = random_batch(rng, 8, m, 3);
  FastCpuNetwork<double> net(p);
  net.forward(b.x.data(), m);
  net.backward(b.labels.data());
  const AlignedVector<double> gw = net.weight_gradient(0), gb = net.bias_gradient(1);
  net.update(3.0);
  const Parameters after = net.parameters();
  for (std::size_t i = 0; i < gw.size(); ++i) EXPECT_NEAR(after.weights[0][i], p.weights[0][i] - 0.75 * gw[i], 1e-15);
  for (std::size_t i = 0; i < gb.size(); ++i) EXPECT_NEAR(after.biases[1][i], p.biases[1][i] - 0.75 * gb[i], 1e-15);
}

// train_batch() applies each gradient block to the weights as it is summed; on the own kernels it must take exactly
// the step that forward(), backward() and update() take (on OpenBLAS the same to rounding), for every cost, with and
// without L2's decay, for rows that are and are not a whole number of SIMD vectors (784, 30 and 13 inputs),
// batches that do and do not fill a tile, and inputs that are dense or four fifths 0 (a transposed first layer
// then takes the sparse sums and steps only the rows of nonzero inputs).
template <class T>
void expect_fused_step_is_the_separate_one() {
  const std::vector<std::vector<int>> shapes = {{784, 30, 10}, {13, 17, 9, 10}};
  std::vector<CpuGemm> engines = {CpuGemm::own};
  if (blas_available()) engines.push_back(CpuGemm::blas);
  for (CpuGemm gemm : engines) {
    for (const std::vector<int>& sizes : shapes)
      for (Cost cost : {Cost::quadratic, Cost::cross_entropy, Cost::log_likelihood})
        for (T decay : {T(1), T(0.999)})
          for (std::size_t m : {1u, 7u, 10u, 300u})  // 300: past kSkipRowsBatch, every row stepped
          for (double zeros : {0.0, 0.8}) {
            if (m == 300 && cost != Cost::quadratic) continue;  // the rows' path does not depend on the cost
            Rng rng(12 + m);
            Parameters p = init_parameters(sizes, Init::standard, rng);
            p.output = cost == Cost::log_likelihood ? Activation::softmax : Activation::sigmoid;
            const Batch b = random_batch(rng, std::size_t(sizes.front()), m, 10);
            std::vector<T> x(b.x.begin(), b.x.end());
            for (T& v : x)
              if (rng.uniform() < zeros) v = T(0);
            FastCpuNetwork<T> fused(p, cost), separate(p, cost);
            fused.set_gemm(gemm);
            separate.set_gemm(gemm);
            for (int step = 0; step < 3; ++step) {
              // The fused network reads its input in place, from input_buffer().
              std::copy(x.begin(), x.end(), fused.input_buffer(m));
              fused.train_batch(fused.input_buffer(m), b.labels.data(), m, T(3), decay);
              separate.forward(x.data(), m);
              separate.backward(b.labels.data());
              separate.update(T(3), decay);
            }
            const std::string where = sizes_text(sizes, '-') + ", " + to_string(cost) + ", decay " +
                                      std::to_string(decay) + ", batch " + std::to_string(m) +
                                      (zeros > 0 ? ", sparse" : "") +
                                      (gemm == CpuGemm::blas ? ", OpenBLAS" : ", own kernels");
            if (gemm == CpuGemm::own) {
              EXPECT_EQ(fused.parameters().weights, separate.parameters().weights) << where;
              EXPECT_EQ(fused.parameters().biases, separate.parameters().biases) << where;
            } else {  // OpenBLAS rounds alpha * product + beta * W its own way
              EXPECT_LT(relative_difference(fused.parameters(), separate.parameters()), sizeof(T) == 4 ? 1e-6 : 1e-15)
                  << where;
            }
            EXPECT_NE(fused.parameters().weights, p.weights) << where;
          }
  }
}

TEST(FastCpuNetwork, FusedTrainBatchTakesTheSeparateStepInFloat) { expect_fused_step_is_the_separate_one<float>(); }
TEST(FastCpuNetwork, FusedTrainBatchTakesTheSeparateStepInDouble) { expect_fused_step_is_the_separate_one<double>(); }

TEST(FastCpuNetwork, ForwardComputesSigmoidOfWeightedSum) {
  Parameters p;
  p.sizes = {2, 1};
  p.weights = {{0.5, -2.0}};
  p.biases = {{0.25}};
  FastCpuNetwork<double> net(p);
  const double x[2] = {1.0, 0.5};
  net.forward(x, 1);
  EXPECT_DOUBLE_EQ(net.activation(1)[0], 1.0 / (1.0 + std::exp(-(0.5 - 1.0 + 0.25))));
}

TEST(FastCpuNetwork, FloatTracksDouble) {
  Rng rng(9);
  const Parameters p = init_parameters({30, 20, 10}, Init::standard, rng);
  const Batch b = random_batch(rng, 30, 10, 10);
  std::vector<float> xf(b.x.begin(), b.x.end());
  FastCpuNetwork<double> d(p);
  FastCpuNetwork<float> f(p);
  for (int step = 0; step < 20; ++step) {
    d.train_batch(b.x.data(), b.labels.data(), 10, 3.0);
    f.train_batch(xf.data(), b.labels.data(), 10, 3.0f);
  }
  // Float's rounding over 20 steps: measured 1.2e-7.
  const double rel = relative_difference(f.parameters(), d.parameters());
  EXPECT_LT(rel, 1e-6);
  EXPECT_GT(rel, 0.0);
}

TEST(FastCpuNetwork, GatherScalesPixelsTo01InOrder) {
  Dataset d;
  d.rows = 1;
  d.cols = 3;
  d.pixels = {0, 255, 51, 10, 20, 30};
  d.labels = {1, 2};
  const std::uint32_t index[2] = {1, 0};
  float x[6];
  gather_inputs(d, index, 2, x);
  EXPECT_FLOAT_EQ(x[0], 10.0f / 255.0f);
  EXPECT_FLOAT_EQ(x[3], 0.0f);
  EXPECT_FLOAT_EQ(x[4], 1.0f);
  EXPECT_FLOAT_EQ(x[5], 0.2f);
}

// The gather computes p / 255 without dividing (multiply-adds); every byte must still give exactly the
// correctly rounded quotient the oracle and the GPU's gather kernel compute, in both precisions.
template <class T>
void expect_every_pixel_is_its_exact_quotient() {
  Dataset d;
  d.rows = 16;
  d.cols = 16;
  for (int p = 0; p < 256; ++p) d.pixels.push_back(static_cast<std::uint8_t>(p));
  d.labels = {0};
  const std::uint32_t index[1] = {0};
  std::vector<T> x(256);
  gather_inputs(d, index, 1, x.data());
  for (int p = 0; p < 256; ++p) EXPECT_EQ(x[std::size_t(p)], T(p) / T(255)) << "pixel " << p;
}

TEST(FastCpuNetwork, GatherGivesEveryPixelsExactQuotientInFloat) { expect_every_pixel_is_its_exact_quotient<float>(); }
TEST(FastCpuNetwork, GatherGivesEveryPixelsExactQuotientInDouble) {
  expect_every_pixel_is_its_exact_quotient<double>();
}

TEST(FastCpuNetwork, RejectsParametersThatDoNotChain) {
  Rng rng(1);
  Parameters p = init_parameters({4, 3, 2}, Init::standard, rng);
  p.weights[1].pop_back();
  EXPECT_THROW(FastCpuNetwork<float>{p}, InputError);
  p = init_parameters({4, 3, 2}, Init::standard, rng);
  p.biases[0][1] = std::nan("");
  EXPECT_THROW(FastCpuNetwork<float>{p}, InputError);
}

TEST(Parameters, InitDrawsStandardAndScaledNormals) {
  Rng a(3), b(3);
  const Parameters standard = init_parameters({400, 300, 10}, Init::standard, a);
  const Parameters scaled = init_parameters({400, 300, 10}, Init::scaled, b);
  double sum = 0, sq = 0, sq_scaled = 0;
  for (double w : standard.weights[0]) sum += w, sq += w * w;
  for (double w : scaled.weights[0]) sq_scaled += w * w;
  const double n = double(standard.weights[0].size());
  EXPECT_NEAR(sum / n, 0.0, 0.01);
  EXPECT_NEAR(sq / n, 1.0, 0.02);
  EXPECT_NEAR(sq_scaled / n, 1.0 / 400, 0.02 / 400);
  EXPECT_EQ(standard.biases[0], scaled.biases[0]);  // biases N(0,1) in both schemes, drawn first
}

TEST(Parameters, SizesAreValidated) {
  Rng rng(1);
  EXPECT_THROW(init_parameters({784}, Init::standard, rng), InputError);
  EXPECT_THROW(init_parameters({784, 0, 10}, Init::standard, rng), InputError);
}

TEST(Rng, PermutationIsAPermutationAndSeedDetermined) {
  Rng a(11), b(11), c(12);
  auto p = a.permutation(1000);
  EXPECT_EQ(p, b.permutation(1000));
  EXPECT_NE(p, c.permutation(1000));
  std::sort(p.begin(), p.end());
  for (std::uint32_t i = 0; i < 1000; ++i) EXPECT_EQ(p[i], i);
}

// Fisher-Yates gives each of the n! orders the same chance; a one-line slip gives a biased shuffle (Sattolo's, which
// swaps with an earlier position only, makes only cycles and never leaves an element in place; swapping with any
// position of the whole range favours some orders). Tested as statistics, with a fixed seed.
TEST(Rng, PermutationIsUniform) {
  Rng rng(23);
  // Where each of 6 elements lands, over 60,000 shuffles: 36 cells of 10,000 expected. Pearson's chi-square has
  // (6 - 1)^2 = 25 degrees of freedom; 52.62 is its 0.1% critical value. Measured: 38.2.
  constexpr int n = 6, shuffles = 60000;
  std::array<std::array<int, n>, n> lands{};
  for (int k = 0; k < shuffles; ++k) {
    const std::vector<std::uint32_t> p = rng.permutation(n);
    for (int at = 0; at < n; ++at) ++lands[p[at]][at];
  }
  const double expected = double(shuffles) / n;
  double chi_square = 0;
  for (const auto& row : lands)
    for (int count : row) chi_square += (count - expected) * (count - expected) / expected;
  EXPECT_LT(chi_square, 52.62);
  // Fixed points of a uniform permutation of 1,000 are Poisson(1): mean 1, and none at all with probability
  // 1/e = 0.368. Over 2,000 shuffles the mean's standard error is 0.022 and the share's 0.011; the bounds are
  // five of them. Measured: mean 1.047, no fixed point in 0.358 of them.
  constexpr int m = 1000, draws = 2000;
  int fixed = 0, none = 0;
  for (int k = 0; k < draws; ++k) {
    const std::vector<std::uint32_t> p = rng.permutation(m);
    int here = 0;
    for (int i = 0; i < m; ++i) here += p[i] == std::uint32_t(i);
    fixed += here;
    none += here == 0;
  }
  EXPECT_NEAR(double(fixed) / draws, 1.0, 0.11);
  EXPECT_NEAR(double(none) / draws, 1.0 / std::exp(1.0), 0.055);
}

TEST(Rng, SnapshotContinuesTheSequence) {
  Rng a(5);
  a.normal();  // leaves a spare normal behind
  const Rng::Snapshot s = a.snapshot();
  const double n1 = a.normal(), n2 = a.normal();
  const auto u = a.next();
  Rng b(99);
  b.restore(s);
  EXPECT_EQ(n1, b.normal());
  EXPECT_EQ(n2, b.normal());
  EXPECT_EQ(u, b.next());
}

TEST(Rng, BelowIsUniform) {
  Rng rng(2);
  std::array<int, 7> counts{};
  for (int i = 0; i < 70000; ++i) ++counts[rng.below(7)];
  for (int c : counts) EXPECT_NEAR(c, 10000, 400);
}

}  // namespace
}  // namespace sigmanet

namespace sigmanet {
namespace {

// Results must not depend on where the heap puts the buffers (vector code that peels for alignment
// would reorder sums): same parameters and batch at shifted addresses, same bits.
TEST(FastCpuNetwork, ResultsDoNotDependOnBufferAddresses) {
  Rng rng(31);
  const Parameters p = init_parameters({784, 30, 10}, Init::standard, rng);
  std::vector<float> x;
  for (int i = 0; i < 10 * 784; ++i) x.push_back(float(rng.below(256)) / 255.0f);
  std::vector<std::uint8_t> labels;
  for (int s = 0; s < 10; ++s) labels.push_back(static_cast<std::uint8_t>(rng.below(10)));
  std::vector<Parameters> results;
  std::vector<std::vector<char>> nudges;
  for (std::size_t shift = 0; shift < 8; ++shift) {
    nudges.emplace_back(8 + 4 * shift);  // moves the next allocations by a few words
    std::vector<float> input(x.size() + shift);
    std::copy(x.begin(), x.end(), input.begin() + static_cast<std::ptrdiff_t>(shift));
    FastCpuNetwork<float> net(p);
    for (int step = 0; step < 5; ++step) net.train_batch(input.data() + shift, labels.data(), 10, 3.0f);
    results.push_back(net.parameters());
  }
  for (std::size_t i = 1; i < results.size(); ++i) {
    EXPECT_EQ(results[i].weights, results[0].weights) << "shift " << i;
    EXPECT_EQ(results[i].biases, results[0].biases) << "shift " << i;
  }
}

bool on_cache_line(const void* p) { return reinterpret_cast<std::uintptr_t>(p) % kCacheLineBytes == 0; }

// Every buffer of every layer starts on a cache line, whatever the heap's state, the input pointer's
// alignment or the batch sizes the buffers were grown through: with std::vector's 16 bytes, a training
// step ran ~25% slower in the processes where W started 16 or 48 bytes into a line (bench/RESULTS.md).
template <class T>
void expect_storage_on_cache_lines(const std::vector<int>& sizes) {
  Rng rng(41);
  const Parameters p = init_parameters(sizes, Init::standard, rng);
  std::vector<std::vector<char>> nudges;
  nudges.emplace_back(24);  // odd-sized allocations between the network's, so no address is aligned by luck
  FastCpuNetwork<T> net(p);
  for (std::size_t m : {1u, 3u, 10u, 7u}) {
    nudges.emplace_back(8 + 16 * m);
    std::vector<T> x(m * std::size_t(sizes.front()) + 1);
    for (T& v : x) v = T(rng.uniform());
    std::vector<std::uint8_t> labels(m);
    for (auto& v : labels) v = static_cast<std::uint8_t>(rng.below(std::uint64_t(sizes.back())));
    net.forward(x.data() + 1, m);  // an input off a line must not put activation(0) off one
    net.backward(labels.data());
    const std::string at = std::to_string(sizes.size()) + " layers, batch " + std::to_string(m) + ", layer ";
    for (std::size_t l = 0; l < net.layers(); ++l) {
      EXPECT_TRUE(on_cache_line(net.weights(l).data())) << at << l << ": weights";
      EXPECT_TRUE(on_cache_line(net.biases(l).data())) << at << l << ": biases";
      EXPECT_TRUE(on_cache_line(net.activation(l).data())) << at << l << ": activation";
      EXPECT_TRUE(on_cache_line(net.delta(l).data())) << at << l << ": delta";
      EXPECT_TRUE(on_cache_line(net.weight_gradient(l).data())) << at << l << ": weight gradient";
      EXPECT_TRUE(on_cache_line(net.bias_gradient(l).data())) << at << l << ": bias gradient";
    }
    EXPECT_TRUE(on_cache_line(net.activation(net.layers()).data())) << at << net.layers() << ": activation";
    net.update(T(0.5));
  }
  // Rows that are a whole number of lines long (784 floats or doubles) then all start on one, unpadded; a
  // transposed first layer's rows are padded to whole vectors, so to whole lines where a vector is one.
  if (net.first_layer_transposed() && net.first_layer_stride() * sizeof(T) % kCacheLineBytes == 0) {
    for (std::size_t i = 0; i < std::size_t(sizes[0]); ++i)
      EXPECT_TRUE(on_cache_line(net.weights(0).data() + i * net.first_layer_stride())) << "layer 0, row " << i;
  }
  for (std::size_t l = net.first_layer_transposed() ? 1 : 0; l < net.layers(); ++l) {
    const std::size_t n_in = std::size_t(sizes[l]);
    if (n_in * sizeof(T) % kCacheLineBytes != 0) continue;
    for (std::size_t j = 0; j < std::size_t(sizes[l + 1]); ++j)
      EXPECT_TRUE(on_cache_line(net.weights(l).data() + j * n_in)) << "layer " << l << ", row " << j;
  }
}

TEST(FastCpuNetwork, StorageStartsOnCacheLines) {
  for (const std::vector<int>& sizes : std::vector<std::vector<int>>{{784, 30, 10}, {13, 7, 5, 3}, {17, 10}}) {
    expect_storage_on_cache_lines<float>(sizes);
    expect_storage_on_cache_lines<double>(sizes);
  }
}

TEST(AlignedVector, EveryAllocationStartsOnACacheLine) {
  std::vector<std::vector<char>> nudges;
  AlignedVector<float> grown;
  for (std::size_t n = 1; n <= 200; ++n) {
    nudges.emplace_back(n);
    const AlignedVector<double> v(n);
    EXPECT_TRUE(on_cache_line(v.data())) << n << " doubles";
    grown.push_back(float(n));  // reallocations on growth go through the allocator too
    EXPECT_TRUE(on_cache_line(grown.data())) << n << " floats";
  }
  const AlignedVector<float> copy = grown;
  EXPECT_TRUE(on_cache_line(copy.data()));
  EXPECT_EQ(copy, grown);
}

}  // namespace
}  // namespace sigmanet
