// The CUDA backend: the CPU reference's network on an NVIDIA GPU, one explicit stream and one cuBLAS handle.
//
// One training step (see enqueue_step): gather the batch from the device copy of the training set, forward
// through each layer (fused kernel or SGEMM + epilogue; a softmax output layer stops at z and bias_softmax
// finishes it), output delta from the labels for the objective's cost, then from the top layer down: hidden
// delta (SGEMM + epilogue, with the weights before their update), weight update (one SGEMM with beta = L2's
// decay, 1 without L2) and bias update. A device-side step counter tells the gather which slice of the
// epoch's order to take, so every full batch is the same sequence of launches with the same arguments:
// it is captured into a CUDA graph once and replayed, which is what makes batch 10 fast.
//
// As one rank of a job across GPUs (set_collective) a step computes only the gradient of the rank's share of the
// batch, NCCL adds the ranks' gradients up on the stream, and every rank applies the sum (enqueue_share_step):
// still one graph per full batch, the sum inside it.
#include <algorithm>
#include <chrono>
#include <climits>
#include <cstring>

#include "cuda_blas.hpp"
#include "cuda_check.hpp"
#include "cuda_resources.hpp"
#include "kernels.hpp"
#include "nccl_sum.hpp"
#include "cuda_backend.hpp"
#include "sigmanet/error.hpp"

namespace sigmanet {
namespace {

using cuda::DeviceBuffer;

// Up to this batch the fused forward kernel beats SGEMM + epilogue (one launch instead of two, and no
// tiling overhead for a handful of columns).
constexpr std::size_t kFusedForwardMaxBatch = 64;
// Batches between looks at the device's NaN/Inf flag during training (the look never blocks).
constexpr std::size_t kPollEvery = 64;
constexpr unsigned kNoBadBatch = 0xFFFFFFFFu;
// The persistent kernel (kernels/persistent_train.cu) runs batches in chunks of about this much time, so the
// host still hears from the device (progress, Ctrl-C) a few times a second; at least 1, at most kMaxChunk.
constexpr double kPersistentChunkSeconds = 0.25;
constexpr std::size_t kMaxChunk = 4096;
constexpr std::size_t kPersistentMaxAutoBatch = kGpuPersistentMaxAutoBatch;
// cuBLAS's workspace, given explicitly so that no SGEMM allocates while a graph is being captured
// (32 MiB is NVIDIA's recommendation for Hopper).
constexpr std::size_t kCublasWorkspaceBytes = std::size_t(32) << 20;

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

// A set's images and labels on the device.
struct DeviceData {
  DeviceBuffer<std::uint8_t> pixels, labels;
  std::size_t records = 0;
};

// Records of some set on the device, starting at record `first` of that set.
struct DeviceView {
  kernels::BatchView<const std::uint8_t> images;  // records x pixels
  kernels::VectorView<const std::uint8_t> labels;
};

std::string version_string(int v) { return std::to_string(v / 1000) + "." + std::to_string((v % 1000) / 10); }

class CudaBackend final : public Backend {
 public:
  explicit CudaBackend(const CudaOptions& options) : options_(options) {
    int device = 0;
    SIGMANET_CUDA_CHECK(cudaGetDevice(&device));
    cudaDeviceProp properties{};
    SIGMANET_CUDA_CHECK(cudaGetDeviceProperties(&properties, device));
    device_name_ = properties.name;
    shared_optin_bytes_ = properties.sharedMemPerBlockOptin;
    clusters_ = kernels::persistent_clusters_supported();
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

  ~CudaBackend() override {
    // Queued work may still use the buffers about to be freed.
    cudaStreamSynchronize(stream_.get());
  }

  std::string describe() const override { return "gpu float (" + device_name_ + ")"; }
  Precision precision() const override { return Precision::f32; }

  void set_parameters(const Parameters& p) override {
    validate_parameters(p, "CudaBackend");
    if (p.sizes != sizes_) {
      stream_.synchronize();  // queued work may still use the old buffers
      forget_graph();
      train_ws_ = Workspace{};
      eval_ws_ = Workspace{};
      layers_.clear();
      backup_.clear();
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

  void set_objective(const Objective& objective) override { objective_ = objective; }

  // Joins the job's GPUs with NCCL (every rank together). A failure there (two ranks on one GPU, no libnccl) is
  // decided together too, so that every rank stops with the same message instead of some waiting for the rest.
  void set_collective(Collective* collective) override {
    stream_.synchronize();
    forget_graph();  // a captured step is a single process's or a share's
    nccl_.reset();
    collective_ = collective && collective->size() > 1 ? collective : nullptr;
    if (!collective_) return;
    std::string failure;
    try {
      nccl_ = std::make_unique<cuda::NcclSum>(*collective_);
    } catch (const Error& e) {
      failure = e.what();
    }
    if (collective_->any(!failure.empty())) {
      nccl_.reset();
      collective_ = nullptr;
      int devices = 0;
      (void)cudaGetDeviceCount(&devices);
      throw InputError("training across GPUs: NCCL could not join the job's ranks (" + std::to_string(devices) +
                       " GPU" + (devices == 1 ? "" : "s") + " visible to each of the " +
                       std::to_string(collective->local_size()) + " processes on " + collective->host() +
                       "; NCCL needs one GPU per process): " +
                       (failure.empty() ? std::string("another rank failed") : failure));
    }
  }

  Parameters parameters() const override {
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

  void set_training_data(const Dataset& train) override {
    stream_.synchronize();  // queued work may still read the old set
    forget_graph();         // the graph holds the old set's addresses
    train_data_ = DeviceData{};
    train_data_ = upload(train, 0, train.size());
    train_ = &train;
    train_pixels_ = train.pixels.data();
    train_size_ = train.size();
  }

  // Not the CPU backend's batching loop: a step here is queued, not run. The order lives on the device, full
  // batches replay one CUDA graph (or run in persistent-kernel chunks) while a device counter selects the
  // batch, and divergence is read back from a device flag only now and then, so the loop is over launches,
  // not over batches.
  std::size_t train(std::span<const std::uint32_t> order, std::size_t batch, double eta,
                    const AfterBatch& after_batch) override {
    if (!train_) throw Error("CudaBackend::train: no training data set");
    if (batch == 0) throw Error("CudaBackend::train: batch size 0");
    if (batch > std::size_t(INT_MAX)) throw Error("CudaBackend::train: batch size too large");
    require_parameters();
    check_input_width(sizes_, *train_);
    check_output_layer(objective_, output_, "CudaBackend::train");
    nonfinite_batch_.reset();
    poll_pending_ = false;  // a poll left by a call that threw reads an earlier run's flag
    if (order.empty()) return 0;
    for (std::uint32_t index : order)
      if (index >= train_data_.records) throw Error("CudaBackend::train: order holds an index past the data");

    const cudaStream_t s = stream_.get();
    // The CPU float network's T(weight_decay(...)): decay depends on eta, so each call (an eta schedule may
    // change it between epochs) computes its own, and the graph is keyed on it.
    const float decay = static_cast<float>(weight_decay(eta, objective_.lambda, train_->size()));
    if (use_persistent(batch)) return train_persistent(order, batch, float(eta), decay, after_batch);
    // A job's rank trains its share of each batch (batch_share: at most ceil(m / ranks) samples).
    const std::size_t ranks = collective_ ? std::size_t(collective_->size()) : 1;
    reserve(train_ws_, std::max<std::size_t>(1, (std::min(batch, order.size()) + ranks - 1) / ranks), true);
    if (collective_) reserve_exchange();
    upload_order(order);
    SIGMANET_CUDA_CHECK(cudaMemsetAsync(step_.get(), 0, sizeof(unsigned), s));
    SIGMANET_CUDA_CHECK(cudaMemsetAsync(bad_.get(), 0xFF, sizeof(unsigned), s));  // kNoBadBatch

    const float eta_f = static_cast<float>(eta);  // the CPU float network's T(eta)
    const std::size_t full_batches = order.size() / batch, last = order.size() % batch;
    const std::size_t batches = full_batches + (last ? 1 : 0);
    std::size_t done = 0;
    for (std::size_t b = 0; b < batches; ++b) {
      const std::size_t m = b < full_batches ? batch : last;
      const bool full = m == batch;
      // The first batch runs eagerly, which loads every kernel and warms cuBLAS before any capture.
      const GraphKey key{batch, eta_f, decay, objective_.cost, output_};
      if (full && options_.graphs && b > 0) capture_graph(key);
      if (full && graph_matches(key))
        graph_.launch(s);
      else
        enqueue_step(batch, m, eta_f, decay);
      done += m;
      if (collective_) {
        if (job_stops(b, done, after_batch)) break;
        continue;
      }
      if ((b + 1) % kPollEvery == 0) start_poll();
      if (poll_found_bad()) break;
      if (after_batch && !after_batch(done)) break;
    }
    stream_.synchronize();
    poll_pending_ = false;
    unsigned bad = kNoBadBatch;
    SIGMANET_CUDA_CHECK(cudaMemcpy(&bad, bad_.get(), sizeof bad, cudaMemcpyDeviceToHost));
    if (bad != kNoBadBatch) nonfinite_batch_ = bad;
    return done;
  }

  std::optional<std::size_t> nonfinite_batch() const override { return nonfinite_batch_; }

  Evaluation evaluate(const Dataset& data) override {
    require_parameters();
    check_input_width(sizes_, data);
    check_output_layer(objective_, output_, "CudaBackend::evaluate");
    Evaluation e;
    e.total = data.size();
    if (e.total == 0) return e;
    const DeviceView view = device_view(data, 0, data.size());
    if (correct_.size() < data.size()) {
      stream_.synchronize();
      correct_ = DeviceBuffer<unsigned>(data.size());
      cost_ = DeviceBuffer<double>(data.size());
    }
    const cudaStream_t s = stream_.get();
    const auto correct = vector_view(correct_, data.size());
    const auto cost = vector_view(cost_, data.size());
    for_each_chunk(view, data.size(), [&](std::size_t start, kernels::BatchView<const float> out) {
      const std::size_t m = out.samples;
      kernels::argmax_cost(objective_.cost, out, view.labels.slice(start, m), correct.slice(start, m),
                           cost.slice(start, m), s);
    });
    kernels::sum_evaluation(correct, cost, sums_.get(), s);
    SIGMANET_CUDA_CHECK(cudaMemcpyAsync(sums_host_.get(), sums_.get(), sizeof(kernels::EvaluationSums),
                                        cudaMemcpyDeviceToHost, s));
    stream_.synchronize();
    e.correct = sums_host_.get()->correct;
    e.cost = sums_host_.get()->cost / double(e.total);
    return e;
  }

  std::vector<double> outputs(const Dataset& data, std::size_t first, std::size_t count) override {
    if (first > data.size() || count > data.size() - first)
      throw Error("CudaBackend::outputs: records past the end of " + data.name);
    require_parameters();
    check_input_width(sizes_, data);
    std::vector<double> out;
    if (count == 0) return out;
    const DeviceView view = device_view(data, first, count);
    const std::size_t n_out = std::size_t(sizes_.back());
    std::vector<float> host;
    out.reserve(count * n_out);
    for_each_chunk(view, count, [&](std::size_t, kernels::BatchView<const float> a) {
      host.resize(a.values());
      SIGMANET_CUDA_CHECK(
          cudaMemcpyAsync(host.data(), a.data, host.size() * sizeof(float), cudaMemcpyDeviceToHost, stream_.get()));
      stream_.synchronize();
      out.insert(out.end(), host.begin(), host.end());
    });
    return out;
  }

  double time_seconds(const std::function<void()>& work) override {
    SIGMANET_CUDA_CHECK(cudaEventRecord(timer_start_.get(), stream_.get()));
    work();
    SIGMANET_CUDA_CHECK(cudaEventRecord(timer_stop_.get(), stream_.get()));
    SIGMANET_CUDA_CHECK(cudaEventSynchronize(timer_stop_.get()));
    float ms = 0;
    SIGMANET_CUDA_CHECK(cudaEventElapsedTime(&ms, timer_start_.get(), timer_stop_.get()));
    return double(ms) / 1000.0;
  }

 private:
  void require_parameters() const {
    if (layers_.empty()) throw Error("CudaBackend: no parameters set");
  }

  // ---- the persistent path ----

  kernels::PersistentNet persistent_net() const {
    kernels::PersistentNet net;
    net.layers = int(layers_.size());
    net.output = output_;
    if (layers_.size() > std::size_t(kernels::kPersistentMaxLayers)) return net;
    for (std::size_t l = 0; l < layers_.size(); ++l) {
      net.sizes[l] = layers_[l].n_in;
      net.sizes[l + 1] = layers_[l].n_out;
      net.w[l] = layers_[l].w.get();
      net.b[l] = layers_[l].b.get();
    }
    return net;
  }

  // The blocks of the persistent kernel's cluster for this network at this batch on this device, 0 when it
  // does not fit (a last, partial batch uses its batch's: the bits depend on the cluster's size).
  int persistent_blocks(std::size_t batch) const {
    const kernels::PersistentNet net = persistent_net();
    const int forced = options_.persistent_blocks;
    if (forced == 0) return kernels::persistent_cluster_blocks(net, batch, shared_optin_bytes_, clusters_);
    const std::size_t bytes = kernels::persistent_shared_bytes(net, batch, forced);
    return (forced == 1 || clusters_) && bytes > 0 && bytes <= shared_optin_bytes_ ? forced : 0;
  }

  bool persistent_fits(std::size_t batch) const { return persistent_blocks(batch) > 0; }

  bool use_persistent(std::size_t batch) const {
    // A cluster size asked for is never dropped in silence: the bits depend on it.
    const int forced = options_.persistent_blocks;
    const std::string cluster = std::to_string(forced);
    const auto cluster_refused = [&](const std::string& why) {
      return SettingError(Setting::gpu_cluster, {Setting::gpu_cluster, " " + cluster + ": " + why}, cluster);
    };
    if (forced > 0 && collective_)
      throw cluster_refused("a job across GPUs trains on the graph path, which has no cluster");
    if (forced > 0 && options_.kernel == CudaOptions::Kernel::graph)
      throw cluster_refused("the graph path has no cluster; the persistent kernel does");
    if (forced > 0 && options_.kernel == CudaOptions::Kernel::automatic && batch > kPersistentMaxAutoBatch)
      throw cluster_refused("batch " + std::to_string(batch) + " trains on the graph path, which has no cluster (auto "
                            "takes the persistent kernel up to batch " + std::to_string(kPersistentMaxAutoBatch) + ")");
    if (collective_ && options_.kernel == CudaOptions::Kernel::persistent)
      throw SettingError(Setting::gpu_kernel,
                         {Setting::gpu_kernel,
                          " persistent: a job across GPUs sums every batch's gradients between its ranks, which the "
                          "persistent kernel (one launch for many batches) cannot; use ",
                          Setting::gpu_kernel, " graph or auto"},
                         "persistent");
    if (collective_) return false;
    switch (options_.kernel) {
      case CudaOptions::Kernel::graph: return false;
      case CudaOptions::Kernel::automatic:
        if (forced == 0) return batch <= kPersistentMaxAutoBatch && persistent_fits(batch);
        break;
      case CudaOptions::Kernel::persistent: break;
    }
    if (!persistent_fits(batch)) {
      // The least a block needs: over the cluster sizes this GPU and network allow, or forced.
      const kernels::PersistentNet net = persistent_net();
      int blocks = options_.persistent_blocks > 0 ? options_.persistent_blocks : 1;
      std::size_t bytes = kernels::persistent_shared_bytes(net, batch, blocks);
      if (options_.persistent_blocks == 0 && clusters_)
        for (int b = 2; b <= kernels::kPersistentMaxBlocks; b *= 2) {
          const std::size_t need = kernels::persistent_shared_bytes(net, batch, b);
          if (need > 0 && (bytes == 0 || need < bytes)) {
            blocks = b;
            bytes = need;
          }
        }
      const std::string split = blocks > 1 ? " split over a cluster of " + std::to_string(blocks) : "";
      std::string why;
      if (blocks > 1 && !clusters_)
        why = "a cluster of " + std::to_string(blocks) +
              " blocks needs a GPU of compute capability 9.0 or later and sigmanet built for it (sm_90 on)";
      else if (bytes == 0)
        why = "the kernel takes 1 to " + std::to_string(kernels::kPersistentMaxLayers) +
              " weight layers, batches of 1 to " + std::to_string(kernels::kPersistentMaxBatch) +
              ", at most 512 first-layer neurons, and a 16-byte piece of every input row a block (a piece of the "
              "row's largest size that divides it: 16, 8, 4 or 1 bytes)";
      else
        why = "it needs " + std::to_string(bytes) + " bytes of shared memory a block" + split + ", this GPU allows " +
              std::to_string(shared_optin_bytes_);
      const std::string what = "a " + sizes_text(sizes_, '-') + " network at batch " + std::to_string(batch) +
                               " does not fit the persistent kernel (" + why + ")";
      if (forced > 0) throw cluster_refused(what);
      throw SettingError(Setting::gpu_kernel,
                         {Setting::gpu_kernel, " persistent: " + what + "; use ", Setting::gpu_kernel, " graph"},
                         "persistent");
    }
    return true;
  }

  // Runs batches [b, b + steps) of the uploaded order, each of m samples.
  void launch_persistent(std::size_t batch, std::size_t b, std::size_t m, std::size_t steps, float eta, float decay) {
    const kernels::PersistentUpdate update{eta / float(m), decay, objective_.cost};  // the CPU float's eta / T(m)
    kernels::persistent_train(persistent_net(), train_images(), train_labels(), order_view(), b * batch, m, steps,
                              update, unsigned(b), bad_.get(), stream_.get(), persistent_blocks(batch));
  }

  // Copies every layer's parameters between the live buffers and the chunk-start copy.
  void copy_parameters(bool to_backup) {
    if (backup_.size() != 2 * layers_.size()) {
      stream_.synchronize();
      backup_.clear();
      for (const DeviceLayer& layer : layers_) {
        backup_.emplace_back(layer.w.size());
        backup_.emplace_back(layer.b.size());
      }
    }
    for (std::size_t l = 0; l < layers_.size(); ++l) {
      const DeviceBuffer<float>* live[2] = {&layers_[l].w, &layers_[l].b};
      for (int k = 0; k < 2; ++k) {
        float* from = to_backup ? live[k]->get() : backup_[2 * l + k].get();
        float* to = to_backup ? backup_[2 * l + k].get() : live[k]->get();
        SIGMANET_CUDA_CHECK(
            cudaMemcpyAsync(to, from, live[k]->size() * sizeof(float), cudaMemcpyDeviceToDevice, stream_.get()));
      }
    }
  }

  // Chunks of batches, each one launch; after a chunk the host hears of each of its batches in order. When
  // after_batch stops at batch k inside a chunk that ran further, the parameters go back to the chunk's start
  // and batches up to k run again (same bits: the kernel's sums do not depend on the chunk), so a stop lands
  // exactly where it does on the graph path.
  std::size_t train_persistent(std::span<const std::uint32_t> order, std::size_t batch, float eta, float decay,
                               const AfterBatch& after_batch) {
    const cudaStream_t s = stream_.get();
    upload_order(order);
    SIGMANET_CUDA_CHECK(cudaMemsetAsync(bad_.get(), 0xFF, sizeof(unsigned), s));  // kNoBadBatch
    const std::size_t full_batches = order.size() / batch, last = order.size() % batch;
    const std::size_t batches = full_batches + (last ? 1 : 0);
    std::size_t chunk = options_.persistent_chunk ? options_.persistent_chunk : 16;
    std::size_t done = 0;
    for (std::size_t b = 0; b < batches;) {
      const std::size_t m = b < full_batches ? batch : last;
      const std::size_t steps = m == batch ? std::min(chunk, full_batches - b) : 1;
      if (after_batch) copy_parameters(true);
      const auto start = std::chrono::steady_clock::now();
      launch_persistent(batch, b, m, steps, eta, decay);
      unsigned bad = kNoBadBatch;
      SIGMANET_CUDA_CHECK(cudaMemcpyAsync(&bad, bad_.get(), sizeof bad, cudaMemcpyDeviceToHost, s));
      stream_.synchronize();
      if (bad != kNoBadBatch) {
        nonfinite_batch_ = bad;
        return done + (bad - b) * batch;
      }
      if (!options_.persistent_chunk) {
        // Aim the next chunk at kPersistentChunkSeconds from this one's pace.
        const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        const double per_step = std::max(seconds / double(steps), 1e-7);
        chunk = std::clamp<std::size_t>(std::size_t(kPersistentChunkSeconds / per_step), 1, kMaxChunk);
      }
      for (std::size_t k = 0; k < steps; ++k) {
        done += m;
        if (after_batch && !after_batch(done)) {
          if (k + 1 < steps) {
            copy_parameters(false);
            launch_persistent(batch, b, m, k + 1, eta, decay);
            stream_.synchronize();
          }
          return done;
        }
      }
      b += steps;
    }
    return done;
  }

  bool use_fused_forward(std::size_t m) const {
    switch (options_.forward) {
      case CudaOptions::Forward::fused: return true;
      case CudaOptions::Forward::gemm: return false;
      case CudaOptions::Forward::automatic: break;
    }
    return m <= kFusedForwardMaxBatch;
  }

  // ---- transfers (rare: parameters, data sets, orders; each waits for its copy) ----

  void upload_as_float(float* device, const std::vector<double>& values) {
    const std::vector<float> host(values.begin(), values.end());  // the CPU float network's conversion
    SIGMANET_CUDA_CHECK(
        cudaMemcpyAsync(device, host.data(), host.size() * sizeof(float), cudaMemcpyHostToDevice, stream_.get()));
    stream_.synchronize();  // host dies at the end of this scope
  }

  std::vector<double> download(const float* device, std::size_t count) const {
    std::vector<float> host(count);
    SIGMANET_CUDA_CHECK(
        cudaMemcpyAsync(host.data(), device, count * sizeof(float), cudaMemcpyDeviceToHost, stream_.get()));
    stream_.synchronize();
    return {host.begin(), host.end()};
  }

  DeviceData upload(const Dataset& data, std::size_t first, std::size_t count) {
    DeviceData d;
    d.records = count;
    d.pixels = DeviceBuffer<std::uint8_t>(count * data.features());
    d.labels = DeviceBuffer<std::uint8_t>(count);
    if (count) {
      SIGMANET_CUDA_CHECK(cudaMemcpyAsync(d.pixels.get(), data.image(first), d.pixels.size(), cudaMemcpyHostToDevice,
                                          stream_.get()));
      SIGMANET_CUDA_CHECK(cudaMemcpyAsync(d.labels.get(), data.labels.data() + first, count, cudaMemcpyHostToDevice,
                                          stream_.get()));
      stream_.synchronize();
    }
    return d;
  }

  // Records [first, first + count) of data on the device: the training set's copy when data is the
  // training set, else a fresh upload of just those records.
  DeviceView device_view(const Dataset& data, std::size_t first, std::size_t count) {
    if (&data == train_ && data.pixels.data() == train_pixels_ && data.size() == train_size_)
      return {train_images().slice(first, count), train_labels().slice(first, count)};
    stream_.synchronize();  // queued work may still read the previous upload
    other_data_ = DeviceData{};
    other_data_ = upload(data, first, count);
    return {batch_view(other_data_.pixels, count, data.features()), vector_view(other_data_.labels, count)};
  }

  kernels::BatchView<const std::uint8_t> train_images() const {
    return batch_view(train_data_.pixels, train_data_.records, train_->features());
  }
  kernels::VectorView<const std::uint8_t> train_labels() const {
    return vector_view(train_data_.labels, train_data_.records);
  }
  kernels::VectorView<const std::uint32_t> order_view() const { return vector_view(order_, order_count_); }

  void upload_order(std::span<const std::uint32_t> order) {
    stream_.synchronize();  // the previous order may still be in use
    if (order_.size() < order.size()) {
      forget_graph();  // the graph holds the old buffer's address
      order_ = DeviceBuffer<std::uint32_t>{};
      order_ = DeviceBuffer<std::uint32_t>(order.size());
    }
    SIGMANET_CUDA_CHECK(cudaMemcpyAsync(order_.get(), order.data(), order.size_bytes(), cudaMemcpyHostToDevice,
                                        stream_.get()));
    stream_.synchronize();
    order_count_ = order.size();
  }

  // Makes ws hold at least `samples` samples (never shrinks: the graph keeps the addresses).
  void reserve(Workspace& ws, std::size_t samples, bool training) {
    if (ws.capacity >= samples && !ws.a.empty()) return;
    stream_.synchronize();
    if (&ws == &train_ws_) forget_graph();
    ws = Workspace{};
    ws.capacity = samples;
    for (int n : sizes_) ws.a.emplace_back(std::size_t(n) * samples);
    if (training) {
      for (std::size_t l = 1; l < sizes_.size(); ++l) ws.delta.emplace_back(std::size_t(sizes_[l]) * samples);
      ws.labels = DeviceBuffer<std::uint8_t>(samples);
    }
  }

  // ---- the work ----

  // m samples of layer l's activations in ws (l = 0: the input), and of the errors dC/dz of weight layer l.
  kernels::BatchView<float> activations(const Workspace& ws, std::size_t l, std::size_t m) const {
    return batch_view(ws.a[l], m, std::size_t(sizes_[l]));
  }
  kernels::BatchView<float> errors(const Workspace& ws, std::size_t l, std::size_t m) const {
    return batch_view(ws.delta[l], m, std::size_t(sizes_[l + 1]));
  }

  // ws.a[0] holds m inputs; leaves every layer's activations in ws.a. A softmax output layer takes the weighted
  // sums alone from either path and one bias_softmax kernel after them (a softmax needs a sample's whole row).
  void forward(Workspace& ws, std::size_t m) {
    const cudaStream_t s = stream_.get();
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
        cuda::gemm_forward(blas_.get(), layer.weights(), in, out);
        if (!softmax) kernels::bias_sigmoid(out, layer.bias(), s);
      }
      if (softmax) kernels::bias_softmax(out, layer.bias(), s);
    }
  }

  // Queues one SGD step on the batch the device's step counter points at (the order's samples
  // [step * batch, step * batch + m)), with weights decayed by `decay` (1 without L2); enqueues only, so that
  // it can be captured into a graph.
  void enqueue_step(std::size_t batch, std::size_t m, float eta, float decay) {
    if (collective_) return enqueue_share_step(batch, m, eta, decay);
    if (use_fused_forward(m) && layers_.size() <= std::size_t(kernels::kFusedUpdateMaxLayers))
      return enqueue_small_step(batch, m, eta, decay);
    const cudaStream_t s = stream_.get();
    Workspace& ws = train_ws_;
    const std::size_t L = layers_.size();
    const kernels::VectorView<std::uint8_t> labels = vector_view(ws.labels, m);
    kernels::gather_batch(train_images(), train_labels(), order_view(), step_.get(), batch, 0, activations(ws, 0, m),
                          labels, s);
    forward(ws, m);
    kernels::output_delta(objective_.cost, activations(ws, L, m), labels, step_.get(), bad_.get(),
                          errors(ws, L - 1, m), s);
    const float scale = eta / float(m);  // the CPU float network's eta / T(m)
    for (std::size_t l = L; l-- > 0;) {
      const DeviceLayer& layer = layers_[l];
      if (l > 0) {
        // The error one layer down needs this layer's weights before their update.
        cuda::gemm_backward(blas_.get(), layer.weights(), errors(ws, l, m), errors(ws, l - 1, m));
        kernels::hidden_delta(errors(ws, l - 1, m), activations(ws, l, m), s);
      }
      cuda::gemm_update(blas_.get(), activations(ws, l, m), errors(ws, l, m), scale, decay, layer.weights());
      kernels::bias_update(errors(ws, l, m), scale, layer.bias(), {}, s);
    }
    kernels::advance_counter(step_.get(), s);
  }

  // The same step in few launches, for the batches the fused forward kernel takes: the first layer gathers its
  // own input, a sigmoid output layer finishes with its error, each hidden layer's error is one kernel, and one
  // kernel updates every layer and advances the step counter. 2L launches for L layers (four for 784-30-10);
  // a softmax output layer takes two more, a one-layer network one more (its gather).
  void enqueue_small_step(std::size_t batch, std::size_t m, float eta, float decay) {
    const cudaStream_t s = stream_.get();
    Workspace& ws = train_ws_;
    const std::size_t L = layers_.size();
    const kernels::VectorView<std::uint8_t> labels = vector_view(ws.labels, m);
    const bool softmax = output_ == Activation::softmax;
    for (std::size_t l = 0; l < L; ++l) {
      const DeviceLayer& layer = layers_[l];
      const kernels::BatchView<float> in = activations(ws, l, m), out = activations(ws, l + 1, m);
      if (l == 0 && L > 1) {
        kernels::fused_gather_forward(train_images(), train_labels(), order_view(), step_.get(), batch,
                                      layer.weights(), layer.bias(), in, labels, out, s);
        continue;
      }
      if (l == 0)
        kernels::gather_batch(train_images(), train_labels(), order_view(), step_.get(), batch, 0, in, labels, s);
      if (l + 1 < L) {
        kernels::fused_forward(layer.weights(), layer.bias(), in, out, s);
      } else if (!softmax) {
        kernels::fused_forward_error(objective_.cost, layer.weights(), layer.bias(), in, labels, step_.get(),
                                     bad_.get(), out, errors(ws, l, m), s);
      } else {
        kernels::fused_weighted_sum(layer.weights(), in, out, s);
        kernels::bias_softmax(out, layer.bias(), s);
        kernels::output_delta(objective_.cost, out, labels, step_.get(), bad_.get(), errors(ws, l, m), s);
      }
    }
    for (std::size_t l = L - 1; l > 0; --l)
      kernels::fused_hidden_delta(layers_[l].weights(), errors(ws, l, m), activations(ws, l, m), errors(ws, l - 1, m),
                                  s);
    kernels::FusedUpdate update;
    update.layers = int(L);
    for (std::size_t l = 0; l < L; ++l) {
      const DeviceLayer& layer = layers_[l];
      update.layer[l] = {layer.w.get(), layer.b.get(), ws.a[l].get(), ws.delta[l].get(), layer.n_in, layer.n_out};
    }
    kernels::fused_update(update, m, eta / float(m), decay, step_.get(), s);
  }

  // ---- one rank of a job across GPUs ----

  // The values the ranks add up each step: every layer's weight gradient (W's layout) then its bias gradient,
  // layer after layer, and last the NaN/Inf flag (nonfinite_flag.cu).
  std::size_t exchange_count() const {
    std::size_t count = 1;
    for (const DeviceLayer& layer : layers_) count += layer.w.size() + layer.b.size();
    return count;
  }

  // Whether the job stops after batch b (done samples): the ranks decide together. after_batch's verdicts are
  // combined after every batch (one host allreduce of a flag, while the device runs behind); the NaN/Inf flag,
  // which travels with the gradients, is read every kPollEvery batches with a blocking copy, so that every rank
  // reads it after the same batch.
  bool job_stops(std::size_t b, std::size_t done, const AfterBatch& after_batch) {
    if ((b + 1) % kPollEvery == 0 && bad_batch_now()) return true;
    const bool stop = after_batch && !after_batch(done);
    return collective_->any(stop);
  }

  // Makes exchange_ fit this network's gradients and flag.
  void reserve_exchange() {
    if (exchange_.size() == exchange_count()) return;
    stream_.synchronize();
    forget_graph();
    exchange_ = DeviceBuffer<float>{};
    exchange_ = DeviceBuffer<float>(exchange_count());
  }

  // Waits for the queued steps and says whether one of them flagged a NaN or Inf on some rank.
  bool bad_batch_now() {
    stream_.synchronize();
    unsigned bad = kNoBadBatch;
    SIGMANET_CUDA_CHECK(cudaMemcpy(&bad, bad_.get(), sizeof bad, cudaMemcpyDeviceToHost));
    return bad != kNoBadBatch;
  }

  // Queues one data-parallel step of the batch the step counter points at: this rank's share forward and back
  // into exchange_ (zeros for an empty share), the flag, NCCL's sum, and the update every rank makes alike with
  // the whole batch's m. Enqueues only, so that it can be captured.
  void enqueue_share_step(std::size_t batch, std::size_t m, float eta, float decay) {
    const cudaStream_t s = stream_.get();
    Workspace& ws = train_ws_;
    const std::size_t L = layers_.size(), count = exchange_count();
    const auto [first, last] = batch_share(m, collective_->rank(), collective_->size());
    const std::size_t mine = last - first;
    float* const exchange = exchange_.get();
    if (mine == 0) {
      SIGMANET_CUDA_CHECK(cudaMemsetAsync(exchange, 0, (count - 1) * sizeof(float), s));
    } else {
      const kernels::VectorView<std::uint8_t> labels = vector_view(ws.labels, mine);
      kernels::gather_batch(train_images(), train_labels(), order_view(), step_.get(), batch, first,
                            activations(ws, 0, mine), labels, s);
      forward(ws, mine);
      kernels::output_delta(objective_.cost, activations(ws, L, mine), labels, step_.get(), bad_.get(),
                            errors(ws, L - 1, mine), s);
      for (std::size_t l = L; l-- > 0;) {
        if (l > 0) {
          cuda::gemm_backward(blas_.get(), layers_[l].weights(), errors(ws, l, mine), errors(ws, l - 1, mine));
          kernels::hidden_delta(errors(ws, l - 1, mine), activations(ws, l, mine), s);
        }
        cuda::gemm_gradient(blas_.get(), activations(ws, l, mine), errors(ws, l, mine), weight_gradient(l));
        kernels::bias_gradient(errors(ws, l, mine), bias_gradient(l), s);
      }
    }
    float* const flag = exchange + count - 1;
    kernels::put_nonfinite_flag(bad_.get(), step_.get(), flag, s);
    nccl_->sum(exchange, count, s);
    kernels::take_nonfinite_flag(flag, step_.get(), bad_.get(), s);
    const float scale = eta / float(m);  // the whole batch's m, as one process's step
    for (std::size_t l = 0; l < L; ++l) {
      DeviceLayer& layer = layers_[l];
      kernels::apply_gradient(weight_gradient_values(l), scale, decay, vector_view(layer.w, layer.w.size()), s);
      kernels::apply_gradient(bias_gradient(l), scale, 1.0f, vector_view(layer.b, layer.b.size()), s);
    }
    kernels::advance_counter(step_.get(), s);
  }

  // Layer l's gradients in exchange_: its weights' (W's layout) and its biases'.
  kernels::VectorView<float> weight_gradient_values(std::size_t l) const {
    std::size_t offset = 0;
    for (std::size_t k = 0; k < l; ++k) offset += layers_[k].w.size() + layers_[k].b.size();
    return vector_view(exchange_, exchange_.size()).slice(offset, layers_[l].w.size());
  }
  kernels::WeightView<float> weight_gradient(std::size_t l) const {
    return {weight_gradient_values(l).data, std::size_t(layers_[l].n_out), std::size_t(layers_[l].n_in)};
  }
  kernels::VectorView<float> bias_gradient(std::size_t l) const {
    const kernels::VectorView<float> w = weight_gradient_values(l);
    return vector_view(exchange_, exchange_.size()).slice(std::size_t(w.data - exchange_.get()) + w.size,
                                                          layers_[l].b.size());
  }

  // Runs forward over view's records [0, count) in chunks, calling f(start, the chunk's output activations).
  template <class F>
  void for_each_chunk(const DeviceView& view, std::size_t count, F&& f) {
    reserve(eval_ws_, std::min(kGpuEvaluationChunk, count), false);
    for (std::size_t start = 0; start < count; start += kGpuEvaluationChunk) {
      const std::size_t m = std::min(kGpuEvaluationChunk, count - start);
      kernels::gather_batch(view.images, {}, {}, nullptr, 0, start, activations(eval_ws_, 0, m), {}, stream_.get());
      forward(eval_ws_, m);
      f(start, activations(eval_ws_, layers_.size(), m));
    }
  }

  // ---- the graph of one full batch ----

  // Everything a captured step holds by value besides buffer addresses (which forget_graph covers): the
  // batch, the step's eta and L2 decay (an eta schedule may change both between train() calls), the cost (its
  // output error kernel) and the output layer (sigmoid or softmax kernels).
  struct GraphKey {
    std::size_t batch = 0;
    float eta = 0.0f, decay = 1.0f;
    Cost cost = Cost::quadratic;
    Activation output = Activation::sigmoid;

    // Floats by their bits, as a captured argument holds them.
    bool operator==(const GraphKey& o) const {
      return batch == o.batch && std::memcmp(&eta, &o.eta, sizeof eta) == 0 &&
             std::memcmp(&decay, &o.decay, sizeof decay) == 0 && cost == o.cost && output == o.output;
    }
  };

  bool graph_matches(const GraphKey& key) const { return graph_ && graph_key_ == key; }

  void forget_graph() { graph_ = cuda::GraphExec{}; }

  void capture_graph(const GraphKey& key) {
    if (graph_matches(key)) return;
    forget_graph();
    const cudaStream_t s = stream_.get();
    cudaGraph_t graph = nullptr;
    SIGMANET_CUDA_CHECK(cudaStreamBeginCapture(s, cudaStreamCaptureModeThreadLocal));
    try {
      enqueue_step(key.batch, key.batch, key.eta, key.decay);
    } catch (...) {
      cudaStreamEndCapture(s, &graph);  // leave the stream usable
      if (graph) cudaGraphDestroy(graph);
      throw;
    }
    SIGMANET_CUDA_CHECK(cudaStreamEndCapture(s, &graph));
    graph_ = cuda::GraphExec(graph);
    graph_key_ = key;
  }

  // ---- the NaN/Inf flag, looked at without blocking ----

  void start_poll() {
    if (poll_pending_) return;
    SIGMANET_CUDA_CHECK(
        cudaMemcpyAsync(bad_host_.get(), bad_.get(), sizeof(unsigned), cudaMemcpyDeviceToHost, stream_.get()));
    SIGMANET_CUDA_CHECK(cudaEventRecord(poll_event_.get(), stream_.get()));
    poll_pending_ = true;
  }

  bool poll_found_bad() {
    if (!poll_pending_) return false;
    const cudaError_t status = cudaEventQuery(poll_event_.get());
    if (status == cudaErrorNotReady) {
      (void)cudaGetLastError();  // "not ready" is no error; leave nothing behind for the next launch check
      return false;
    }
    SIGMANET_CUDA_CHECK(status);
    poll_pending_ = false;
    return *bad_host_.get() != kNoBadBatch;
  }

  CudaOptions options_;
  std::string device_name_;
  cuda::Stream stream_;
  DeviceBuffer<std::uint8_t> blas_workspace_{kCublasWorkspaceBytes};  // declared first, so it outlives the handle
  cuda::CublasHandle blas_;

  std::vector<int> sizes_;
  Activation output_ = Activation::sigmoid;
  Objective objective_;
  std::vector<DeviceLayer> layers_;
  std::vector<DeviceBuffer<float>> backup_;  // the parameters at a persistent chunk's start: W0, b0, W1, ...
  std::size_t shared_optin_bytes_ = 0;       // the device's shared memory limit per block, opted in
  bool clusters_ = false;                    // thread-block clusters (kernels::persistent_clusters_supported)

  const Dataset* train_ = nullptr;
  const std::uint8_t* train_pixels_ = nullptr;
  std::size_t train_size_ = 0;
  DeviceData train_data_, other_data_;
  DeviceBuffer<std::uint32_t> order_;
  std::size_t order_count_ = 0;  // the uploaded order's length (order_ may be longer)
  Workspace train_ws_, eval_ws_;
  DeviceBuffer<unsigned> correct_;
  DeviceBuffer<double> cost_;
  DeviceBuffer<kernels::EvaluationSums> sums_{1};  // an evaluation's totals, and their copy for the host
  cuda::PinnedBuffer<kernels::EvaluationSums> sums_host_{1};

  DeviceBuffer<unsigned> step_{1};  // the batch number within this train() call, advanced on the device
  DeviceBuffer<unsigned> bad_{1};   // the first batch with a NaN/Inf output, or kNoBadBatch
  cuda::PinnedBuffer<unsigned> bad_host_{1};
  cuda::Event poll_event_{cudaEventDisableTiming};
  bool poll_pending_ = false;
  std::optional<std::size_t> nonfinite_batch_;

  Collective* collective_ = nullptr;    // the job this backend trains a rank of, or null alone
  std::unique_ptr<cuda::NcclSum> nccl_;  // before graph_, which may hold its sums: destroyed after it
  DeviceBuffer<float> exchange_;         // a step's gradients and flag, as the ranks add them up

  cuda::GraphExec graph_;
  GraphKey graph_key_;

  cuda::Event timer_start_, timer_stop_;
};

}  // namespace

bool cuda_device_usable(std::string* reason) {
  int count = 0;
  const cudaError_t status = cudaGetDeviceCount(&count);
  if (status != cudaSuccess) {
    if (reason) *reason = cudaGetErrorString(status);
    (void)cudaGetLastError();
    return false;
  }
  if (count == 0) {
    if (reason) *reason = "no CUDA device";
    return false;
  }
  const cudaError_t image = kernels::kernel_image_status();
  if (image != cudaSuccess) {
    (void)cudaGetLastError();
    if (reason) {
      const auto info = cuda_device_info();
      *reason = "this build has no code for the GPU" +
                (info ? " (" + info->name + ", sm_" + std::to_string(info->compute_capability) + ")" : std::string()) +
                ": " + cudaGetErrorString(image);
    }
    return false;
  }
  return true;
}

std::optional<DeviceInfo> cuda_device_info() {
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess || count == 0) {
    (void)cudaGetLastError();
    return std::nullopt;
  }
  int device = 0, driver = 0, runtime = 0;
  cudaDeviceProp properties{};
  if (cudaGetDevice(&device) != cudaSuccess || cudaGetDeviceProperties(&properties, device) != cudaSuccess ||
      cudaDriverGetVersion(&driver) != cudaSuccess || cudaRuntimeGetVersion(&runtime) != cudaSuccess) {
    (void)cudaGetLastError();
    return std::nullopt;
  }
  DeviceInfo info;
  info.name = properties.name;
  info.driver_version = version_string(driver);
  info.runtime_version = version_string(runtime);
  info.compute_capability = properties.major * 10 + properties.minor;
  info.memory_bytes = properties.totalGlobalMem;
  return info;
}

bool cuda_nccl_available(std::string* reason) { return cuda::nccl_available(reason); }

void cuda_use_device_of_local_rank(int local_rank) {
  int count = 0;
  SIGMANET_CUDA_CHECK(cudaGetDeviceCount(&count));
  if (count < 1) throw Error("no CUDA device");
  SIGMANET_CUDA_CHECK(cudaSetDevice(local_rank % count));
}

bool cuda_persistent_fits(const std::vector<int>& sizes, std::size_t batch, int blocks) {
  kernels::PersistentNet net;
  net.layers = int(sizes.size()) - 1;
  if (net.layers < 1 || net.layers > kernels::kPersistentMaxLayers) return false;
  for (std::size_t l = 0; l < sizes.size(); ++l) net.sizes[l] = sizes[l];
  int device = 0;
  cudaDeviceProp properties{};
  if (cudaGetDevice(&device) != cudaSuccess || cudaGetDeviceProperties(&properties, device) != cudaSuccess) {
    (void)cudaGetLastError();
    return false;
  }
  const bool clusters = kernels::persistent_clusters_supported();
  if (blocks == 0) return kernels::persistent_cluster_blocks(net, batch, properties.sharedMemPerBlockOptin, clusters) > 0;
  const std::size_t bytes = kernels::persistent_shared_bytes(net, batch, blocks);
  return (blocks == 1 || clusters) && bytes > 0 && bytes <= properties.sharedMemPerBlockOptin;
}

std::unique_ptr<Backend> make_cuda_backend(Precision precision) { return make_cuda_backend(precision, {}); }

std::unique_ptr<Backend> make_cuda_backend(Precision precision, const CudaOptions& options) {
  if (precision == Precision::f64)
    throw SettingError(Setting::precision,
                       {Setting::precision, " double: the GPU backend computes in float; use ", Setting::device,
                        " cpu for double"},
                       "double");
  return std::make_unique<CudaBackend>(options);
}

}  // namespace sigmanet
