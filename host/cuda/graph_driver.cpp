// The graph path: one SGD step a batch as kernels and SGEMMs, each full batch's step captured once as a CUDA
// graph and replayed (step_graph.hpp). A step (enqueue_step): gather the batch from the device copy of the
// training set, forward through each layer (fused kernel or SGEMM + epilogue; a softmax output layer stops at z
// and bias_softmax finishes it), the output error from the labels for the call's cost, then from the top layer
// down: the hidden error (SGEMM + epilogue, with the weights before their update), the weight update (one SGEMM
// with beta = L2's decay, 1 without L2) and the bias update. Small batches take the same step in few launches
// (enqueue_small_step). The NaN/Inf flag is looked at without blocking, every kPollEvery batches.
#include <algorithm>

#include "cuda_blas.hpp"
#include "cuda_check.hpp"
#include "step_graph.hpp"
#include "training_driver.hpp"

namespace sigmanet::cuda {
namespace {

class GraphDriver final : public TrainingDriver {
 public:
  explicit GraphDriver(DeviceModel& model) : model_(model) {}

  Trained train(const TrainingCall& call) override {
    poll_pending_ = false;  // a poll left by a call that threw reads an earlier run's flag
    model_.reserve_training_workspace(std::max<std::size_t>(1, std::min(call.batch, call.order.size())));
    const auto enqueue = [this, cost = call.cost](std::size_t batch, std::size_t m, float eta, float decay) {
      enqueue_step(cost, batch, m, eta, decay);
    };
    const auto stop_after = [&](std::size_t b, std::size_t done) {
      if ((b + 1) % kPollEvery == 0) start_poll();
      return poll_found_bad() || call.stop_after(done);
    };
    const Trained trained = run_batches(model_, graph_, call, enqueue, stop_after);
    poll_pending_ = false;
    return trained;
  }

 private:
  void enqueue_step(Cost cost, std::size_t batch, std::size_t m, float eta, float decay) {
    if (model_.use_fused_forward(m) && model_.layers().size() <= std::size_t(kernels::kFusedUpdateMaxLayers))
      return enqueue_small_step(cost, batch, m, eta, decay);
    const cudaStream_t s = model_.stream();
    Workspace& ws = model_.training_workspace();
    const std::size_t L = model_.layers().size();
    const kernels::VectorView<std::uint8_t> labels = vector_view(ws.labels, m);
    gather_batch(model_.training_view(), model_.order(), model_.step(), batch, 0, model_.activations(ws, 0, m),
                 labels, s);
    model_.forward(ws, m);
    kernels::output_delta(cost, model_.activations(ws, L, m), labels, model_.step(), model_.bad(),
                          model_.errors(ws, L - 1, m), s);
    const float scale = eta / float(m);  // the CPU float network's eta / T(m)
    for (std::size_t l = L; l-- > 0;) {
      const DeviceLayer& layer = model_.layers()[l];
      if (l > 0) {
        // The error one layer down needs this layer's weights before their update.
        gemm_backward(model_.blas(), layer.weights(), model_.errors(ws, l, m), model_.errors(ws, l - 1, m));
        kernels::hidden_delta(model_.errors(ws, l - 1, m), model_.activations(ws, l, m), s);
      }
      gemm_update(model_.blas(), model_.activations(ws, l, m), model_.errors(ws, l, m), scale, decay,
                  layer.weights());
      kernels::bias_update(model_.errors(ws, l, m), scale, layer.bias(), {}, s);
    }
    kernels::advance_counter(model_.step(), s);
  }

  // The same step in few launches, for the batches the fused forward kernel takes: the first layer gathers its
  // own input, a sigmoid output layer finishes with its error, each hidden layer's error is one kernel, and one
  // kernel updates every layer and advances the step counter. 2L launches for L layers (four for 784-30-10);
  // a softmax output layer takes two more, a one-layer network one more (its gather).
  void enqueue_small_step(Cost cost, std::size_t batch, std::size_t m, float eta, float decay) {
    const cudaStream_t s = model_.stream();
    Workspace& ws = model_.training_workspace();
    const std::vector<DeviceLayer>& layers = model_.layers();
    const std::size_t L = layers.size();
    const kernels::VectorView<std::uint8_t> labels = vector_view(ws.labels, m);
    const bool softmax = model_.output() == Activation::softmax;
    for (std::size_t l = 0; l < L; ++l) {
      const DeviceLayer& layer = layers[l];
      const kernels::BatchView<float> in = model_.activations(ws, l, m), out = model_.activations(ws, l + 1, m);
      if (l == 0 && L > 1) {
        fused_gather_forward(model_.training_view(), model_.order(), model_.step(), batch, layer.weights(),
                             layer.bias(), in, labels, out, s);
        continue;
      }
      if (l == 0)
        gather_batch(model_.training_view(), model_.order(), model_.step(), batch, 0, in, labels, s);
      if (l + 1 < L) {
        kernels::fused_forward(layer.weights(), layer.bias(), in, out, s);
      } else if (!softmax) {
        kernels::fused_forward_error(cost, layer.weights(), layer.bias(), in, labels, model_.step(), model_.bad(),
                                     out, model_.errors(ws, l, m), s);
      } else {
        kernels::fused_weighted_sum(layer.weights(), in, out, s);
        kernels::bias_softmax(out, layer.bias(), s);
        kernels::output_delta(cost, out, labels, model_.step(), model_.bad(), model_.errors(ws, l, m), s);
      }
    }
    for (std::size_t l = L - 1; l > 0; --l)
      kernels::fused_hidden_delta(layers[l].weights(), model_.errors(ws, l, m), model_.activations(ws, l, m),
                                  model_.errors(ws, l - 1, m), s);
    kernels::FusedUpdate update;
    update.layers = int(L);
    for (std::size_t l = 0; l < L; ++l) {
      const DeviceLayer& layer = layers[l];
      update.layer[l] = {layer.w.get(), layer.b.get(), ws.a[l].get(), ws.delta[l].get(), layer.n_in, layer.n_out};
    }
    kernels::fused_update(update, m, eta / float(m), decay, model_.step(), s);
  }

  // ---- the NaN/Inf flag, looked at without blocking ----

  void start_poll() {
    if (poll_pending_) return;
    SIGMANET_CUDA_CHECK(cudaMemcpyAsync(bad_host_.get(), model_.bad(), sizeof(unsigned), cudaMemcpyDeviceToHost,
                                        model_.stream()));
    SIGMANET_CUDA_CHECK(cudaEventRecord(poll_event_.get(), model_.stream()));
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

  DeviceModel& model_;
  StepGraph graph_;
  PinnedBuffer<unsigned> bad_host_{1};
  Event poll_event_{cudaEventDisableTiming};
  bool poll_pending_ = false;
};

}  // namespace

std::unique_ptr<TrainingDriver> make_graph_driver(DeviceModel& model) { return std::make_unique<GraphDriver>(model); }

}  // namespace sigmanet::cuda
