// The throughput benchmark's grid and measurement loop.
#include "reports/benchmark.hpp"

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <memory>

#include "sigmanet/backend.hpp"
#include "sigmanet/backends/factory.hpp"
#include "sigmanet/error.hpp"
#include "sigmanet/parameters.hpp"
#include "sigmanet/random.hpp"
#include "sigmanet/trainer.hpp"

namespace sigmanet {
namespace {

// The quick grid trains this many samples per repetition: enough batches to swamp per-call overheads,
// few enough that the whole quick run stays within seconds on a small CPU.
constexpr std::size_t kQuickRepetitionSamples = 10000;
// Evaluation records per repetition for the large network on the CPU.
constexpr std::size_t kLargeCpuEvalRecords = 2048;

// Process CPU seconds so far.
double cpu_seconds() { return double(std::clock()) / CLOCKS_PER_SEC; }

bool is_large(const std::vector<int>& sizes) {
  std::size_t weights = 0;
  for (std::size_t l = 0; l + 1 < sizes.size(); ++l) weights += std::size_t(sizes[l]) * std::size_t(sizes[l + 1]);
  return weights > 1000000;
}

// The first whole number of batches covering at least `samples`, capped at the training set.
std::size_t whole_batches(std::size_t samples, std::size_t batch, std::size_t train_size) {
  const std::size_t batches = (samples + batch - 1) / batch;
  return std::min(batches * batch, train_size);
}

}  // namespace

std::string to_string(const BenchBackend& b) {
  std::string name = to_string(b.device);
  name.append("-").append(to_string(b.precision));
  if (b.kernel != CudaOptions::Kernel::automatic) name.append("-").append(to_string(b.kernel));
  if (b.cluster > 0) name.append("-cluster").append(std::to_string(b.cluster));
  return name;
}

std::optional<BenchBackend> bench_backend_from_text(const std::string& text) {
  if (text == "cpu-float") return BenchBackend{Device::cpu, Precision::f32};
  if (text == "cpu-double") return BenchBackend{Device::cpu, Precision::f64};
  if (text == "gpu-float") return BenchBackend{Device::gpu, Precision::f32};
  if (text == "gpu-double") return BenchBackend{Device::gpu, Precision::f64};
  if (text == "gpu-float-persistent") return BenchBackend{Device::gpu, Precision::f32, CudaOptions::Kernel::persistent};
  if (text == "gpu-float-graph") return BenchBackend{Device::gpu, Precision::f32, CudaOptions::Kernel::graph};
  return std::nullopt;
}

std::vector<BenchCase> bench_grid(const BenchGridOptions& options) {
  if (options.train_size == 0) throw InputError("bench: the training set is empty");
  if (options.test_size == 0) throw InputError("bench: the test set is empty");
  struct Shape {
    std::vector<int> sizes;
    std::size_t batch;
  };
  std::vector<Shape> shapes;
  const bool own_grid = !options.sizes.empty() || !options.batches.empty();
  if (own_grid) {
    const std::vector<int> sizes = options.sizes.empty() ? std::vector<int>{784, 30, 10} : options.sizes;
    validate_sizes(sizes);
    for (const std::size_t batch : options.batches.empty() ? std::vector<std::size_t>{10} : options.batches) {
      if (batch < 1 || batch > options.train_size)
        throw SettingError(Setting::batch,
                           "batch " + std::to_string(batch) + " is outside 1.." + std::to_string(options.train_size) +
                               " (the training set's records)",
                           std::to_string(batch));
      shapes.push_back({sizes, batch});
    }
  } else if (options.quick) {
    shapes = {{{784, 30, 10}, 10}, {{784, 30, 10}, 100}};
  } else {
    shapes = {{{784, 30, 10}, 10},          {{784, 30, 10}, 100},          {{784, 30, 10}, 1000},
              {{784, 100, 10}, 10},         {{784, 1024, 1024, 10}, 256},  {{784, 1024, 1024, 10}, 1000},
              {{784, 1024, 1024, 10}, 4096}};
  }
  std::vector<BenchCase> cases;
  for (const BenchBackend& backend : options.backends) {
    for (const Shape& shape : shapes) {
      const bool large = is_large(shape.sizes);
      const bool on_cpu = backend.device == Device::cpu;
      if (large && on_cpu && !options.all && !own_grid) continue;
      BenchCase c{shape.sizes, shape.batch, backend, options.train_size, options.test_size};
      if (options.quick) {
        c.train_samples = whole_batches(kQuickRepetitionSamples, shape.batch, options.train_size);
      } else if (large && on_cpu) {
        c.train_samples = whole_batches(kLargeCpuRepetitionSamples, shape.batch, options.train_size);
        c.eval_records = std::min(kLargeCpuEvalRecords, options.test_size);
      }
      cases.push_back(c);
    }
  }
  return cases;
}

Spread summarize(std::vector<double> values) {
  if (values.empty()) throw Error("summarize: no values");
  std::sort(values.begin(), values.end());
  const std::size_t n = values.size();
  const double median = n % 2 ? values[n / 2] : 0.5 * (values[n / 2 - 1] + values[n / 2]);
  return {median, values.front(), values.back()};
}

std::size_t BenchResult::batches_per_repetition() const {
  return (bench_case.train_samples + bench_case.batch - 1) / bench_case.batch;
}

double step_flops(const std::vector<int>& sizes, std::size_t m) {
  double forward = 0, hidden_errors = 0, weights = 0;
  for (std::size_t l = 0; l + 1 < sizes.size(); ++l) {
    const double w = double(sizes[l]) * double(sizes[l + 1]);
    weights += w;
    forward += 2 * double(m) * w;
    if (l > 0) hidden_errors += 2 * double(m) * w;
  }
  const double gradients = forward;
  return forward + gradients + hidden_errors + 2 * weights;
}

double BenchResult::train_flops() const {
  const std::size_t batch = bench_case.batch, samples = bench_case.train_samples;
  const double whole = double(samples / batch) * step_flops(bench_case.sizes, batch);
  return samples % batch ? whole + step_flops(bench_case.sizes, samples % batch) : whole;
}

double BenchResult::epoch_seconds(std::size_t train_size) const {
  return train.median * double(train_size) / double(bench_case.train_samples);
}

std::string gpu_paths_side_by_side(const std::vector<BenchResult>& results) {
  const auto step_seconds = [](const BenchResult& r) { return r.train.median / double(r.batches_per_repetition()); };
  std::string text;
  for (const BenchResult& graph : results) {
    const BenchCase& g = graph.bench_case;
    if (g.backend.device != Device::gpu || g.backend.kernel != CudaOptions::Kernel::graph) continue;
    for (const BenchResult& other : results) {
      const BenchCase& c = other.bench_case;
      if (c.backend.device != Device::gpu || c.backend.kernel == CudaOptions::Kernel::graph ||
          c.backend.precision != g.backend.precision || c.sizes != g.sizes || c.batch != g.batch)
        continue;
      if (text.empty()) text = "GPU paths side by side, the median time of a step:\n";
      const std::string path = c.backend.kernel == CudaOptions::Kernel::persistent ? "persistent"
                               : c.backend.precision == Precision::f32 && c.batch <= kGpuPersistentMaxAutoBatch &&
                                         gpu_persistent_fits(c.sizes, c.batch, c.backend.cluster)
                                   ? "auto, persistent"
                                   : "auto, graph";
      char line[256];
      std::snprintf(line, sizeof line, "  %-17s batch %-6zu %s (%s) %.2f us, graph %.2f us: %.2fx the graph path's rate\n",
                    sizes_text(c.sizes, '-').c_str(), c.batch, to_string(c.backend).c_str(), path.c_str(),
                    1e6 * step_seconds(other), 1e6 * step_seconds(graph), step_seconds(graph) / step_seconds(other));
      text += line;
    }
  }
  return text;
}

BenchResult run_bench_case(const BenchCase& c, const Dataset& train, const Dataset& test,
                           const BenchSettings& settings) {
  if (settings.repetitions < 1 || settings.warmup < 0)
    throw Error("run_bench_case: " + std::to_string(settings.repetitions) + " timed and " +
                std::to_string(settings.warmup) + " warm-up repetitions (at least 1 and 0)");
  if (c.batch == 0) throw Error("run_bench_case: batch size 0");
  if (c.train_samples == 0 || c.train_samples > train.size())
    throw Error("run_bench_case: " + std::to_string(c.train_samples) + " samples per repetition but the training set has " +
                std::to_string(train.size()));
  if (c.eval_records == 0 || c.eval_records > test.size())
    throw Error("run_bench_case: " + std::to_string(c.eval_records) + " evaluation records but the test set has " +
                std::to_string(test.size()));
  validate_sizes(c.sizes);

  CudaOptions gpu;
  gpu.kernel = c.backend.kernel;
  gpu.persistent_blocks = c.backend.cluster;
  std::unique_ptr<Backend> backend = make_backend(c.backend.device, c.backend.precision, nullptr, gpu);
  Rng rng(settings.seed);
  backend->set_parameters(init_parameters(c.sizes, Init::standard, rng));
  backend->set_training_data(train);
  backend->set_collective(settings.collective);
  if (c.backend.device == Device::cpu) backend->set_threads(settings.threads);
  Collective* const job = settings.collective && settings.collective->size() > 1 ? settings.collective : nullptr;
  std::vector<double> summing;  // per timed repetition
  const Dataset eval_set = test.slice(test.name, 0, c.eval_records);

  BenchResult r;
  r.bench_case = c;
  r.backend_description = backend->describe();
  r.timer = c.backend.device == Device::gpu ? "cuda_events" : "steady_clock";
  r.threads = c.backend.device == Device::cpu ? std::max(1, settings.threads) : 1;
  r.ranks = job ? job->size() : 1;

  const auto train_once = [&](std::vector<double>* seconds_out, std::vector<double>* cpu_out) {
    // A fresh shuffled order per repetition, drawn outside the timed region as the trainer does.
    const std::vector<std::uint32_t> epoch = rng.permutation(train.size());
    const std::span<const std::uint32_t> order(epoch.data(), c.train_samples);
    std::size_t done = 0;
    const double cpu_start = cpu_seconds();
    const double summed_before = job ? job->seconds_summing() : 0;
    const double seconds = backend->time_seconds([&] { done = backend->train(order, c.batch, settings.eta, {}); });
    const double cpu = cpu_seconds() - cpu_start;
    if (seconds_out && job) summing.push_back(job->seconds_summing() - summed_before);
    if (const auto bad = backend->nonfinite_batch())
      throw DivergenceError({"bench: training " + to_string(c.backend) + " diverged at batch " +
                                 std::to_string(*bad) + " (try a smaller ",
                             Setting::eta, ")"},
                            1, *bad + 1);
    if (done != c.train_samples)
      throw Error("bench: the backend trained " + std::to_string(done) + " of " + std::to_string(c.train_samples) +
                  " samples");
    if (seconds_out) {
      seconds_out->push_back(seconds);
      cpu_out->push_back(cpu);
    }
  };
  const auto evaluate_once = [&](std::vector<double>* seconds_out, std::vector<double>* cpu_out) {
    Evaluation e;
    const double cpu_start = cpu_seconds();
    const double seconds = backend->time_seconds([&] { e = backend->evaluate(eval_set); });
    const double cpu = cpu_seconds() - cpu_start;
    if (e.total != c.eval_records) throw Error("bench: the backend evaluated " + std::to_string(e.total) + " records");
    if (seconds_out) {
      seconds_out->push_back(seconds);
      cpu_out->push_back(cpu);
    }
  };

  for (int i = 0; i < settings.warmup; ++i) {
    train_once(nullptr, nullptr);
    evaluate_once(nullptr, nullptr);
  }
  for (int i = 0; i < settings.repetitions; ++i) train_once(&r.train_seconds, &r.train_cpu_seconds);
  for (int i = 0; i < settings.repetitions; ++i) evaluate_once(&r.eval_seconds, &r.eval_cpu_seconds);
  r.train = summarize(r.train_seconds);
  r.eval = summarize(r.eval_seconds);
  r.train_cpu = summarize(r.train_cpu_seconds);
  r.eval_cpu = summarize(r.eval_cpu_seconds);
  if (job) r.sum_seconds_per_step = summarize(summing).median / double(r.batches_per_repetition());
  return r;
}

Dataset random_dataset(const std::string& name, std::size_t count, std::size_t rows, std::size_t cols,
                       std::uint64_t seed) {
  Rng rng(seed);
  Dataset d;
  d.name = name;
  d.rows = rows;
  d.cols = cols;
  d.pixels.resize(count * rows * cols);
  // Eight pixels from each 64-bit draw: a whole MNIST-sized set in a fraction of a second.
  for (std::size_t i = 0; i < d.pixels.size(); i += 8) {
    std::uint64_t bits = rng.next();
    for (std::size_t k = i; k < std::min(i + 8, d.pixels.size()); ++k, bits >>= 8)
      d.pixels[k] = static_cast<std::uint8_t>(bits & 0xff);
  }
  d.labels.resize(count);
  for (auto& l : d.labels) l = static_cast<std::uint8_t>(rng.below(10));
  return d;
}

}  // namespace sigmanet
