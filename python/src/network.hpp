#pragma once
// A network as Python holds it: its parameters, the generator behind its initial weights and every epoch's shuffle
// (TrainerState, as a checkpoint keeps it), the backend it last ran on, and the train() call that a signal or a
// Python exception interrupted, which the next call with the same arguments and data continues.
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <nanobind/nanobind.h>

#include "sigmanet_api.hpp"

namespace sigmanet::python {

// What one train() call asks for, checked by the Python layer first (the library checks again).
struct TrainRequest {
  int epochs = 30;  // to train in this call
  std::size_t batch = 10;
  double eta = 3.0;
  Cost cost = Cost::quadratic;
  double lambda = 0.0;
  int early_stopping = 0;   // 0: off
  int halve_eta_after = 0;  // 0: eta stays constant
  Device device = Device::automatic;
  int threads = 0;  // 0: default_threads()
  bool operator==(const TrainRequest&) const = default;
};

// The sets of one train() call; validation and test may be empty (not given).
struct TrainData {
  Dataset train, validation, test;
  bool operator==(const TrainData& other) const;
};

// Python callables, called with the GIL held; None for none.
struct TrainCallbacks {
  nanobind::object on_batch;  // (label, samples done, samples in the epoch): at most every 100 ms
  nanobind::object on_epoch;  // (the epoch's metrics as a dict) -> False stops training
  bool watch_sigint = false;  // Ctrl-C stops training at the next batch (on Python's main thread)
};

class Network {
 public:
  // Parameters drawn from the seed, as the CLI's Trainer draws them.
  Network(const std::vector<int>& sizes, Init init, std::uint64_t seed, Precision precision);
  // A model file, as `sigmanet train --save` writes it (or a checkpoint).
  explicit Network(const std::filesystem::path& file);

  // Trains (the GIL released but for the callbacks) and returns one dict per epoch. See python/sigmanet/_network.py.
  nanobind::list train(std::unique_ptr<TrainData> data, const TrainRequest& request,
                       const TrainCallbacks& callbacks);

  // Accuracy and cost of the network on a set (the cost with L2's term over the set's size, as train reports it).
  nanobind::dict evaluate(const Dataset& data);
  // The output layer's activations, one row of sizes.back() values per record.
  std::vector<double> outputs(const Dataset& data);

  // Writes the model as `sigmanet train --save` does (F32 safetensors, the same metadata).
  void save(const std::filesystem::path& file);

  const Parameters& parameters() const { return params_; }
  Precision precision() const { return precision_; }
  Init init() const { return init_; }
  std::uint64_t seed() const { return seed_; }
  const Objective& objective() const { return objective_; }
  int epochs_done() const { return state_.epochs_done; }
  std::size_t epoch_position() const { return state_.position; }
  bool interrupted() const { return pending_.has_value(); }
  // The epoch count at which the call in progress (or interrupted) ends.
  std::optional<int> run_target() const {
    return pending_ ? std::optional<int>(pending_->target_epochs) : std::nullopt;
  }
  // "cpu float, OpenBLAS": the backend training and evaluation run on; "" before the first use.
  std::string device() const { return backend_ ? backend_->describe() : std::string(); }
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  // Every epoch's metrics dict since the network was made or loaded, interrupted calls' included.
  const nanobind::list& history() const { return history_; }

 private:
  struct Pending {
    TrainRequest request;
    int target_epochs = 0;  // the network's epoch count at which the interrupted call ends
  };
  class TrainingRun;

  // The backend for a train() call on `device`: the one held when it was made for the same device.
  Backend& backend_for(Device device, int threads);
  // The backend evaluation runs on: the one held, else a new one on the CPU.
  Backend& evaluation_backend();
  void start_new_run(const TrainRequest& request);
  void keep(const Trainer& trainer);
  void record_epoch(const TrainConfig& config, const std::optional<Evaluation>& test);

  Init init_;
  std::uint64_t seed_;
  Precision precision_;
  Parameters params_;
  TrainerState state_;
  Objective objective_;
  bool untrained_ = true;  // drawn from the seed and not trained: the first train()'s cost picks the output layer
  std::map<std::string, std::string> metadata_;
  std::unique_ptr<Backend> backend_;
  Device backend_device_ = Device::automatic;
  // The last call's sets: the backend may hold their addresses until the next train() call.
  std::unique_ptr<TrainData> data_;
  std::optional<Pending> pending_;
  nanobind::list history_;
  std::recursive_mutex busy_;  // one call at a time; on_epoch may evaluate or save on the same thread
  bool training_ = false;
};

}  // namespace sigmanet::python
