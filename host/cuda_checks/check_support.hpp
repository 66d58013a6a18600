#pragma once
// What the kernel checks share (kernel_checks.cpp, layer_checks.cpp, chapter3_checks.cpp): a stream, a cuBLAS
// handle set as the backend sets its own, the seeded generator, the table of results, and host <-> device copies.
// Parameters and inputs are rounded to float before either side sees them, so what is measured is the
// arithmetic alone.
#include <algorithm>
#include <cmath>
#include <concepts>
#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <vector>

#include "cuda/cuda_resources.hpp"
#include "cuda_check.hpp"
#include "sigmanet/random.hpp"
#include "oracle/equivalence.hpp"

namespace sigmanet::cuda_checks {

using cuda::DeviceBuffer;

constexpr double kKernelTolerance = 1e-5;  // float arithmetic against double: measured errors sit near 1e-7
// An update's change is small beside the weights it lands on (3e-3 x gradient at m = 1000), so rounding the
// new float weights alone costs up to ~1e-5 of the change; a wrong scale or transpose costs 1e-1 or more.
constexpr double kUpdateTolerance = 1e-4;
constexpr float kEta = 3.0f;
// L2 as chapter 3 has it for MNIST (lambda 5), over a set small enough that the decay, 1 - 3 * 5 / 1000 = 0.985,
// moves the weights as much as the gradient does.
constexpr double kLambda = 5.0;
constexpr std::size_t kL2SetSize = 1000;

inline std::vector<float> to_float(std::span<const double> v) { return {v.begin(), v.end()}; }

inline std::vector<double> rounded_to_float(std::vector<double> v) {
  for (double& x : v) x = double(float(x));
  return v;
}

// Doubles always go to the device as float (the overload below), whether they come from Parameters or from
// the oracle's buffers; every other type goes as it is.
template <class T>
  requires(!std::same_as<T, double>)
DeviceBuffer<T> to_device(const std::vector<T>& host, cudaStream_t s) {
  DeviceBuffer<T> d(host.size());
  SIGMANET_CUDA_CHECK(cudaMemcpyAsync(d.get(), host.data(), host.size() * sizeof(T), cudaMemcpyHostToDevice, s));
  SIGMANET_CUDA_CHECK(cudaStreamSynchronize(s));
  return d;
}

inline DeviceBuffer<float> to_device(std::span<const double> host, cudaStream_t s) {
  return to_device(to_float(host), s);
}

template <class T>
std::vector<T> to_host(const DeviceBuffer<T>& d, cudaStream_t s) {
  std::vector<T> host(d.size());
  SIGMANET_CUDA_CHECK(cudaMemcpyAsync(host.data(), d.get(), host.size() * sizeof(T), cudaMemcpyDeviceToHost, s));
  SIGMANET_CUDA_CHECK(cudaStreamSynchronize(s));
  return host;
}

inline std::vector<double> as_double(const std::vector<float>& v) { return {v.begin(), v.end()}; }

// " m=10": a stage's batch, as the table names it.
inline std::string tag(std::size_t m) { return " m=" + std::to_string(m); }

// One line per stage, each holding the worst result over every case run under that name.
class Table {
 public:
  void add(const std::string& stage, Comparison c, double tolerance, bool judged_by_abs = false) {
    for (StageCheck& check : checks_)
      if (check.stage == stage) {
        check.result = {worst(check.result.max_abs, c.max_abs), worst(check.result.relative, c.relative)};
        return;
      }
    checks_.push_back({stage, c, tolerance, judged_by_abs});
  }
  void add_values(const std::string& stage, const std::vector<float>& got, std::span<const double> ref,
                  double tolerance = kKernelTolerance) {
    add(stage, compare(std::span<const float>(got), ref), tolerance);
  }
  std::vector<StageCheck> take() { return std::move(checks_); }

 private:
  static double worst(double a, double b) {
    return std::isnan(a) || std::isnan(b) ? std::numeric_limits<double>::quiet_NaN() : std::max(a, b);
  }
  std::vector<StageCheck> checks_;
};

// A run of the kernel checks: its generator, stream, cuBLAS handle (no TF32, as the backend) and table.
struct KernelCheck {
  explicit KernelCheck(std::uint64_t seed) : rng(seed) {
    SIGMANET_CUDA_CHECK(cublasSetStream(blas.get(), stream.get()));
    SIGMANET_CUDA_CHECK(cublasSetMathMode(blas.get(), CUBLAS_DEFAULT_MATH));
  }
  Rng rng;
  cuda::Stream stream;
  cuda::CublasHandle blas;
  Table table;
};

// The gather, both ways it is used, for images `features` wide, at batch m (kernel_checks.cpp).
void check_gather(KernelCheck& c, std::size_t features, std::size_t m);
// The small-batch step's four kernels on a two-layer net at batch m (kernel_checks.cpp).
void check_small_step(KernelCheck& c, const std::vector<int>& sizes, std::size_t m);
// Every other kernel and SGEMM of chapter 1 and of a job's rank on a two-layer net at batch m, then chapter 3's
// on the same net and inputs (layer_checks.cpp).
void check_layers(KernelCheck& c, const std::vector<int>& sizes, std::size_t m);
// Chapter 3's kernels on parameters p, inputs x and labels at batch m (chapter3_checks.cpp).
void check_chapter_3(KernelCheck& c, const Parameters& p, const std::vector<double>& x,
                     const std::vector<std::uint8_t>& labels, std::size_t m);

}  // namespace sigmanet::cuda_checks
