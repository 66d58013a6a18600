#pragma once
// The batch loop of the drivers that queue a step of launches per batch (graph_driver.cpp,
// data_parallel_driver.cpp): every full batch is the same sequence of launches with the same arguments (a
// device-side step counter tells the gather which slice of the epoch's order to take), so it is captured into
// a CUDA graph once and replayed, which is what makes batch 10 fast.
#include <cstddef>
#include <functional>

#include "device_model.hpp"
#include "training_driver.hpp"

namespace sigmanet::cuda {

// Batches between looks at the device's NaN/Inf flag during training.
constexpr std::size_t kPollEvery = 64;

// Everything a captured step holds by value besides buffer addresses (DeviceModel::generation covers those):
// the batch, the step's eta and L2 decay (an eta schedule may change both between train() calls), the cost (its
// output error kernel) and the output layer (sigmoid or softmax kernels).
struct GraphKey {
  std::size_t batch = 0;
  float eta = 0.0f, decay = 1.0f;
  Cost cost = Cost::quadratic;
  Activation output = Activation::sigmoid;

  bool operator==(const GraphKey& o) const;  // floats by their bits, as a captured argument holds them
};

// Queues one step of m samples on the batch the step counter points at (the order's samples
// [step * batch, step * batch + m)) and advances the counter; enqueues only, so that it can be captured.
using EnqueueStep = std::function<void(std::size_t batch, std::size_t m, float eta, float decay)>;

// One full batch's step as a CUDA graph, and the key and model generation it was captured under.
class StepGraph {
 public:
  // Replays the graph of key when it is current; else, when `capture` (graphs on and not the call's first
  // batch, which runs eagerly to load every kernel and warm cuBLAS first), captures it and replays it; else
  // enqueues the step eagerly.
  void run_full_batch(const DeviceModel& model, const GraphKey& key, bool capture, const EnqueueStep& enqueue);
  void forget() { graph_ = GraphExec{}; }

 private:
  bool current(const DeviceModel& model, const GraphKey& key) const;

  GraphExec graph_;
  GraphKey key_;
  std::uint64_t generation_ = 0;
};

// Decides after batch b (done samples trained) whether the call stops.
using StopAfter = std::function<bool(std::size_t b, std::size_t done)>;

// call's batches, each full one through `graph`, the last partial one eagerly, until stop_after says stop:
// uploads the order, starts the device's step counter and NaN/Inf flag, and reads the flag at the end. The
// caller has made the workspaces its steps use.
Trained run_batches(DeviceModel& model, StepGraph& graph, const TrainingCall& call, const EnqueueStep& enqueue,
                    const StopAfter& stop_after);

}  // namespace sigmanet::cuda
