// Google Benchmark micro-benchmarks of the CPU reference's building blocks: one layer's forward pass, one
// layer's backward pass (output delta and the batch's weight and bias gradients), a whole training step and
// the input gather. A one-layer network {n_in, n_out} is exactly one layer. Run: build-*/bench/sigmanet_micro
#include <benchmark/benchmark.h>

#include <cstdint>
#include <algorithm>
#include <cstdlib>
#include <numeric>
#include <vector>

#include "cpu/blas.hpp"
#include "cpu/fast_network.hpp"
#include "reports/benchmark.hpp"
#include "sigmanet/dataset.hpp"
#include "sigmanet/formats/mnist.hpp"
#include "sigmanet/parameters.hpp"
#include "sigmanet/random.hpp"

namespace {

using sigmanet::FastCpuNetwork;

// Inputs in [0, 1) like scaled pixels, and digit labels, from a fixed seed.
template <class T>
struct Batch {
  std::vector<T> x;
  std::vector<std::uint8_t> labels;
  Batch(std::size_t n_in, std::size_t m) : x(n_in * m), labels(m) {
    sigmanet::Rng rng(7);
    for (T& v : x) v = T(rng.uniform());
    for (auto& l : labels) l = static_cast<std::uint8_t>(rng.below(10));
  }
};

// gemm: 0 the network's own kernels, 1 OpenBLAS for every product (skipped where it cannot be opened), 2 the
// automatic choice per layer. sparse: the first layer held transposed for sparse inputs, as the CPU backend
// does for MNIST; without, held as W, as it does for dense data such as these benchmarks' random inputs.
template <class T>
FastCpuNetwork<T> make_network(std::vector<int> sizes, benchmark::State& state, std::int64_t gemm,
                               bool sparse = false) {
  sigmanet::Rng rng(1);
  FastCpuNetwork<T> net(sigmanet::init_parameters(sizes, sigmanet::Init::standard, rng));
  net.set_sparse_input(sparse);
  using sigmanet::CpuGemm;
  if (gemm == 1 && !sigmanet::blas_available())
    state.SkipWithError("OpenBLAS cannot be opened");
  else
    net.set_gemm(gemm == 0 ? CpuGemm::own : gemm == 1 ? CpuGemm::blas : CpuGemm::automatic);
  return net;
}

// Multiply-adds per sample of the layers, for a FLOP rate next to the time.
double macs(const std::vector<int>& sizes) {
  double n = 0;
  for (std::size_t l = 0; l + 1 < sizes.size(); ++l) n += double(sizes[l]) * sizes[l + 1];
  return n;
}

// args: n_in, n_out, batch, gemm
template <class T>
void layer_forward(benchmark::State& state) {
  const std::vector<int> sizes{int(state.range(0)), int(state.range(1))};
  const auto m = std::size_t(state.range(2));
  FastCpuNetwork<T> net = make_network<T>(sizes, state, state.range(3));
  Batch<T> batch(sizes[0], m);
  for (auto _ : state) {
    net.forward(batch.x.data(), m);
    benchmark::DoNotOptimize(net.activation(1).data());
  }
  state.SetItemsProcessed(state.iterations() * std::int64_t(m));
  state.counters["GFLOP/s"] =
      benchmark::Counter(2e-9 * macs(sizes) * double(m), benchmark::Counter::kIsIterationInvariantRate);
}

template <class T>
void layer_backward(benchmark::State& state) {
  const std::vector<int> sizes{int(state.range(0)), int(state.range(1))};
  const auto m = std::size_t(state.range(2));
  FastCpuNetwork<T> net = make_network<T>(sizes, state, state.range(3));
  Batch<T> batch(sizes[0], m);
  net.forward(batch.x.data(), m);
  for (auto _ : state) {
    net.backward(batch.labels.data());
    benchmark::DoNotOptimize(net.weight_gradient(0).data());
  }
  state.SetItemsProcessed(state.iterations() * std::int64_t(m));
  state.counters["GFLOP/s"] =
      benchmark::Counter(2e-9 * macs(sizes) * double(m), benchmark::Counter::kIsIterationInvariantRate);
}

// A whole SGD step (forward, backward, update) of a network, the batch already in the network's input buffer;
// args: batch, gemm. Tiny eta so the weights stay put.
template <class T>
void train_step(benchmark::State& state, std::vector<int> sizes) {
  const auto m = std::size_t(state.range(0));
  FastCpuNetwork<T> net = make_network<T>(sizes, state, state.range(1));
  Batch<T> batch(sizes[0], m);
  T* x = net.input_buffer(m);
  std::copy(batch.x.begin(), batch.x.end(), x);
  for (auto _ : state) {
    net.train_batch(x, batch.labels.data(), m, T(1e-6));
    benchmark::DoNotOptimize(net.weights(0).data());
  }
  state.SetItemsProcessed(state.iterations() * std::int64_t(m));
  state.counters["GFLOP/s"] =
      benchmark::Counter(sigmanet::step_flops(sizes, m) * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

template <class T>
void gather(benchmark::State& state) {
  const auto m = std::size_t(state.range(0));
  sigmanet::Dataset data;
  data.rows = data.cols = 28;
  data.pixels.assign(1000 * 784, 128);
  data.labels.assign(1000, 3);
  std::vector<std::uint32_t> index(m);
  std::iota(index.begin(), index.end(), 0u);
  std::vector<T> x(m * 784);
  for (auto _ : state) {
    sigmanet::gather_inputs(data, index.data(), m, x.data());
    benchmark::DoNotOptimize(x.data());
  }
  state.SetItemsProcessed(state.iterations() * std::int64_t(m));
}

// The layers of 784-30-10, 784-100-10 and 784-1024-1024-10 at the batch sizes `sigmanet bench` uses.
void layer_args(benchmark::internal::Benchmark* b) {
  for (int gemm : {0, 1}) {
    for (int m : {10, 100, 1000}) b->Args({784, 30, m, gemm})->Args({30, 10, m, gemm})->Args({784, 100, m, gemm});
    for (int m : {256, 1000}) b->Args({784, 1024, m, gemm})->Args({1024, 1024, m, gemm})->Args({1024, 10, m, gemm});
  }
  b->ArgNames({"in", "out", "batch", "blas"});
}

BENCHMARK(layer_forward<float>)->Apply(layer_args);
BENCHMARK(layer_forward<double>)->Apply(layer_args);
BENCHMARK(layer_backward<float>)->Apply(layer_args);
BENCHMARK(layer_backward<double>)->Apply(layer_args);
void train_step_784_30_10_float(benchmark::State& state) { train_step<float>(state, {784, 30, 10}); }
void train_step_784_30_10_double(benchmark::State& state) { train_step<double>(state, {784, 30, 10}); }
void train_step_784_1024_1024_10_float(benchmark::State& state) { train_step<float>(state, {784, 1024, 1024, 10}); }
void step_args(benchmark::internal::Benchmark* b, std::vector<int> batches) {
  for (int gemm : {0, 1, 2})
    for (int m : batches) b->Args({m, gemm});
  b->ArgNames({"batch", "gemm"});
}
BENCHMARK(train_step_784_30_10_float)->Apply([](auto* b) { step_args(b, {10, 100, 1000}); });
BENCHMARK(train_step_784_30_10_double)->Apply([](auto* b) { step_args(b, {10, 100, 1000}); });
BENCHMARK(train_step_784_1024_1024_10_float)->Apply([](auto* b) { step_args(b, {256, 1000}); });
BENCHMARK(gather<float>)->Arg(10)->Arg(100)->ArgName("batch");

// MNIST's test set, for the benchmarks whose speed depends on the images (the sparse first layer).
const sigmanet::Dataset& mnist_test() {
  static const sigmanet::Mnist mnist =
      sigmanet::load_mnist(std::getenv("SIGMANET_DATA") ? std::getenv("SIGMANET_DATA") : "../shared/data/mnist");
  return mnist.test;
}

// A training step of 784-30-10 on MNIST's images (the first `batch` of the test set), where the first layer's
// speed depends on how many pixels are 0; args: batch, gemm (as train_step's).
template <class T>
void train_step_mnist(benchmark::State& state) {
  const auto m = std::size_t(state.range(0));
  FastCpuNetwork<T> net = make_network<T>({784, 30, 10}, state, state.range(1), true);
  std::vector<std::uint32_t> index(m);
  std::iota(index.begin(), index.end(), 0u);
  T* x = net.input_buffer(m);
  sigmanet::gather_inputs(mnist_test(), index.data(), m, x);
  for (auto _ : state) {
    net.train_batch(x, mnist_test().labels.data(), m, T(1e-6));
    benchmark::DoNotOptimize(net.weights(0).data());
  }
  state.SetItemsProcessed(state.iterations() * std::int64_t(m));
}
BENCHMARK(train_step_mnist<float>)->ArgsProduct({{10, 100, 1000}, {2}})->ArgNames({"batch", "gemm"});
BENCHMARK(train_step_mnist<double>)->ArgsProduct({{10, 100, 1000}, {2}})->ArgNames({"batch", "gemm"});

// Evaluating MNIST's 10,000 test images with a 784-30-10 network as the CPU backend does it: chunks of
// kCpuEvaluationChunk images through forward_images(), and each chunk's cost. Reads $SIGMANET_DATA, else
// ../shared/data/mnist. args: 1 lets the first layer take the sparse sums (the default), 0 keeps it on the
// products; threads.
template <class T>
void evaluate_mnist(benchmark::State& state) {
  const sigmanet::Dataset& test = mnist_test();
  FastCpuNetwork<T> net = make_network<T>({784, 30, 10}, state, 2);
  net.set_sparse_input(state.range(0) != 0);
  if (state.range(1) > 1) net.set_threads(int(state.range(1)));
  std::vector<std::uint32_t> index(test.size());
  std::iota(index.begin(), index.end(), 0u);
  double cost = 0;
  for (auto _ : state) {
    for (std::size_t first = 0; first < test.size(); first += sigmanet::kCpuEvaluationChunk) {
      const std::size_t m = std::min(sigmanet::kCpuEvaluationChunk, test.size() - first);
      net.forward_images(test, index.data() + first, m);
      cost += net.batch_cost(&test.labels[first]);
    }
  }
  benchmark::DoNotOptimize(cost);
  state.SetItemsProcessed(state.iterations() * std::int64_t(test.size()));
}
// The same on 10,000 random images of MNIST's shape, a given percentage of their pixels nonzero (MNIST's test
// set: 19%), for where the sparse sums stop paying; args: percent nonzero, sparse as above.
template <class T>
void evaluate_density(benchmark::State& state) {
  sigmanet::Dataset images;
  images.rows = images.cols = 28;
  sigmanet::Rng rng(3);
  for (std::size_t i = 0; i < 10000 * 784; ++i)
    images.pixels.push_back(rng.below(100) < std::uint64_t(state.range(0)) ? std::uint8_t(1 + rng.below(255)) : 0);
  images.labels.assign(10000, 1);
  FastCpuNetwork<T> net = make_network<T>({784, 30, 10}, state, 2);
  net.set_sparse_input(state.range(1) != 0, 1.0);  // at any density, to see where the sums stop paying
  std::vector<std::uint32_t> index(images.size());
  std::iota(index.begin(), index.end(), 0u);
  for (auto _ : state)
    for (std::size_t first = 0; first < images.size(); first += sigmanet::kCpuEvaluationChunk) {
      net.forward_images(images, index.data() + first, sigmanet::kCpuEvaluationChunk);
      benchmark::DoNotOptimize(net.activation(2).data());
    }
  state.SetItemsProcessed(state.iterations() * std::int64_t(images.size()));
}
BENCHMARK(evaluate_density<float>)->ArgsProduct({{20, 35, 50, 65, 80}, {1, 0}})->ArgNames({"percent", "sparse"})
    ->Unit(benchmark::kMillisecond);
BENCHMARK(evaluate_density<double>)->ArgsProduct({{20, 35, 50, 65, 80}, {1, 0}})->ArgNames({"percent", "sparse"})
    ->Unit(benchmark::kMillisecond);

BENCHMARK(evaluate_mnist<float>)->ArgsProduct({{1, 0}, {1, 2}})->ArgNames({"sparse", "threads"})
    ->Unit(benchmark::kMillisecond);
BENCHMARK(evaluate_mnist<double>)->ArgsProduct({{1, 0}, {1, 2}})->ArgNames({"sparse", "threads"})
    ->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
