#pragma once
// Training and evaluation throughput of a backend over a grid of networks and batch sizes: what
// `sigmanet bench` measures. Every case starts from the same seeded N(0,1) parameters and trains real SGD
// steps; one warm-up repetition is run and discarded, then the median, min and max of the timed ones are kept.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "sigmanet/backend.hpp"
#include "sigmanet/collective.hpp"
#include "sigmanet/cuda/cuda_options.hpp"
#include "sigmanet/dataset.hpp"

namespace sigmanet {

// One backend a benchmark can run on.
struct BenchBackend {
  Device device = Device::cpu;  // cpu or gpu, never automatic
  Precision precision = Precision::f32;
  CudaOptions::Kernel kernel = CudaOptions::Kernel::automatic;  // on the GPU
  int cluster = 0;  // blocks of the persistent kernel's cluster (0: its rule), where it runs
};
// "cpu-float", "gpu-double", "gpu-float-graph"; a cluster asked for is added: "gpu-float-persistent-cluster4".
std::string to_string(const BenchBackend& b);
// The backend named "cpu-float", "cpu-double", "gpu-float", "gpu-double", "gpu-float-persistent" or
// "gpu-float-graph" (kBenchBackendNames); none for any other text.
std::optional<BenchBackend> bench_backend_from_text(const std::string& text);
constexpr const char* kBenchBackendNames =
    "cpu-float, cpu-double, gpu-float, gpu-float-persistent, gpu-float-graph";

// One measurement: a network and batch size on a backend.
struct BenchCase {
  std::vector<int> sizes;
  std::size_t batch = 10;
  BenchBackend backend;
  // Samples trained per timed repetition. Equal to the training set size, a repetition is one epoch; less, it
  // is the first train_samples of a shuffled epoch (a whole number of batches), and epoch time is extrapolated.
  std::size_t train_samples = 0;
  std::size_t eval_records = 0;  // test records evaluated per repetition
};

// Which cases to run. The full grid: 784-30-10 at batch 10, 100 and 1000; 784-100-10 at batch 10;
// 784-1024-1024-10 at batch 256, 1000 and 4096 on GPU backends only, unless `all`. The quick grid: 784-30-10 at
// batch 10 and 100 on 10,000 samples per repetition, for smoke tests.
struct BenchGridOptions {
  std::vector<BenchBackend> backends;
  bool quick = false;
  bool all = false;
  // A grid of one's own: this network (else 784-30-10) at these batch sizes (else 10), in place of the
  // standard grid; every case runs on every backend, the CPU's large networks too.
  std::vector<int> sizes;
  std::vector<std::size_t> batches;
  std::size_t train_size = 50000;  // records in the training set
  std::size_t test_size = 10000;   // records in the test set
};
// Throws SettingError: sizes that are no network, or a batch of one's own outside 1..train_size (Setting::batch: a
// case's batch is the training setting's).
std::vector<BenchCase> bench_grid(const BenchGridOptions& options);

// Samples per repetition for the 784-1024-1024-10 cases on the CPU (`--all`): an epoch there takes minutes,
// so a repetition is a fixed number of batches covering at least this many samples.
constexpr std::size_t kLargeCpuRepetitionSamples = 8192;

struct BenchSettings {
  // The job whose ranks train each case together (collective.hpp; CPU backends only); null: this process alone.
  Collective* collective = nullptr;
  int threads = 1;      // CPU threads of a CPU backend (Backend::set_threads)
  int repetitions = 5;  // timed repetitions after the warm-up; at least 1
  int warmup = 1;       // untimed repetitions first; 0 or more
  double eta = 3.0;
  std::uint64_t seed = 1;
};

// Median (the mean of the middle two for an even count), min and max. Throws Error when empty.
struct Spread {
  double median = 0, min = 0, max = 0;
};
Spread summarize(std::vector<double> values);

struct BenchResult {
  BenchCase bench_case;
  std::string backend_description;  // Backend::describe(): "cpu float", "gpu float (NVIDIA H200)"
  std::string timer;                // "steady_clock" or "cuda_events"
  int threads = 1;                  // CPU threads doing the work (1 on a GPU backend: the host thread)
  std::vector<double> train_seconds;  // per timed repetition, on the backend's clock (Backend::time_seconds)
  std::vector<double> eval_seconds;
  Spread train, eval;  // of the seconds above
  // Process CPU time of the same repetitions. On a CPU shared with other work the wall-clock time above also
  // counts time others held the cores; for a single-threaded backend this does not, so it is the steadier
  // figure to compare two CPU runs by. (For a GPU backend it is the host's share, not the device's.)
  std::vector<double> train_cpu_seconds, eval_cpu_seconds;
  Spread train_cpu, eval_cpu;
  int ranks = 1;                  // processes training each batch together
  double sum_seconds_per_step = 0;  // in a job: this rank's time adding up gradients, per SGD step (median rep.)

  std::size_t batches_per_repetition() const;
  // Floating-point operations of a timed repetition's SGD steps (step_flops over its batches).
  double train_flops() const;
  bool whole_epoch(std::size_t train_size) const { return bench_case.train_samples == train_size; }
  // Seconds for one epoch of train_size samples at the median rate (measured when whole_epoch()).
  double epoch_seconds(std::size_t train_size) const;
};

// Each GPU path against the graph path on the same case (network, batch, precision), as the median time of one
// step: the persistent kernel exists to beat the graph path's per-step launches at small batches, and these
// lines show whether it does (bench/gpu_check.sh reads them). A heading, then a line per pair:
//   "  784-30-10         batch 10     gpu-float-persistent (persistent) 5.20 us, graph 21.00 us: 4.04x the graph
//   path's rate"; gpu-float's path is named as the automatic choice takes it. Empty without a pair.
std::string gpu_paths_side_by_side(const std::vector<BenchResult>& results);

// Floating-point operations of one SGD step on m samples, a multiply-add counted as 2: the forward pass's
// weighted sums, the weight gradients, the errors of every hidden layer (delta . W) and the update (one
// multiply-add a weight). Elementwise work (biases, sigmoids, the cost's derivative) is left out: it grows with
// m x neurons, the rest with m x weights. 784-30-10 at batch 10: 1.00 million, 5.0 billion an MNIST epoch.
double step_flops(const std::vector<int>& sizes, std::size_t m);

// Runs one case: builds the backend (make_backend), sets seeded parameters, warms up, then times train() and
// evaluate(). Throws Error if training diverges (a NaN would make the timing meaningless) or the settings or the case
// are not ones it can run, and InputError for a GPU case without a usable GPU.
BenchResult run_bench_case(const BenchCase& c, const Dataset& train, const Dataset& test,
                           const BenchSettings& settings);

// Random pixels and labels from a seeded generator, shaped like an MNIST set: for running the benchmark
// without the data files (it measures speed only; nothing learns from it).
Dataset random_dataset(const std::string& name, std::size_t count, std::size_t rows, std::size_t cols,
                       std::uint64_t seed);

// What the numbers were measured on.
struct MachineInfo {
  std::string cpu_model;           // /proc/cpuinfo "model name", else "unknown"
  unsigned logical_cpus = 0;       // std::thread::hardware_concurrency()
  std::optional<DeviceInfo> gpu;   // no value without a usable GPU
  std::string gpu_absent_reason;   // why, when gpu has no value
  std::string git_commit;          // captured when CMake configured the build, else "unknown"
  std::string compiler;            // "GCC 12.2.0"
  std::string build_type;          // "Release", or "unknown"
  bool native = false;             // built with -march=native
};
MachineInfo machine_info();

}  // namespace sigmanet
