// The CUDA backend's device model (device_model.hpp): its buffers, their transfers (rare: parameters, data sets,
// orders; each waits for its copy), and the forward pass.
#include "device_model.hpp"

#include "cuda_blas.hpp"
#include "cuda_check.hpp"

namespace sigmanet::cuda {
namespace {

// cuBLAS's workspace, given explicitly so that no SGEMM allocates while a graph is being captured
// (32 MiB is NVIDIA's recommendation for Hopper).
constexpr std::size_t kCublasWorkspaceBytes = std::size_t(32) << 20;
// Up to this batch the fused forward kernel beats SGEMM + epilogue (one launch instead of two, and no
// tiling overhead for a handful of columns).
constexpr std::size_t kFusedForwardMaxBatch = 64;

// Where a set's features lie on the host, pixels or values: a set uploaded from elsewhere is uploaded again.
const void* features_of(const Dataset& data) {
  return data.has_values() ? static_cast<const void*>(data.values.data()) : data.pixels.data();
}

// A view of a whole uploaded set of records x features.
DeviceView view_of(const DeviceData& d, std::size_t features, bool values) {
  if (values) return {{}, batch_view(d.values, d.records, features), vector_view(d.labels, d.records), true};
  return {batch_view(d.pixels, d.records, features), {}, vector_view(d.labels, d.records), false};
}

}  // namespace

DeviceModel::DeviceModel(const CudaOptions& options) : options_(options), blas_workspace_(kCublasWorkspaceBytes) {
  int device = 0;
  SIGMANET_CUDA_CHECK(cudaGetDevice(&device));
  cudaDeviceProp properties{};
  SIGMANET_CUDA_CHECK(cudaGetDeviceProperties(&properties, device));
  device_name_ = properties.name;
  limits_ = {properties.sharedMemPerBlockOptin, kernels::persistent_clusters_supported()};
  if (options_.persistent_blocks < 0 || options_.persistent_blocks > kernels::kPersistentMaxBlocks)
    throw Error("CudaOptions::persistent_blocks " + std::to_string(options_.persistent_blocks) +
                ": a cluster has 0 (chosen) to " + std::to_string(kernels::kPersistentMaxBlocks) + " blocks");
  // cublasSetStream resets the workspace to cuBLAS's own pool, so the workspace is set after it.
  SIGMANET_CUDA_CHECK(cublasSetStream(blas_.get(), stream_.get()));
  SIGMANET_CUDA_CHECK(cublasSetWorkspace(blas_.get(), blas_workspace_.get(), blas_workspace_.size()));
  SIGMANET_CUDA_CHECK(
      cublasSetMathMode(blas_.get(), options_.allow_tf32 ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_DEFAULT_MATH));
  SIGMANET_CUDA_CHECK(cublasSetPointerMode(blas_.get(), CUBLAS_POINTER_MODE_HOST));
  SIGMANET_CUDA_CHECK(cublasSetAtomicsMode(blas_.get(), CUBLAS_ATOMICS_NOT_ALLOWED));
}

DeviceModel::~DeviceModel() { cudaStreamSynchronize(stream_.get()); }

// ---- the parameters ----

void DeviceModel::set_parameters(const Parameters& p) {
  validate_parameters(p, "CudaBackend");
  if (p.sizes != sizes_) {
    synchronize();  // queued work may still use the old buffers
    ++generation_;
    train_ws_ = Workspace{};
    eval_ws_ = Workspace{};
    layers_.clear();
    sizes_ = p.sizes;
    for (std::size_t l = 0; l < p.layers(); ++l) {
      DeviceLayer layer;
      layer.n_in = sizes_[l];
      layer.n_out = sizes_[l + 1];
      layer.w = DeviceBuffer<float>(p.weights[l].size());
      layer.b = DeviceBuffer<float>(p.biases[l].size());
      layers_.push_back(std::move(layer));
    }
  }
  for (std::size_t l = 0; l < p.layers(); ++l) {
    upload_as_float(layers_[l].w.get(), p.weights[l]);
    upload_as_float(layers_[l].b.get(), p.biases[l]);
  }
  output_ = p.output;
}

Parameters DeviceModel::parameters() const {
  require_parameters();
  Parameters p;
  p.sizes = sizes_;
  p.output = output_;
  for (const DeviceLayer& layer : layers_) {
    p.weights.push_back(download(layer.w.get(), layer.w.size()));
    p.biases.push_back(download(layer.b.get(), layer.b.size()));
  }
  return p;
}

void DeviceModel::require_parameters() const {
  if (layers_.empty()) throw Error("CudaBackend: no parameters set");
}

void DeviceModel::upload_as_float(float* device, const std::vector<double>& values) {
  const std::vector<float> host(values.begin(), values.end());  // the CPU float network's conversion
  SIGMANET_CUDA_CHECK(
      cudaMemcpyAsync(device, host.data(), host.size() * sizeof(float), cudaMemcpyHostToDevice, stream_.get()));
  synchronize();  // host dies at the end of this scope
}

std::vector<double> DeviceModel::download(const float* device, std::size_t count) const {
  std::vector<float> host(count);
  SIGMANET_CUDA_CHECK(
      cudaMemcpyAsync(host.data(), device, count * sizeof(float), cudaMemcpyDeviceToHost, stream_.get()));
  synchronize();
  return {host.begin(), host.end()};
}

// ---- the training set, the epoch's order, other sets ----

void DeviceModel::set_training_data(const Dataset& train) {
  synchronize();  // queued work may still read the old set
  ++generation_;  // a captured step holds the old set's addresses
  train_data_ = DeviceData{};
  train_data_ = upload(train, 0, train.size());
  train_ = &train;
  train_features_ = features_of(train);
  train_size_ = train.size();
}

kernels::BatchView<const std::uint8_t> DeviceModel::train_images() const {
  return batch_view(train_data_.pixels, train_data_.records, train_->features());
}

kernels::VectorView<const std::uint8_t> DeviceModel::train_labels() const {
  return vector_view(train_data_.labels, train_data_.records);
}

DeviceView DeviceModel::training_view() const { return view_of(train_data_, train_->features(), train_->has_values()); }

void DeviceModel::upload_order(std::span<const std::uint32_t> order) {
  synchronize();  // the previous order may still be in use
  if (order_.size() < order.size()) {
    ++generation_;  // a captured step holds the old buffer's address
    order_ = DeviceBuffer<std::uint32_t>{};
    order_ = DeviceBuffer<std::uint32_t>(order.size());
  }
  SIGMANET_CUDA_CHECK(
      cudaMemcpyAsync(order_.get(), order.data(), order.size_bytes(), cudaMemcpyHostToDevice, stream_.get()));
  synchronize();
  order_count_ = order.size();
}

DeviceData DeviceModel::upload(const Dataset& data, std::size_t first, std::size_t count) {
  DeviceData d;
  d.records = count;
  d.labels = DeviceBuffer<std::uint8_t>(count);
  if (data.has_values())
    d.values = DeviceBuffer<float>(count * data.features());
  else
    d.pixels = DeviceBuffer<std::uint8_t>(count * data.features());
  if (count) {
    if (data.has_values())
      SIGMANET_CUDA_CHECK(cudaMemcpyAsync(d.values.get(), data.row(first), d.values.size() * sizeof(float),
                                          cudaMemcpyHostToDevice, stream_.get()));
    else
      SIGMANET_CUDA_CHECK(cudaMemcpyAsync(d.pixels.get(), data.image(first), d.pixels.size(), cudaMemcpyHostToDevice,
                                          stream_.get()));
    SIGMANET_CUDA_CHECK(cudaMemcpyAsync(d.labels.get(), data.labels.data() + first, count, cudaMemcpyHostToDevice,
                                        stream_.get()));
    synchronize();
  }
  return d;
}

DeviceView DeviceModel::device_view(const Dataset& data, std::size_t first, std::size_t count) {
  if (&data == train_ && features_of(data) == train_features_ && data.size() == train_size_)
    return training_view().slice(first, count);
  synchronize();  // queued work may still read the previous upload
  other_data_ = DeviceData{};
  other_data_ = upload(data, first, count);
  return view_of(other_data_, data.features(), data.has_values());
}

void gather_batch(const DeviceView& data, kernels::VectorView<const std::uint32_t> order, const unsigned* step,
                  std::size_t batch, std::size_t first, kernels::BatchView<float> x,
                  kernels::VectorView<std::uint8_t> batch_labels, cudaStream_t stream) {
  if (data.has_values)
    kernels::gather_batch(data.values, data.labels, order, step, batch, first, x, batch_labels, stream);
  else
    kernels::gather_batch(data.images, data.labels, order, step, batch, first, x, batch_labels, stream);
}

void fused_gather_forward(const DeviceView& data, kernels::VectorView<const std::uint32_t> order,
                          const unsigned* step, std::size_t batch, kernels::WeightView<const float> w,
                          kernels::VectorView<const float> b, kernels::BatchView<float> x,
                          kernels::VectorView<std::uint8_t> batch_labels, kernels::BatchView<float> out,
                          cudaStream_t stream) {
  if (data.has_values)
    kernels::fused_gather_forward(data.values, data.labels, order, step, batch, w, b, x, batch_labels, out, stream);
  else
    kernels::fused_gather_forward(data.images, data.labels, order, step, batch, w, b, x, batch_labels, out, stream);
}

// ---- the step counter and the NaN/Inf flag ----

void DeviceModel::reset_step() { SIGMANET_CUDA_CHECK(cudaMemsetAsync(step_.get(), 0, sizeof(unsigned), stream())); }

void DeviceModel::reset_bad() {
  SIGMANET_CUDA_CHECK(cudaMemsetAsync(bad_.get(), 0xFF, sizeof(unsigned), stream()));  // kNoBadBatch
}

unsigned DeviceModel::read_bad() {
  synchronize();
  unsigned bad = kNoBadBatch;
  SIGMANET_CUDA_CHECK(cudaMemcpy(&bad, bad_.get(), sizeof bad, cudaMemcpyDeviceToHost));
  return bad;
}

// ---- workspaces and the forward pass ----

void DeviceModel::reserve(Workspace& ws, std::size_t samples, bool training) {
  if (ws.capacity >= samples && !ws.a.empty()) return;
  synchronize();
  if (&ws == &train_ws_) ++generation_;  // a captured step holds the old workspace's addresses
  ws = Workspace{};
  ws.capacity = samples;
  for (int n : sizes_) ws.a.emplace_back(std::size_t(n) * samples);
  if (training) {
    for (std::size_t l = 1; l < sizes_.size(); ++l) ws.delta.emplace_back(std::size_t(sizes_[l]) * samples);
    ws.labels = DeviceBuffer<std::uint8_t>(samples);
  }
}

bool DeviceModel::use_fused_forward(std::size_t m) const {
  switch (options_.forward) {
    case CudaOptions::Forward::fused: return true;
    case CudaOptions::Forward::gemm: return false;
    case CudaOptions::Forward::automatic: break;
  }
  return m <= kFusedForwardMaxBatch;
}

// A softmax output layer takes the weighted sums alone from either path and one bias_softmax kernel after them
// (a softmax needs a sample's whole row).
void DeviceModel::forward(Workspace& ws, std::size_t m) {
  const cudaStream_t s = stream();
  for (std::size_t l = 0; l < layers_.size(); ++l) {
    const DeviceLayer& layer = layers_[l];
    const kernels::BatchView<float> in = activations(ws, l, m), out = activations(ws, l + 1, m);
    const bool softmax = l + 1 == layers_.size() && output_ == Activation::softmax;
    if (use_fused_forward(m)) {
      if (softmax)
        kernels::fused_weighted_sum(layer.weights(), in, out, s);
      else
        kernels::fused_forward(layer.weights(), layer.bias(), in, out, s);
    } else {
      gemm_forward(blas(), layer.weights(), in, out);
      if (!softmax) kernels::bias_sigmoid(out, layer.bias(), s);
    }
    if (softmax) kernels::bias_softmax(out, layer.bias(), s);
  }
}

}  // namespace sigmanet::cuda
