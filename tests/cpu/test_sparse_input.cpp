// The first layer from the images' nonzero pixels (host/cpu/sparse_input.hpp): the lists against a plain scan,
// the sparse sums against the dense products and the oracle, and when they must not be taken (non-finite
// weights, dense images, small batches) or must follow a changed network.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "sigmanet/backends/factory.hpp"
#include "cpu/fast_network.hpp"
#include "cpu/sparse_input.hpp"
#include "oracle/reference_network.hpp"
#include "sigmanet/error.hpp"
#include "sigmanet/formats/mnist.hpp"
#include "sigmanet/random.hpp"
#include "test_support.hpp"

namespace sigmanet {
namespace {

// m images of n pixels, a `density` share of them nonzero, every byte value 1..255 among those.
Dataset sparse_images(Rng& rng, std::size_t n, std::size_t m, double density) {
  Dataset d;
  d.name = "sparse images";
  d.rows = 1;
  d.cols = n;
  for (std::size_t i = 0; i < n * m; ++i)
    d.pixels.push_back(rng.uniform() < density ? static_cast<std::uint8_t>(1 + rng.below(255)) : 0);
  for (std::size_t s = 0; s < m; ++s) d.labels.push_back(static_cast<std::uint8_t>(rng.below(10)));
  return d;
}

std::vector<std::uint32_t> all_records(const Dataset& d) {
  std::vector<std::uint32_t> index(d.size());
  for (std::size_t s = 0; s < index.size(); ++s) index[s] = std::uint32_t(s);
  return index;
}

template <class T>
std::vector<T> gathered(const Dataset& d) {
  const std::vector<std::uint32_t> index = all_records(d);
  std::vector<T> x(d.size() * d.features());
  gather_inputs(d, index.data(), d.size(), x.data());
  return x;
}

template <class T>
void expect_lists_are_the_nonzero_pixels() {
  Rng rng(11);
  // Lengths around the vector code's 16 and 64 and its rounds of 256: whole vectors, tails, and shorter than one
  // vector; images with few, many and only nonzero pixels (every value of a round nonzero fills its buffer).
  for (double density : {0.05, 0.3, 1.0}) {
    for (std::size_t n : {1u, 15u, 16u, 17u, 33u, 63u, 64u, 65u, 100u, 256u, 320u, 784u, 1000u}) {
      const Dataset d = sparse_images(rng, n, 1, density);
      const std::vector<T> x = gathered<T>(d);
      std::vector<std::uint32_t> nz(nonzero_list_room(n));
      std::vector<T> value(nonzero_list_room(n));
      const std::size_t listed = nonzero_pixels(d.image(0), n, nz.data(), value.data());
      EXPECT_EQ(count_nonzero_pixels(d.image(0), n), listed) << "n " << n << ", density " << density;
      std::size_t k = 0;
      for (std::size_t i = 0; i < n; ++i) {
        if (d.image(0)[i] == 0) continue;
        ASSERT_LT(k, listed) << "n " << n << ", density " << density;
        EXPECT_EQ(nz[k], i) << "n " << n << ", density " << density;
        EXPECT_EQ(value[k], x[i]) << "pixel " << int(d.image(0)[i]) << ": not the gather's bits";
        ++k;
      }
      EXPECT_EQ(listed, k) << "n " << n << ", density " << density;
    }
  }
}

TEST(SparseInput, ListsHoldEveryNonzeroPixelInOrderInFloat) { expect_lists_are_the_nonzero_pixels<float>(); }
TEST(SparseInput, ListsHoldEveryNonzeroPixelInOrderInDouble) { expect_lists_are_the_nonzero_pixels<double>(); }

// Largest difference of two activation sets relative to the largest value.
template <class A, class B>
double max_difference(const A& a, const B& b) {
  double diff = 0;
  for (std::size_t i = 0; i < a.size(); ++i) diff = std::max(diff, std::abs(double(a[i]) - double(b[i])));
  return diff;
}

// Widths that take every number of vectors the sums hold at once (1 to 4), more than one group of four, and
// partial last vectors; batch 60 is past kSparseInputBatch.
template <class T>
void expect_sparse_sums_match_the_products_and_the_oracle(double tolerance) {
  Rng rng(5);
  const std::size_t m = 60, n_in = 784;
  const Dataset d = sparse_images(rng, n_in, m, 0.2);
  const std::vector<T> x = gathered<T>(d);
  const std::vector<std::uint32_t> index = all_records(d);
  for (int width : {10, 30, 33, 64, 100, 256}) {
    const Parameters p = init_parameters({int(n_in), width, 10}, Init::standard, rng);
    FastCpuNetwork<T> sparse(p), dense(p);
    dense.set_sparse_input(false);
    sparse.forward_images(d, index.data(), m);
    dense.forward_images(d, index.data(), m);
    EXPECT_TRUE(sparse.last_forward_sparse()) << "width " << width;
    EXPECT_FALSE(dense.last_forward_sparse()) << "width " << width;
    ReferenceNetwork<double> oracle(p);
    const std::vector<double> xd(x.begin(), x.end());
    oracle.forward(xd.data(), m);
    for (std::size_t l = 1; l <= 2; ++l) {
      EXPECT_LT(max_difference(sparse.activation(l), dense.activation(l)), tolerance) << "width " << width;
      EXPECT_LT(max_difference(sparse.activation(l), oracle.activation(l)), tolerance) << "width " << width;
    }
  }
}

TEST(SparseInput, SumsMatchTheProductsAndTheOracleInFloat) {
  expect_sparse_sums_match_the_products_and_the_oracle<float>(2e-6);
}
TEST(SparseInput, SumsMatchTheProductsAndTheOracleInDouble) {
  expect_sparse_sums_match_the_products_and_the_oracle<double>(1e-13);
}

// Dense images take the gather and the dense sums: forward()'s very bits.
template <class T>
void expect_dense_sums_for_dense_images() {
  Rng rng(9);
  const Parameters p = init_parameters({784, 30, 10}, Init::standard, rng);
  for (std::size_t m : {1u, 10u, 60u}) {
    const Dataset d = sparse_images(rng, 784, m, 0.7);
    FastCpuNetwork<T> from_bytes(p), from_rows(p);
    const std::vector<std::uint32_t> index = all_records(d);
    from_bytes.forward_images(d, index.data(), d.size());
    from_rows.forward(gathered<T>(d).data(), d.size());
    EXPECT_FALSE(from_bytes.last_forward_sparse()) << "batch " << m;
    EXPECT_EQ(from_bytes.activation(2), from_rows.activation(2)) << "batch " << m;
    EXPECT_NO_THROW(from_bytes.backward(d.labels.data())) << "the gathered input was not kept";
  }
}

TEST(SparseInput, DenseImagesTakeTheDenseSumsInFloat) { expect_dense_sums_for_dense_images<float>(); }
TEST(SparseInput, DenseImagesTakeTheDenseSumsInDouble) { expect_dense_sums_for_dense_images<double>(); }

// Training on sparse inputs (the sparse sums forward, only the rows of nonzero inputs stepped) against the
// oracle, step after step at Nielsen's batch 10 and at 1, and against the dense sums.
template <class T>
void expect_sparse_training_tracks_the_oracle(double tolerance) {
  Rng rng(13);
  const Dataset d = sparse_images(rng, 784, 200, 0.2);
  const std::vector<T> x = gathered<T>(d);
  const std::vector<double> xd(x.begin(), x.end());
  const Parameters p = init_parameters({784, 30, 10}, Init::standard, rng);
  for (std::size_t m : {1u, 10u}) {
    FastCpuNetwork<T> sparse(p), dense(p);
    dense.set_sparse_input(false);
    ReferenceNetwork<double> oracle(p);
    for (std::size_t first = 0; first + m <= d.size(); first += m) {
      sparse.train_batch(x.data() + first * 784, &d.labels[first], m, T(3));
      ASSERT_TRUE(sparse.last_forward_sparse());
      dense.train_batch(x.data() + first * 784, &d.labels[first], m, T(3));
      oracle.forward(xd.data() + first * 784, m);
      oracle.backward(&d.labels[first]);
      oracle.update(3.0);
    }
    EXPECT_LT(relative_difference(sparse.parameters(), oracle.parameters()), tolerance) << "batch " << m;
    EXPECT_LT(relative_difference(sparse.parameters(), dense.parameters()), tolerance) << "batch " << m;
  }
}

// Measured over the 200 and 20 steps: in float 2.5e-7 and 1.1e-7 from the oracle, 4.5e-7 and 2.9e-8 from the dense
// sums; in double 1.7e-15 at most. A first-layer step 0.4% too large is 6.9e-5 off after the 20 steps of 10.
TEST(SparseInput, TrainingTracksTheOracleInFloat) { expect_sparse_training_tracks_the_oracle<float>(2e-6); }
TEST(SparseInput, TrainingTracksTheOracleInDouble) { expect_sparse_training_tracks_the_oracle<double>(1e-14); }

TEST(SparseInput, BackwardAfterImagesIsRefused) {
  Rng rng(3);
  const Dataset d = sparse_images(rng, 784, 60, 0.2);
  FastCpuNetwork<float> net(init_parameters({784, 30, 10}, Init::standard, rng));
  const std::vector<std::uint32_t> index = all_records(d);
  net.forward_images(d, index.data(), d.size());
  ASSERT_TRUE(net.last_forward_sparse());
  EXPECT_EQ(test::thrown<Error>([&] { net.backward(d.labels.data()); }),
            "FastCpuNetwork::backward: no forward() before it (forward_images() keeps no input to go back to)");
  const std::vector<float> x = gathered<float>(d);
  net.forward(x.data(), d.size());
  EXPECT_NO_THROW(net.backward(d.labels.data()));

  Dataset narrow = d;
  narrow.cols = 392;
  narrow.pixels.resize(392 * d.size());
  EXPECT_EQ(test::thrown<Error>([&] { net.forward_images(narrow, index.data(), d.size()); }),
            "FastCpuNetwork::forward_images: " + d.name + " has " + std::to_string(narrow.features()) +
                " features a record, the network 784 inputs");
}

// 0 * Inf is NaN: a weight that training took to Inf or NaN must reach every output as the products take it,
// even where its input is 0, so the sparse sums stand aside.
TEST(SparseInput, NonfiniteWeightsKeepTheProducts) {
  Rng rng(4);
  const Dataset d = sparse_images(rng, 784, 60, 0.2);
  const std::vector<float> x = gathered<float>(d);
  const Parameters p = init_parameters({784, 30, 10}, Init::standard, rng);
  FastCpuNetwork<float> net(p), dense(p);
  dense.set_sparse_input(false);
  const std::vector<std::uint32_t> index = all_records(d);
  for (FastCpuNetwork<float>* n : {&net, &dense}) {
    n->train_batch(x.data(), d.labels.data(), 10, std::numeric_limits<float>::infinity());  // diverged
    n->forward_images(d, index.data(), d.size());
  }
  EXPECT_FALSE(net.last_forward_sparse());
  std::size_t nan = 0;
  for (std::size_t i = 0; i < net.activation(1).size(); ++i) {
    EXPECT_EQ(std::isnan(net.activation(1)[i]), std::isnan(dense.activation(1)[i])) << "activation " << i;
    nan += std::isnan(net.activation(1)[i]);
  }
  EXPECT_GT(nan, 0u);
}

// W^T goes out through parameters() and back exactly: after a step, a network built from the stepped parameters
// gives the stepped network's very bits.
TEST(SparseInput, TransposedWeightsFollowEveryStep) {
  Rng rng(8);
  const Dataset d = sparse_images(rng, 784, 60, 0.2);
  const std::vector<double> x = gathered<double>(d);
  const std::vector<std::uint32_t> index = all_records(d);
  FastCpuNetwork<double> net(init_parameters({784, 30, 10}, Init::standard, rng));
  for (bool fused : {true, false}) {
    net.forward_images(d, index.data(), d.size());
    ASSERT_TRUE(net.last_forward_sparse());
    if (fused) {
      net.train_batch(x.data(), d.labels.data(), 10, 3.0);
    } else {
      net.forward(x.data(), 10);
      net.backward(d.labels.data());
      net.update(3.0);
    }
    net.forward_images(d, index.data(), d.size());
    FastCpuNetwork<double> fresh(net.parameters());
    fresh.forward_images(d, index.data(), d.size());
    EXPECT_EQ(net.activation(2), fresh.activation(2)) << (fused ? "after train_batch" : "after update");
  }
}

// Turning the sparse input off holds the first layer as W again: exactly the weights, and from then on exactly
// what a network that never held it transposed computes.
TEST(SparseInput, OffHoldsTheFirstLayerAsWAndTrainsAsTheProducts) {
  Rng rng(14);
  const Dataset d = sparse_images(rng, 784, 40, 0.2);
  const std::vector<float> x = gathered<float>(d);
  const Parameters p = init_parameters({784, 30, 10}, Init::standard, rng);
  FastCpuNetwork<float> toggled(p), never(p);
  never.set_sparse_input(false);
  EXPECT_TRUE(toggled.first_layer_transposed());
  EXPECT_FALSE(never.first_layer_transposed());
  toggled.train_batch(x.data(), d.labels.data(), 10, 3.0f);
  const Parameters after_one = toggled.parameters();
  toggled.set_sparse_input(false);
  EXPECT_FALSE(toggled.first_layer_transposed());
  EXPECT_EQ(toggled.parameters().weights, after_one.weights);
  FastCpuNetwork<float> from_there(after_one);
  from_there.set_sparse_input(false);
  for (std::size_t first = 10; first < 40; first += 10) {
    toggled.train_batch(x.data() + first * 784, &d.labels[first], 10, 3.0f);
    from_there.train_batch(x.data() + first * 784, &d.labels[first], 10, 3.0f);
    EXPECT_FALSE(toggled.last_forward_sparse());
  }
  EXPECT_EQ(toggled.parameters().weights, from_there.parameters().weights);
  toggled.set_sparse_input(true);
  EXPECT_EQ(toggled.parameters().weights, from_there.parameters().weights);
}

// The CPU backend holds the first layer transposed for a sparse training set and as W for a dense one: its
// training is bit for bit a FastCpuNetwork's with that setting.
TEST(SparseInput, TheBackendChoosesTheLayoutByTheTrainingSet) {
  Rng rng(15);
  const Parameters p = init_parameters({784, 30, 10}, Init::standard, rng);
  for (double density : {0.2, 0.7}) {
    const Dataset d = sparse_images(rng, 784, 50, density);
    auto backend = make_backend(Device::cpu, Precision::f32);
    backend->set_parameters(p);
    backend->set_training_data(d);
    const std::vector<std::uint32_t> order = all_records(d);
    backend->train(order, 10, 3.0, {});
    const std::vector<float> x = gathered<float>(d);
    for (bool transposed : {true, false}) {
      FastCpuNetwork<float> net(p);
      net.set_sparse_input(transposed);
      for (std::size_t first = 0; first < d.size(); first += 10)
        net.train_batch(x.data() + first * 784, &d.labels[first], 10, 3.0f);
      if (transposed == (density < 0.4))
        EXPECT_EQ(backend->parameters().weights, net.parameters().weights) << "density " << density;
      else
        EXPECT_NE(backend->parameters().weights, net.parameters().weights) << "density " << density;
    }
  }
}

// Each sample's sums are computed whole by one thread, so threads change nothing (the batch is past
// kSparseThreadedBatch, from which the sparse sums split).
TEST(SparseInput, ThreadsGiveTheSameBits) {
  Rng rng(10);
  const Dataset d = sparse_images(rng, 784, 300, 0.2);
  const Parameters p = init_parameters({784, 30, 10}, Init::standard, rng);
  const std::vector<std::uint32_t> index = all_records(d);
  FastCpuNetwork<float> one(p), two(p);
  two.set_threads(2, 1);
  one.forward_images(d, index.data(), d.size());
  two.forward_images(d, index.data(), d.size());
  ASSERT_TRUE(two.last_forward_sparse());
  EXPECT_EQ(one.activation(2), two.activation(2));
}

// The CPU backend's evaluation of MNIST's 10,000 test images, which takes the sparse sums (19% of the pixels are
// nonzero), against the oracle's: the same count right and the cost to rounding, after an epoch of training so
// the outputs are not all near one value.
template <class T>
void expect_mnist_evaluation_is_the_oracles(double tolerance) {
  const Mnist& data = test::mnist();
  Rng rng(12);
  const Parameters start = init_parameters({784, 30, 10}, Init::standard, rng);
  ReferenceNetwork<double> trained(start);
  const std::vector<std::uint32_t> order = rng.permutation(data.train.size());
  trained.train(data.train, std::span(order.data(), 2000), 10, 3.0);
  auto backend = make_backend(Device::cpu, sizeof(T) == 4 ? Precision::f32 : Precision::f64);
  backend->set_parameters(trained.parameters());
  const Evaluation got = backend->evaluate(data.test), want = trained.evaluate(data.test);
  EXPECT_EQ(got.correct, want.correct);
  EXPECT_NEAR(got.cost, want.cost, tolerance * want.cost);
  EXPECT_GT(want.accuracy(), 0.5);  // trained: outputs far from uniform
}

TEST(SparseInput, MnistEvaluationIsTheOraclesInFloat) { expect_mnist_evaluation_is_the_oracles<float>(1e-5); }
TEST(SparseInput, MnistEvaluationIsTheOraclesInDouble) { expect_mnist_evaluation_is_the_oracles<double>(1e-13); }

}  // namespace
}  // namespace sigmanet
