// sigmanet bench: training and evaluation throughput over a grid of networks and batch sizes, per backend,
// as a table and as JSON in the schema bench/pytorch_mlp.py also writes (bench/compare.py reads both).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <limits>
#include <memory>
#include <sstream>

#include <nlohmann/json.hpp>

#include "cli/commands.hpp"
#include "cli/data_flags.hpp"
#include "cli/flags.hpp"
#include "cli/gpu_flags.hpp"
#include "cli/bench_record.hpp"
#include "cli/job_agreement.hpp"
#include "cpu/fast_network.hpp"
#include "formats/atomic_file.hpp"
#include "reports/benchmark.hpp"
#include "sigmanet/backends/factory.hpp"
#include "sigmanet/collective.hpp"
#include "sigmanet/error.hpp"
#include "sigmanet/formats/mnist.hpp"
#include "sigmanet/trainer.hpp"
#include "sigmanet/version.hpp"
#include "training/number_text.hpp"

namespace sigmanet::cli {
namespace {

constexpr const char* kSchema = "sigmanet-bench/1";

struct BenchOptions {
  bool quick = false;
  bool all = false;
  bool synthetic = false;
  std::vector<std::string> backends;
  std::vector<int> sizes;             // --sizes: one network, in place of the standard grid's
  std::vector<std::size_t> batches;   // --batches
  // --gpu-kernel: given, every GPU backend uses it; --gpu-cluster: every GPU backend that can run the persistent
  // kernel uses it.
  CudaOptions gpu;
  bool gpu_kernel_given = false;
  BenchSettings settings;
  DataFlags data;
  std::string json;
};

std::string utc_now() {
  const std::time_t t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// A SettingError in bench's words: the library's settings by their flags, but the batch of a case is one of
// --batches (bench has no --batch).
std::string bench_message(const SettingError& e) {
  return e.message().render([](Setting s) { return s == Setting::batch ? "--batches" : flag_for(s); });
}

// The backend --backends names; anything else is refused naming the flag.
BenchBackend backend_named(const std::string& name) {
  const std::optional<BenchBackend> b = bench_backend_from_text(name);
  if (!b) throw InputError("--backends: unknown backend '" + name + "' (use " + kBenchBackendNames + ")");
  return *b;
}

// --gpu-cluster N given to every GPU backend that may run the persistent kernel; refused, as --gpu-kernel is, when
// no backend could use it (`no_gpu`: why there is none on a GPU, when that is the reason). A backend or batch
// listed twice would be measured twice: refused too.
std::vector<BenchBackend> with_gpu_flags(const BenchOptions& o, std::vector<BenchBackend> chosen,
                                         const std::string& no_gpu) {
  for (std::size_t i = 0; i < chosen.size(); ++i)
    for (std::size_t j = 0; j < i; ++j)
      if (to_string(chosen[i]) == to_string(chosen[j]))
        throw InputError("--backends: " + to_string(chosen[i]) + " is listed twice" +
                         (o.gpu_kernel_given ? " (as --gpu-kernel names it)" : "") + "; each backend is measured once");
  for (auto it = o.batches.begin(); it != o.batches.end(); ++it)
    if (std::find(o.batches.begin(), it, *it) != it)
      throw InputError("--batches: " + std::to_string(*it) + " is listed twice; each batch is measured once");
  const std::string why = no_gpu.empty() ? "" : " (no usable GPU: " + no_gpu + ")";
  const bool on_gpu =
      std::any_of(chosen.begin(), chosen.end(), [](const BenchBackend& b) { return b.device == Device::gpu; });
  const CudaOptions::Kernel kernel = o.gpu.kernel;
  if (o.gpu_kernel_given && kernel != CudaOptions::Kernel::automatic && !on_gpu)
    throw SettingError(Setting::gpu_kernel,
                       {Setting::gpu_kernel, " " + to_string(kernel) + ": no backend here runs on a GPU" + why},
                       to_string(kernel));
  const int cluster = o.gpu.persistent_blocks;
  if (cluster == 0) return chosen;
  bool used = false;
  for (BenchBackend& b : chosen)
    if (b.device == Device::gpu && b.kernel != CudaOptions::Kernel::graph) {
      b.cluster = cluster;
      used = true;
    }
  if (!used)
    throw SettingError(Setting::gpu_cluster,
                       {Setting::gpu_cluster, " " + std::to_string(cluster) +
                                                  ": no backend here runs the persistent kernel (gpu-float or "
                                                  "gpu-float-persistent, on a GPU)" + why},
                       std::to_string(cluster));
  return chosen;
}

// What every rank of a benchmark job must have alike (job_agreement.hpp).
Fingerprint bench_fingerprint(const BenchOptions& o, const LabelledData& data) {
  const auto list = [](const auto& values) {
    std::string text;
    for (const auto& v : values) {
      std::ostringstream s;
      s << v;
      text += (text.empty() ? "" : ",") + s.str();
    }
    return text.empty() ? std::string("default") : text;
  };
  return {{"the command", "bench"},
          {"the version", std::string("sigmanet ") + version()},
          {"the grid (--quick, --all)", std::string(o.quick ? "quick" : o.all ? "all" : "standard")},
          {"--backends", list(o.backends)},
          {flag_for(Setting::sizes), list(o.sizes)},
          {"--batches", list(o.batches)},
          {flag_for(Setting::gpu_kernel), o.gpu_kernel_given ? to_string(o.gpu.kernel) : std::string("default")},
          {flag_for(Setting::gpu_cluster), std::to_string(o.gpu.persistent_blocks)},
          {"--repetitions", std::to_string(o.settings.repetitions)},
          {"--warmup", std::to_string(o.settings.warmup)},
          {flag_for(Setting::eta), exact_text(o.settings.eta)},
          {flag_for(Setting::seed), std::to_string(o.settings.seed)},
          {flag_for(Setting::data), (o.synthetic ? "synthetic, " : "") + data_identity(data)}};
}

// The backends to run: those asked for, or by default every one present (GPU float only with a GPU). *notice says
// why the GPU is left out, printed once every check has passed (a refused run says one line, its refusal).
std::vector<BenchBackend> choose_backends(const BenchOptions& o, std::string* notice) {
  if (launched_processes() > 1) {
    // A job of several processes measures the CPU backends, whose exchange it can time on the host (a GPU job's
    // NCCL sum runs inside the step's graph; `train --device gpu` under mpirun gives its samples/s).
    std::vector<BenchBackend> chosen;
    for (const std::string& name : o.backends) {
      chosen.push_back(backend_named(name));
      if (chosen.back().device == Device::gpu)
        throw InputError("--backends " + name +
                         ": across processes sigmanet bench measures the CPU backends; time a job across GPUs with "
                         "sigmanet train --device gpu under mpirun (each epoch's line gives its samples/s)");
    }
    if (chosen.empty()) chosen = {{Device::cpu, Precision::f32}, {Device::cpu, Precision::f64}};
    return with_gpu_flags(o, chosen, "");
  }
  std::string reason;
  const bool have_gpu = gpu_available(&reason);
  std::vector<BenchBackend> chosen;
  if (o.backends.empty()) {
    chosen = {{Device::cpu, Precision::f32}, {Device::cpu, Precision::f64}};
    if (have_gpu && o.gpu_kernel_given) {
      chosen.push_back({Device::gpu, Precision::f32, o.gpu.kernel});
    } else if (have_gpu) {
      // The automatic choice (the persistent kernel at small batches) beside the graph path.
      chosen.push_back({Device::gpu, Precision::f32});
      chosen.push_back({Device::gpu, Precision::f32, CudaOptions::Kernel::graph});
    }
    else
      *notice = "no usable GPU, benchmarking the CPU only: " + reason;
    return with_gpu_flags(o, chosen, have_gpu ? "" : reason);
  }
  for (const std::string& name : o.backends) {
    BenchBackend b = backend_named(name);
    if (b.device == Device::gpu && o.gpu_kernel_given) b.kernel = o.gpu.kernel;
    if (b.device == Device::gpu && !have_gpu) throw InputError("--backends " + name + ": no usable GPU: " + reason);
    // Refused here, before any case runs, rather than when its turn comes.
    if (b.device == Device::gpu && b.precision == Precision::f64)
      throw InputError("--backends " + name + ": the GPU backend computes in float; use gpu-float, or cpu-double");
    chosen.push_back(b);
  }
  return with_gpu_flags(o, chosen, have_gpu ? "" : reason);
}

// The flags in effect, for the record (paths left out: they say nothing about the numbers).
std::string command_line(const BenchOptions& o) {
  std::ostringstream s;
  s << "sigmanet bench";
  if (o.quick) s << " --quick";
  if (o.all) s << " --all";
  if (o.synthetic) s << " --synthetic";
  for (std::size_t i = 0; i < o.backends.size(); ++i) s << (i ? "," : " --backends ") << o.backends[i];
  if (!o.sizes.empty()) s << " --sizes " << sizes_text(o.sizes);
  for (std::size_t i = 0; i < o.batches.size(); ++i) s << (i ? "," : " --batches ") << o.batches[i];
  s << " --repetitions " << o.settings.repetitions << " --warmup " << o.settings.warmup << " --eta "
    << exact_text(o.settings.eta) << " --seed " << o.settings.seed;
  return s.str();
}

void print_row(const BenchResult& r, std::size_t train_size, const CpuPeaks& peaks) {
  const BenchCase& c = r.bench_case;
  const double n = double(c.train_samples);
  const std::string rep =
      r.whole_epoch(train_size) ? "epoch" : std::to_string(r.batches_per_repetition()) + " batches";
  const double fraction = fraction_of_peak(r, peaks);
  const std::string of_peak = fraction > 0 ? std::to_string(int(std::lround(100 * fraction))) + "%" : "-";
  std::printf("%-20s %-17s %6zu %14s %12.0f %12.0f %12.0f %10.3f%s %12.0f %12.0f %8.1f %6s\n",
              to_string(c.backend).c_str(), sizes_text(c.sizes, '-').c_str(), c.batch, rep.c_str(),
              n / r.train.median, n / r.train.max, n / r.train.min, r.epoch_seconds(train_size),
              r.whole_epoch(train_size) ? " " : "*", n / r.train_cpu.median, double(c.eval_records) / r.eval.median,
              1e-9 * train_flop_rate(r), of_peak.c_str());
  std::fflush(stdout);
}

// In a job: the case alone on rank 0 (the others wait), then on every rank together, printed with the speedup.
void print_scaling(const BenchResult& alone, const BenchResult& job) {
  const double speedup = alone.train.median / job.train.median;
  std::printf("%-20s %-17s %6zu   %d ranks: %.0f train/s against %.0f in one process: %.2fx, efficiency %.0f%%, "
              "summing gradients %.3f ms a step\n",
              to_string(job.bench_case.backend).c_str(), sizes_text(job.bench_case.sizes, '-').c_str(),
              job.bench_case.batch, job.ranks, double(job.bench_case.train_samples) / job.train.median,
              double(alone.bench_case.train_samples) / alone.train.median, speedup, 100.0 * speedup / job.ranks,
              1e3 * job.sum_seconds_per_step);
  std::fflush(stdout);
}

int run_bench(const BenchOptions& o) {
  if (!have_mpi()) job();  // refuses at once to run as one of several processes without MPI
  if (!(o.settings.eta > 0) || !std::isfinite(o.settings.eta)) throw InputError("--eta: must be a positive number");
  if (o.synthetic && !o.data.data.empty())
    throw InputError("--synthetic: reads no data, so --data cannot be used with it");

  if (!o.json.empty()) {
    check_output_file("--json", o.json);
    if (!o.synthetic) check_outputs_are_not_inputs({{"--json", o.json}}, data_source_files(data_source(o.data)));
  }
  std::string notice;
  const std::vector<BenchBackend> backends = choose_backends(o, &notice);

  LabelledData data;
  std::string source;
  if (o.synthetic) {
    data.train = random_dataset("synthetic train", 50000, 28, 28, o.settings.seed);
    data.test = random_dataset("synthetic test", 10000, 28, 28, o.settings.seed + 1);
    source = "synthetic";
  } else {
    const DataSourceOptions options = data_source(o.data);
    data = load_data(options);
    print_notes(data.notes);
    // Compared across runs and with bench/python_vs_pytorch.py: MNIST keeps its "mnist:" source.
    source = (data.train.features() == 784 && data.classes == 10 ? "mnist:" : "data:") + options.data.string();
  }
  // In a job, every rank must measure the same cases on the same data before any of them measures.
  Collective* const collective = job();
  if (collective) agree_with_job(*collective, bench_fingerprint(o, data));
  // Rank 0 alone writes --json, and only once every case has run: replaced whole, so a refused or interrupted run
  // leaves the file as it was.
  const bool write_json = !o.json.empty() && (!collective || collective->rank() == 0);

  BenchGridOptions grid;
  grid.backends = backends;
  grid.quick = o.quick;
  grid.all = o.all;
  grid.sizes = o.sizes;
  grid.batches = o.batches;
  // The standard grid is MNIST's networks; other data is measured on its features-30-classes network.
  if (o.sizes.empty() && (data.train.features() != 784 || data.classes != 10) && !o.synthetic)
    grid.sizes = {int(data.train.features()), 30, int(data.classes)};
  if (!o.sizes.empty()) check_input_width(o.sizes, data.train);
  grid.train_size = data.train.size();
  grid.test_size = data.test.size();
  const std::vector<BenchCase> cases = bench_grid(grid);
  // Every case's memory is estimated before the first one allocates anything, as train's run is.
  for (const BenchCase& c : cases) {
    TrainConfig need;
    need.sizes = c.sizes;
    need.batch = c.batch;
    need.precision = c.backend.precision;
    need.device = c.backend.device;
    check_memory(need, gpu_info(need.device), "measuring it");
  }

  if (!notice.empty()) std::fprintf(stderr, "sigmanet: %s\n", notice.c_str());
  const MachineInfo machine = machine_info();
  std::printf("sigmanet bench: %s, %zu logical CPUs (the CPU backends use %d thread%s)%s%s\n",
              machine.cpu_model.c_str(), std::size_t(machine.logical_cpus), o.settings.threads,
              o.settings.threads == 1 ? "" : "s", machine.gpu ? ", GPU " : "",
              machine.gpu ? machine.gpu->name.c_str() : "");
  std::printf("data %s (%zu train, %zu test); %d warm-up + %d timed repetitions, median [min-max]; eta %s, seed %llu\n",
              source.c_str(), data.train.size(), data.test.size(), o.settings.warmup, o.settings.repetitions,
              exact_text(o.settings.eta).c_str(), static_cast<unsigned long long>(o.settings.seed));
  const CpuPeaks peaks = measure_cpu_peaks(backends);
  if (peaks.f32 > 0 || peaks.f64 > 0) {
    std::string rates;
    for (const auto& [rate, name] : {std::pair{peaks.f32, "float"}, std::pair{peaks.f64, "double"}}) {
      if (rate <= 0) continue;
      char text[64];
      std::snprintf(text, sizeof text, "%s%.1f GFLOP/s %s", rates.empty() ? "" : ", ", 1e-9 * rate, name);
      rates += text;
    }
    std::printf("one core's peak, measured (%zu-bit multiply-adds): %s\n", peaks.vector_bits, rates.c_str());
    std::printf("CPU matrix products: %s\n", cpu_products().c_str());
  }
  std::printf("%-20s %-17s %6s %14s %12s %12s %12s %11s %12s %12s %8s %6s\n", "backend", "network", "batch",
              "repetition", "train/s", "min", "max", "epoch s", "train/cpu-s", "eval/s", "GFLOP/s", "peak");
  std::fflush(stdout);

  const double load_before = load_average();
  std::vector<BenchResult> results;
  if (collective) {
    std::printf("a job of %d processes: each case first in rank 0 alone, then on every rank together\n",
                collective->size());
    BenchSettings together = o.settings;
    together.collective = collective;
    for (const BenchCase& c : cases) {
      BenchResult alone;
      if (collective->rank() == 0) alone = run_bench_case(c, data.train, data.test, o.settings);
      collective->any(false);  // the other ranks wait here, off the cores, while rank 0 measures alone
      results.push_back(run_bench_case(c, data.train, data.test, together));
      if (collective->rank() == 0) {
        print_row(alone, data.train.size(), peaks);
        print_scaling(alone, results.back());
      }
    }
  }
  for (const BenchCase& c : launched_processes() > 1 ? std::vector<BenchCase>{} : cases) {
    const bool cluster_on_graph = c.backend.cluster > 0 && c.backend.kernel == CudaOptions::Kernel::automatic &&
                                  c.batch > kGpuPersistentMaxAutoBatch;
    if (cluster_on_graph ||
        ((c.backend.kernel == CudaOptions::Kernel::persistent || c.backend.cluster > 0) &&
         !gpu_persistent_fits(c.sizes, c.batch, c.backend.cluster))) {
      std::printf("%-20s %-17s %6zu   skipped: %s\n", to_string(c.backend).c_str(), sizes_text(c.sizes, '-').c_str(),
                  c.batch,
                  cluster_on_graph ? "this batch trains on the graph path, which has no cluster"
                                   : "the network and batch do not fit the persistent kernel's shared memory");
      continue;
    }
    results.push_back(run_bench_case(c, data.train, data.test, o.settings));
    print_row(results.back(), data.train.size(), peaks);
  }
  std::fputs(gpu_paths_side_by_side(results).c_str(), stdout);
  bool extrapolated = false;
  for (const BenchResult& r : results) extrapolated = extrapolated || !r.whole_epoch(data.train.size());
  if (extrapolated)
    std::printf("* epoch time extrapolated from a repetition of whole batches, not a full epoch\n");
  std::printf("train/s: samples per second of wall-clock time (median, slowest, fastest repetition); train/cpu-s: per\n"
              "second of this process's CPU time (median), which time other processes held the cores does not count;\n"
              "GFLOP/s: the SGD steps' multiply-adds (x2) per second, counted as dense products (on sparse images\n"
              "the CPU's first layer skips the pixels that are 0, so it does fewer); peak: that against one core's\n"
              "peak times the backend's threads\n");

  if (write_json) {
    nlohmann::ordered_json results_json = nlohmann::ordered_json::array();
    for (const BenchResult& r : results) results_json.push_back(result_json(r, data.train.size(), peaks));
    const nlohmann::ordered_json doc = {
        {"schema", kSchema},
        {"tool", "sigmanet"},
        {"tool_version", version()},
        {"date", utc_now()},
        {"command", command_line(o)},
        {"machine", machine_json(machine, load_before, load_average())},
        {"build",
         {{"git_commit", machine.git_commit},
          {"compiler", machine.compiler},
          {"build_type", machine.build_type},
          {"march_native", machine.native}}},
        {"cpu_peak",
         {{"float_gflop_per_second_per_core", 1e-9 * peaks.f32},
          {"double_gflop_per_second_per_core", 1e-9 * peaks.f64},
          {"vector_bits", peaks.vector_bits},
          {"products", cpu_products()},
          {"how", "a timed loop of independent multiply-adds on the CPU backend's vectors, best of 3"}}},
        {"data", {{"source", source}, {"train_records", data.train.size()}, {"test_records", data.test.size()}}},
        {"settings",
         {{"warmup_repetitions", o.settings.warmup},
          {"repetitions", o.settings.repetitions},
          {"eta", o.settings.eta},
          {"seed", o.settings.seed},
          {"init", "N(0,1) weights and biases"},
          {"cost", "quadratic: sum over outputs of 1/2 (a-y)^2, averaged over the batch"},
          {"optimizer", "plain SGD"},
          {"threads", o.settings.threads}}},
        {"results", results_json},
    };
    const std::string text = doc.dump(2) + '\n';
    write_file_atomically(o.json, std::span(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()));
  }
  return 0;
}

}  // namespace

void add_bench_command(CLI::App& app, int& status) {
  auto o = std::make_shared<BenchOptions>();
  CLI::App* sub = app.add_subcommand(
      "bench", "Measure training and evaluation throughput (samples/s) of each backend over a grid of networks");
  sub->add_flag("--quick", o->quick, "A small grid (784-30-10 at batch 10 and 100, 10,000 samples a repetition)");
  sub->add_flag("--all", o->all, "Also run 784-1024-1024-10 on the CPU (slow; repetitions of whole batches)");
  add_whole_list(sub, "--sizes", o->sizes,
                 "One network to measure, input first, in place of the standard grid (default with --batches: "
                 "784,30,10)",
                 1, std::numeric_limits<int>::max());
  add_whole_list(sub, "--batches", o->batches,
                 "Batch sizes to measure the network at, in place of the standard grid (default with --sizes: 10)",
                 std::size_t{1}, std::size_t{0xffffffffu});
  add_name_list(sub, "--backends", o->backends,
                "Backends to measure: cpu-float, cpu-double, gpu-float, gpu-float-persistent, gpu-float-graph "
                "(default: cpu-float, cpu-double and, with a GPU, gpu-float beside gpu-float-graph)");
  add_gpu_flags(sub, o->gpu, "How the GPU backends train (default: gpu-float with auto beside gpu-float-graph)",
                "Blocks (SMs) of the persistent kernel's thread-block cluster, for every GPU backend that runs it: "
                "auto (its rule) or a number");
  add_whole(sub, "--repetitions", o->settings.repetitions, "Timed repetitions per case (the median is reported)", 1);
  add_whole(sub, "--warmup", o->settings.warmup, "Untimed repetitions before them", 0);
  add_real(sub, "--eta", o->settings.eta, "Learning rate of the SGD steps");
  add_whole(sub, "--seed", o->settings.seed, "Seed for the initial weights and the shuffles");
  add_whole(sub, "--threads", o->settings.threads,
            "CPU threads of the CPU backends (default: this machine's cores, shared among an mpirun job's processes)",
            1, 1024)
      ->default_str("cores");
  add_data_flags(sub, o->data);
  sub->add_flag("--synthetic", o->synthetic, "Use random images of MNIST's shape instead of reading MNIST");
  add_path(sub, "--json", o->json, "Also write the results as JSON to FILE");
  sub->callback([o, sub, &status] {
    o->gpu_kernel_given = sub->count("--gpu-kernel") > 0;
    if (!sub->count("--threads")) o->settings.threads = default_threads();
    try {
      status = run_bench(*o);
    } catch (const SettingError& e) {
      throw InputError(bench_message(e));
    }
  });
}

}  // namespace sigmanet::cli
