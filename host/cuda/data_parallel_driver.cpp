// One rank of a job across GPUs: a step computes only the gradient of the rank's share of the batch, NCCL adds
// the ranks' gradients up on the stream, and every rank applies the sum (enqueue_share_step): still one graph a
// full batch (step_graph.hpp), the sum inside it. The ranks decide together whether to stop, so that every one
// stops after the same batch, as one process would.
#include <algorithm>
#include <memory>

#include "cuda_blas.hpp"
#include "cuda_check.hpp"
#include "nccl_sum.hpp"
#include "step_graph.hpp"
#include "training_driver.hpp"

namespace sigmanet::cuda {
namespace {

class DataParallelDriver final : public TrainingDriver {
 public:
  // Joins the job's GPUs with NCCL. A failure there (two ranks on one GPU, no libnccl) is decided together too,
  // so that every rank stops with the same message instead of some waiting for the rest.
  DataParallelDriver(DeviceModel& model, Collective& job) : model_(model), job_(job) {
    std::string failure;
    try {
      nccl_ = std::make_unique<NcclSum>(job_);
    } catch (const Error& e) {
      failure = e.what();
    }
    if (job_.any(!failure.empty())) {
      int devices = 0;
      (void)cudaGetDeviceCount(&devices);
      throw InputError("training across GPUs: NCCL could not join the job's ranks (" + std::to_string(devices) +
                       " GPU" + (devices == 1 ? "" : "s") + " visible to each of the " +
                       std::to_string(job_.local_size()) + " processes on " + job_.host() +
                       "; NCCL needs one GPU per process): " +
                       (failure.empty() ? std::string("another rank failed") : failure));
    }
  }

  Trained train(const TrainingCall& call) override {
    // A rank trains its share of each batch (batch_share: at most ceil(m / ranks) samples).
    const std::size_t ranks = std::size_t(job_.size());
    model_.reserve_training_workspace(std::max<std::size_t>(1, (std::min(call.batch, call.order.size()) + ranks - 1) / ranks));
    reserve_exchange();
    const auto enqueue = [this, cost = call.cost](std::size_t batch, std::size_t m, float eta, float decay) {
      enqueue_share_step(cost, batch, m, eta, decay);
    };
    // after_batch's verdicts are combined after every batch (one host allreduce of a flag, while the device runs
    // behind); the NaN/Inf flag, which travels with the gradients, is read every kPollEvery batches with a
    // blocking copy, so that every rank reads it after the same batch.
    const auto stop_after = [&](std::size_t b, std::size_t done) {
      if ((b + 1) % kPollEvery == 0 && model_.read_bad() != kNoBadBatch) return true;
      return job_.any(call.stop_after(done));
    };
    return run_batches(model_, graph_, call, enqueue, stop_after);
  }

 private:
  // The values the ranks add up each step: every layer's weight gradient (W's layout) then its bias gradient,
  // layer after layer, and last the NaN/Inf flag (nonfinite_flag.cu).
  std::size_t exchange_count() const {
    std::size_t count = 1;
    for (const DeviceLayer& layer : model_.layers()) count += layer.w.size() + layer.b.size();
    return count;
  }

  // Makes exchange_ fit this network's gradients and flag.
  void reserve_exchange() {
    if (exchange_.size() == exchange_count()) return;
    model_.synchronize();
    graph_.forget();  // it holds the old buffer's address
    exchange_ = DeviceBuffer<float>{};
    exchange_ = DeviceBuffer<float>(exchange_count());
  }

  // Queues one data-parallel step of the batch the step counter points at: this rank's share forward and back
  // into exchange_ (zeros for an empty share), the flag, NCCL's sum, and the update every rank makes alike with
  // the whole batch's m. Enqueues only, so that it can be captured.
  void enqueue_share_step(Cost cost, std::size_t batch, std::size_t m, float eta, float decay) {
    const cudaStream_t s = model_.stream();
    Workspace& ws = model_.training_workspace();
    const std::size_t L = model_.layers().size(), count = exchange_count();
    const auto [first, last] = batch_share(m, job_.rank(), job_.size());
    const std::size_t mine = last - first;
    float* const exchange = exchange_.get();
    if (mine == 0) {
      SIGMANET_CUDA_CHECK(cudaMemsetAsync(exchange, 0, (count - 1) * sizeof(float), s));
    } else {
      const kernels::VectorView<std::uint8_t> labels = vector_view(ws.labels, mine);
      gather_batch(model_.training_view(), model_.order(), model_.step(), batch, first,
                   model_.activations(ws, 0, mine), labels, s);
      model_.forward(ws, mine);
      kernels::output_delta(cost, model_.activations(ws, L, mine), labels, model_.step(), model_.bad(),
                            model_.errors(ws, L - 1, mine), s);
      for (std::size_t l = L; l-- > 0;) {
        if (l > 0) {
          gemm_backward(model_.blas(), model_.layers()[l].weights(), model_.errors(ws, l, mine),
                        model_.errors(ws, l - 1, mine));
          kernels::hidden_delta(model_.errors(ws, l - 1, mine), model_.activations(ws, l, mine), s);
        }
        gemm_gradient(model_.blas(), model_.activations(ws, l, mine), model_.errors(ws, l, mine), weight_gradient(l));
        kernels::bias_gradient(model_.errors(ws, l, mine), bias_gradient(l), s);
      }
    }
    float* const flag = exchange + count - 1;
    kernels::put_nonfinite_flag(model_.bad(), model_.step(), flag, s);
    nccl_->sum(exchange, count, s);
    kernels::take_nonfinite_flag(flag, model_.step(), model_.bad(), s);
    const float scale = eta / float(m);  // the whole batch's m, as one process's step
    for (std::size_t l = 0; l < L; ++l) {
      const DeviceLayer& layer = model_.layers()[l];
      kernels::apply_gradient(weight_gradient_values(l), scale, decay, vector_view(layer.w, layer.w.size()), s);
      kernels::apply_gradient(bias_gradient(l), scale, 1.0f, vector_view(layer.b, layer.b.size()), s);
    }
    kernels::advance_counter(model_.step(), s);
  }

  // Layer l's gradients in exchange_: its weights' (W's layout) and its biases'.
  kernels::VectorView<float> weight_gradient_values(std::size_t l) const {
    const std::vector<DeviceLayer>& layers = model_.layers();
    std::size_t offset = 0;
    for (std::size_t k = 0; k < l; ++k) offset += layers[k].w.size() + layers[k].b.size();
    return vector_view(exchange_, exchange_.size()).slice(offset, layers[l].w.size());
  }
  kernels::WeightView<float> weight_gradient(std::size_t l) const {
    const DeviceLayer& layer = model_.layers()[l];
    return {weight_gradient_values(l).data, std::size_t(layer.n_out), std::size_t(layer.n_in)};
  }
  kernels::VectorView<float> bias_gradient(std::size_t l) const {
    const kernels::VectorView<float> w = weight_gradient_values(l);
    return vector_view(exchange_, exchange_.size())
        .slice(std::size_t(w.data - exchange_.get()) + w.size, model_.layers()[l].b.size());
  }

  DeviceModel& model_;
  Collective& job_;
  std::unique_ptr<NcclSum> nccl_;  // before graph_, which holds its sums: destroyed after it
  DeviceBuffer<float> exchange_;   // a step's gradients and flag, as the ranks add them up
  StepGraph graph_;
};

}  // namespace

std::unique_ptr<TrainingDriver> make_data_parallel_driver(DeviceModel& model, Collective& job) {
  return std::make_unique<DataParallelDriver>(model, job);
}

}  // namespace sigmanet::cuda
