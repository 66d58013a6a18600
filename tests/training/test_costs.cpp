// Chapter 3's costs, softmax and L2 on the CPU: the oracle's gradients against finite differences of the cost
// itself, the fast CPU network against the oracle for each objective, and the formulas on hand-made cases.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <limits>
#include <numeric>
#include <vector>

#include "sigmanet/backends/factory.hpp"
#include "cpu/fast_network.hpp"
#include "oracle/equivalence.hpp"
#include "oracle/reference_network.hpp"
#include "sigmanet/cost.hpp"
#include "sigmanet/error.hpp"
#include "sigmanet/random.hpp"
#include "test_support.hpp"

namespace sigmanet {
namespace {

const Objective kObjectives[] = {{Cost::quadratic, 0.0},     {Cost::cross_entropy, 0.0}, {Cost::log_likelihood, 0.0},
                                 {Cost::quadratic, 5.0},     {Cost::cross_entropy, 5.0}, {Cost::log_likelihood, 5.0}};

std::string name_of(const Objective& o) { return to_string(o.cost) + " lambda " + std::to_string(o.lambda); }

// A small network with its cost's output layer, and a batch of random inputs and labels.
struct Problem {
  Parameters p;
  std::vector<double> x;
  std::vector<std::uint8_t> labels;
  std::size_t m = 0;
};

Problem small_problem(const Objective& objective, std::uint64_t seed) {
  Rng rng(seed);
  Problem pr;
  pr.p = init_parameters({6, 5, 4}, Init::standard, rng);
  pr.p.output = output_activation(objective.cost);
  pr.m = 3;
  for (std::size_t i = 0; i < pr.m * 6; ++i) pr.x.push_back(rng.uniform());
  for (std::size_t s = 0; s < pr.m; ++s) pr.labels.push_back(std::uint8_t(rng.below(4)));
  return pr;
}

// The batch's cost as the book defines what SGD descends: (1/m) sum_x C_x + lambda/(2n) sum w^2.
double batch_cost(const Parameters& p, const Objective& objective, const Problem& pr, std::size_t n) {
  ReferenceNetwork<double> net(p, objective);
  net.forward(pr.x.data(), pr.m);
  double c = 0;
  for (std::size_t s = 0; s < pr.m; ++s) c += net.sample_cost(s, pr.labels[s]);
  return c / double(pr.m) + weight_penalty(p, objective.lambda, n);
}

// Backpropagation's gradient, (1/m) sum of the per-sample gradients plus L2's lambda/n w, against central
// differences of batch_cost. Returns the largest error relative to max(1, |gradient|).
double gradient_check_error(const Objective& objective, std::uint64_t seed) {
  const Problem pr = small_problem(objective, seed);
  const std::size_t n = 50;  // the training set's size, for L2
  ReferenceNetwork<double> net(pr.p, objective);
  net.forward(pr.x.data(), pr.m);
  net.backward(pr.labels.data());
  double worst = 0;
  const double h = 1e-6;
  for (std::size_t l = 0; l < pr.p.layers(); ++l) {
    for (int kind = 0; kind < 2; ++kind) {
      const std::size_t count = kind == 0 ? pr.p.weights[l].size() : pr.p.biases[l].size();
      for (std::size_t i = 0; i < count; ++i) {
        Parameters plus = pr.p, minus = pr.p;
        (kind == 0 ? plus.weights : plus.biases)[l][i] += h;
        (kind == 0 ? minus.weights : minus.biases)[l][i] -= h;
        const double numeric =
            (batch_cost(plus, objective, pr, n) - batch_cost(minus, objective, pr, n)) / (2 * h);
        double analytic = (kind == 0 ? net.weight_gradient(l) : net.bias_gradient(l))[i] / double(pr.m);
        if (kind == 0) analytic += objective.lambda / double(n) * pr.p.weights[l][i];
        worst = std::max(worst, std::abs(numeric - analytic) / std::max(1.0, std::abs(analytic)));
      }
    }
  }
  return worst;
}

TEST(Costs, BackpropagationMatchesFiniteDifferencesForEveryCostWithAndWithoutL2) {
  for (const Objective& objective : kObjectives)
    for (std::uint64_t seed : {1, 2, 3}) {
      const double error = gradient_check_error(objective, seed);
      // Central differences with h = 1e-6 are good to about 1e-9 here; a wrong delta or a missing factor
      // (sigma', 1/m, lambda/n) is off by 1e-2 or more.
      EXPECT_LT(error, 1e-7) << name_of(objective) << " seed " << seed;
      char text[32];
      std::snprintf(text, sizeof text, "%.2e", error);
      RecordProperty(name_of(objective) + " seed " + std::to_string(seed), text);
    }
}

TEST(Costs, TheGradientCheckCatchesAWrongDelta) {
  // The check itself must be able to fail: the quadratic cost's gradient taken for cross-entropy's is wrong.
  const Problem pr = small_problem({Cost::cross_entropy, 0.0}, 4);
  ReferenceNetwork<double> quadratic(pr.p, {Cost::quadratic, 0.0});
  quadratic.forward(pr.x.data(), pr.m);
  quadratic.backward(pr.labels.data());
  const double h = 1e-6;
  Parameters plus = pr.p, minus = pr.p;
  plus.biases[1][0] += h;
  minus.biases[1][0] -= h;
  const Objective ce{Cost::cross_entropy, 0.0};
  const double numeric = (batch_cost(plus, ce, pr, 50) - batch_cost(minus, ce, pr, 50)) / (2 * h);
  EXPECT_GT(std::abs(numeric - quadratic.bias_gradient(1)[0] / double(pr.m)), 1e-3);
}

TEST(Costs, FormulasOnAHandMadeOutput) {
  // One sample, two outputs, label 0: a = (0.8, 0.3).
  Parameters p;
  p.sizes = {1, 2};
  p.weights = {{0.0, 0.0}};
  const double z0 = std::log(0.8 / 0.2), z1 = std::log(0.3 / 0.7);  // sigmoid(z) = 0.8, 0.3
  p.biases = {{z0, z1}};
  const double x = 0;
  const std::uint8_t label = 0;
  ReferenceNetwork<double> quadratic(p, {Cost::quadratic, 0.0});
  quadratic.forward(&x, 1);
  EXPECT_NEAR(quadratic.sample_cost(0, label), 0.5 * (0.2 * 0.2 + 0.3 * 0.3), 1e-15);
  ReferenceNetwork<double> ce(p, {Cost::cross_entropy, 0.0});
  ce.forward(&x, 1);
  EXPECT_NEAR(ce.sample_cost(0, label), -std::log(0.8) - std::log(0.7), 1e-15);
  // Softmax of (z0, z1) and log-likelihood -ln a_0.
  p.output = Activation::softmax;
  ReferenceNetwork<double> ll(p, {Cost::log_likelihood, 0.0});
  ll.forward(&x, 1);
  const double a0 = std::exp(z0) / (std::exp(z0) + std::exp(z1));
  EXPECT_NEAR(ll.activation(1)[0], a0, 1e-15);
  EXPECT_NEAR(ll.activation(1)[0] + ll.activation(1)[1], 1.0, 1e-15);
  EXPECT_NEAR(ll.sample_cost(0, label), -std::log(a0), 1e-15);
}

TEST(Costs, SaturatedOutputsGiveFiniteCostsAndSoftmaxSurvivesHugeInputs) {
  Parameters p;
  p.sizes = {1, 3};
  p.weights = {{0.0, 0.0, 0.0}};
  p.biases = {{1000.0, -1000.0, 999.0}};
  const double x = 0;
  // Sigmoid outputs of exactly 1 and 0, the label on the one at 0: ln(0) would be -inf.
  ReferenceNetwork<double> ce(p, {Cost::cross_entropy, 0.0});
  ce.forward(&x, 1);
  EXPECT_EQ(ce.activation(1)[0], 1.0);
  const double c = ce.sample_cost(0, 1);
  EXPECT_TRUE(std::isfinite(c));
  EXPECT_GT(c, 1000.0);  // two saturated mistakes at about 708 each
  p.output = Activation::softmax;
  for (Precision precision : {Precision::f32, Precision::f64}) {
    const auto cpu = make_backend(Device::cpu, precision);
    cpu->set_parameters(p);
    cpu->set_objective({Cost::log_likelihood, 0.0});
    Dataset one;
    one.name = "one";
    one.rows = one.cols = 1;
    one.pixels = {0};
    one.labels = {1};
    const std::vector<double> out = cpu->outputs(one, 0, 1);
    ASSERT_EQ(out.size(), 3u);
    for (double v : out) EXPECT_TRUE(std::isfinite(v)) << to_string(precision);
    EXPECT_NEAR(out[0] + out[1] + out[2], 1.0, 1e-6);
    EXPECT_NEAR(out[0] / out[2], std::exp(1.0), 1e-3);  // only z differences matter
    const Evaluation e = cpu->evaluate(one);
    EXPECT_TRUE(std::isfinite(e.cost));
    EXPECT_GT(e.cost, 700.0);  // the label's output is e^-2000, taken as the smallest normal double
  }
}

TEST(Costs, L2ShrinksWeightsNotBiasesByTheBooksFactor) {
  // Inputs of zero make every weight gradient zero (dC/dw = a_in delta), so the update leaves exactly
  // w <- (1 - eta lambda / n) w, while the biases move by their gradient alone.
  Rng rng(5);
  Parameters p = init_parameters({3, 2}, Init::standard, rng);
  const Objective objective{Cost::cross_entropy, 4.0};
  ReferenceNetwork<double> net(p, objective);
  const std::vector<double> x(3, 0.0);
  const std::uint8_t label = 1;
  net.forward(x.data(), 1);
  net.backward(&label);
  net.update(0.5, 100);
  const double decay = 1 - 0.5 * 4.0 / 100;
  EXPECT_EQ(decay, weight_decay(0.5, 4.0, 100));
  for (std::size_t i = 0; i < p.weights[0].size(); ++i) EXPECT_DOUBLE_EQ(net.weights(0)[i], decay * p.weights[0][i]);
  for (std::size_t j = 0; j < p.biases[0].size(); ++j)
    EXPECT_DOUBLE_EQ(net.biases(0)[j], p.biases[0][j] - 0.5 * net.bias_gradient(0)[j]);
  EXPECT_EQ(weight_decay(3.0, 0.0, 50000), 1.0);
  EXPECT_EQ(weight_penalty(p, 0.0, 10), 0.0);
  double squares = 0;
  for (double w : p.weights[0]) squares += w * w;
  EXPECT_DOUBLE_EQ(weight_penalty(p, 4.0, 10), 0.5 * 4.0 / 10 * squares);
}

TEST(Costs, ACostWithTheWrongOutputLayerIsRefused) {
  Rng rng(6);
  Parameters p = init_parameters({4, 3}, Init::standard, rng);
  EXPECT_EQ(test::thrown<Error>([&] { ReferenceNetwork<double>(p, {Cost::log_likelihood, 0.0}); }),
            "ReferenceNetwork: the log-likelihood cost needs a softmax output layer, but the network's is sigmoid");
  p.output = Activation::softmax;
  EXPECT_EQ(test::thrown<Error>([&] { ReferenceNetwork<double>(p, {Cost::cross_entropy, 0.0}); }),
            "ReferenceNetwork: the cross-entropy cost needs a sigmoid output layer, but the network's is softmax");
  const auto cpu = make_backend(Device::cpu, Precision::f32);
  cpu->set_parameters(p);  // softmax, with the default quadratic objective
  const Dataset data = synthetic_dataset("d", 20, 10, 1, 1);
  cpu->set_training_data(data);
  Parameters wide = init_parameters({10, 10}, Init::standard, rng);  // ten outputs, for the set's ten labels
  wide.output = Activation::softmax;
  cpu->set_parameters(wide);
  const std::vector<std::uint32_t> order{0, 1};
  const std::string mismatch = ": the quadratic cost needs a sigmoid output layer, but the network's is softmax";
  EXPECT_EQ(test::thrown<Error>([&] { cpu->train(order, 2, 0.5, {}); }), "CpuBackend::train" + mismatch);
  EXPECT_EQ(test::thrown<Error>([&] { cpu->evaluate(data); }), "CpuBackend::evaluate" + mismatch);
  cpu->set_objective({Cost::log_likelihood, 0.0});
  EXPECT_EQ(cpu->train(order, 2, 0.5, {}), 2u);
}

TEST(Costs, TextNamesRoundTrip) {
  for (Cost c : {Cost::quadratic, Cost::cross_entropy, Cost::log_likelihood})
    EXPECT_EQ(cost_from_text(to_string(c)), c);
  for (Activation a : {Activation::sigmoid, Activation::softmax}) EXPECT_EQ(activation_from_text(to_string(a)), a);
  EXPECT_FALSE(cost_from_text("crossentropy"));
  EXPECT_FALSE(activation_from_text("relu"));
  EXPECT_EQ(output_activation(Cost::log_likelihood), Activation::softmax);
  EXPECT_EQ(output_activation(Cost::cross_entropy), Activation::sigmoid);
}

// The fast CPU network against the oracle for every objective: one step and 300 batches (100 under the
// sanitizers, for the step's time budget), in float and double.
TEST(Costs, FastCpuMatchesTheOracleForEveryObjective) {
#ifdef SIGMANET_TEST_SANITIZED
  const Dataset train = synthetic_dataset("train", 1000, 28, 28, 7);
#else
  const Dataset train = synthetic_dataset("train", 3000, 28, 28, 7);
#endif
  const Dataset test = synthetic_dataset("test", 500, 28, 28, 8);
  for (const Objective& objective : kObjectives)
    for (Precision precision : {Precision::f32, Precision::f64}) {
      const auto cpu = make_backend(Device::cpu, precision);
      for (std::size_t m : {1, 10, 100}) {
        const StageCheck step = check_one_step(*cpu, train, {784, 30, 10}, m, 3, objective);
        EXPECT_TRUE(step.ok()) << cpu->describe() << " " << step.stage << " " << step.result.relative;
      }
      for (const StageCheck& c : check_epoch(*cpu, train, test, {784, 30, 10}, 10, 4, 0, objective))
        EXPECT_TRUE(c.ok()) << cpu->describe() << " " << c.stage << " " << c.result.relative;
    }
}

TEST(Costs, ChapterOneIsUntouchedByTheDefaultObjective) {
  // Setting the default objective explicitly changes no bit of a quadratic run.
  const Dataset train = synthetic_dataset("train", 500, 28, 28, 9);
  Rng rng(10);
  const Parameters start = init_parameters({784, 30, 10}, Init::standard, rng);
  const std::vector<std::uint32_t> order = rng.permutation(train.size());
  std::vector<Parameters> runs;
  for (bool explicit_objective : {false, true}) {
    const auto cpu = make_backend(Device::cpu, Precision::f32);
    cpu->set_training_data(train);
    cpu->set_parameters(start);
    if (explicit_objective) cpu->set_objective({Cost::quadratic, 0.0});
    cpu->train(order, 10, 3.0, {});
    runs.push_back(cpu->parameters());
  }
  EXPECT_EQ(runs[0].weights, runs[1].weights);
  EXPECT_EQ(runs[0].biases, runs[1].biases);
}

}  // namespace
}  // namespace sigmanet
