#include "cli/saved_model.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "sigmanet/backends/factory.hpp"
#include "sigmanet/error.hpp"
#include "sigmanet/trainer.hpp"

namespace sigmanet::cli {

SavedModel load_saved_model(const std::string& file) {
  SavedModel saved{load_model(file), {}};
  saved.shape = model_shape(saved.model, file);
  return saved;
}

void check_data_fits_model(const SavedModel& saved, const std::string& file, const Dataset& data) {
  const ModelShape& shape = saved.shape;
  if (data.features() != shape.features())
    throw InputError(file + ": the model takes " + std::to_string(shape.features()) + " inputs, but the " + data.name +
                     " records have " + std::to_string(data.features()) + " features");
  for (std::size_t i = 0; i < data.size(); ++i)
    if (data.labels[i] >= shape.classes)
      throw InputError(file + ": the model has " + std::to_string(shape.classes) + " classes, but " + data.name +
                       " record " + std::to_string(i) + " has label " + std::to_string(data.labels[i]));
}

std::string class_name(const ModelShape& shape, int index) {
  return shape.class_names.empty() ? std::to_string(index) : shape.class_names[std::size_t(index)];
}

Objective model_objective(const Model& model, const std::string& file) {
  Objective o;
  const Activation output = model.parameters.output;
  o.cost = output == Activation::softmax ? Cost::log_likelihood : Cost::quadratic;
  if (const auto it = model.metadata.find("cost"); it != model.metadata.end()) {
    const std::optional<Cost> cost = cost_from_text(it->second);
    if (!cost)
      throw InputError(file + ": __metadata__ \"cost\" is \"" + it->second +
                       "\", expected quadratic, cross-entropy or log-likelihood");
    o.cost = *cost;
  }
  if (output_activation(o.cost) != output)
    throw InputError(file + ": the model's " + to_string(o.cost) + " cost does not go with its " + to_string(output) +
                     " output layer");
  if (const auto it = model.metadata.find("lambda"); it != model.metadata.end()) {
    char* end = nullptr;
    o.lambda = std::strtod(it->second.c_str(), &end);
    if (it->second.empty() || *end != '\0' || !std::isfinite(o.lambda) || o.lambda < 0)
      throw InputError(file + ": __metadata__ \"lambda\" is \"" + it->second + "\", expected a number, 0 or more");
  }
  return o;
}

std::unique_ptr<Backend> backend_for(const Model& model, const std::string& file, Device device) {
  const Objective objective = model_objective(model, file);
  // The backend's copy of the model and its evaluation buffers, estimated before they are allocated.
  TrainConfig need;
  need.sizes = model.parameters.sizes;
  need.batch = 1;
  need.device = device;
  try {
    check_memory(need, gpu_info(device), "evaluating it");
  } catch (const SettingError& e) {
    throw InputError(file + ": the model's " + e.message().text());
  }
  std::string notice;
  std::unique_ptr<Backend> backend = make_backend(device, Precision::f32, &notice);
  if (!notice.empty()) std::fprintf(stderr, "sigmanet: %s\n", notice.c_str());
  backend->set_parameters(model.parameters);
  backend->set_objective(objective);
  return backend;
}

int argmax(const double* values, std::size_t n) {
  return static_cast<int>(std::max_element(values, values + n) - values);
}

}  // namespace sigmanet::cli
