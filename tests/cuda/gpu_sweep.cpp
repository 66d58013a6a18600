// sigmanet sweep on the GPU, each run the run `train --save` makes there, byte for byte: on the graph path one after
// another, on the persistent kernel runs of one network and batch side by side in shared launches
// (backends/train_together.hpp), whose bits, stops and divergence are checked here against each run alone.
#include <gtest/gtest.h>

#include <algorithm>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <string>
#include <vector>

#include "gpu_support.hpp"
#include "oracle/equivalence.hpp"
#include "sigmanet/backends/factory.hpp"
#include "sigmanet/backends/train_together.hpp"
#include "sigmanet/error.hpp"
#include "sigmanet/formats/checkpoint.hpp"
#include "sigmanet/random.hpp"
#include "test_support.hpp"

namespace sigmanet {
namespace {

namespace fs = std::filesystem;
using Args = std::vector<std::string>;
using Bytes = std::vector<std::uint8_t>;

Bytes read_all(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  return Bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// How many times `text` holds `part`.
std::size_t count_of(const std::string& text, const std::string& part) {
  std::size_t n = 0;
  for (std::size_t at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) ++n;
  return n;
}

// Small, so that the emulator runs it in seconds.
Args small_run(const std::string& kernel, const std::string& epochs = "2", const std::string& records = "100") {
  Args args{"--device", "gpu", "--gpu-kernel", kernel, "--train-size", records, "--validation-size",
            "50", "--test-size", "50", "--data", test::mnist_dir().string()};
  if (!epochs.empty()) args.insert(args.end(), {"--epochs", epochs});
  return args;
}

// The graph path shares no launches: its runs go one after another, each train's model.
TEST(GpuSweep, EveryRunIsTrainsModelOnTheGraphPathOneAfterAnother) {
  SIGMANET_SKIP_WITHOUT_GPU();
  test::TempDir dir;
  Args sweep{"sweep", "--out", (dir / "sweep").string(), "--eta", "0.5,3", "--seed", "1-2", "--save", "all"};
  for (const std::string& a : small_run("graph")) sweep.push_back(a);
  const test::CliRun run = test::run_cli_argv(sweep, 600);
  ASSERT_EQ(run.status, 0) << run.err;
  EXPECT_NE(run.out.find("on the GPU, up to 32 at a time"), std::string::npos) << run.out;
  EXPECT_EQ(count_of(run.out, "together in shared launches"), 0u) << run.out;
  for (const std::string eta : {"0.5", "3"})
    for (const std::string seed : {"1", "2"}) {
      Args train{"train", "--eta", eta, "--seed", seed, "--save", (dir / "train").string()};
      for (const std::string& a : small_run("graph")) train.push_back(a);
      const test::CliRun alone = test::run_cli_argv(train, 600);
      ASSERT_EQ(alone.status, 0) << alone.err;
      EXPECT_EQ(read_all(dir / "sweep" / "models" / ("eta=" + eta + "_seed=" + seed + ".safetensors")),
                read_all(dir / "train"))
          << "eta " << eta << ", seed " << seed;
    }
}

// Runs of every kind in one group: other seeds, eta, lambda and epochs, so that runs leave the group after epoch
// 1 while the others go on. The persistent kernel's sweep trains all 16 in one group; each model is train's. Half
// of them are trained again by `train` (each `train` costs the executor seconds): those with an even count of
// second values, which still hold every value of every setting and both epoch counts with each other setting.
TEST(GpuSweep, MixedRunsShareLaunchesAndEachIsTrainsModelOnThePersistentKernel) {
  SIGMANET_SKIP_WITHOUT_GPU();
  test::TempDir dir;
  const Args grid{"--eta", "0.5,3", "--lambda", "0,5", "--seed", "1-2", "--epochs", "1,2"};
  Args sweep{"sweep", "--out", (dir / "sweep").string(), "--save", "all"};
  for (const Args& part : {grid, small_run("persistent", "", "50")})
    for (const std::string& a : part) sweep.push_back(a);
  const test::CliRun run = test::run_cli_argv(sweep, 900);
  ASSERT_EQ(run.status, 0) << run.err;
  EXPECT_EQ(count_of(run.out, "Training 16 runs together in shared launches: "), 1u) << run.out;
  for (const std::string eta : {"0.5", "3"})
    for (const std::string lambda : {"0", "5"})
      for (const std::string seed : {"1", "2"})
        for (const std::string epochs : {"1", "2"}) {
          if (((eta == "3") + (lambda == "5") + (seed == "2") + (epochs == "2")) % 2 == 1) continue;
          Args train{"train", "--eta", eta, "--lambda", lambda, "--seed", seed, "--save", (dir / "train").string()};
          for (const std::string& a : small_run("persistent", epochs, "50")) train.push_back(a);
          const test::CliRun alone = test::run_cli_argv(train, 600);
          ASSERT_EQ(alone.status, 0) << alone.err;
          const std::string name = "epochs=" + epochs + "_eta=" + eta + "_lambda=" + lambda + "_seed=" + seed;
          EXPECT_EQ(read_all(dir / "sweep" / "models" / (name + ".safetensors")), read_all(dir / "train")) << name;
        }
}

// L2 far too strong (each step multiplies the weights by 1 - 3 * 1e6 / 50 = -6e4) makes one run's outputs Inf in
// epoch 2: it ends alone, with train's message, and the run beside it in the group still gets train's model.
TEST(GpuSweep, ADivergingRunLeavesItsGroupAloneWithTrainsMessage) {
  SIGMANET_SKIP_WITHOUT_GPU();
  test::TempDir dir;
  Args sweep{"sweep", "--out", (dir / "sweep").string(), "--eta", "3", "--lambda", "0,1000000", "--save", "all"};
  for (const std::string& a : small_run("persistent", "2", "50")) sweep.push_back(a);
  const test::CliRun run = test::run_cli_argv(sweep, 600);
  ASSERT_EQ(run.status, 0) << run.err;
  EXPECT_EQ(count_of(run.out, "Training 2 runs together in shared launches: "), 1u) << run.out;
  const std::string diverged = "training diverged at epoch 2, batch 4 of 5: the network's outputs became NaN or Inf";
  EXPECT_NE(run.out.find("Run lambda=1e+06 finished (2/2): diverged: " + diverged), std::string::npos) << run.out;
  EXPECT_FALSE(fs::exists(dir / "sweep" / "models" / "lambda=1e+06.safetensors"));
  for (const std::string lambda : {"0", "1000000"}) {
    Args train{"train", "--eta", "3", "--lambda", lambda, "--save", (dir / ("train" + lambda)).string()};
    for (const std::string& a : small_run("persistent", "2", "50")) train.push_back(a);
    const test::CliRun alone = test::run_cli_argv(train, 600);
    if (lambda == "0") {
      ASSERT_EQ(alone.status, 0) << alone.err;
      EXPECT_EQ(read_all(dir / "sweep" / "models" / "lambda=0.safetensors"), read_all(dir / "train0"));
    } else {
      EXPECT_EQ(alone.status, 3) << alone.err;
      EXPECT_NE(alone.err.find(diverged), std::string::npos) << alone.err;
    }
  }
}

// Ctrl-C in a group's training stops every run of the group at the same batch, each with its checkpoint; the resumed
// sweep gives every run the bits of the uninterrupted one.
TEST(GpuSweep, AStoppedGroupResumesToTheBitsOfAnUninterruptedSweep) {
  SIGMANET_SKIP_WITHOUT_GPU();
  test::TempDir dir;
  const auto sweep = [&](const std::string& out) {
    Args args{"sweep", "--out", (dir / out).string(), "--eta", "0.5,3", "--seed", "1-2", "--save", "all"};
    for (const std::string& a : small_run("persistent", "1")) args.push_back(a);
    return args;
  };
  const test::CliRun whole = test::run_cli_argv(sweep("whole"), 600);
  ASSERT_EQ(whole.status, 0) << whole.err;
  const test::CliRun stopped =
      test::run_cli_signalled(sweep("part"), "Training 4 runs together in shared launches", SIGINT, 600);
  ASSERT_EQ(stopped.status, 130) << stopped.err;
  EXPECT_NE(stopped.err.find("sweep stopped with 0 of 4 runs finished"), std::string::npos) << stopped.err;
  std::vector<std::size_t> positions;
  std::vector<int> epochs;
  for (const std::string eta : {"0.5", "3"})
    for (const std::string seed : {"1", "2"}) {
      const fs::path file = dir / "part" / "sweep-checkpoint" / ("eta=" + eta + "_seed=" + seed + ".checkpoint.safetensors");
      ASSERT_TRUE(fs::exists(file)) << file;
      const Checkpoint ck = load_checkpoint(file);
      positions.push_back(ck.state.position);
      epochs.push_back(ck.state.epochs_done);
    }
  EXPECT_EQ(std::count(positions.begin(), positions.end(), positions[0]), 4) << "one batch boundary for all";
  EXPECT_EQ(std::count(epochs.begin(), epochs.end(), epochs[0]), 4);

  const test::CliRun resumed = test::run_cli_argv({"sweep", "--resume", (dir / "part").string()}, 600);
  ASSERT_EQ(resumed.status, 0) << resumed.err;
  EXPECT_NE(resumed.out.find("Training 4 runs together in shared launches"), std::string::npos) << resumed.out;
  for (const auto& entry : fs::directory_iterator(dir / "whole" / "models"))
    EXPECT_EQ(read_all(entry.path()), read_all(dir / "part" / "models" / entry.path().filename()))
        << entry.path().filename();
  EXPECT_EQ(read_all(dir / "whole" / "best.safetensors"), read_all(dir / "part" / "best.safetensors"));
}

#ifdef SIGMANET_HAVE_CUDA

// 105 records: 10 full batches of 10 and a partial one, which the persistent path runs as a launch of its own.
const Dataset& tiny_train() {
  static const Dataset d = synthetic_dataset("tiny", 105, 28, 28, 21);
  return d;
}

CudaOptions persistent(std::size_t chunk) {
  CudaOptions o;
  o.kernel = CudaOptions::Kernel::persistent;
  o.persistent_chunk = chunk;
  return o;
}

// A run of its own start, order, eta and lambda (an eta of NaN makes its second batch's outputs NaN).
struct RunSettings {
  std::uint64_t seed;
  double eta, lambda;
};

struct TestRun {
  std::unique_ptr<Backend> backend;
  std::vector<std::uint32_t> order;
};

TestRun make_run(const RunSettings& s, const CudaOptions& options, Cost cost = Cost::quadratic) {
  Rng rng(s.seed);
  Parameters p = init_parameters({784, 30, 10}, Init::standard, rng);
  p.output = output_activation(cost);
  TestRun run{make_backend(Device::gpu, Precision::f32, nullptr, options), rng.permutation(tiny_train().size())};
  run.backend->set_training_data(tiny_train());
  run.backend->set_parameters(p);
  run.backend->set_objective({cost, s.lambda});
  return run;
}

bool same_bits(const Parameters& a, const Parameters& b) { return a.weights == b.weights && a.biases == b.biases; }

TEST(GpuTrainTogether, EveryRunHasItsBitsAloneAndTheRunsShareOneLaunchAChunk) {
  SIGMANET_SKIP_WITHOUT_GPU();
  const std::vector<RunSettings> settings{{1, 3.0, 0.0}, {2, 0.5, 5.0}, {3, 1.0, 0.5},
                                          {4, std::numeric_limits<double>::quiet_NaN(), 0.0}};
  std::vector<Parameters> alone;
  std::vector<std::optional<std::size_t>> alone_bad;
  std::vector<std::size_t> alone_samples;
  for (const RunSettings& s : settings) {
    TestRun run = make_run(s, persistent(4));
    alone_samples.push_back(run.backend->train(run.order, 10, s.eta, {}));
    alone.push_back(run.backend->parameters());
    alone_bad.push_back(run.backend->nonfinite_batch());
  }
  ASSERT_EQ(alone_bad[3], std::optional<std::size_t>(1));
  ASSERT_EQ(alone_samples[3], 10u);

  std::vector<TestRun> runs;
  std::vector<RunTogether> together;
  std::vector<Backend*> backends;
  for (const RunSettings& s : settings) runs.push_back(make_run(s, persistent(4)));
  for (std::size_t i = 0; i < runs.size(); ++i) {
    together.push_back({runs[i].backend.get(), runs[i].order, settings[i].eta});
    backends.push_back(runs[i].backend.get());
  }
  ASSERT_TRUE(can_train_together(backends, 10));
  std::vector<std::size_t> seen;
  const TrainedTogether trained = train_together(together, 10, [&](std::size_t n) {
    seen.push_back(n);
    return true;
  });
  // 11 batches in chunks of 4: launches of 4, 4 and 2, and one of the partial batch, for all the runs; the
  // diverging run leaves after the first.
  EXPECT_EQ(trained.launches, 4u);
  EXPECT_EQ(seen.size(), 11u);
  EXPECT_EQ(seen.back(), 105u);
  EXPECT_EQ(trained.samples, alone_samples);
  for (std::size_t i = 0; i < runs.size(); ++i) {
    EXPECT_EQ(runs[i].backend->nonfinite_batch(), alone_bad[i]) << "run " << i;
    if (!alone_bad[i]) {
      EXPECT_TRUE(same_bits(runs[i].backend->parameters(), alone[i])) << "run " << i;
    }
  }
  EXPECT_FALSE(same_bits(alone[0], alone[1]));
}

TEST(GpuTrainTogether, AStopInsideAChunkStopsEveryRunAtThatBatch) {
  SIGMANET_SKIP_WITHOUT_GPU();
  const std::vector<RunSettings> settings{{5, 3.0, 0.0}, {6, 0.25, 1.0}};
  std::vector<TestRun> runs;
  std::vector<RunTogether> together;
  for (const RunSettings& s : settings) runs.push_back(make_run(s, persistent(4)));
  for (std::size_t i = 0; i < runs.size(); ++i) together.push_back({runs[i].backend.get(), runs[i].order, settings[i].eta});
  std::vector<std::size_t> seen;
  const TrainedTogether trained = train_together(together, 10, [&](std::size_t n) {
    seen.push_back(n);
    return n < 70;  // batch 7: inside the second chunk of 4
  });
  EXPECT_EQ(trained.samples, (std::vector<std::size_t>{70, 70}));
  EXPECT_EQ(trained.launches, 3u);  // two chunks, and the second again up to the stop
  EXPECT_EQ(seen, (std::vector<std::size_t>{10, 20, 30, 40, 50, 60, 70}));
  for (std::size_t i = 0; i < runs.size(); ++i) {
    const std::span<const std::uint32_t> rest = std::span<const std::uint32_t>(runs[i].order).subspan(70);
    runs[i].backend->train(rest, 10, settings[i].eta, {});
    TestRun whole = make_run(settings[i], persistent(4));
    whole.backend->train(whole.order, 10, settings[i].eta, {});
    EXPECT_TRUE(same_bits(runs[i].backend->parameters(), whole.backend->parameters())) << "run " << i;
  }
}

TEST(GpuTrainTogether, OnlyLikeBackendsOnThePersistentPathTrainTogether) {
  SIGMANET_SKIP_WITHOUT_GPU();
  const auto can = [](const std::vector<Backend*>& backends) { return can_train_together(backends, 10); };
  TestRun a = make_run({1, 3.0, 0.0}, persistent(4)), b = make_run({2, 0.5, 1.0}, persistent(4));
  EXPECT_TRUE(can({a.backend.get(), b.backend.get()}));
  EXPECT_FALSE(can({a.backend.get()})) << "one run";
  EXPECT_FALSE(can_train_together(std::vector<Backend*>{a.backend.get(), b.backend.get()}, 100)) << "batch 100";
  CudaOptions graph;
  graph.kernel = CudaOptions::Kernel::graph;
  TestRun g = make_run({3, 3.0, 0.0}, graph), h = make_run({4, 3.0, 0.0}, graph);
  EXPECT_FALSE(can({g.backend.get(), h.backend.get()})) << "the graph path";
  EXPECT_FALSE(can({a.backend.get(), g.backend.get()})) << "one on the graph path";
  TestRun other_chunk = make_run({5, 3.0, 0.0}, persistent(8));
  EXPECT_FALSE(can({a.backend.get(), other_chunk.backend.get()})) << "other options";
  TestRun cross_entropy = make_run({6, 3.0, 0.0}, persistent(4), Cost::cross_entropy);
  EXPECT_FALSE(can({a.backend.get(), cross_entropy.backend.get()})) << "another cost";
  TestRun other_data = make_run({7, 3.0, 0.0}, persistent(4));
  const Dataset copy = tiny_train().slice("copy", 0, tiny_train().size());
  other_data.backend->set_training_data(copy);
  EXPECT_FALSE(can({a.backend.get(), other_data.backend.get()})) << "another training set";
  auto cpu = make_backend(Device::cpu, Precision::f32);
  EXPECT_FALSE(can({a.backend.get(), cpu.get()})) << "a CPU backend";
  std::vector<Backend*> too_many(kMaxRunsTogether + 1, a.backend.get());
  EXPECT_FALSE(can(too_many)) << "more than a launch takes";
  const std::vector<RunTogether> mixed{{a.backend.get(), a.order, 3.0}, {g.backend.get(), g.order, 3.0}};
  EXPECT_NE(test::thrown<Error>([&] { train_together(mixed, 10, {}); }).find("cannot train together"), std::string::npos);
}

#endif  // SIGMANET_HAVE_CUDA

}  // namespace
}  // namespace sigmanet
