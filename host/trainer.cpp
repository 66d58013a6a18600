#include "sigmanet/trainer.hpp"

#include <cmath>

#include "sigmanet/error.hpp"

namespace sigmanet {

void validate_config(const TrainConfig& c) {
  validate_sizes(c.sizes);
  if (c.epochs < 1) throw InputError("--epochs: must be at least 1 (got " + std::to_string(c.epochs) + ")");
  if (c.batch < 1) throw InputError("--batch: must be at least 1");
  if (!(c.eta > 0) || !std::isfinite(c.eta)) throw InputError("--eta: must be a finite number above 0");
}

Trainer::Trainer(const TrainConfig& config, Backend& backend, const Dataset& train)
    : config_(config), backend_(backend), rng_(config.seed) {
  validate_config(config_);
  if (std::size_t(config_.sizes.front()) != train.features())
    throw InputError("--sizes: the input layer has " + std::to_string(config_.sizes.front()) + " neurons but " +
                     train.name + " images have " + std::to_string(train.features()) + " pixels");
  backend_.set_training_data(train);
  backend_.set_parameters(init_parameters(config_.sizes, config_.init, rng_));
  train_size_ = train.size();
  state_.rng = rng_.snapshot();
}

void Trainer::resume(const Parameters& p, const TrainerState& state) {
  if (p.sizes != config_.sizes) throw InputError("--resume: the checkpoint's sizes differ from --sizes");
  if (!state.order.empty() && (state.order.size() != train_size_ || state.position > state.order.size()))
    throw InputError("--resume: the checkpoint's epoch order does not fit this training set");
  backend_.set_parameters(p);
  state_ = state;
  rng_.restore(state.rng);
}

bool Trainer::train_epoch(const AfterBatch& after_batch) {
  if (state_.order.empty()) {
    state_.order = rng_.permutation(train_size_);
    state_.position = 0;
    state_.rng = rng_.snapshot();
  }
  const std::span<const std::uint32_t> rest(state_.order.data() + state_.position,
                                            state_.order.size() - state_.position);
  const std::size_t start = state_.position;
  const std::size_t done = backend_.train(rest, config_.batch, config_.eta, [&](std::size_t n) {
    state_.position = start + n;
    return after_batch ? after_batch(start + n) : true;
  });
  state_.position = start + done;
  if (state_.position < state_.order.size()) return false;
  state_.order.clear();
  state_.position = 0;
  ++state_.epochs_done;
  return true;
}

}  // namespace sigmanet
