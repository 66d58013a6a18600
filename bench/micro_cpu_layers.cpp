// Google Benchmark micro-benchmarks of the CPU reference's building blocks: one layer's forward pass, one
// layer's backward pass (output delta and the batch's weight and bias gradients), a whole training step and
// the input gather. A one-layer network {n_in, n_out} is exactly one layer. Run: build-*/bench/sigmanet_micro
#include <benchmark/benchmark.h>

#include <cstdint>
#include <numeric>
#include <vector>

#include "sigmanet/cpu/fast_network.hpp"
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

template <class T>
FastCpuNetwork<T> make_network(std::vector<int> sizes) {
  sigmanet::Rng rng(1);
  return FastCpuNetwork<T>(sigmanet::init_parameters(sizes, sigmanet::Init::standard, rng));
}

// Multiply-adds per sample of the layers, for a FLOP rate next to the time.
double macs(const std::vector<int>& sizes) {
  double n = 0;
  for (std::size_t l = 0; l + 1 < sizes.size(); ++l) n += double(sizes[l]) * sizes[l + 1];
  return n;
}

// args: n_in, n_out, batch
template <class T>
void layer_forward(benchmark::State& state) {
  const std::vector<int> sizes{int(state.range(0)), int(state.range(1))};
  const auto m = std::size_t(state.range(2));
  FastCpuNetwork<T> net = make_network<T>(sizes);
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
  FastCpuNetwork<T> net = make_network<T>(sizes);
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

// A whole SGD step (forward, backward, update) of a network; args: batch. Tiny eta so the weights stay put.
template <class T>
void train_step(benchmark::State& state, std::vector<int> sizes) {
  const auto m = std::size_t(state.range(0));
  FastCpuNetwork<T> net = make_network<T>(sizes);
  Batch<T> batch(sizes[0], m);
  for (auto _ : state) {
    net.train_batch(batch.x.data(), batch.labels.data(), m, T(1e-6));
    benchmark::DoNotOptimize(net.weights(0).data());
  }
  state.SetItemsProcessed(state.iterations() * std::int64_t(m));
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
  for (int m : {10, 100}) b->Args({784, 30, m})->Args({30, 10, m})->Args({784, 100, m});
  b->Args({784, 1024, 256})->Args({1024, 1024, 256});
  b->ArgNames({"in", "out", "batch"});
}

BENCHMARK(layer_forward<float>)->Apply(layer_args);
BENCHMARK(layer_forward<double>)->Apply(layer_args);
BENCHMARK(layer_backward<float>)->Apply(layer_args);
BENCHMARK(layer_backward<double>)->Apply(layer_args);
void train_step_784_30_10_float(benchmark::State& state) { train_step<float>(state, {784, 30, 10}); }
void train_step_784_30_10_double(benchmark::State& state) { train_step<double>(state, {784, 30, 10}); }
BENCHMARK(train_step_784_30_10_float)->Arg(10)->Arg(100)->ArgName("batch");
BENCHMARK(train_step_784_30_10_double)->Arg(10)->Arg(100)->ArgName("batch");
BENCHMARK(gather<float>)->Arg(10)->Arg(100)->ArgName("batch");

}  // namespace

BENCHMARK_MAIN();
