#pragma once
// The training loop shared by every backend: seeded initialisation, one shuffled order per epoch drawn
// from the same generator, and SGD through a Backend. Given one seed, every backend sees the same start
// and the same batches, which is what makes them comparable step by step.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "sigmanet/backend.hpp"
#include "sigmanet/dataset.hpp"
#include "sigmanet/parameters.hpp"
#include "sigmanet/random.hpp"

namespace sigmanet {

// Everything one training run is asked to do. Defaults reproduce Nielsen's chapter 1 run.
struct TrainConfig {
  std::vector<int> sizes{784, 30, 10};
  int epochs = 30;
  std::size_t batch = 10;
  double eta = 3.0;
  std::uint64_t seed = 1;
  Init init = Init::standard;
  Device device = Device::automatic;
  Precision precision = Precision::f32;
  MnistSplitSizes split;
};

// Throws InputError naming the flag for any value the trainer cannot use.
void validate_config(const TrainConfig& config);

// Where a run stands: enough, with the parameters, to continue it exactly.
struct TrainerState {
  int epochs_done = 0;
  std::vector<std::uint32_t> order;  // the current epoch's order; empty between epochs
  std::size_t position = 0;          // samples of order already trained
  Rng::Snapshot rng{};
};

class Trainer {
 public:
  // Draws the initial parameters from the seed and hands them and the training set to the backend.
  Trainer(const TrainConfig& config, Backend& backend, const Dataset& train);

  // Continue from saved parameters and state instead of a fresh start.
  void resume(const Parameters& p, const TrainerState& state);

  // Trains the current epoch to its end (drawing its order first if it has none). after_batch may stop
  // it early; then it returns false and the state records where it stopped.
  bool train_epoch(const AfterBatch& after_batch = {});

  const TrainerState& state() const { return state_; }
  int epochs_done() const { return state_.epochs_done; }
  bool mid_epoch() const { return !state_.order.empty(); }
  const TrainConfig& config() const { return config_; }
  Backend& backend() { return backend_; }

 private:
  TrainConfig config_;
  Backend& backend_;
  Rng rng_;
  std::size_t train_size_ = 0;
  TrainerState state_;
};

}  // namespace sigmanet
