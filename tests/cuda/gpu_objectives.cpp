// Chapter 3 on the CUDA backend: the cross-entropy and log-likelihood costs (softmax output layer) and
// L2 regularisation, each against the oracle ReferenceNetwork<double> built with the same objective, on both
// training paths (the persistent kernel and the CUDA graph): one step, many steps and an epoch of a reduced
// set; softmax rows that sum to 1 at z of +-1000; the graph re-captured when the objective or the decay
// changes; the same bits whatever the persistent chunk.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <numeric>

#include "sigmanet/backends/factory.hpp"
#include "cpu/fast_network.hpp"
#include "gpu_support.hpp"
#include "oracle/equivalence.hpp"
#include "oracle/reference_network.hpp"
#include "sigmanet/error.hpp"
#include "sigmanet/random.hpp"
#include "test_support.hpp"

#ifdef SIGMANET_HAVE_CUDA
#include "cuda/cuda_backend.hpp"
#include "cuda_checks/cuda_checks.hpp"
#include "sigmanet/formats/mnist.hpp"
#endif

namespace sigmanet {
namespace {

#ifdef SIGMANET_HAVE_CUDA

constexpr double kEta = 0.5;     // chapter 3's learning rate for these costs (network2.py's examples)
constexpr double kLambda = 5.0;  // chapter 3's L2 strength for MNIST

// Every chapter 3 objective, and chapter 1's with L2: each cost without and with L2.
const std::vector<Objective>& objectives() {
  static const std::vector<Objective> all = {{Cost::quadratic, 0.0},     {Cost::quadratic, kLambda},
                                             {Cost::cross_entropy, 0.0}, {Cost::cross_entropy, kLambda},
                                             {Cost::log_likelihood, 0.0}, {Cost::log_likelihood, kLambda}};
  return all;
}

const Dataset& synthetic_train() {
  static const Dataset d = synthetic_dataset("synthetic", 1000, 28, 28, 7);
  return d;
}

CudaOptions persistent(std::size_t chunk = 0) {
  CudaOptions o;
  o.kernel = CudaOptions::Kernel::persistent;
  o.persistent_chunk = chunk;
  return o;
}

CudaOptions graph(bool graphs = true) {
  CudaOptions o;
  o.kernel = CudaOptions::Kernel::graph;
  o.graphs = graphs;
  return o;
}

bool same_bits(const Parameters& a, const Parameters& b) {
  if (a.sizes != b.sizes || a.output != b.output) return false;
  for (std::size_t l = 0; l < a.layers(); ++l)
    if (std::memcmp(a.weights[l].data(), b.weights[l].data(), a.weights[l].size() * sizeof(double)) != 0 ||
        std::memcmp(a.biases[l].data(), b.biases[l].data(), a.biases[l].size() * sizeof(double)) != 0)
      return false;
  return true;
}

// Prints every row (the figures the report quotes) and fails on any that is not OK.
void expect_all_ok(const std::vector<StageCheck>& checks) {
  for (const StageCheck& c : checks) EXPECT_TRUE(c.ok()) << c.stage;
  std::printf("%s", format_checks(checks).c_str());
}

Parameters start_for(const Objective& objective, const std::vector<int>& sizes, std::uint64_t seed) {
  Rng rng(seed);
  Parameters p = init_parameters(sizes, Init::scaled, rng);
  p.output = output_activation(objective.cost);
  return p;
}

Parameters train_with(const CudaOptions& options, const Objective& objective, const std::vector<int>& sizes,
                      std::size_t batch, std::size_t samples, std::uint64_t seed) {
  std::vector<std::uint32_t> order = Rng(seed + 1000).permutation(synthetic_train().size());
  order.resize(samples);
  auto gpu = make_backend(Device::gpu, Precision::f32, nullptr, options);
  gpu->set_objective(objective);
  gpu->set_training_data(synthetic_train());
  gpu->set_parameters(start_for(objective, sizes, seed));
  EXPECT_EQ(gpu->train(order, batch, kEta, {}), samples);
  EXPECT_FALSE(gpu->nonfinite_batch().has_value());
  return gpu->parameters();
}

TEST(GpuObjectives, OneStepOfEachObjectiveMatchesTheOracleOnBothPaths) {
  SIGMANET_SKIP_WITHOUT_GPU();
  std::vector<StageCheck> checks;
  const auto add = [&](std::vector<StageCheck> more) {
    for (StageCheck& c : more) checks.push_back(std::move(c));
  };
  for (const Objective& objective : objectives()) {
    // The graph path: the fused forward kernel up to batch 64, the SGEMM beyond (100).
    for (std::size_t m : {1, 7, 10, 100})
      add(check_objective_training(graph(), objective, synthetic_train(), nullptr, {784, 30, 10}, m, m, kEta, 3));
    add(check_objective_training(graph(), objective, synthetic_train(), nullptr, {784, 17, 13, 10}, 7, 7, kEta, 4));
    for (std::size_t m : {1, 10, 32})
      add(check_objective_training(persistent(), objective, synthetic_train(), nullptr, {784, 30, 10}, m, m, kEta, 3));
    add(check_objective_training(persistent(), objective, synthetic_train(), nullptr, {784, 17, 13, 10}, 7, 7, kEta,
                                 4));
  }
  EXPECT_EQ(checks.size(), objectives().size() * 9);
  expect_all_ok(checks);
}

TEST(GpuObjectives, ManyStepsMatchTheOracleOnBothPaths) {
  SIGMANET_SKIP_WITHOUT_GPU();
#ifdef SIGMANET_TEST_SANITIZED
  // Under the sanitizers (the step's time budget): two objectives that between them use every new kernel, 30
  // batches of 10 on both paths; the plain emulator build runs all of what verify runs, below.
  for (const Objective& objective : {Objective{Cost::log_likelihood, kLambda}, Objective{Cost::cross_entropy, 0.0}})
    for (const CudaOptions& options : {persistent(), graph()})
      expect_all_ok(check_objective_training(options, objective, synthetic_train(), nullptr, {784, 30, 10}, 10, 300,
                                             kEta, 5));
#else
  // What `sigmanet verify` runs: each chapter 3 objective, one step and 100 batches of 10, on both paths.
  const std::vector<StageCheck> checks = cuda_objective_checks(synthetic_train(), {784, 30, 10}, 5);
  EXPECT_EQ(checks.size(), 5u * 2u * 2u);
  expect_all_ok(checks);
#endif
  // And at batch 100 on the graph path (SGEMM forward, softmax after it), 10 batches; under the sanitizers only
  // the softmax objective (the step's time budget; the others share its kernels but the delta).
#ifdef SIGMANET_TEST_SANITIZED
  const std::vector<Objective> at_batch_100 = {{Cost::log_likelihood, kLambda}};
#else
  const std::vector<Objective>& at_batch_100 = objectives();
#endif
  for (const Objective& objective : at_batch_100)
    expect_all_ok(
        check_objective_training(graph(), objective, synthetic_train(), nullptr, {784, 30, 10}, 100, 1000, kEta, 6));
}

TEST(GpuObjectives, AnEpochOfAReducedSetMatchesTheOracle) {
  SIGMANET_SKIP_WITHOUT_GPU();
  // MNIST's first records where the tests find it (1,000 on the emulator, where 12 runs of 2,000 took 70 s;
  // 10,000 on a GPU), else the synthetic set; L2's n is that set's size. Parameters, test accuracy and the
  // objective's test cost.
  const Mnist* mnist = test::find_mnist();
  std::size_t records = test::kEmulatedEpochSamples ? test::kEmulatedEpochSamples / 2 : 10000;
#ifdef SIGMANET_TEST_SANITIZED
  records /= 2;  // 500 records (and two objectives, below): the sanitizer step's time budget (10 minutes in CI)
#endif
  const Dataset train = mnist ? mnist->train.slice("train", 0, records) : synthetic_train();
  const Dataset test = test::epoch_test_set(mnist ? mnist->test : synthetic_dataset("synthetic test", 1000, 28, 28, 8));
#ifdef SIGMANET_TEST_SANITIZED
  // Two objectives that between them use every new kernel, for the sanitizer step's time budget.
  const std::vector<Objective> chosen = {{Cost::log_likelihood, kLambda}, {Cost::cross_entropy, 0.0}};
#else
  const std::vector<Objective>& chosen = objectives();
#endif
  std::vector<StageCheck> checks;
  for (const Objective& objective : chosen)
    for (const CudaOptions& options : {persistent(), graph()})
      for (StageCheck& c : check_objective_training(options, objective, train, &test, {784, 30, 10}, 10,
                                                    train.size(), kEta, 1))
        checks.push_back(std::move(c));
  EXPECT_EQ(checks.size(), chosen.size() * 2 * 3);
  expect_all_ok(checks);
}

TEST(GpuObjectives, L2DecaysTheWeightsAndNeverTheBiases) {
  SIGMANET_SKIP_WITHOUT_GPU();
  // One step with L2 against the same step without it: L2 adds nothing to the gradients, so the weights differ by
  // (decay - 1) w, the start's weights times -eta lambda / n, and the biases not at all.
  for (const CudaOptions& options : {persistent(), graph()}) {
    const Parameters without = train_with(options, {Cost::cross_entropy, 0.0}, {784, 30, 10}, 10, 10, 40);
    const Parameters with = train_with(options, {Cost::cross_entropy, kLambda}, {784, 30, 10}, 10, 10, 40);
    const Parameters start = start_for({Cost::cross_entropy, 0.0}, {784, 30, 10}, 40);
    const double decay = weight_decay(kEta, kLambda, synthetic_train().size());
    for (std::size_t l = 0; l < start.layers(); ++l) {
      EXPECT_EQ(with.biases[l], without.biases[l]) << "layer " << l << ": biases are never decayed";
      double worst = 0;
      for (std::size_t i = 0; i < start.weights[l].size(); ++i) {
        const double expected = (decay - 1.0) * start.weights[l][i];
        worst = std::max(worst, std::abs((with.weights[l][i] - without.weights[l][i]) - expected));
      }
      EXPECT_LT(worst, 1e-6) << "layer " << l;  // float rounding; a missing decay would leave 2.5e-3 |w|
    }
  }
}

TEST(GpuObjectives, SoftmaxOutputsSumToOneAndSurviveZOfPlusMinus1000) {
  SIGMANET_SKIP_WITHOUT_GPU();
  Parameters p = start_for({Cost::log_likelihood, 0.0}, {784, 30, 10}, 50);
  // z = W a + b with b of +-1000: e^{1000} overflows float, so only a softmax that subtracts the row's maximum
  // survives. Digit 3's bias is the largest by far more than W a can make up: every sample's argmax.
  for (std::size_t j = 0; j < 10; ++j) p.biases[1][j] = j % 2 ? -1000.0 : 1000.0 - double(j);
  p.biases[1][3] = 1010.0;
  const Dataset test = synthetic_dataset("synthetic test", 100, 28, 28, 51);
  for (auto forward : {CudaOptions::Forward::fused, CudaOptions::Forward::gemm}) {
    CudaOptions options;
    options.forward = forward;
    auto gpu = make_backend(Device::gpu, Precision::f32, nullptr, options);
    gpu->set_objective({Cost::log_likelihood, 0.0});
    gpu->set_parameters(p);
    const std::vector<double> out = gpu->outputs(test, 0, test.size());
    ASSERT_EQ(out.size(), test.size() * 10);
    ReferenceNetwork<double> oracle(p, {Cost::log_likelihood, 0.0});
    for (std::size_t s = 0; s < test.size(); ++s) {
      double sum = 0;
      for (std::size_t j = 0; j < 10; ++j) {
        const double a = out[s * 10 + j];
        ASSERT_TRUE(std::isfinite(a)) << "sample " << s << " output " << j;
        ASSERT_GE(a, 0.0);
        sum += a;
      }
      EXPECT_NEAR(sum, 1.0, 1e-6) << "sample " << s;
      EXPECT_GT(out[s * 10 + 3], 0.5) << "sample " << s;
    }
    // The oracle agrees, and so does the cost: finite, with ln of the activations that rounded to 0 taken at
    // DBL_MIN for the samples whose label is not 3.
    const Evaluation got = gpu->evaluate(test), ref = oracle.evaluate(test);
    EXPECT_EQ(got.correct, ref.correct);
    EXPECT_TRUE(std::isfinite(got.cost));
    EXPECT_NEAR(got.cost, ref.cost, 1e-6 * ref.cost);
    std::vector<std::uint32_t> all(test.size());
    std::iota(all.begin(), all.end(), 0u);
    std::vector<double> x(test.size() * 784);
    reference_inputs(test, all.data(), all.size(), x.data());
    oracle.forward(x.data(), all.size());
    const std::vector<double>& ref_out = oracle.activation(2);
    EXPECT_LE(compare(std::span<const double>(out), std::span<const double>(ref_out)).max_abs, 1e-6);
  }
  // Training through such outputs stays finite on both paths: the error a - y is at most 1.
  for (const CudaOptions& options : {persistent(), graph()}) {
    auto gpu = make_backend(Device::gpu, Precision::f32, nullptr, options);
    gpu->set_objective({Cost::log_likelihood, kLambda});
    gpu->set_training_data(synthetic_train());
    gpu->set_parameters(p);
    std::vector<std::uint32_t> order(100);
    std::iota(order.begin(), order.end(), 0u);
    EXPECT_EQ(gpu->train(order, 10, kEta, {}), 100u);
    EXPECT_FALSE(gpu->nonfinite_batch().has_value());
    const Parameters after = gpu->parameters();
    for (std::size_t l = 0; l < after.layers(); ++l)
      for (double w : after.weights[l]) ASSERT_TRUE(std::isfinite(w));
  }
}

TEST(GpuObjectives, TheGraphIsCapturedAgainWhenTheObjectiveOrTheDecayChanges) {
  SIGMANET_SKIP_WITHOUT_GPU();
  // One backend with graphs and one without go through the same changes between train() calls: a graph replayed
  // with the wrong cost, output layer or decay would part them by far more than 1e-6. Each change keeps batch
  // and eta, which the graph was keyed on before chapter 3.
  const std::vector<int> sizes{784, 30, 10};
  std::vector<std::uint32_t> order = Rng(60).permutation(synthetic_train().size());
  order.resize(200);
  auto with_graph = make_backend(Device::gpu, Precision::f32, nullptr, graph(true));
  auto eager = make_backend(Device::gpu, Precision::f32, nullptr, graph(false));
  for (Backend* b : {with_graph.get(), eager.get()}) {
    b->set_training_data(synthetic_train());
    b->set_parameters(start_for({Cost::quadratic, 0.0}, sizes, 60));
    b->train(order, 10, kEta, {});
    b->set_objective({Cost::cross_entropy, 0.0});  // another output error
    b->train(order, 10, kEta, {});
    b->set_objective({Cost::cross_entropy, kLambda});  // a decay, same eta
    b->train(order, 10, kEta, {});
    b->train(order, 10, kEta / 2, {});  // an eta schedule's halving: another eta and decay
    Parameters p = b->parameters();
    p.output = Activation::softmax;  // same sizes, another output layer
    b->set_objective({Cost::log_likelihood, kLambda});
    b->set_parameters(p);
    b->train(order, 10, kEta / 2, {});
  }
  EXPECT_LE(relative_difference(with_graph->parameters(), eager->parameters()), 1e-6);
}

TEST(GpuObjectives, ThePersistentKernelGivesTheSameBitsWhateverTheChunk) {
  SIGMANET_SKIP_WITHOUT_GPU();
  // 150 samples at batch 7: 21 full batches and one of 3, so chunks of 1, 5 and 64 end in different places.
  for (const Objective& objective : {Objective{Cost::cross_entropy, kLambda}, Objective{Cost::log_likelihood, kLambda}}) {
    const Parameters one = train_with(persistent(1), objective, {784, 30, 10}, 7, 150, 21);
    for (std::size_t chunk : {5, 64, 0})
      EXPECT_TRUE(same_bits(one, train_with(persistent(chunk), objective, {784, 30, 10}, 7, 150, 21)))
          << objective_text(objective) << ", chunk " << chunk;
    // And agrees with the graph path to float rounding.
    EXPECT_LE(relative_difference(one, train_with(graph(), objective, {784, 30, 10}, 7, 150, 21)), 1e-5)
        << objective_text(objective);
  }
}

TEST(GpuObjectives, AutomaticTakesThePersistentKernelForEveryObjective) {
  SIGMANET_SKIP_WITHOUT_GPU();
  for (const Objective& objective : objectives())
    EXPECT_TRUE(same_bits(train_with({}, objective, {784, 30, 10}, 10, 100, 70),
                          train_with(persistent(), objective, {784, 30, 10}, 10, 100, 70)))
        << objective_text(objective);
}

TEST(GpuObjectives, ACostAndAnOutputLayerThatDoNotGoTogetherAreRefused) {
  SIGMANET_SKIP_WITHOUT_GPU();
  const std::vector<std::uint32_t> order(10, 0u);
  for (const CudaOptions& options : {persistent(), graph()}) {
    auto gpu = make_backend(Device::gpu, Precision::f32, nullptr, options);
    gpu->set_training_data(synthetic_train());
    gpu->set_parameters(start_for({Cost::quadratic, 0.0}, {784, 30, 10}, 80));  // sigmoid output
    gpu->set_objective({Cost::log_likelihood, 0.0});
    EXPECT_THROW(gpu->train(order, 10, kEta, {}), Error);
    EXPECT_THROW(gpu->evaluate(synthetic_train()), Error);
    gpu->set_parameters(start_for({Cost::log_likelihood, 0.0}, {784, 30, 10}, 80));  // softmax output
    gpu->set_objective({Cost::cross_entropy, 0.0});
    EXPECT_THROW(gpu->train(order, 10, kEta, {}), Error);
    gpu->set_objective({Cost::log_likelihood, 0.0});
    EXPECT_EQ(gpu->train(order, 10, kEta, {}), 10u);
  }
}

#else

TEST(GpuObjectives, NeedACudaBuild) { GTEST_SKIP() << "this build of sigmanet has no CUDA backend"; }

#endif

}  // namespace
}  // namespace sigmanet
