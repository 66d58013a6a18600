// A full batch's step captured once as a CUDA graph and replayed, and the batch loop around it (step_graph.hpp).
#include "step_graph.hpp"

#include <cstring>

#include "cuda_check.hpp"

namespace sigmanet::cuda {

bool GraphKey::operator==(const GraphKey& o) const {
  return batch == o.batch && std::memcmp(&eta, &o.eta, sizeof eta) == 0 &&
         std::memcmp(&decay, &o.decay, sizeof decay) == 0 && cost == o.cost && output == o.output;
}

bool StepGraph::current(const DeviceModel& model, const GraphKey& key) const {
  return graph_ && key_ == key && generation_ == model.generation();
}

void StepGraph::run_full_batch(const DeviceModel& model, const GraphKey& key, bool capture,
                               const EnqueueStep& enqueue) {
  const cudaStream_t s = model.stream();
  if (capture && !current(model, key)) {
    forget();
    cudaGraph_t graph = nullptr;
    SIGMANET_CUDA_CHECK(cudaStreamBeginCapture(s, cudaStreamCaptureModeThreadLocal));
    try {
      enqueue(key.batch, key.batch, key.eta, key.decay);
    } catch (...) {
      cudaStreamEndCapture(s, &graph);  // leave the stream usable
      if (graph) cudaGraphDestroy(graph);
      throw;
    }
    SIGMANET_CUDA_CHECK(cudaStreamEndCapture(s, &graph));
    graph_ = GraphExec(graph);
    key_ = key;
    generation_ = model.generation();
  }
  if (current(model, key))
    graph_.launch(s);
  else
    enqueue(key.batch, key.batch, key.eta, key.decay);
}

Trained run_batches(DeviceModel& model, StepGraph& graph, const TrainingCall& call, const EnqueueStep& enqueue,
                    const StopAfter& stop_after) {
  model.upload_order(call.order);
  model.reset_step();
  model.reset_bad();
  const std::size_t batch = call.batch, full_batches = call.order.size() / batch, last = call.order.size() % batch;
  const std::size_t batches = full_batches + (last ? 1 : 0);
  const GraphKey key{batch, call.eta, call.decay, call.cost, model.output()};
  Trained trained;
  for (std::size_t b = 0; b < batches; ++b) {
    const std::size_t m = b < full_batches ? batch : last;
    if (m == batch)
      graph.run_full_batch(model, key, model.options().graphs && b > 0, enqueue);
    else
      enqueue(batch, m, call.eta, call.decay);
    trained.samples += m;
    if (stop_after(b, trained.samples)) break;
  }
  const unsigned bad = model.read_bad();
  if (bad != kNoBadBatch) trained.nonfinite_batch = bad;
  return trained;
}

}  // namespace sigmanet::cuda
