#pragma once
// The CUDA backend's device model: what stays on the GPU between calls -- the network's parameters, the
// workspaces of activations and errors, the training set and the epoch's order, the step counter and the NaN/Inf
// flag -- and the one stream and cuBLAS handle every launch goes through, with the forward pass that training
// and evaluation share. It runs no training step: the drivers (training_driver.hpp) do, on it.
//
// A captured CUDA graph holds buffer addresses by value, so the model counts its allocations (generation()):
// a graph captured under an older count is stale.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "cuda_resources.hpp"
#include "kernels.hpp"
#include "sigmanet/backend.hpp"
#include "cuda_backend.hpp"
#include "sigmanet/error.hpp"

namespace sigmanet::cuda {

// No batch has had a NaN or Inf output: the flag's value at the start of a train() call.
constexpr unsigned kNoBadBatch = 0xFFFFFFFFu;

// Views of the first values of a device buffer, for the kernel and cuBLAS wrappers; the buffer must hold them.
template <class T>
kernels::BatchView<T> batch_view(const DeviceBuffer<T>& buffer, std::size_t samples, std::size_t features) {
  if (features != 0 && samples > buffer.size() / features)
    throw Error("CudaBackend: " + std::to_string(samples) + " samples x " + std::to_string(features) +
                " do not fit a buffer of " + std::to_string(buffer.size()));
  return {buffer.get(), samples, features};
}

template <class T>
kernels::VectorView<T> vector_view(const DeviceBuffer<T>& buffer, std::size_t size) {
  if (size > buffer.size())
    throw Error("CudaBackend: " + std::to_string(size) + " values do not fit a buffer of " +
                std::to_string(buffer.size()));
  return {buffer.get(), size};
}

struct DeviceLayer {
  int n_in = 0, n_out = 0;
  DeviceBuffer<float> w;  // n_out x n_in row-major, the Parameters layout
  DeviceBuffer<float> b;

  kernels::WeightView<float> weights() const { return {w.get(), std::size_t(n_out), std::size_t(n_in)}; }
  kernels::VectorView<float> bias() const { return vector_view(b, std::size_t(n_out)); }
};

// Activations (and, for training, errors) for up to `capacity` samples.
struct Workspace {
  std::size_t capacity = 0;
  std::vector<DeviceBuffer<float>> a;      // a[0] the input, a[l + 1] the output of layer l: sizes[l] x capacity
  std::vector<DeviceBuffer<float>> delta;  // delta[l] = dC/dz of layer l: sizes[l + 1] x capacity
  DeviceBuffer<std::uint8_t> labels;
};

// A set's features and labels on the device: its pixel bytes or its float values, as the Dataset has them.
struct DeviceData {
  DeviceBuffer<std::uint8_t> pixels, labels;
  DeviceBuffer<float> values;
  std::size_t records = 0;
};

// Records of some set on the device: images for pixel data, values for float values (the other one empty).
struct DeviceView {
  kernels::BatchView<const std::uint8_t> images;  // records x pixels
  kernels::BatchView<const float> values;         // records x features
  kernels::VectorView<const std::uint8_t> labels;
  bool has_values = false;

  DeviceView slice(std::size_t first, std::size_t count) const {
    return has_values ? DeviceView{{}, values.slice(first, count), labels.slice(first, count), true}
                      : DeviceView{images.slice(first, count), {}, labels.slice(first, count), false};
  }
};

// kernels::gather_batch and kernels::fused_gather_forward (the labels from data.labels) on a set's pixels or
// values, whichever it has.
void gather_batch(const DeviceView& data, kernels::VectorView<const std::uint32_t> order, const unsigned* step,
                  std::size_t batch, std::size_t first, kernels::BatchView<float> x,
                  kernels::VectorView<std::uint8_t> batch_labels, cudaStream_t stream);
void fused_gather_forward(const DeviceView& data, kernels::VectorView<const std::uint32_t> order,
                          const unsigned* step, std::size_t batch, kernels::WeightView<const float> w,
                          kernels::VectorView<const float> b, kernels::BatchView<float> x,
                          kernels::VectorView<std::uint8_t> batch_labels, kernels::BatchView<float> out,
                          cudaStream_t stream);

// What the persistent kernel must fit on the current device: its shared memory a block (opted in), and
// whether it has thread-block clusters (kernels::persistent_clusters_supported).
struct PersistentLimits {
  std::size_t shared_optin_bytes = 0;
  bool clusters = false;
};

class DeviceModel {
 public:
  explicit DeviceModel(const CudaOptions& options);
  ~DeviceModel();  // waits for queued work: it may still use the buffers
  DeviceModel(const DeviceModel&) = delete;
  DeviceModel& operator=(const DeviceModel&) = delete;

  const CudaOptions& options() const { return options_; }
  const std::string& device_name() const { return device_name_; }
  const PersistentLimits& persistent_limits() const { return limits_; }
  cudaStream_t stream() const { return stream_.get(); }
  cublasHandle_t blas() const { return blas_.get(); }
  void synchronize() const { stream_.synchronize(); }
  // Changes whenever a buffer that a captured step may hold is allocated anew.
  std::uint64_t generation() const { return generation_; }

  // ---- the parameters ----
  void set_parameters(const Parameters& p);
  Parameters parameters() const;
  void require_parameters() const;  // throws Error before the first set_parameters
  const std::vector<int>& sizes() const { return sizes_; }
  Activation output() const { return output_; }
  const std::vector<DeviceLayer>& layers() const { return layers_; }

  // ---- the training set, the epoch's order, other sets ----
  void set_training_data(const Dataset& train);
  const Dataset* training_data() const { return train_; }
  std::size_t training_records() const { return train_data_.records; }
  kernels::BatchView<const std::uint8_t> train_images() const;  // pixel data only
  kernels::VectorView<const std::uint8_t> train_labels() const;
  DeviceView training_view() const;  // the whole training set, pixels or values
  void upload_order(std::span<const std::uint32_t> order);
  kernels::VectorView<const std::uint32_t> order() const { return vector_view(order_, order_count_); }
  // Records [first, first + count) of data on the device: the training set's copy when data is the training
  // set, else a fresh upload of just those records.
  DeviceView device_view(const Dataset& data, std::size_t first, std::size_t count);

  // ---- the device's step counter and NaN/Inf flag (the first bad batch, or kNoBadBatch) ----
  unsigned* step() const { return step_.get(); }
  unsigned* bad() const { return bad_.get(); }
  void reset_step();  // queued
  void reset_bad();   // queued
  unsigned read_bad();  // waits for the queued work

  // ---- workspaces and the forward pass ----
  // Makes the training workspace hold at least `samples` samples (it never shrinks).
  void reserve_training_workspace(std::size_t samples) { reserve(train_ws_, samples, true); }
  Workspace& training_workspace() { return train_ws_; }
  // m samples of layer l's activations in ws (l = 0: the input), and of the errors dC/dz of weight layer l.
  kernels::BatchView<float> activations(const Workspace& ws, std::size_t l, std::size_t m) const {
    return batch_view(ws.a[l], m, std::size_t(sizes_[l]));
  }
  kernels::BatchView<float> errors(const Workspace& ws, std::size_t l, std::size_t m) const {
    return batch_view(ws.delta[l], m, std::size_t(sizes_[l + 1]));
  }
  // Whether a batch of m takes the fused forward kernel (CudaOptions::forward).
  bool use_fused_forward(std::size_t m) const;
  // ws.a[0] holds m inputs; leaves every layer's activations in ws.a.
  void forward(Workspace& ws, std::size_t m);
  // Forward over view's records [0, count) in chunks, calling f(start, the chunk's output activations).
  template <class F>
  void for_each_chunk(const DeviceView& view, std::size_t count, F&& f) {
    reserve(eval_ws_, std::min(kGpuEvaluationChunk, count), false);
    for (std::size_t start = 0; start < count; start += kGpuEvaluationChunk) {
      const std::size_t m = std::min(kGpuEvaluationChunk, count - start);
      gather_batch(view, {}, nullptr, 0, start, activations(eval_ws_, 0, m), {}, stream());
      forward(eval_ws_, m);
      f(start, activations(eval_ws_, layers_.size(), m));
    }
  }

 private:
  void reserve(Workspace& ws, std::size_t samples, bool training);
  void upload_as_float(float* device, const std::vector<double>& values);
  std::vector<double> download(const float* device, std::size_t count) const;
  DeviceData upload(const Dataset& data, std::size_t first, std::size_t count);

  CudaOptions options_;
  std::string device_name_;
  PersistentLimits limits_;
  Stream stream_;
  DeviceBuffer<std::uint8_t> blas_workspace_;  // declared before the handle, so it outlives it
  CublasHandle blas_;
  std::uint64_t generation_ = 0;

  std::vector<int> sizes_;
  Activation output_ = Activation::sigmoid;
  std::vector<DeviceLayer> layers_;

  const Dataset* train_ = nullptr;
  const void* train_features_ = nullptr;  // the training set's pixels or values, where they were uploaded from
  std::size_t train_size_ = 0;
  DeviceData train_data_, other_data_;
  DeviceBuffer<std::uint32_t> order_;
  std::size_t order_count_ = 0;  // the uploaded order's length (order_ may be longer)
  Workspace train_ws_, eval_ws_;

  DeviceBuffer<unsigned> step_{1};  // the batch number within a train() call, advanced on the device
  DeviceBuffer<unsigned> bad_{1};   // the first batch with a NaN/Inf output, or kNoBadBatch
};

}  // namespace sigmanet::cuda
