// Each CUDA kernel and cuBLAS call against the oracle (on a GPU), and the parts that need no GPU:
// the launch wrappers' argument and shape checks, error messages, and the behaviour without a device.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <set>
#include <type_traits>

#include "sigmanet/backends/factory.hpp"
#include "gpu_support.hpp"
#include "oracle/equivalence.hpp"
#include "test_support.hpp"
#include "sigmanet/error.hpp"

#ifdef SIGMANET_HAVE_CUDA
#include "cuda/cuda_backend.hpp"
#include "cuda/cuda_blas.hpp"
#include "cuda/cuda_resources.hpp"
#include "cuda_check.hpp"
#include "kernels.hpp"
#include "cuda_checks/cuda_checks.hpp"
#ifndef SIGMANET_TEST_EMULATED_GPU
#include "cuda_on_demand/cublas_on_demand.hpp"
#endif
#endif

namespace sigmanet {
namespace {

#ifdef SIGMANET_HAVE_CUDA

void expect_all_ok(const std::vector<StageCheck>& checks) {
  for (const StageCheck& c : checks) EXPECT_TRUE(c.ok()) << c.stage;
  if (!all_ok(checks)) ADD_FAILURE() << "\n" << format_checks(checks);
}

TEST(GpuKernels, EachKernelMatchesTheCpuReferenceAtBatches1_7_10_1000) {
  SIGMANET_SKIP_WITHOUT_GPU();
  // One seed on the emulator, where batch 1000 of every kernel is slow.
  for (std::uint64_t seed :
       test::kEmulatedEpochSamples ? std::vector<std::uint64_t>{1} : std::vector<std::uint64_t>{1, 2}) {
    const std::vector<StageCheck> checks = cuda_kernel_checks(seed);
    expect_all_ok(checks);
    // Every stage at every batch size is there: a check that silently stopped running would show here.
    std::set<std::string> stages;
    for (const StageCheck& c : checks) stages.insert(c.stage);
    EXPECT_EQ(stages.size(), checks.size());
    // 10 stages of chapter 1 and 9 of chapter 3 (softmax both ways, two output errors, three costs, argmax, L2);
    // at m=10 also 5 of a job's rank (the two gradients alone, the two updates from the sum, the NaN/Inf flag);
    // up to m=64, 8 of the small-batch step (gathered x and labels, its first layer, the output layer and its
    // error, the hidden error, the two updates, the counter and flag).
    EXPECT_EQ(checks.size(), 19u * 4u + 5u + 8u * 3u);
    for (const char* m : {" m=1", " m=7", " m=10", " m=1000"}) {
      std::size_t with_m = 0;
      for (const std::string& s : stages) with_m += s.size() >= std::string(m).size() && s.ends_with(m);
      const std::size_t small_step = std::string(m) == " m=1000" ? 0u : 8u;
      EXPECT_EQ(with_m, (std::string(m) == " m=10" ? 24u : 19u) + small_step) << m;
    }
  }
}

TEST(GpuKernels, BiasSoftmaxRowsSumToOneAtZOfPlusMinus1000) {
  SIGMANET_SKIP_WITHOUT_GPU();
  // Rows of 10 whose z + b reach +-1000, where e^z overflows float: all large, alternating, all equal.
  const std::size_t m = 4, n = 10;
  std::vector<float> z(m * n), b(n);
  for (std::size_t j = 0; j < n; ++j) {
    b[j] = float(j) * 0.5f;
    z[0 * n + j] = 1000.0f - float(j);
    z[1 * n + j] = j % 2 ? -1000.0f : 1000.0f;
    z[2 * n + j] = -1000.0f - b[j];
    z[3 * n + j] = float(j) / 7.0f - 1.0f;  // an ordinary row
  }
  // The oracle's softmax, in double.
  std::vector<double> expected(m * n);
  for (std::size_t s = 0; s < m; ++s) {
    double top = -INFINITY, sum = 0;
    for (std::size_t j = 0; j < n; ++j) top = std::max(top, double(z[s * n + j]) + double(b[j]));
    for (std::size_t j = 0; j < n; ++j) sum += std::exp(double(z[s * n + j]) + double(b[j]) - top);
    for (std::size_t j = 0; j < n; ++j) expected[s * n + j] = std::exp(double(z[s * n + j]) + double(b[j]) - top) / sum;
  }
  cuda::Stream stream;
  cuda::DeviceBuffer<float> a_d(m * n), b_d(n);
  SIGMANET_CUDA_CHECK(cudaMemcpy(a_d.get(), z.data(), z.size() * sizeof(float), cudaMemcpyHostToDevice));
  SIGMANET_CUDA_CHECK(cudaMemcpy(b_d.get(), b.data(), b.size() * sizeof(float), cudaMemcpyHostToDevice));
  kernels::bias_softmax({a_d.get(), m, n}, {b_d.get(), n}, stream.get());
  std::vector<float> a(m * n);
  SIGMANET_CUDA_CHECK(cudaStreamSynchronize(stream.get()));
  SIGMANET_CUDA_CHECK(cudaMemcpy(a.data(), a_d.get(), a.size() * sizeof(float), cudaMemcpyDeviceToHost));
  for (std::size_t s = 0; s < m; ++s) {
    double sum = 0;
    for (std::size_t j = 0; j < n; ++j) {
      ASSERT_TRUE(std::isfinite(a[s * n + j])) << "row " << s << " value " << j;
      EXPECT_NEAR(a[s * n + j], expected[s * n + j], 1e-6) << "row " << s << " value " << j;
      sum += a[s * n + j];
    }
    EXPECT_NEAR(sum, 1.0, 1e-6) << "row " << s;
  }
  EXPECT_NEAR(a[2 * n], 0.1, 1e-7);  // ten equal values
}

// ---- no GPU needed: these run on every machine with a CUDA build ----

TEST(GpuKernels, LaunchWrappersRefuseBadArgumentsBeforeLaunching) {
  float f[4] = {};
  float* p = f;  // never dereferenced: the checks throw before any launch
  const std::uint8_t byte = 0;
  EXPECT_THROW(kernels::fused_forward({nullptr, 2, 3}, {p, 2}, {p + 1, 1, 3}, {p + 2, 1, 2}, nullptr), Error);
  EXPECT_THROW(kernels::fused_forward({p, 2, 0}, {p, 2}, {p + 1, 1, 0}, {p + 2, 1, 2}, nullptr), Error);
  EXPECT_THROW(kernels::fused_forward({p, 2, 2}, {p, 2}, {p + 1, 1, 2}, {p + 1, 1, 2}, nullptr), Error);  // in place
  EXPECT_THROW(kernels::bias_sigmoid({p, 1, 3}, {nullptr, 3}, nullptr), Error);
  EXPECT_THROW(kernels::bias_sigmoid({p, 1, 0}, {p, 0}, nullptr), Error);
  EXPECT_THROW(kernels::output_delta(Cost::quadratic, {p, 1, 10}, {nullptr, 1}, nullptr, nullptr, {p, 1, 10}, nullptr), Error);
  EXPECT_THROW(kernels::hidden_delta({nullptr, 1, 3}, {p, 1, 3}, nullptr), Error);
  EXPECT_THROW(kernels::bias_update({p, 1, 0}, 1.0f, {p, 0}, {}, nullptr), Error);
  EXPECT_THROW(kernels::gather_batch({&byte, 1, 0}, {}, {}, nullptr, 0, 0, {p, 1, 0}, {}, nullptr), Error);
  std::uint8_t label_out = 0;  // labels asked for without a label array to read them from
  EXPECT_THROW(kernels::gather_batch({&byte, 1, 4}, {}, {}, nullptr, 0, 0, {p, 1, 4}, {&label_out, 1}, nullptr), Error);
  EXPECT_THROW(kernels::argmax_cost(Cost::quadratic, {p, 1, 10}, {&byte, 1}, {nullptr, 1}, {nullptr, 1}, nullptr), Error);
  EXPECT_THROW(kernels::advance_counter(nullptr, nullptr), Error);
  // Chapter 3's wrappers.
  EXPECT_THROW(kernels::fused_weighted_sum({nullptr, 2, 3}, {p + 1, 1, 3}, {p + 2, 1, 2}, nullptr), Error);
  EXPECT_THROW(kernels::fused_weighted_sum({p, 2, 2}, {p + 1, 1, 2}, {p + 1, 1, 2}, nullptr), Error);  // in place
  EXPECT_THROW(kernels::fused_weighted_sum({p, 0, 2}, {p + 1, 1, 2}, {p + 2, 1, 0}, nullptr), Error);
  EXPECT_THROW(kernels::bias_softmax({p, 1, 3}, {nullptr, 3}, nullptr), Error);
  EXPECT_THROW(kernels::bias_softmax({nullptr, 1, 3}, {p, 3}, nullptr), Error);
  EXPECT_THROW(kernels::bias_softmax({p, 1, 0}, {p, 0}, nullptr), Error);
  const auto no_such_cost = static_cast<Cost>(7);
  EXPECT_THROW(kernels::output_delta(no_such_cost, {p, 1, 1}, {&byte, 1}, nullptr, nullptr, {p, 1, 1}, nullptr), Error);
  EXPECT_THROW(kernels::output_delta(Cost::cross_entropy, {nullptr, 1, 1}, {&byte, 1}, nullptr, nullptr, {p, 1, 1},
                                     nullptr),
               Error);
  unsigned u = 0;
  double d = 0;
  EXPECT_THROW(kernels::argmax_cost(no_such_cost, {p, 1, 1}, {&byte, 1}, {&u, 1}, {&d, 1}, nullptr), Error);
  EXPECT_THROW(kernels::argmax_cost(Cost::log_likelihood, {p, 1, 1}, {nullptr, 1}, {&u, 1}, {&d, 1}, nullptr), Error);
  {
    kernels::PersistentNet net;  // one 4-1 layer
    net.layers = 1;
    net.sizes[0] = 4;
    net.sizes[1] = 1;
    net.w[0] = net.b[0] = p;
    const std::uint32_t record = 0;
    const auto train = [&](Cost cost, Activation output) {
      net.output = output;
      kernels::persistent_train(net, {&byte, 1, 4}, {&byte, 1}, {&record, 1}, 0, 1, 1, {1.0f, 1.0f, cost}, 0, &u,
                                nullptr);
    };
    const std::string mismatch = "the cost does not go with the output layer";
    for (const auto& [cost, output] : {std::pair{Cost::log_likelihood, Activation::sigmoid},
                                       std::pair{Cost::quadratic, Activation::softmax},
                                       std::pair{Cost::cross_entropy, Activation::softmax}}) {
      try {
        train(cost, output);
        ADD_FAILURE() << to_string(cost) << " with " << to_string(output) << ": no exception";
      } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find(mismatch), std::string::npos) << e.what();
      }
    }
    EXPECT_THROW(train(no_such_cost, Activation::sigmoid), Error);
    EXPECT_THROW(train(Cost::quadratic, static_cast<Activation>(5)), Error);
  }
  try {
    kernels::fused_forward({nullptr, 2, 3}, {p, 2}, {p, 1, 3}, {p, 1, 2}, nullptr);
    FAIL() << "no exception";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("kernels::fused_forward"), std::string::npos) << e.what();
  }
}

// The message of what `call` throws, or "no exception".
std::string message_of(const std::function<void()>& call) {
  try {
    call();
  } catch (const Error& e) {
    return e.what();
  }
  return "no exception";
}

TEST(GpuKernels, ShapesThatDoNotFitAreRefusedNamingTheWrapperTheRuleAndTheShapes) {
  float f[4] = {};
  float* p = f;  // never dereferenced: the shape checks come before anything else
  std::uint8_t bytes[4] = {};
  std::uint8_t* u8 = bytes;
  const std::uint32_t order = 0;
  unsigned u = 0;
  double d = 0;
  // A 784-30 layer: w is 30 outputs x 784 inputs, its input a batch of 10 samples x 784, its output 10 x 30.
  const kernels::WeightView<const float> w{p, 30, 784}, w_transposed{p, 784, 30};
  const kernels::VectorView<const float> b{p, 30};
  const kernels::BatchView<float> in{p, 10, 784}, out{p, 10, 30};

  // One message in full: the wrapper, the rule as written, and both arguments' shapes in their own terms.
  EXPECT_EQ(message_of([&] { kernels::fused_forward(w_transposed, b, in, out, nullptr); }),
            "kernels::fused_forward: shapes do not fit (w.inputs == in.features): w is weights of 784 outputs x 30 "
            "inputs, in is a batch of 10 samples x 784 features");

  kernels::PersistentNet net;  // one 784-30 layer
  net.layers = 1;
  net.sizes[0] = 784;
  net.sizes[1] = 30;
  net.w[0] = net.b[0] = p;
  struct Case {
    const char* wrapper_and_rule;
    std::function<void()> call;
  };
  const Case cases[] = {
      {"kernels::fused_forward: shapes do not fit (w.outputs == out.features)",
       [&] { kernels::fused_forward(w, b, in, {p, 10, 31}, nullptr); }},
      {"kernels::fused_forward: shapes do not fit (b.size == w.outputs)",
       [&] { kernels::fused_forward(w, {p, 29}, in, out, nullptr); }},
      {"kernels::fused_forward: shapes do not fit (out.samples == in.samples)",
       [&] { kernels::fused_forward(w, b, in, {p, 11, 30}, nullptr); }},
      {"kernels::bias_sigmoid: shapes do not fit (b.size == a.features): b is a vector of 30, a is a batch of 10 "
       "samples x 784 features",
       [&] { kernels::bias_sigmoid(in, b, nullptr); }},
      {"kernels::output_delta: shapes do not fit (labels.size == a.samples): labels is a vector of 9",
       [&] { kernels::output_delta(Cost::quadratic, out, {u8, 9}, nullptr, nullptr, out, nullptr); }},
      {"kernels::output_delta: shapes do not fit (labels.size == a.samples): labels is a vector of 9",
       [&] { kernels::output_delta(Cost::log_likelihood, out, {u8, 9}, nullptr, nullptr, out, nullptr); }},
      {"kernels::fused_weighted_sum: shapes do not fit (w.inputs == in.features): w is weights of 784 outputs x 30 "
       "inputs, in is a batch of 10 samples x 784 features",
       [&] { kernels::fused_weighted_sum(w_transposed, in, out, nullptr); }},
      {"kernels::fused_weighted_sum: shapes do not fit (w.outputs == z.features)",
       [&] { kernels::fused_weighted_sum(w, in, {p, 10, 31}, nullptr); }},
      {"kernels::fused_weighted_sum: shapes do not fit (z.samples == in.samples)",
       [&] { kernels::fused_weighted_sum(w, in, {p, 11, 30}, nullptr); }},
      {"kernels::bias_softmax: shapes do not fit (b.size == a.features): b is a vector of 30, a is a batch of 10 "
       "samples x 784 features",
       [&] { kernels::bias_softmax(in, b, nullptr); }},
      {"kernels::output_delta: shapes do not fit (delta.samples == a.samples && delta.features == a.features)",
       [&] { kernels::output_delta(Cost::quadratic, out, {u8, 10}, nullptr, nullptr, in, nullptr); }},
      {"kernels::hidden_delta: shapes do not fit (delta.samples == a.samples && delta.features == a.features): "
       "delta is a batch of 10 samples x 30 features, a is a batch of 10 samples x 784 features",
       [&] { kernels::hidden_delta(out, in, nullptr); }},
      {"kernels::bias_update: shapes do not fit (b.size == delta.features)",
       [&] { kernels::bias_update(in, 1.0f, {p, 30}, {}, nullptr); }},
      {"kernels::bias_update: shapes do not fit (!gradient.data || gradient.size == delta.features)",
       [&] { kernels::bias_update(out, 1.0f, {p, 30}, {p, 31}, nullptr); }},
      {"kernels::gather_batch: shapes do not fit (x.features == records.features): x is a batch of 10 samples x 784 "
       "features, records is a batch of 100 samples x 783 features",
       [&] { kernels::gather_batch({u8, 100, 783}, {}, {}, nullptr, 0, 0, in, {}, nullptr); }},
      {"kernels::gather_batch: shapes do not fit (!labels.data || labels.size == records.samples)",
       [&] { kernels::gather_batch({u8, 100, 784}, {u8, 99}, {}, nullptr, 0, 0, in, {u8, 10}, nullptr); }},
      {"kernels::gather_batch: shapes do not fit (!batch_labels.data || batch_labels.size == x.samples)",
       [&] { kernels::gather_batch({u8, 100, 784}, {u8, 100}, {}, nullptr, 0, 0, in, {u8, 11}, nullptr); }},
      {"kernels::gather_batch: records past the end of the order or images",
       [&] { kernels::gather_batch({u8, 100, 784}, {}, {}, nullptr, 0, 91, in, {}, nullptr); }},
      {"kernels::gather_batch: records past the end of the order or images",
       [&] { kernels::gather_batch({u8, 100, 784}, {}, {&order, 9}, nullptr, 0, 0, in, {}, nullptr); }},
      {"kernels::argmax_cost: shapes do not fit (labels.size == a.samples)",
       [&] { kernels::argmax_cost(Cost::quadratic, out, {u8, 11}, {&u, 10}, {&d, 10}, nullptr); }},
      {"kernels::argmax_cost: shapes do not fit (correct.size == a.samples)",
       [&] { kernels::argmax_cost(Cost::quadratic, out, {u8, 10}, {&u, 9}, {&d, 10}, nullptr); }},
      {"kernels::argmax_cost: shapes do not fit (cost.size == a.samples)",
       [&] { kernels::argmax_cost(Cost::quadratic, out, {u8, 10}, {&u, 10}, {&d, 1}, nullptr); }},
      {"kernels::sum_evaluation: shapes do not fit (correct.size == cost.size): correct is a vector of 3, cost is a "
       "vector of 2",
       [&] { kernels::sum_evaluation({&u, 3}, {&d, 2}, nullptr, nullptr); }},
      {"kernels::persistent_train: shapes do not fit (labels.size == images.samples)",
       [&] { kernels::persistent_train({}, {u8, 100, 784}, {u8, 10}, {&order, 1}, 0, 1, 1, {1.0f}, 0, &u, nullptr); }},
      {"kernels::persistent_train: images not as wide as the input layer",
       [&] { kernels::persistent_train(net, {u8, 100, 783}, {u8, 100}, {&order, 1}, 0, 1, 1, {1.0f}, 0, &u, nullptr); }},
      {"kernels::persistent_train: steps past the end of the order",
       [&] { kernels::persistent_train(net, {u8, 100, 784}, {u8, 100}, {&order, 1}, 0, 1, 2, {1.0f}, 0, &u, nullptr); }},
      {"kernels::persistent_train: a cluster of 1 to 8 blocks, each owning at least one copy piece of the inputs",
       [&] { kernels::persistent_train(net, {u8, 100, 784}, {u8, 100}, {&order, 1}, 0, 1, 1, {1.0f}, 0, &u, nullptr,
                                       9); }},
      {"kernels::persistent_train: a cluster of 1 to 8 blocks, each owning at least one copy piece of the inputs",
       [&] { kernels::persistent_train(net, {u8, 100, 784}, {u8, 100}, {&order, 1}, 0, 1, 1, {1.0f}, 0, &u, nullptr,
                                       0); }},
      {"cuda::gemm_forward: shapes do not fit (w.inputs == in.features)",
       [&] { cuda::gemm_forward(nullptr, w_transposed, in, out); }},
      {"cuda::gemm_forward: shapes do not fit (w.outputs == z.features)",
       [&] { cuda::gemm_forward(nullptr, w, in, in); }},
      {"cuda::gemm_forward: shapes do not fit (z.samples == in.samples)",
       [&] { cuda::gemm_forward(nullptr, w, in, {p, 1, 30}); }},
      {"cuda::gemm_backward: shapes do not fit (w.outputs == delta.features): w is weights of 30 outputs x 784 "
       "inputs, delta is a batch of 10 samples x 784 features",
       [&] { cuda::gemm_backward(nullptr, w, in, in); }},
      {"cuda::gemm_backward: shapes do not fit (w.inputs == back.features)",
       [&] { cuda::gemm_backward(nullptr, w, out, out); }},
      {"cuda::gemm_backward: shapes do not fit (back.samples == delta.samples)",
       [&] { cuda::gemm_backward(nullptr, w, out, {p, 9, 784}); }},
      {"cuda::gemm_update: shapes do not fit (w.inputs == in.features)",
       [&] { cuda::gemm_update(nullptr, out, in, 1.0f, 1.0f, {p, 30, 784}); }},
      {"cuda::gemm_update: shapes do not fit (w.outputs == delta.features)",
       [&] { cuda::gemm_update(nullptr, in, out, 1.0f, 1.0f, {p, 31, 784}); }},
      {"cuda::gemm_update: shapes do not fit (delta.samples == in.samples)",
       [&] { cuda::gemm_update(nullptr, in, {p, 9, 30}, 1.0f, 1.0f, {p, 30, 784}); }},
  };
  for (const Case& c : cases) {
    const std::string m = message_of(c.call);
    EXPECT_EQ(m.rfind(c.wrapper_and_rule, 0), 0u) << "expected: " << c.wrapper_and_rule << "\n     got: " << m;
  }
}

// The persistent kernel's fit rule and cluster size: the figures README and bench/RESULTS.md quote.
TEST(GpuKernels, PersistentFitAndClusterSize) {
  const auto net = [](std::vector<int> sizes) {
    kernels::PersistentNet n;
    n.layers = int(sizes.size()) - 1;
    for (std::size_t l = 0; l < sizes.size(); ++l) n.sizes[l] = sizes[l];
    return n;
  };
  const std::size_t h200 = 227 * 1024;
  // One block: 784-30-10 fits an H200's 232,448 bytes, 784-60-10 and 784-100-10 do not.
  EXPECT_EQ(kernels::persistent_shared_bytes(net({784, 30, 10}), 10), 174176u);
  EXPECT_EQ(kernels::persistent_shared_bytes(net({784, 60, 10}), 10), 278832u);
  EXPECT_EQ(kernels::persistent_shared_bytes(net({784, 100, 10}), 10), 486480u);
  // Split over clusters: each block's columns of W1, every other layer whole, and the exchange's buffers.
  EXPECT_EQ(kernels::persistent_shared_bytes(net({784, 30, 10}), 10, 4), 76128u);
  EXPECT_EQ(kernels::persistent_shared_bytes(net({784, 30, 10}), 10, 8), 68320u);
  EXPECT_EQ(kernels::persistent_shared_bytes(net({784, 60, 10}), 10, 8), 104880u);
  EXPECT_EQ(kernels::persistent_shared_bytes(net({784, 100, 10}), 10, 8), 166096u);
  EXPECT_EQ(kernels::persistent_shared_bytes(net({784, 60, 10}), 32, 8), 261984u);
  // The cluster: as many blocks (up to 8) as leave every warp a group of 4 columns of its block's share.
  EXPECT_EQ(kernels::persistent_cluster_blocks(net({784, 30, 10}), 10, h200, true), 8);
  EXPECT_EQ(kernels::persistent_cluster_blocks(net({784, 100, 10}), 10, h200, true), 8);
  EXPECT_EQ(kernels::persistent_cluster_blocks(net({64, 30, 10}), 10, h200, true), 1);  // 16 groups in all
  EXPECT_EQ(kernels::persistent_cluster_blocks(net({784, 100, 500, 10}), 10, h200, true), 0);
  // Without clusters: one block, or nothing.
  EXPECT_EQ(kernels::persistent_cluster_blocks(net({784, 30, 10}), 10, h200, false), 1);
  EXPECT_EQ(kernels::persistent_cluster_blocks(net({784, 100, 10}), 10, h200, false), 0);
  // Where the preferred size does not fit, the nearest that does: 784-60-10 at batch 32 needs 261,984 bytes a
  // block in 8, 243,552 in 4 (more than an H200's limit, less than a limit of 250 KB).
  EXPECT_EQ(kernels::persistent_cluster_blocks(net({784, 60, 10}), 32, 250 * 1024, true), 4);
  EXPECT_EQ(kernels::persistent_cluster_blocks(net({784, 60, 10}), 32, h200, true), 0);
  // Every block must own a 16-byte piece of each row: 64 inputs are 4 pieces.
  EXPECT_TRUE(kernels::persistent_blocks_can_share(net({64, 10}), 4));
  EXPECT_FALSE(kernels::persistent_blocks_can_share(net({64, 10}), 8));
  EXPECT_EQ(kernels::persistent_shared_bytes(net({64, 10}), 10, 8), 0u);
  // A warp a group of 32 first-layer neurons: at most 512 of them.
  EXPECT_TRUE(kernels::persistent_blocks_can_share(net({784, 512, 10}), 8));
  EXPECT_FALSE(kernels::persistent_blocks_can_share(net({784, 513, 10}), 8));
}

TEST(GpuKernels, TheSameShapesAreAcceptedAndAnEmptyBatchLaunchesNothing) {
  // Fitting shapes pass every shape check; 0 samples then return before the null data could matter.
  float f[4] = {};
  const kernels::WeightView<const float> w{f, 30, 784};
  const kernels::VectorView<const float> b{f, 30};
  const kernels::BatchView<float> in{nullptr, 0, 784}, out{nullptr, 0, 30};
  EXPECT_NO_THROW(kernels::fused_forward(w, b, in, out, nullptr));
  EXPECT_NO_THROW(kernels::bias_sigmoid(out, b, nullptr));
  EXPECT_NO_THROW(kernels::fused_weighted_sum(w, in, out, nullptr));
  EXPECT_NO_THROW(kernels::bias_softmax(out, b, nullptr));
  EXPECT_NO_THROW(cuda::gemm_forward(nullptr, w, in, out));
  EXPECT_NO_THROW(cuda::gemm_backward(nullptr, w, out, in));
  EXPECT_NO_THROW(cuda::gemm_update(nullptr, in, out, 1.0f, 1.0f, {f, 30, 784}));
  EXPECT_NO_THROW(kernels::output_delta(Cost::quadratic, out, {nullptr, 0}, nullptr, nullptr, out, nullptr));
  EXPECT_NO_THROW(kernels::sum_evaluation({}, {}, nullptr, nullptr));
}

TEST(GpuKernels, ViewsSliceBySamplesWithinTheirBounds) {
  float f[12] = {};
  const kernels::BatchView<float> batch{f, 4, 3};
  const kernels::BatchView<float> middle = batch.slice(1, 2);
  EXPECT_EQ(middle.data, f + 3);
  EXPECT_EQ(middle.samples, 2u);
  EXPECT_EQ(middle.features, 3u);
  EXPECT_EQ(batch.slice(4, 0).data, f + 12);
  EXPECT_EQ(batch.slice(4, 0).samples, 0u);
  const kernels::VectorView<float> vector{f, 12};
  EXPECT_EQ(vector.slice(5, 7).data, f + 5);
  EXPECT_EQ(vector.slice(5, 7).size, 7u);
  EXPECT_EQ(message_of([&] { batch.slice(3, 2); }), "BatchView::slice: samples [3, 3 + 2) past the view's 4");
  EXPECT_EQ(message_of([&] { batch.slice(5, 0); }), "BatchView::slice: samples [5, 5 + 0) past the view's 4");
  EXPECT_EQ(message_of([&] { vector.slice(0, 13); }), "VectorView::slice: values [0, 0 + 13) past the view's 12");
  // A view reads or writes; a read-only view is never handed where the wrapper writes, and a layout is its type.
  static_assert(std::is_convertible_v<kernels::BatchView<float>, kernels::BatchView<const float>>);
  static_assert(!std::is_convertible_v<kernels::BatchView<const float>, kernels::BatchView<float>>);
  static_assert(!std::is_convertible_v<kernels::WeightView<float>, kernels::BatchView<const float>>);
  static_assert(!std::is_convertible_v<kernels::BatchView<float>, kernels::WeightView<const float>>);
}

TEST(GpuKernels, ErrorsNameTheCallTheFileTheLineAndTheLibrarysMessage) {
  try {
    cuda::check(cudaErrorMemoryAllocation, "cudaMalloc(&p, n)", "host/somewhere.cpp", 42);
    FAIL() << "no exception";
  } catch (const Error& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("cudaMalloc(&p, n)"), std::string::npos) << m;
    EXPECT_NE(m.find("host/somewhere.cpp:42"), std::string::npos) << m;
    EXPECT_NE(m.find(cudaGetErrorString(cudaErrorMemoryAllocation)), std::string::npos) << m;
    EXPECT_NE(m.find("cudaErrorMemoryAllocation"), std::string::npos) << m;
  }
  EXPECT_NO_THROW(cuda::check(cudaSuccess, "x", "y", 1));
#ifndef SIGMANET_TEST_EMULATED_GPU
  // cuBLAS names its statuses itself, and is opened on demand: where it cannot be (a machine with the driver
  // alone), the message can only say so.
  if (std::string reason; !cuda::cublas_available(&reason)) GTEST_SKIP() << "cuBLAS cannot be opened: " << reason;
#endif
  try {
    cuda::check(CUBLAS_STATUS_INVALID_VALUE, "cublasSgemm(...)", "host/cuda_blas.cpp", 7);
    FAIL() << "no exception";
  } catch (const Error& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("cuBLAS error in cublasSgemm(...) at host/cuda_blas.cpp:7"), std::string::npos) << m;
    EXPECT_NE(m.find("CUBLAS_STATUS_INVALID_VALUE"), std::string::npos) << m;
  }
  EXPECT_NO_THROW(cuda::check(CUBLAS_STATUS_SUCCESS, "x", "y", 1));
}

TEST(GpuKernels, AFailedCallLeavesNoErrorForTheNextKernelsCheckToBlameOnItself) {
  SIGMANET_SKIP_WITHOUT_GPU();
  cuda::Stream stream;
  cuda::DeviceBuffer<unsigned> counter(1);
  ASSERT_EQ(cudaMemsetAsync(counter.get(), 0, sizeof(unsigned), stream.get()), cudaSuccess);
  // A refused runtime call records its error for cudaGetLastError too; the check that throws for it clears
  // it, or the next launch's check would report it as that kernel's failure.
  try {
    SIGMANET_CUDA_CHECK(cudaSetDevice(-1));
    FAIL() << "no exception";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("cudaSetDevice(-1)"), std::string::npos) << e.what();
  }
  EXPECT_EQ(cudaPeekAtLastError(), cudaSuccess);
  EXPECT_NO_THROW(kernels::advance_counter(counter.get(), stream.get()));
  // The same for a launch in clusters that cudaLaunchKernelEx refused (its error is left pending as well).
  ASSERT_EQ(cudaSetDevice(-1), cudaErrorInvalidDevice);
  try {
    cuda::throw_cluster_launch_error(cudaErrorInvalidClusterSize, "persistent_train_kernel", 16);
    FAIL() << "no exception";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("launching persistent_train_kernel in clusters of 16: "), std::string::npos)
        << e.what();
    EXPECT_NE(std::string(e.what()).find("cudaErrorInvalidClusterSize"), std::string::npos) << e.what();
  }
  EXPECT_EQ(cudaPeekAtLastError(), cudaSuccess);
  EXPECT_NO_THROW(kernels::advance_counter(counter.get(), stream.get()));
  stream.synchronize();
}

TEST(GpuKernels, WithoutADeviceTheReasonIsTheDrivers) {
  std::string reason;
  if (cuda_device_usable(&reason)) GTEST_SKIP() << "a GPU is present: this test is for machines without one";
  EXPECT_FALSE(reason.empty());
  EXPECT_FALSE(cuda_device_info().has_value());
  EXPECT_THROW(cuda_kernel_checks(1), Error);
  try {
    make_backend(Device::gpu, Precision::f32);
    FAIL() << "no exception";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find(reason), std::string::npos) << e.what();
  }
  std::string notice;
  auto cpu = make_backend(Device::automatic, Precision::f32, &notice);
  EXPECT_EQ(cpu->describe().rfind("cpu float", 0), 0u) << cpu->describe();
  EXPECT_NE(notice.find(reason), std::string::npos) << notice;
}

#ifdef SIGMANET_TEST_EMULATED_GPU
// Without NVIDIA's driver the runtime blames the driver's version ("CUDA driver version is insufficient for CUDA
// runtime version"), which sends a person to upgrade a driver that is not there: sigmanet says none was found, in
// the one line that gives the reason (--device gpu's refusal, --device auto's notice). A driver without a device
// keeps the runtime's words. The emulator stands for a machine without the driver when SIGMANET_EMULATE_GPU is
// empty, for one with the driver and no device when it is 0.
TEST(GpuKernels, WithoutADriverTheReasonIsThatNoNvidiaDriverWasFound) {
  const auto train = [](const std::string& device, const std::string& emulate) {
    return test::run_cli_argv({"train", "--device", device, "--epochs", "1", "--train-size", "100",
                               "--validation-size", "0", "--test-size", "100", "--data", test::mnist_dir().string()},
                              60, {{"SIGMANET_EMULATE_GPU", emulate}});
  };
  const test::CliRun refused = train("gpu", "");
  EXPECT_EQ(refused.status, 2);
  EXPECT_EQ(refused.err, "sigmanet: --device gpu: no usable GPU: no NVIDIA driver found\n");
  const test::CliRun fallback = train("auto", "");
  EXPECT_EQ(fallback.status, 0) << fallback.err;
  EXPECT_EQ(fallback.err, "sigmanet: no usable GPU, using the CPU: no NVIDIA driver found\n");
  EXPECT_EQ(fallback.out.rfind("Training 784-30-10 on cpu float", 0), 0u) << fallback.out;
  const test::CliRun no_device = train("gpu", "0");
  EXPECT_EQ(no_device.status, 2);
  EXPECT_EQ(no_device.err, "sigmanet: --device gpu: no usable GPU: no CUDA-capable device is detected\n");
}
#endif

// The backend's own refusal, which needs no device: make_backend asks for a usable GPU first.
TEST(GpuKernels, DoubleOnTheGpuIsRefusedNamingTheSettings) {
  try {
    make_cuda_backend(Precision::f64);
    FAIL() << "no exception";
  } catch (const SettingError& e) {
    EXPECT_EQ(e.setting(), Setting::precision);
    EXPECT_EQ(e.value(), "double");
    EXPECT_STREQ(e.what(), "precision double: the GPU backend computes in float; use device cpu for double");
  }
}

#else

TEST(GpuKernels, NeedACudaBuild) { GTEST_SKIP() << "this build of sigmanet has no CUDA backend"; }

#endif

}  // namespace
}  // namespace sigmanet
