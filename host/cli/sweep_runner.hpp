#pragma once
// Trains a sweep's runs, several at a time: each run on a thread of its own with a backend of its own (one CPU
// thread each: set_threads(1)), taken from a queue in order (the caller puts the longest first). On a GPU, runs of
// one network, batch, cost and precision go in groups of up to kMaxRunsTogether (backends/train_together.hpp): where
// their backends take the persistent kernel, one thread trains the group's epochs in shared launches, a cluster a
// run; otherwise (the graph path) they train one after another. Each run is the run
// `sigmanet train` makes with its settings: the same Trainer calls in the same order, so the same bits whatever runs
// beside it. Early stopping, the eta schedule and divergence end one run, not the sweep. A stop signal
// (stop_signals.hpp) stops every running run after its current mini-batch with a checkpoint in the store.
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "cli/sweep_grid.hpp"
#include "cli/sweep_store.hpp"
#include "sigmanet/cuda/cuda_options.hpp"
#include "sigmanet/formats/data_source.hpp"

namespace sigmanet::cli {

class SweepRunner {
 public:
  // on_finished is called one run at a time, once the run's model and record are in the store.
  SweepRunner(const LabelledData& data, const CudaOptions& gpu, const SweepStore& store,
              std::function<void(const RunRecord&)> on_finished)
      : data_(data), gpu_(gpu), store_(store), on_finished_(std::move(on_finished)) {}

  // Trains the queue, `threads` runs at once. `stopped_before`: the records of runs a stop left unfinished, which
  // continue from their checkpoints. False when a signal stopped the sweep. The first error a run throws (other than
  // divergence, which ends that run) stops the others as a signal would and is thrown here.
  bool run(const std::vector<const SweepRun*>& queue, int threads,
           const std::map<std::string, RunRecord>& stopped_before);

  // Called with the names of a group's runs as they start training in shared launches (none by default).
  void on_shared_launches(std::function<void(const std::vector<std::string>&)> f) { on_shared_launches_ = std::move(f); }

 private:
  const LabelledData& data_;
  CudaOptions gpu_;
  const SweepStore& store_;
  std::function<void(const RunRecord&)> on_finished_;
  std::function<void(const std::vector<std::string>&)> on_shared_launches_;
};

}  // namespace sigmanet::cli
