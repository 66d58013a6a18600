// sigmanet verify: proves, on the user's own machine, that the GPU trains the same network as the oracle,
// ReferenceNetwork<double> (oracle/reference_network.hpp). With a GPU: each kernel and cuBLAS call, one SGD
// step and whole epochs of the CUDA backend against the oracle. Without one: the fast CPU network, float
// and double, against the oracle, and a plain statement that the GPU part did not run.
#include <algorithm>
#include <cstdio>
#include <memory>
#include <optional>

#include "cli/commands.hpp"
#include "cli/data_flags.hpp"
#include "cli/flags.hpp"
#include "cli/one_voice.hpp"
#include "oracle/equivalence.hpp"
#include "oracle/reference_network.hpp"
#include "sigmanet/backends/factory.hpp"
#include "sigmanet/error.hpp"
#include "sigmanet/formats/mnist.hpp"

#ifdef SIGMANET_HAVE_CUDA
#include "cuda/cuda_backend.hpp"
#include "cuda_checks/cuda_checks.hpp"
#endif

namespace sigmanet::cli {
namespace {

struct VerifyOptions {
  DataFlags data;
  std::uint64_t seed = 1;
  std::size_t samples = 0;  // --samples: the first N training and test records only (0: all)
};

struct VerifyData {
  Dataset train, test;
  std::string description;
  std::vector<int> nielsen;  // features-30-classes, 784-30-10 on MNIST
  std::vector<int> deeper;   // features-17-13-classes, an odd, deeper net
};

// MNIST when it can be found; else, unless --data named a folder, a synthetic set (equivalence does not
// need real digits, only the same arithmetic on both sides).
VerifyData load_data(const VerifyOptions& o) {
  VerifyData d;
  try {
    const DataSourceOptions options = data_source(o.data);
    LabelledData data = sigmanet::load_data(options);
    print_notes(data.notes);
    d.description = options.data.string() + " (" + std::to_string(data.train.size()) + " training, " +
                    std::to_string(data.test.size()) + " test records)";
    d.train = std::move(data.train);
    d.test = std::move(data.test);
    d.nielsen = {int(d.train.features()), 30, int(data.classes)};
  } catch (const InputError& e) {
    if (!o.data.data.empty()) throw;
    d.nielsen = {784, 30, 10};
    d.train = synthetic_dataset("synthetic train", 5000, 28, 28, o.seed);
    d.test = synthetic_dataset("synthetic test", 1000, 28, 28, o.seed + 1);
    d.description =
        "synthetic 28x28 images (5000 training, 1000 test): MNIST not found (" + message_of(e) + ")";
  }
  d.deeper = {d.nielsen.front(), 17, 13, d.nielsen.back()};
  if (o.samples) {
    d.train = d.train.slice(d.train.name, 0, std::min(o.samples, d.train.size()));
    d.test = d.test.slice(d.test.name, 0, std::min(o.samples, d.test.size()));
    d.description += "; checked on the first " + std::to_string(d.train.size()) + " training and " +
                     std::to_string(d.test.size()) + " test records (--samples)";
  }
  return d;
}

// One SGD step at each batch size (up to the training set's), a whole epoch of the data's features-30-classes net
// at batch 10, and 1,000 batches of an odd, deeper net at batch 7; then chapter 3's objectives: a step and 300
// batches of the first net each.
void backend_checks(Backend& candidate, const VerifyData& d, std::uint64_t seed, std::vector<StageCheck>& checks) {
  const std::vector<int>& nielsen = d.nielsen;
  for (std::size_t m : {1, 7, 10, 1000})
    if (m <= d.train.size()) checks.push_back(check_one_step(candidate, d.train, nielsen, m, seed));
  for (StageCheck& c : check_epoch(candidate, d.train, d.test, nielsen, 10, seed)) checks.push_back(std::move(c));
  for (StageCheck& c : check_epoch(candidate, d.train, d.test, d.deeper, 7, seed, 7000))
    checks.push_back(std::move(c));
  const Objective chapter_3[] = {{Cost::cross_entropy, 0.0}, {Cost::log_likelihood, 0.0}, {Cost::cross_entropy, 5.0}};
  for (const Objective& objective : chapter_3) {
    checks.push_back(check_one_step(candidate, d.train, nielsen, 10, seed, objective));
    for (StageCheck& c : check_epoch(candidate, d.train, d.test, nielsen, 10, seed, 3000, objective))
      checks.push_back(std::move(c));
  }
}

#ifdef SIGMANET_HAVE_CUDA
void gpu_checks(const VerifyData& d, std::uint64_t seed, std::vector<StageCheck>& checks) {
  for (StageCheck& c : cuda_kernel_checks(seed)) checks.push_back(std::move(c));
  const std::unique_ptr<Backend> gpu = make_backend(Device::gpu, Precision::f32);
  backend_checks(*gpu, d, seed, checks);
  // Chapter 3's objectives on each training path by name (backend_checks took the default path).
  for (StageCheck& c : cuda_objective_checks(d.train, d.nielsen, seed)) checks.push_back(std::move(c));

  // The same seed twice must give the same bits: no atomics in the sums, fixed reduction orders.
  Rng rng(seed);
  const Parameters start = init_parameters(d.nielsen, Init::standard, rng);
  const std::vector<std::uint32_t> order = rng.permutation(d.train.size());
  std::vector<Parameters> runs;
  for (int run = 0; run < 2; ++run) {
    const std::unique_ptr<Backend> b = make_backend(Device::gpu, Precision::f32);
    b->set_training_data(d.train);
    b->set_parameters(start);
    b->train(order, 10, 3.0, {});
    runs.push_back(b->parameters());
  }
  checks.push_back({"same seed twice on the GPU: identical bits", compare(runs[1], runs[0]), 0.0, true});

  // Each training path by name (the default above takes the persistent kernel at batches up to 32 where the
  // network fits, the graph path otherwise). The persistent kernel trains pixel data only: float values leave it out.
  const bool persistent_trains_it = !d.train.has_values();
  if (!persistent_trains_it)
    std::printf("The persistent kernel trains pixel data only: its checks are left out for these float features.\n");
  CudaOptions persistent, graph;
  persistent.kernel = CudaOptions::Kernel::persistent;
  graph.kernel = CudaOptions::Kernel::graph;
  for (const auto& [name, options] : {std::pair{"persistent kernel: ", persistent}, std::pair{"graph path: ", graph}}) {
    if (options.kernel == CudaOptions::Kernel::persistent && !persistent_trains_it) continue;
    const std::unique_ptr<Backend> b = make_backend(Device::gpu, Precision::f32, nullptr, options);
    StageCheck c = check_one_step(*b, d.train, d.nielsen, 10, seed);
    c.stage = name + c.stage;
    checks.push_back(std::move(c));
  }
  // The persistent kernel over 1,000 batches (500 on the synthetic set): within tolerance of the reference, and the
  // same bits whether a launch holds one batch, 64 (a chunk boundary inside the run) or as many as the time target
  // allows.
  if (!persistent_trains_it) return;
  const std::span<const std::uint32_t> thousand(order.data(), std::min<std::size_t>(order.size(), 10000));
  std::vector<Parameters> chunked;
  for (std::size_t chunk : {std::size_t(1), std::size_t(64), std::size_t(0)}) {
    CudaOptions options = persistent;
    options.persistent_chunk = chunk;
    const std::unique_ptr<Backend> b = make_backend(Device::gpu, Precision::f32, nullptr, options);
    b->set_training_data(d.train);
    b->set_parameters(start);
    b->train(thousand, 10, 3.0, {});
    chunked.push_back(b->parameters());
  }
  ReferenceNetwork<double> oracle(start);
  oracle.train(d.train, thousand, 10, 3.0);
  checks.push_back(
      {"persistent kernel: " + std::to_string(thousand.size() / 10) + " batches of 10 against the oracle",
       compare(chunked[0], oracle.parameters()), 1e-4});
  checks.push_back(
      {"persistent kernel: chunks of 1 and 64 batches: identical bits", compare(chunked[1], chunked[0]), 0.0, true});
  checks.push_back(
      {"persistent kernel: chunks of 1 and by time: identical bits", compare(chunked[2], chunked[0]), 0.0, true});
}
#endif

int run_verify(const VerifyOptions& o) {
  const VerifyData d = load_data(o);
  std::printf("sigmanet verify: backends against the oracle, ReferenceNetwork<double>\n");
  std::printf("Data: %s\n", d.description.c_str());
  std::string reason;
  const bool have_gpu = gpu_available(&reason);
  std::vector<StageCheck> checks;
  if (have_gpu) {
#ifdef SIGMANET_HAVE_CUDA
    const auto info = gpu_info(Device::gpu);
    if (info)
      std::printf("GPU: %s, sm_%d, %.1f GiB, driver %s, runtime %s\n", info->name.c_str(), info->compute_capability,
                  double(info->memory_bytes) / double(1ull << 30), info->driver_version.c_str(),
                  info->runtime_version.c_str());
    std::fflush(stdout);
    gpu_checks(d, o.seed, checks);
#endif
  } else {
    std::printf("GPU part did not run: %s\n", reason.c_str());
    std::printf("Checking the fast CPU network, float and double, against the oracle instead.\n");
    std::fflush(stdout);
    for (Precision precision : {Precision::f32, Precision::f64}) {
      const std::unique_ptr<Backend> cpu = make_backend(Device::cpu, precision);
      std::vector<StageCheck> cpu_checks;
      backend_checks(*cpu, d, o.seed, cpu_checks);
      for (StageCheck& c : cpu_checks) {
        c.stage = cpu->describe() + ": " + c.stage;
        checks.push_back(std::move(c));
      }
    }
  }
  std::printf("\n%s\n", format_checks(checks).c_str());
  std::size_t failed = 0;
  for (const StageCheck& c : checks) failed += c.ok() ? 0 : 1;
  if (failed)
    std::printf("verify: %zu of %zu checks NOT OK\n", failed, checks.size());
  else
    std::printf("verify: all %zu checks OK%s\n", checks.size(),
                have_gpu ? "" : " (CPU only: the GPU part did not run)");
  return failed ? 1 : 0;
}

}  // namespace

void add_verify_command(CLI::App& app, int& status) {
  auto o = std::make_shared<VerifyOptions>();
  CLI::App* sub = app.add_subcommand(
      "verify", "Check the GPU backend against the oracle network, stage by stage (exit 1 if any check fails)");
  add_data_flags(sub, o->data);
  add_whole(sub, "--seed", o->seed, "Seed for the parameters, orders and random inputs");
  add_whole(sub, "--samples", o->samples,
            "Check on the first N training and test records (default: all; at least 10): the same checks, quicker; "
            "the steps of more than N samples are left out",
            std::size_t{10})
      ->default_str("all");
  sub->callback([o, &status] {
    require_single_process("verify");
    status = run_verify(*o);
  });
}

}  // namespace sigmanet::cli
