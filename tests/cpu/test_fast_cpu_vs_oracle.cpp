// The fast CPU network against the oracle, stage by stage: forward activations, deltas, weight and bias
// gradients, the update, and a few SGD steps, in float and double, at batches 1, 7 and 10, on 784-30-10
// and a deeper odd net. Both sides get the same parameters and inputs in T, so what differs is only the
// order of the sums: the fast network adds a dot product in SIMD lanes and tiles, the oracle from left to
// right. Two orders of an n-term sum differ by up to about n * u times the sum of the terms' sizes (u the
// unit roundoff, 6e-8 in float, 1.1e-16 in double), and typically by sqrt(n) * u: for n = 784 that is
// 1.7e-6 in float and 3e-15 in double. Each stage is judged by its largest difference over its largest
// value. Measured worst over all cases: 6e-7 in float, 1e-15 in double; the tolerances (1e-5 float, 1e-13
// double) leave 15x and 100x of room for other vector widths and sit far below what a wrong formula gives
// (a dropped term, a transposed index or a wrong sigma' is 1e-2 or more).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "cpu/blas.hpp"
#include "cpu/fast_network.hpp"
#include "oracle/reference_network.hpp"
#include "sigmanet/random.hpp"

namespace sigmanet {
namespace {

template <class T>
constexpr double kTolerance = sizeof(T) == 4 ? 1e-5 : 1e-13;

// The largest |got - ref| over the largest |ref|: one number per stage, whatever the stage's scale.
template <class A, class B>
double scaled_difference(const A& got, const B& ref) {
  EXPECT_EQ(got.size(), ref.size());
  double diff = 0, scale = 0;
  for (std::size_t i = 0; i < std::min(got.size(), ref.size()); ++i) {
    diff = std::max(diff, std::abs(double(got[i]) - double(ref[i])));
    scale = std::max(scale, std::abs(double(ref[i])));
  }
  return scale > 0 ? diff / scale : diff;
}

// The change each update made: a wrong update would hide under the parameters' own size.
std::vector<double> change(const Parameters& after, const Parameters& before) {
  std::vector<double> d;
  for (std::size_t l = 0; l < before.layers(); ++l) {
    for (std::size_t i = 0; i < before.weights[l].size(); ++i) d.push_back(after.weights[l][i] - before.weights[l][i]);
    for (std::size_t i = 0; i < before.biases[l].size(); ++i) d.push_back(after.biases[l][i] - before.biases[l][i]);
  }
  return d;
}

// The worst difference seen per stage, printed after each test (the figures the README quotes).
using Worst = std::map<std::string, double>;

template <class T>
void expect_close(Worst& worst, const std::string& stage, double difference, const std::string& where) {
  worst[stage] = std::max(worst[stage], difference);
  EXPECT_LE(difference, kTolerance<T>) << stage << ", " << where;
  EXPECT_TRUE(std::isfinite(difference)) << stage << ", " << where;
}

void print(const Worst& worst, const char* precision) {
  for (const auto& [stage, difference] : worst)
    std::printf("%s %-20s worst %.2e\n", precision, stage.c_str(), difference);
}

template <class T>
void compare_stages(const std::vector<int>& sizes, std::size_t m, std::uint64_t seed, CpuGemm gemm, Worst& worst) {
  Rng rng(seed);
  // Scaled weights keep the sigmoids off their flat ends, where every difference would round away.
  const Parameters p = init_parameters(sizes, Init::scaled, rng);
  std::vector<T> x(m * std::size_t(sizes.front()));
  for (T& v : x) v = T(rng.uniform());
  std::vector<std::uint8_t> labels(m);
  for (auto& v : labels) v = static_cast<std::uint8_t>(rng.below(std::uint64_t(sizes.back())));
  const std::string where =
      sizes_text(sizes, '-') + " m=" + std::to_string(m) + (gemm == CpuGemm::blas ? " on OpenBLAS" : " own kernels");

  FastCpuNetwork<T> fast(p);
  fast.set_gemm(gemm);
  ReferenceNetwork<T> oracle(p);
  fast.forward(x.data(), m);
  oracle.forward(x.data(), m);
  for (std::size_t l = 0; l <= oracle.layers(); ++l)
    expect_close<T>(worst, "forward activations", scaled_difference(fast.activation(l), oracle.activation(l)),
                    where);
  fast.backward(labels.data());
  oracle.backward(labels.data());
  for (std::size_t l = 0; l < oracle.layers(); ++l) {
    expect_close<T>(worst, "deltas", scaled_difference(fast.delta(l), oracle.delta(l)), where);
    expect_close<T>(worst, "weight gradients",
                    scaled_difference(fast.weight_gradient(l), oracle.weight_gradient(l)), where);
    expect_close<T>(worst, "bias gradients", scaled_difference(fast.bias_gradient(l), oracle.bias_gradient(l)),
                    where);
  }
  fast.update(T(3));
  oracle.update(T(3));
  expect_close<T>(worst, "update", scaled_difference(change(fast.parameters(), p), change(oracle.parameters(), p)),
                  where);

  // Four more SGD steps on fresh batches: the differences must not grow past rounding.
  for (int step = 0; step < 4; ++step) {
    for (T& v : x) v = T(rng.uniform());
    for (auto& v : labels) v = static_cast<std::uint8_t>(rng.below(std::uint64_t(sizes.back())));
    fast.train_batch(x.data(), labels.data(), m, T(3));
    oracle.forward(x.data(), m);
    oracle.backward(labels.data());
    oracle.update(T(3));
  }
  expect_close<T>(worst, "5 SGD steps",
                  scaled_difference(change(fast.parameters(), p), change(oracle.parameters(), p)), where);
}

const std::vector<std::vector<int>> kNets = {{784, 30, 10}, {13, 17, 9, 10}};

// Every stage on the network's own kernels and, where OpenBLAS can be opened, on its products.
template <class T>
void compare_every_stage(std::uint64_t seed, const char* precision) {
  std::vector<CpuGemm> engines = {CpuGemm::own};
  if (blas_available()) engines.push_back(CpuGemm::blas);
  for (CpuGemm gemm : engines) {
    Worst worst;
    for (const auto& sizes : kNets)
      for (std::size_t m : {1u, 7u, 10u}) compare_stages<T>(sizes, m, ++seed, gemm, worst);
    EXPECT_EQ(worst.size(), 6u);  // every stage compared
    std::printf("%s:\n", gemm == CpuGemm::blas ? "OpenBLAS" : "own kernels");
    print(worst, precision);
  }
}

TEST(FastCpuVsOracle, EveryStageInFloat) { compare_every_stage<float>(500, "float"); }
TEST(FastCpuVsOracle, EveryStageInDouble) { compare_every_stage<double>(600, "double"); }

// The comparison can fail: an oracle one step ahead (a wrong update) is far outside the tolerances.
TEST(FastCpuVsOracle, ADifferentNetworkIsFarOutsideTheTolerance) {
  Rng rng(7);
  const Parameters p = init_parameters({13, 17, 9, 10}, Init::scaled, rng);
  std::vector<float> x(10 * 13);
  for (float& v : x) v = float(rng.uniform());
  std::vector<std::uint8_t> labels(10, 3);
  FastCpuNetwork<float> fast(p);
  ReferenceNetwork<float> oracle(p);
  oracle.forward(x.data(), 10);
  oracle.backward(labels.data());
  oracle.update(0.3f);  // a tenth of a step
  fast.forward(x.data(), 10);
  oracle.forward(x.data(), 10);
  EXPECT_GT(scaled_difference(fast.activation(3), oracle.activation(3)), 100 * kTolerance<float>);
}

}  // namespace
}  // namespace sigmanet
