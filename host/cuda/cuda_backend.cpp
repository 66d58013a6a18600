// The CUDA backend: the CPU reference's network on an NVIDIA GPU. It owns a device model (device_model.hpp: the
// parameters, the workspaces, the resident data, one stream and cuBLAS handle) and trains through one driver per
// path (training_driver.hpp: the graph step, the persistent kernel, a rank's share of a job), which train() picks
// for each call through choose_training_path (training_path.hpp). Evaluation runs the model's forward pass in
// chunks, then each sample's argmax and cost and their sums on the device.
#include <climits>

#include "cuda_check.hpp"
#include "cuda_backend.hpp"
#include "device_model.hpp"
#include "sigmanet/error.hpp"
#include "training_driver.hpp"
#include "training_path.hpp"

namespace sigmanet {
namespace {

using cuda::DeviceBuffer;

class CudaBackend final : public Backend {
 public:
  explicit CudaBackend(const CudaOptions& options)
      : model_(options), graph_(cuda::make_graph_driver(model_)), persistent_(cuda::make_persistent_driver(model_)) {}

  ~CudaBackend() override {
    // Queued work may still use the drivers' buffers, which go before the model's.
    cudaStreamSynchronize(model_.stream());
  }

  std::string describe() const override { return "gpu float (" + model_.device_name() + ")"; }
  Precision precision() const override { return Precision::f32; }

  void set_parameters(const Parameters& p) override { model_.set_parameters(p); }
  Parameters parameters() const override { return model_.parameters(); }
  void set_objective(const Objective& objective) override { objective_ = objective; }
  void set_training_data(const Dataset& train) override { model_.set_training_data(train); }

  void set_collective(Collective* collective) override {
    model_.synchronize();
    data_parallel_.reset();
    if (collective && collective->size() > 1) data_parallel_ = cuda::make_data_parallel_driver(model_, *collective);
  }

  std::size_t train(std::span<const std::uint32_t> order, std::size_t batch, double eta,
                    const AfterBatch& after_batch) override {
    const cuda::TrainingCall call = training_call(order, batch, eta, &after_batch);
    nonfinite_batch_.reset();
    if (order.empty()) return 0;
    const cuda::Trained trained = driver_for(batch).train(call);
    nonfinite_batch_ = trained.nonfinite_batch;
    return trained.samples;
  }

  // What train() checks of its arguments, and the call they make for a driver.
  cuda::TrainingCall training_call(std::span<const std::uint32_t> order, std::size_t batch, double eta,
                                   const AfterBatch* after_batch) {
    const Dataset* train = model_.training_data();
    if (!train) throw Error("CudaBackend::train: no training data set");
    if (batch == 0) throw Error("CudaBackend::train: batch size 0");
    if (batch > std::size_t(INT_MAX)) throw Error("CudaBackend::train: batch size too large");
    model_.require_parameters();
    check_data_fits(model_.sizes(), *train);
    check_output_layer(objective_, model_.output(), "CudaBackend::train");
    for (std::uint32_t index : order)
      if (index >= model_.training_records()) throw Error("CudaBackend::train: order holds an index past the data");
    // The CPU float network's T(eta) and T(weight_decay(...)): decay depends on eta, so each call (an eta
    // schedule may change it between epochs) computes its own.
    const float decay = static_cast<float>(weight_decay(eta, objective_.lambda, train->size()));
    return {order, batch, static_cast<float>(eta), decay, objective_.cost, after_batch};
  }

  // For runs trained together (cuda_train_together): whether this backend would train at `batch` on the
  // persistent path, and what it could share a launch with.
  bool on_persistent_path(std::size_t batch) {
    if (!model_.training_data() || model_.sizes().empty() || data_parallel_) return false;
    try {
      return choose_path(batch) == cuda::TrainingPath::persistent;
    } catch (const SettingError&) {
      return false;  // train() refuses the options; alone, it says why
    }
  }
  cuda::DeviceModel& model() { return model_; }
  const Objective& objective() const { return objective_; }
  void set_nonfinite_batch(std::optional<std::size_t> batch) { nonfinite_batch_ = batch; }

  std::optional<std::size_t> nonfinite_batch() const override { return nonfinite_batch_; }

  Evaluation evaluate(const Dataset& data) override {
    model_.require_parameters();
    check_data_fits(model_.sizes(), data);
    check_output_layer(objective_, model_.output(), "CudaBackend::evaluate");
    Evaluation e;
    e.total = data.size();
    if (e.total == 0) return e;
    const cuda::DeviceView view = model_.device_view(data, 0, data.size());
    if (correct_.size() < data.size()) {
      model_.synchronize();
      correct_ = DeviceBuffer<unsigned>(data.size());
      cost_ = DeviceBuffer<double>(data.size());
    }
    const cudaStream_t s = model_.stream();
    const auto correct = cuda::vector_view(correct_, data.size());
    const auto cost = cuda::vector_view(cost_, data.size());
    model_.for_each_chunk(view, data.size(), [&](std::size_t start, kernels::BatchView<const float> out) {
      const std::size_t m = out.samples;
      kernels::argmax_cost(objective_.cost, out, view.labels.slice(start, m), correct.slice(start, m),
                           cost.slice(start, m), s);
    });
    kernels::sum_evaluation(correct, cost, sums_.get(), s);
    SIGMANET_CUDA_CHECK(cudaMemcpyAsync(sums_host_.get(), sums_.get(), sizeof(kernels::EvaluationSums),
                                        cudaMemcpyDeviceToHost, s));
    model_.synchronize();
    e.correct = sums_host_.get()->correct;
    e.cost = sums_host_.get()->cost / double(e.total);
    return e;
  }

  std::vector<double> outputs(const Dataset& data, std::size_t first, std::size_t count) override {
    if (first > data.size() || count > data.size() - first)
      throw Error("CudaBackend::outputs: records past the end of " + data.name);
    model_.require_parameters();
    check_input_width(model_.sizes(), data);
    std::vector<double> out;
    if (count == 0) return out;
    const cuda::DeviceView view = model_.device_view(data, first, count);
    std::vector<float> host;
    out.reserve(count * std::size_t(model_.sizes().back()));
    model_.for_each_chunk(view, count, [&](std::size_t, kernels::BatchView<const float> a) {
      host.resize(a.values());
      SIGMANET_CUDA_CHECK(cudaMemcpyAsync(host.data(), a.data, host.size() * sizeof(float), cudaMemcpyDeviceToHost,
                                          model_.stream()));
      model_.synchronize();
      out.insert(out.end(), host.begin(), host.end());
    });
    return out;
  }

  double time_seconds(const std::function<void()>& work) override {
    SIGMANET_CUDA_CHECK(cudaEventRecord(timer_start_.get(), model_.stream()));
    work();
    SIGMANET_CUDA_CHECK(cudaEventRecord(timer_stop_.get(), model_.stream()));
    SIGMANET_CUDA_CHECK(cudaEventSynchronize(timer_stop_.get()));
    float ms = 0;
    SIGMANET_CUDA_CHECK(cudaEventElapsedTime(&ms, timer_start_.get(), timer_stop_.get()));
    return double(ms) / 1000.0;
  }

 private:
  cuda::TrainingPath choose_path(std::size_t batch) const {
    return cuda::choose_training_path(model_.options(), model_.sizes(), model_.output(), batch,
                                      data_parallel_ != nullptr, model_.persistent_limits(),
                                      model_.training_data()->has_values());
  }

  cuda::TrainingDriver& driver_for(std::size_t batch) {
    switch (choose_path(batch)) {
      case cuda::TrainingPath::persistent: return *persistent_;
      case cuda::TrainingPath::data_parallel: return *data_parallel_;
      case cuda::TrainingPath::graph: break;
    }
    return *graph_;
  }

  cuda::DeviceModel model_;  // first: the drivers work on it
  std::unique_ptr<cuda::TrainingDriver> graph_, persistent_;
  std::unique_ptr<cuda::TrainingDriver> data_parallel_;  // while training as a rank of a job across GPUs
  Objective objective_;
  std::optional<std::size_t> nonfinite_batch_;

  DeviceBuffer<unsigned> correct_;
  DeviceBuffer<double> cost_;
  DeviceBuffer<kernels::EvaluationSums> sums_{1};  // an evaluation's totals, and their copy for the host
  cuda::PinnedBuffer<kernels::EvaluationSums> sums_host_{1};
  cuda::Event timer_start_, timer_stop_;
};

}  // namespace

bool cuda_can_train_together(std::span<Backend* const> backends, std::size_t batch) {
  static_assert(kMaxRunsTogether == std::size_t(kernels::kPersistentMaxRuns));
  if (backends.empty() || backends.size() > kMaxRunsTogether) return false;
  auto* const lead = dynamic_cast<CudaBackend*>(backends[0]);
  if (!lead || !lead->on_persistent_path(batch)) return false;
  const cuda::DeviceModel& a = lead->model();
  for (Backend* backend : backends.subspan(1)) {
    auto* const cuda = dynamic_cast<CudaBackend*>(backend);
    if (!cuda || !cuda->on_persistent_path(batch)) return false;
    const cuda::DeviceModel& b = cuda->model();
    const bool alike = b.sizes() == a.sizes() && b.output() == a.output() && b.training_data() == a.training_data() &&
                       cuda->objective().cost == lead->objective().cost &&
                       b.options().kernel == a.options().kernel &&
                       b.options().persistent_blocks == a.options().persistent_blocks &&
                       b.options().persistent_chunk == a.options().persistent_chunk;
    if (!alike) return false;
  }
  return true;
}

TrainedTogether cuda_train_together(std::span<const RunTogether> runs, std::size_t batch,
                                    const AfterBatch& after_batch) {
  std::vector<cuda::DeviceModel*> models;
  std::vector<cuda::TrainingCall> calls;
  std::vector<CudaBackend*> backends;
  for (const RunTogether& run : runs) {
    auto* const backend = dynamic_cast<CudaBackend*>(run.backend);
    if (!backend) throw Error("train_together: not a CUDA backend");
    calls.push_back(backend->training_call(run.order, batch, run.eta, nullptr));
    models.push_back(&backend->model());
    backends.push_back(backend);
    backend->set_nonfinite_batch(std::nullopt);
  }
  const cuda::GroupTrained group = cuda::train_persistent_group(models, calls, after_batch);
  TrainedTogether trained;
  trained.launches = group.launches;
  for (std::size_t i = 0; i < backends.size(); ++i) {
    backends[i]->set_nonfinite_batch(group.runs[i].nonfinite_batch);
    trained.samples.push_back(group.runs[i].samples);
  }
  return trained;
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
