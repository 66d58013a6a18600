#include "sigmanet/trainer.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "sigmanet/error.hpp"
#include "training/number_text.hpp"
#include "training/physical_memory.hpp"

namespace sigmanet {
namespace {

// A value in a message: as it reads back exactly (number_text.hpp).
std::string eta_text(double eta) { return exact_text(eta); }

// A count worked out for a message, to six digits: "23860", "7.95e+10".
std::string count_text(double count) {
  char text[32];
  std::snprintf(text, sizeof text, "%g", count);
  return text;
}

bool all_finite(const Parameters& p) {
  for (std::size_t l = 0; l < p.layers(); ++l)
    for (const auto* values : {&p.weights[l], &p.biases[l]})
      for (double v : *values)
        if (!std::isfinite(v)) return false;
  return true;
}

}  // namespace

std::string eta_schedule_text(int halve_eta_after) {
  return halve_eta_after > 0 ? "halve:" + std::to_string(halve_eta_after) : "constant";
}

std::optional<int> eta_schedule_from_text(const std::string& text) {
  if (text == "constant") return 0;
  const std::string prefix = "halve:";
  if (text.rfind(prefix, 0) != 0 || text.size() == prefix.size() || text.size() > prefix.size() + 10)
    return std::nullopt;
  long long n = 0;
  for (std::size_t i = prefix.size(); i < text.size(); ++i) {
    if (text[i] < '0' || text[i] > '9') return std::nullopt;
    n = n * 10 + (text[i] - '0');
  }
  if (n < 1 || n > 0x7fffffff) return std::nullopt;
  return int(n);
}

MemoryEstimate estimate_memory(const TrainConfig& c) {
  MemoryEstimate e;
  double neurons = 0;
  for (std::size_t l = 0; l < c.sizes.size(); ++l) {
    neurons += double(c.sizes[l]);
    if (l + 1 < c.sizes.size()) e.parameters += double(c.sizes[l]) * double(c.sizes[l + 1]) + double(c.sizes[l + 1]);
  }
  const double scalar = c.precision == Precision::f64 ? 8 : 4;
  // The CPU evaluates in chunks through the training buffers; a GPU keeps a separate evaluation workspace.
  const double rows = c.device == Device::cpu ? std::max(double(c.batch), double(kCpuEvaluationChunk))
                                              : double(c.batch) + double(kGpuEvaluationChunk);
  // Parameters and their gradients, then activations and deltas (one of each per neuron and row).
  const double backend = scalar * (2 * e.parameters + 2 * rows * neurons);
  e.host_bytes = 8 * e.parameters;  // init_parameters' double copy, which every backend starts from
  if (c.device == Device::cpu)
    e.host_bytes += backend;
  else
    e.device_bytes = backend;
  return e;
}

void validate_config(const TrainConfig& c) {
  validate_sizes(c.sizes);
  if (c.epochs < 1)
    throw SettingError(Setting::epochs, "must be at least 1 (got " + std::to_string(c.epochs) + ")",
                       std::to_string(c.epochs));
  if (c.batch < 1) throw SettingError(Setting::batch, "must be at least 1", "0");
  if (!(c.eta > 0) || !std::isfinite(c.eta))
    throw SettingError(Setting::eta, "must be a finite number above 0", eta_text(c.eta));
  if (!(c.lambda >= 0) || !std::isfinite(c.lambda))
    throw SettingError(Setting::lambda, "must be a finite number, 0 or more (got " + eta_text(c.lambda) + ")",
                       eta_text(c.lambda));
  if (c.early_stopping < 0)
    throw SettingError(Setting::early_stopping, "must be at least 1 (got " + std::to_string(c.early_stopping) + ")",
                       std::to_string(c.early_stopping));
  if (c.halve_eta_after < 0)
    throw SettingError(Setting::eta_schedule, "halve:N needs N of 1 or more", eta_schedule_text(c.halve_eta_after));
  // Both rules watch the validation accuracy: without a validation set they would never see an improvement.
  if (c.split.validation == 0 && (c.early_stopping > 0 || c.halve_eta_after > 0)) {
    const Setting rule = c.early_stopping > 0 ? Setting::early_stopping : Setting::eta_schedule;
    throw SettingError(rule, {rule, " watches the validation accuracy, but ", Setting::validation_size, " is 0"});
  }
}

void check_memory(const TrainConfig& config, const std::optional<DeviceInfo>& gpu, const std::string& doing) {
  // auto is estimated as the device it will take: on a machine without a usable GPU, the CPU's buffers are the
  // host's.
  TrainConfig c = config;
  if (c.device == Device::automatic) c.device = gpu ? Device::gpu : Device::cpu;
  const MemoryEstimate need = estimate_memory(c);
  const std::size_t have = physical_memory_bytes();
  // The setting to blame: activations and deltas grow with the batch, parameters and gradients with the sizes.
  double neurons = 0;
  for (int n : c.sizes) neurons += double(n);
  const bool batch_drives = c.batch > kCpuEvaluationChunk && double(c.batch) * neurons > need.parameters;
  const Setting blamed = batch_drives ? Setting::batch : Setting::sizes;
  const Message subject = batch_drives ? Message{Setting::batch, std::string(" ") + std::to_string(c.batch) + " (with ",
                                                 Setting::sizes, std::string(" ") + sizes_text(c.sizes) + ")"}
                                       : Message{Setting::sizes, std::string(" ") + sizes_text(c.sizes)};
  const std::string value = batch_drives ? std::to_string(c.batch) : sizes_text(c.sizes);
  if (have && need.host_bytes > double(have)) {
    Message m = subject;
    m += {": " + doing + " would need about " + gib_text(need.host_bytes) + " of memory (" +
          count_text(need.parameters) + " parameters" +
          (c.device == Device::cpu ? " with gradients and activations, " : ", ") + to_string(c.precision) +
          "), more than this machine's " + gib_text(double(have))};
    throw SettingError(blamed, m, value);
  }
  if (c.device == Device::gpu && gpu && gpu->memory_bytes && need.device_bytes > double(gpu->memory_bytes)) {
    Message m = subject;
    m += {": " + doing + " on the GPU would need about " + gib_text(need.device_bytes) + " of device memory (" +
          count_text(need.parameters) + " parameters with gradients and activations, " + to_string(c.precision) +
          "), more than the " + gpu->name + "'s " + gib_text(double(gpu->memory_bytes))};
    throw SettingError(blamed, m, value);
  }
}

Trainer::Trainer(const TrainConfig& config, Backend& backend, const Dataset& train)
    : config_(config), backend_(backend), rng_(config.seed) {
  validate_config(config_);
  check_data_fits(config_.sizes, train);
  backend_.set_training_data(train);
  Parameters p = init_parameters(config_.sizes, config_.init, rng_);
  p.output = output_activation(config_.cost);
  backend_.set_parameters(p);
  backend_.set_objective({config_.cost, config_.lambda});
  train_ = &train;
  train_size_ = train.size();
  state_.rng = rng_.snapshot();
}

void Trainer::resume(const Parameters& p, const TrainerState& state) {
  if (p.sizes != config_.sizes)
    throw SettingError(Setting::resume, {Setting::resume, ": the checkpoint's sizes differ from ", Setting::sizes});
  if (p.output != output_activation(config_.cost))
    throw SettingError(Setting::resume, {Setting::resume, ": the checkpoint's network has a " + to_string(p.output) +
                                                              " output layer, which the ",
                                         Setting::cost, " " + to_string(config_.cost) + " does not use"});
  if (state.eta_halvings < 0 || state.eta_halvings > kMaxEtaHalvings)
    throw SettingError(Setting::resume, "the checkpoint's eta schedule has halved eta " +
                                            std::to_string(state.eta_halvings) + " times, outside 0.." +
                                            std::to_string(kMaxEtaHalvings));
  if (!state.order.empty() && (state.order.size() != train_size_ || state.position > state.order.size()))
    throw SettingError(Setting::resume, "the checkpoint's epoch order does not fit this training set");
  backend_.set_parameters(p);
  state_ = state;
  rng_.restore(state.rng);
}

bool Trainer::train_epoch(const AfterBatch& after_batch) {
  const std::span<const std::uint32_t> rest = begin_training();
  const std::size_t start = training_from_;
  const std::size_t done = backend_.train(rest, config_.batch, eta(), [&](std::size_t n) {
    state_.position = start + n;
    return after_batch ? after_batch(start + n) : true;
  });
  return finish_training(done);
}

std::span<const std::uint32_t> Trainer::begin_training() {
  if (state_.order.empty()) {
    state_.order = rng_.permutation(train_size_);
    state_.position = 0;
    state_.rng = rng_.snapshot();
  }
  before_.reset();
  if (state_.position == 0) before_ = backend_.parameters();
  training_from_ = state_.position;
  return {state_.order.data() + state_.position, state_.order.size() - state_.position};
}

bool Trainer::finish_training(std::size_t trained) {
  if (state_.order.empty() || trained > state_.order.size() - training_from_)
    throw Error("Trainer::finish_training: " + std::string(state_.order.empty() ? "no epoch begun"
                                                                                : "more samples than the epoch had left"));
  const std::optional<Parameters> before = std::move(before_);
  before_.reset();
  const int epoch = state_.epochs_done + 1;
  const std::size_t batches = (state_.order.size() + config_.batch - 1) / config_.batch;
  const std::size_t start = training_from_;
  state_.position = start + trained;
  const std::string where = "training diverged at epoch " + std::to_string(epoch);
  // L2's decay multiplies every weight by d = 1 - eta*lambda/n each step: below -1 (eta*lambda/n above 2) the
  // weights grow in magnitude every step whatever eta alone would do, and lambda is what to change.
  const double decay = weight_decay(eta(), config_.lambda, train_size_);
  const std::string kept = "; the last saved checkpoint, if any, is left as it was";
  // " 3" after a setting's name. (Strings built by append: GCC 12 misreports "..." + std::string under -Wrestrict.)
  const auto value = [](double v) { return std::string(" ").append(eta_text(v)); };
  std::string l2 = "; likely cause: L2 too strong: each step multiplies the weights by 1 - eta*lambda/n = ";
  char factor[32];
  std::snprintf(factor, sizeof factor, "%.3g", decay);
  l2.append(factor).append(" (");
  std::string l2_rest = value(eta());
  l2_rest.append(" and ").append(std::to_string(train_size_));
  l2_rest.append(" training records; it needs eta*lambda/n below 2)").append(kept);
  const Message cause = decay < -1 ? Message{l2, Setting::lambda, value(config_.lambda).append(" with "),
                                             Setting::eta, l2_rest}
                                   : Message{"; likely cause: learning rate too large (", Setting::eta,
                                             value(eta()).append(")").append(kept)};
  if (const auto bad = backend_.nonfinite_batch()) {
    const std::size_t batch = start / config_.batch + *bad + 1;
    Message m{where + ", batch " + std::to_string(batch) + " of " + std::to_string(batches) +
              ": the network's outputs became NaN or Inf"};
    m += cause;
    throw DivergenceError(m, epoch, batch);
  }
  if (state_.position < state_.order.size()) return false;

  const Parameters after = backend_.parameters();
  if (!all_finite(after)) {
    Message m{where + ", batch " + std::to_string(batches) + " of " + std::to_string(batches) +
              ": the weights or biases became NaN or Inf"};
    m += cause;
    throw DivergenceError(m, epoch, batches);
  }
  if (before && before->weights == after.weights && before->biases == after.biases) {
    // A network that fits its data perfectly may legitimately stop moving; one that still errs is stuck.
    const Evaluation fit = backend_.evaluate(*train_);
    if (fit.correct < fit.total) {
      const bool too_large = eta() >= 1;
      throw DivergenceError(
          {"training stalled at epoch " + std::to_string(epoch) + ", batches 1-" + std::to_string(batches) +
               ": no weight or bias changed in the whole epoch while " + std::to_string(fit.total - fit.correct) +
               " of " + std::to_string(fit.total) + " training records are misclassified" +
               (too_large ? " (every sigmoid is saturated, so the gradients vanish); likely cause: learning rate "
                            "too large ("
                          : "; likely cause: learning rate too small for the arithmetic's precision ("),
           Setting::eta, std::string(" ") + eta_text(eta()) + ")"},
          epoch, batches);
    }
  }
  state_.order.clear();
  state_.position = 0;
  ++state_.epochs_done;
  return true;
}

EpochVerdict Trainer::end_epoch(double validation_accuracy) {
  if (config_.early_stopping == 0 && config_.halve_eta_after == 0) return EpochVerdict::go_on;
  // As network2.py: only a strictly better accuracy counts as an improvement.
  if (validation_accuracy > state_.best_validation) {
    state_.best_validation = validation_accuracy;
    state_.epochs_since_best = state_.epochs_since_eta_change = 0;
  } else {
    ++state_.epochs_since_best;
    ++state_.epochs_since_eta_change;
  }
  if (config_.early_stopping > 0 && state_.epochs_since_best >= config_.early_stopping)
    return EpochVerdict::stop_early;
  if (config_.halve_eta_after > 0 && state_.epochs_since_eta_change >= config_.halve_eta_after) {
    ++state_.eta_halvings;
    state_.epochs_since_eta_change = 0;
    return state_.eta_halvings >= kMaxEtaHalvings ? EpochVerdict::stop_eta_floor : EpochVerdict::eta_halved;
  }
  return EpochVerdict::go_on;
}

std::optional<std::string> stopped_by_rule(const TrainConfig& config, const TrainerState& state) {
  if (config.early_stopping > 0 && state.epochs_since_best >= config.early_stopping) return "early stopping";
  if (config.halve_eta_after > 0 && state.eta_halvings >= kMaxEtaHalvings) return "its eta schedule";
  return std::nullopt;
}

double Trainer::eta() const { return std::ldexp(config_.eta, -state_.eta_halvings); }

}  // namespace sigmanet
