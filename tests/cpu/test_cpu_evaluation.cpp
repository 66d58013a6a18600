// The CPU backend's evaluate() against the oracle's, as every epoch's metrics use it: MNIST's pixels (the sparse
// first layer, straight from the bytes) and float values (the dense products), float and double, sigmoid outputs
// with the quadratic cost and softmax with log-likelihood, over 1,237 records: two whole chunks of
// kCpuEvaluationChunk and a part of one. The same count right and the cost to rounding; the same bits on one
// thread and on two.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "oracle/reference_network.hpp"
#include "sigmanet/backend.hpp"
#include "sigmanet/backends/factory.hpp"
#include "sigmanet/formats/mnist.hpp"
#include "sigmanet/random.hpp"
#include "test_support.hpp"

namespace sigmanet {
namespace {

constexpr std::size_t kRecords = 1237;
static_assert(kRecords > 2 * kCpuEvaluationChunk && kRecords % kCpuEvaluationChunk != 0);

// The first `count` records of d.
Dataset first_records(const Dataset& d, std::size_t count) {
  Dataset part = d;
  part.labels.resize(count);
  if (part.has_values())
    part.values.resize(count * d.features());
  else
    part.pixels.resize(count * d.features());
  return part;
}

// Parameters the oracle trained for 2,000 records of train, so the outputs are far from one value.
Parameters trained(const Dataset& train, std::vector<int> sizes, const Objective& objective) {
  Rng rng(21);
  Parameters p = init_parameters(sizes, Init::standard, rng);
  if (objective.cost == Cost::log_likelihood) p.output = Activation::softmax;
  ReferenceNetwork<double> oracle(p, objective);
  const std::vector<std::uint32_t> order = rng.permutation(train.size());
  oracle.train(train, std::span(order.data(), 2000), 10, objective.cost == Cost::log_likelihood ? 0.5 : 3.0);
  return oracle.parameters();
}

void expect_evaluation_is_the_oracles(const Dataset& train, const Dataset& data, const std::vector<int>& sizes,
                                      const std::string& what) {
  for (const Objective& objective : {Objective{}, Objective{Cost::log_likelihood, 0.0}}) {
    const Parameters p = trained(train, sizes, objective);
    const Evaluation want = ReferenceNetwork<double>(p, objective).evaluate(data);
    ASSERT_GT(want.accuracy(), 0.3) << what;  // trained: outputs far from uniform
    for (Precision precision : {Precision::f32, Precision::f64}) {
      const std::string where = what + ", " + to_string(objective.cost) + ", " + to_string(precision);
      std::vector<Evaluation> got;
      for (int threads : {1, 2}) {
        const auto cpu = make_backend(Device::cpu, precision);
        cpu->set_threads(threads);
        cpu->set_objective(objective);
        cpu->set_parameters(p);
        cpu->set_training_data(train);
        got.push_back(cpu->evaluate(data));
      }
      ASSERT_EQ(got[0].total, kRecords) << where;
      EXPECT_EQ(got[0].correct, want.correct) << where;
      // Measured at most 1.9e-8 of the cost in float (softmax on float values) and 1.3e-15 in double with
      // AVX-512, and 1.3e-7 in float where the build targets no particular CPU (-march generic, the sanitizer
      // build: other vector widths add the 300 products in another order). Float's epsilon is 1.2e-7.
      EXPECT_NEAR(got[0].cost, want.cost, (precision == Precision::f32 ? 1e-6 : 1e-14) * want.cost) << where;
      EXPECT_EQ(got[1].correct, got[0].correct) << where << ": two threads";
      EXPECT_EQ(got[1].cost, got[0].cost) << where << ": two threads";
    }
  }
}

TEST(CpuEvaluation, MnistPixelsAreTheOraclesOverChunks) {
  const Mnist& mnist = test::mnist();
  expect_evaluation_is_the_oracles(mnist.train, first_records(mnist.test, kRecords), {784, 30, 10}, "MNIST pixels");
}

TEST(CpuEvaluation, FloatValuesAreTheOraclesOverChunks) {
  const test::Geometry g{1, 300, 12, true};
  expect_evaluation_is_the_oracles(g.records("train", 2000, 22), g.records("values", kRecords, 23), {300, 30, 12},
                                   g.text());
}

}  // namespace
}  // namespace sigmanet
