// Many runs in one launch of the persistent kernel (kernels::persistent_train_runs): a cluster a run, each with its
// own parameters, order, eta (scale) and weight decay. Each run's parameters after the launch equal, bit for bit,
// those of the same run launched alone (kernels::persistent_train) with the same cluster size; a run that diverges
// stops alone; bad tables are refused.
#include <gtest/gtest.h>

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "gpu_support.hpp"
#include "oracle/equivalence.hpp"
#include "sigmanet/error.hpp"
#include "sigmanet/random.hpp"

#ifdef SIGMANET_HAVE_CUDA
#include "cuda/cuda_resources.hpp"
#include "cuda_check.hpp"
#include "kernels.hpp"
#endif

namespace sigmanet {
namespace {

#ifdef SIGMANET_HAVE_CUDA

// One run's settings: its start (from seed), its order (from seed too), scale and decay.
struct RunSettings {
  std::uint64_t seed;
  float scale, decay;
  bool diverges = false;  // a NaN planted in the output layer's biases: its first step's outputs are NaN
};

// A run's parameters, order and NaN report on the device.
struct DeviceRun {
  std::vector<cuda::DeviceBuffer<float>> w, b;
  cuda::DeviceBuffer<std::uint32_t> order;
  cuda::DeviceBuffer<unsigned> bad{1};
  float scale = 0.0f, decay = 1.0f;
};

template <class T>
void upload(const cuda::DeviceBuffer<T>& to, const std::vector<T>& from) {
  SIGMANET_CUDA_CHECK(cudaMemcpy(to.get(), from.data(), from.size() * sizeof(T), cudaMemcpyHostToDevice));
}
template <class T>
std::vector<T> download(const cuda::DeviceBuffer<T>& from) {
  std::vector<T> to(from.size());
  SIGMANET_CUDA_CHECK(cudaMemcpy(to.data(), from.get(), to.size() * sizeof(T), cudaMemcpyDeviceToHost));
  return to;
}

// The run's start and order, drawn from its seed, uploaded afresh (so that a run can be trained twice from the same
// start: alone and beside the others).
DeviceRun make_run(const std::vector<int>& sizes, std::size_t samples, const RunSettings& settings) {
  Rng rng(settings.seed);
  DeviceRun run;
  for (std::size_t l = 0; l + 1 < sizes.size(); ++l) {
    std::vector<float> w(std::size_t(sizes[l + 1]) * std::size_t(sizes[l])), b(std::size_t(sizes[l + 1]));
    for (float& v : w) v = float(rng.normal() / std::sqrt(double(sizes[l])));
    for (float& v : b) v = float(rng.normal());
    if (settings.diverges && l + 2 == sizes.size()) b[0] = std::numeric_limits<float>::quiet_NaN();
    run.w.emplace_back(w.size());
    run.b.emplace_back(b.size());
    upload(run.w.back(), w);
    upload(run.b.back(), b);
  }
  const std::vector<std::uint32_t> order = rng.permutation(samples);
  run.order = cuda::DeviceBuffer<std::uint32_t>(order.size());
  upload(run.order, order);
  upload(run.bad, std::vector<unsigned>{UINT_MAX});
  run.scale = settings.scale;
  run.decay = settings.decay;
  return run;
}

kernels::PersistentRun table_entry(const DeviceRun& run) {
  kernels::PersistentRun entry;
  for (std::size_t l = 0; l < run.w.size(); ++l) {
    entry.w[l] = run.w[l].get();
    entry.b[l] = run.b[l].get();
  }
  entry.order = run.order.get();
  entry.scale = run.scale;
  entry.decay = run.decay;
  entry.bad = run.bad.get();
  return entry;
}

kernels::PersistentNet net_of(const std::vector<int>& sizes, Activation output) {
  kernels::PersistentNet net;
  net.layers = int(sizes.size()) - 1;
  for (std::size_t l = 0; l < sizes.size(); ++l) net.sizes[l] = sizes[l];
  net.output = output;
  return net;
}

// Every layer's W and b, one vector after another, and the run's NaN report last.
struct Trained {
  std::vector<std::vector<float>> parameters;
  unsigned bad = 0;
};
Trained trained(const DeviceRun& run) {
  Trained t;
  for (std::size_t l = 0; l < run.w.size(); ++l) {
    t.parameters.push_back(download(run.w[l]));
    t.parameters.push_back(download(run.b[l]));
  }
  t.bad = download(run.bad)[0];
  return t;
}

bool same_bits(const Trained& a, const Trained& b) {
  if (a.parameters.size() != b.parameters.size() || a.bad != b.bad) return false;
  for (std::size_t k = 0; k < a.parameters.size(); ++k)
    if (a.parameters[k].size() != b.parameters[k].size() ||
        std::memcmp(a.parameters[k].data(), b.parameters[k].data(), a.parameters[k].size() * sizeof(float)) != 0)
      return false;
  return true;
}

// The case: `runs` of one network on `data` at batch m for `steps` steps from record `first` of each order, in
// clusters of `blocks`; alone, one launch a run, and together, one launch. Returns each run's pair.
struct Case {
  const Dataset& data;
  std::vector<int> sizes;
  Cost cost;
  std::size_t m, steps, first;
  int blocks;
};
std::vector<std::pair<Trained, Trained>> alone_and_together(const Case& c, const std::vector<RunSettings>& runs) {
  const Activation output = output_activation(c.cost);
  const kernels::PersistentNet shape = net_of(c.sizes, output);
  cuda::DeviceBuffer<std::uint8_t> images(c.data.pixels.size()), labels(c.data.labels.size());
  upload(images, c.data.pixels);
  upload(labels, c.data.labels);
  const kernels::BatchView<const std::uint8_t> image_view{images.get(), c.data.size(), c.data.features()};
  const kernels::VectorView<const std::uint8_t> label_view{labels.get(), c.data.size()};
  const unsigned first_batch = unsigned(c.first / c.m);

  std::vector<Trained> alone;
  for (const RunSettings& settings : runs) {
    const DeviceRun run = make_run(c.sizes, c.data.size(), settings);
    kernels::PersistentNet net = shape;
    const kernels::PersistentRun entry = table_entry(run);
    std::copy(std::begin(entry.w), std::end(entry.w), std::begin(net.w));
    std::copy(std::begin(entry.b), std::end(entry.b), std::begin(net.b));
    kernels::persistent_train(net, image_view, label_view, {run.order.get(), run.order.size()}, c.first, c.m, c.steps,
                              {run.scale, run.decay, c.cost}, first_batch, run.bad.get(), nullptr, c.blocks);
    SIGMANET_CUDA_CHECK(cudaDeviceSynchronize());
    alone.push_back(trained(run));
  }

  std::vector<DeviceRun> together;
  std::vector<kernels::PersistentRun> table;
  for (const RunSettings& settings : runs) together.push_back(make_run(c.sizes, c.data.size(), settings));
  for (const DeviceRun& run : together) table.push_back(table_entry(run));
  kernels::persistent_train_runs(shape, image_view, label_view, table.data(), int(table.size()), c.data.size(),
                                 c.first, c.m, c.steps, c.cost, first_batch, nullptr, c.blocks);
  SIGMANET_CUDA_CHECK(cudaDeviceSynchronize());

  std::vector<std::pair<Trained, Trained>> pairs;
  for (std::size_t r = 0; r < runs.size(); ++r) pairs.emplace_back(alone[r], trained(together[r]));
  return pairs;
}

// Three runs of different etas, weight decays (1: no L2) and seeds (so starts and orders).
const std::vector<RunSettings> kThreeRuns = {{31, 3.0f / 10, 1.0f}, {32, 0.5f / 10, 0.99995f}, {33, 0.1f / 10, 0.9999f}};

TEST(GpuPersistentRuns, EachRunOfALaunchHasTheBitsOfItsRunAlone) {
  SIGMANET_SKIP_WITHOUT_GPU();
  const Dataset mnist_like = synthetic_dataset("synthetic", 200, 28, 28, 11);
  const Dataset odd = synthetic_dataset("odd", 150, 27, 29, 12);
  // 784-30-10 at batch 10 (one block and the cluster of 4 a GPU's rule gives it), from the chunk's start and
  // from its fourth batch; an odd network of three layers at batch 7 with cross-entropy, and with softmax and
  // log-likelihood, in clusters of 3.
  const std::vector<Case> cases = {
      {mnist_like, {784, 30, 10}, Cost::quadratic, 10, 4, 0, 1},
      {mnist_like, {784, 30, 10}, Cost::quadratic, 10, 4, 30, 4},
      {odd, {783, 17, 13, 10}, Cost::cross_entropy, 7, 3, 0, 3},
      {odd, {783, 17, 13, 10}, Cost::log_likelihood, 7, 3, 7, 3},
  };
  for (const Case& c : cases) {
    const auto pairs = alone_and_together(c, kThreeRuns);
    for (std::size_t r = 0; r < pairs.size(); ++r) {
      EXPECT_TRUE(same_bits(pairs[r].first, pairs[r].second))
          << "run " << r << " of " << c.sizes.size() - 1 << " layers, batch " << c.m << ", " << to_string(c.cost)
          << ", " << c.blocks << " blocks";
      EXPECT_EQ(pairs[r].second.bad, UINT_MAX) << "run " << r;
    }
    // The runs trained differently (a launch that gave every cluster run 0 would fail the bits above; this
    // says the runs are not the same run).
    EXPECT_NE(pairs[0].second.parameters, pairs[1].second.parameters);
  }
}

TEST(GpuPersistentRuns, ARunThatDivergesStopsAloneAtItsStep) {
  SIGMANET_SKIP_WITHOUT_GPU();
  const Dataset data = synthetic_dataset("synthetic", 120, 28, 28, 13);
  std::vector<RunSettings> runs = kThreeRuns;
  runs[1].diverges = true;
  const Case c{data, {784, 30, 10}, Cost::quadratic, 10, 3, 20, 2};
  const auto pairs = alone_and_together(c, runs);
  for (std::size_t r = 0; r < pairs.size(); ++r)
    EXPECT_TRUE(same_bits(pairs[r].first, pairs[r].second)) << "run " << r;
  // The first batch of the launch is batch 2 (record 20 at batch 10): the diverging run reports it, the others
  // nothing, and their steps all ran (their bits are those of their whole launch alone).
  EXPECT_EQ(pairs[1].second.bad, 2u);
  EXPECT_EQ(pairs[0].second.bad, UINT_MAX);
  EXPECT_EQ(pairs[2].second.bad, UINT_MAX);
}

TEST(GpuPersistentRuns, TablesOfNoRunsTooManyOrAMissingPointerAreRefused) {
  SIGMANET_SKIP_WITHOUT_GPU();
  const Dataset data = synthetic_dataset("synthetic", 20, 28, 28, 14);
  cuda::DeviceBuffer<std::uint8_t> images(data.pixels.size()), labels(data.labels.size());
  const kernels::BatchView<const std::uint8_t> image_view{images.get(), data.size(), data.features()};
  const kernels::VectorView<const std::uint8_t> label_view{labels.get(), data.size()};
  const kernels::PersistentNet shape = net_of({784, 30, 10}, Activation::sigmoid);
  const DeviceRun run = make_run({784, 30, 10}, data.size(), kThreeRuns[0]);
  std::vector<kernels::PersistentRun> table(kernels::kPersistentMaxRuns + 1, table_entry(run));
  const auto refusal = [&](int count) {
    try {
      kernels::persistent_train_runs(shape, image_view, label_view, table.data(), count, data.size(), 0, 10, 1,
                                     Cost::quadratic, 0, nullptr, 1);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  EXPECT_NE(refusal(0).find("1 to 32 runs"), std::string::npos) << refusal(0);
  EXPECT_NE(refusal(kernels::kPersistentMaxRuns + 1).find("1 to 32 runs"), std::string::npos);
  table[1].order = nullptr;
  EXPECT_NE(refusal(2).find("null pointer"), std::string::npos) << refusal(2);
  table[1] = table_entry(run);
  table[1].b[1] = nullptr;
  EXPECT_NE(refusal(2).find("bad layer"), std::string::npos) << refusal(2);
}

#else

TEST(GpuPersistentRuns, NeedsACudaBuild) { GTEST_SKIP() << "this build of sigmanet has no CUDA backend"; }

#endif

}  // namespace
}  // namespace sigmanet
