#include "network.hpp"

#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

namespace nb = nanobind;

namespace sigmanet::python {
namespace {

// The generator as the CLI's Trainer leaves it once it has drawn the initial parameters from the seed.
TrainerState drawn_state(const std::vector<int>& sizes, Init init, std::uint64_t seed, Parameters* drawn) {
  Rng rng(seed);
  Parameters p = init_parameters(sizes, init, rng);
  if (drawn) *drawn = std::move(p);
  TrainerState state;
  state.rng = rng.snapshot();
  return state;
}

// A model file's metadata entry read by `parse`, or `fallback` when the file has none (files from before it).
template <class T, class Parse>
T metadata_entry(const Model& model, const std::string& file, const std::string& key, T fallback,
                 const std::string& expected, Parse parse) {
  const auto it = model.metadata.find(key);
  if (it == model.metadata.end()) return fallback;
  if (const std::optional<T> value = parse(it->second)) return *value;
  throw InputError(file + ": __metadata__ \"" + key + "\" is \"" + it->second + "\", expected " + expected);
}

std::optional<std::uint64_t> whole_from_text(const std::string& text) {
  if (text.empty() || text.size() > 20 || text.find_first_not_of("0123456789") != std::string::npos)
    return std::nullopt;
  errno = 0;
  const unsigned long long v = std::strtoull(text.c_str(), nullptr, 10);
  if (errno != 0) return std::nullopt;
  return std::uint64_t(v);
}

std::optional<double> lambda_from_text(const std::string& text) {
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (text.empty() || *end != '\0' || !std::isfinite(v) || v < 0) return std::nullopt;
  return v;
}

// The lock, taken with the GIL released: the thread that holds it may be waiting for the GIL in a callback.
std::unique_lock<std::recursive_mutex> hold(std::recursive_mutex& busy) {
  nb::gil_scoped_release released;
  return std::unique_lock<std::recursive_mutex>(busy);
}

}  // namespace

bool TrainData::operator==(const TrainData& other) const {
  const auto same = [](const Dataset& a, const Dataset& b) {
    return a.rows == b.rows && a.cols == b.cols && a.labels == b.labels && a.pixels == b.pixels;
  };
  return same(train, other.train) && same(validation, other.validation) && same(test, other.test);
}

Network::Network(const std::vector<int>& sizes, Init init, std::uint64_t seed, Precision precision)
    : init_(init), seed_(seed), precision_(precision) {
  validate_sizes(sizes);
  state_ = drawn_state(sizes, init, seed, &params_);
  metadata_ = {{"epochs", "0"}, {"seed", std::to_string(seed)}, {"init", to_string(init)},
               {"precision", to_string(precision)}};
}

Network::Network(const std::filesystem::path& file) {
  const std::string name = file.string();
  const Model model = load_model(file);
  params_ = model.parameters;
  metadata_ = model.metadata;
  seed_ = metadata_entry<std::uint64_t>(model, name, "seed", 1, "a whole number", whole_from_text);
  init_ = metadata_entry<Init>(model, name, "init", Init::standard, "standard or scaled", init_from_text);
  precision_ = metadata_entry<Precision>(model, name, "precision", Precision::f32, "float or double",
                                         precision_from_text);
  // What it was trained for: its cost and lambda; a file without them (made before chapter 3) was trained for
  // its output layer's cost, quadratic for sigmoid.
  const Cost layer_cost = params_.output == Activation::softmax ? Cost::log_likelihood : Cost::quadratic;
  objective_.cost = metadata_entry<Cost>(model, name, "cost", layer_cost,
                                         "quadratic, cross-entropy or log-likelihood", cost_from_text);
  if (output_activation(objective_.cost) != params_.output)
    throw InputError(name + ": the model's " + to_string(objective_.cost) + " cost does not go with its " +
                     to_string(params_.output) + " output layer");
  objective_.lambda = metadata_entry<double>(model, name, "lambda", 0.0, "a number, 0 or more", lambda_from_text);
  const std::uint64_t epochs =
      metadata_entry<std::uint64_t>(model, name, "epochs", 0, "a whole number", whole_from_text);
  if (epochs > std::uint64_t(INT32_MAX))
    throw InputError(name + ": __metadata__ \"epochs\" is " + std::to_string(epochs) + ", too many");
  // The file holds the weights, not the generator: further training shuffles from the seed as a new network would.
  state_ = drawn_state(params_.sizes, init_, seed_, nullptr);
  state_.epochs_done = int(epochs);
  untrained_ = false;
}

Backend& Network::backend_for(Device device, int threads) {
  if (!backend_ || backend_device_ != device) {
    backend_.reset();
    nb::gil_scoped_release released;  // a GPU backend loads the CUDA libraries
    backend_ = make_backend(device, precision_);
    backend_device_ = device;
  }
  backend_->set_threads(threads ? threads : default_threads());
  return *backend_;
}

Backend& Network::evaluation_backend() {
  if (!backend_) {
    backend_for(Device::cpu, 0);
    backend_->set_parameters(params_);
    backend_->set_objective(objective_);
  }
  return *backend_;
}

nb::dict Network::evaluate(const Dataset& data) {
  const auto lock = hold(busy_);
  Evaluation e;
  {
    Backend& backend = evaluation_backend();
    nb::gil_scoped_release released;
    e = backend.evaluate(data);
  }
  nb::dict out;
  out["correct"] = e.correct;
  out["total"] = e.total;
  out["accuracy"] = e.accuracy();
  out["cost"] = e.cost + weight_penalty(params_, objective_.lambda, e.total);
  return out;
}

std::vector<double> Network::outputs(const Dataset& data) {
  const auto lock = hold(busy_);
  Backend& backend = evaluation_backend();
  nb::gil_scoped_release released;
  return backend.outputs(data, 0, data.size());
}

void Network::save(const std::filesystem::path& file) {
  const auto lock = hold(busy_);
  nb::gil_scoped_release released;
  save_model(file, params_, metadata_);
}

void Network::start_new_run(const TrainRequest& request) {
  const Activation output = output_activation(request.cost);
  if (!untrained_ && params_.output != output)
    throw SettingError(Setting::cost,
                       {Setting::cost, " " + to_string(request.cost) + " needs a " + to_string(output) +
                                           " output layer, but this network's is " + to_string(params_.output) +
                                           " (it was trained with another cost)"},
                       to_string(request.cost));
  params_.output = output;
  objective_ = {request.cost, request.lambda};
  // A run starts between epochs, the rules' memory fresh; the generator goes on from where it is.
  state_.order.clear();
  state_.position = 0;
  state_.eta_halvings = 0;
  state_.best_validation = -1;
  state_.epochs_since_best = 0;
  state_.epochs_since_eta_change = 0;
}

void Network::keep(const Trainer& trainer) {
  params_ = backend_->parameters();
  state_ = trainer.state();
  if (state_.epochs_done > 0 || state_.position > 0) untrained_ = false;
}

void Network::record_epoch(const TrainConfig& c, const std::optional<Evaluation>& test) {
  // What `sigmanet train --save` writes, so that the same run saves the same bytes.
  metadata_ = trained_model_metadata(c, state_.epochs_done, test ? std::optional<double>(test->accuracy()) : std::nullopt,
                                     test ? test->total : 0);
}

}  // namespace sigmanet::python
