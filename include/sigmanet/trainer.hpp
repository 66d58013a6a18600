#pragma once
// The training loop shared by every backend: seeded initialisation, one shuffled order per epoch drawn
// from the same generator, and SGD through a Backend. Given one seed, every backend sees the same start
// and the same batches, which is what makes them comparable step by step.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "sigmanet/backend.hpp"
#include "sigmanet/dataset.hpp"
#include "sigmanet/error.hpp"
#include "sigmanet/parameters.hpp"
#include "sigmanet/random.hpp"

namespace sigmanet {

// Everything one training run is asked to do. Defaults reproduce Nielsen's chapter 1 run.
struct TrainConfig {
  std::vector<int> sizes{784, 30, 10};
  int epochs = 30;
  std::size_t batch = 10;
  double eta = 3.0;  // the learning rate at the start (the schedule may halve it)
  // Chapter 3 (cost.hpp): the cost, L2's lambda, and two rules fed the validation accuracy after each epoch
  // (Trainer::end_epoch): stop when it has not improved for early_stopping epochs, and halve eta when it has
  // not improved for halve_eta_after epochs since it last did or eta last changed, stopping when eta reaches
  // 1/128 of its start. 0 turns a rule off.
  Cost cost = Cost::quadratic;
  double lambda = 0.0;
  int early_stopping = 0;
  int halve_eta_after = 0;
  std::uint64_t seed = 1;
  Init init = Init::standard;
  Device device = Device::automatic;  // where it trains (make_backend's choice); how a GPU trains is its own
  Precision precision = Precision::f32;
  MnistSplitSizes split;
};

// The schedule's text: "halve:N" for halve_eta_after = N, "constant" for 0; and back (none for other text,
// N outside 1..2^31-1 included).
std::string eta_schedule_text(int halve_eta_after);
std::optional<int> eta_schedule_from_text(const std::string& text);

// Throws SettingError for any value the trainer cannot use, alone or with the others. Whether the run fits this
// machine's memory is check_memory's (below).
void validate_config(const TrainConfig& config);

// Bytes a training run of this configuration needs, estimated from the sizes before anything is allocated:
// the host's double copy of the parameters, and the backend's parameters + gradients + activations and
// deltas, in the backend's precision, for max(batch, kCpuEvaluationChunk) rows on the CPU (evaluation reuses
// the training buffers) or batch + kGpuEvaluationChunk rows on a GPU (a separate evaluation workspace).
// host_bytes counts the backend's share only for Device::cpu; device_bytes is that share on a GPU. Doubles,
// so absurd sizes give a large number instead of wrapping around.
struct MemoryEstimate {
  double parameters = 0;  // scalars
  double host_bytes = 0;
  double device_bytes = 0;
};
MemoryEstimate estimate_memory(const TrainConfig& config);

// Throws SettingError when the estimate exceeds this machine's physical memory or, on the GPU, `gpu`'s memory,
// saying what `doing` ("training", "evaluating it") would need: blamed on Setting::sizes, or on Setting::batch when
// the activations of the batch are what grows it. Refused so before anything is allocated, the run would otherwise
// fail deep inside or be ended by the kernel's OOM killer. `gpu` is the usable GPU (backends/factory.hpp's
// gpu_info(config.device)), none without one: Device::automatic is estimated as the device it will take.
void check_memory(const TrainConfig& config, const std::optional<DeviceInfo>& gpu,
                  const std::string& doing = "training");


// Where a run stands: enough, with the parameters, to continue it exactly.
struct TrainerState {
  int epochs_done = 0;
  std::vector<std::uint32_t> order;  // the current epoch's order; empty between epochs
  std::size_t position = 0;          // samples of order already trained
  Rng::Snapshot rng{};
  // The chapter 3 rules' memory (TrainConfig): how often the schedule has halved eta (eta is now
  // config.eta / 2^eta_halvings, exactly), the best validation accuracy so far (-1 before the first), and the
  // epochs since it improved and since it improved or eta changed.
  int eta_halvings = 0;
  double best_validation = -1;
  int epochs_since_best = 0;
  int epochs_since_eta_change = 0;
};

// The schedule stops training when eta reaches 1/128 of its start: after this many halvings.
constexpr int kMaxEtaHalvings = 7;

// What the chapter 3 rules decided after an epoch.
enum class EpochVerdict {
  go_on,
  eta_halved,      // the schedule halved eta; training goes on
  stop_early,      // early stopping: no better validation accuracy for early_stopping epochs
  stop_eta_floor,  // the schedule brought eta down to 1/128 of its start
};

// Whether a run in this state has already been stopped by a chapter 3 rule: early stopping, or eta brought down to
// 1/128 of its start (a checkpoint of a finished run). None: nothing. Otherwise the rule's name, for messages.
std::optional<std::string> stopped_by_rule(const TrainConfig& config, const TrainerState& state);

class Trainer {
 public:
  // Draws the initial parameters from the seed and hands them and the training set to the backend.
  Trainer(const TrainConfig& config, Backend& backend, const Dataset& train);

  // Continue from saved parameters and state instead of a fresh start.
  void resume(const Parameters& p, const TrainerState& state);

  // Trains the current epoch to its end (drawing its order first if it has none). after_batch may stop
  // it early; then it returns false and the state records where it stopped.
  // Throws DivergenceError when a batch's outputs hold NaN or Inf, when the parameters do at the end of
  // the epoch, or when an epoch trained from its start changed no parameter while some training records
  // are still misclassified; the backend's parameters are then not to be saved.
  bool train_epoch(const AfterBatch& after_batch = {});

  // train_epoch in two halves, for a caller that trains several runs' epochs in shared launches
  // (backends/train_together.hpp) and so calls the backend itself: begin_training returns the part of the current
  // epoch's order still to train (drawing the order first if it has none), which the caller trains on backend()
  // with eta() and config().batch; finish_training is then told how many of those samples were trained (the
  // backend's nonfinite_batch() says whether a batch went bad) and returns or throws as train_epoch does. The two
  // together are train_epoch without after_batch: the same state, the same bits.
  std::span<const std::uint32_t> begin_training();
  bool finish_training(std::size_t trained);

  // After a finished epoch: feeds the validation accuracy to the chapter 3 rules (TrainConfig), which may
  // halve eta for the epochs to come or say training is over. With neither rule on, always go_on.
  EpochVerdict end_epoch(double validation_accuracy);
  bool stopped_by_rule() const { return sigmanet::stopped_by_rule(config_, state_).has_value(); }
  // The learning rate now: config().eta halved eta_halvings times.
  double eta() const;

  const TrainerState& state() const { return state_; }
  int epochs_done() const { return state_.epochs_done; }
  bool mid_epoch() const { return !state_.order.empty(); }
  const TrainConfig& config() const { return config_; }
  Backend& backend() { return backend_; }

 private:
  TrainConfig config_;
  Backend& backend_;
  Rng rng_;
  const Dataset* train_ = nullptr;
  std::size_t train_size_ = 0;
  TrainerState state_;
  // Between begin_training and finish_training: where the trained part starts, and the parameters before it when
  // it starts the epoch (only an epoch trained from its start can show that nothing moved for a whole pass).
  std::size_t training_from_ = 0;
  std::optional<Parameters> before_;
};

}  // namespace sigmanet
