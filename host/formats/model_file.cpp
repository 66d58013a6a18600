#include "sigmanet/formats/model_file.hpp"

#include <cmath>
#include <cstdio>
#include <limits>

#include "formats/layer_tensors.hpp"
#include "formats/safetensors.hpp"
#include "sigmanet/error.hpp"
#include "training/number_text.hpp"

namespace sigmanet {

void save_model(const std::filesystem::path& file, const Parameters& p, std::map<std::string, std::string> metadata) {
  validate_parameters(p, "save_model");
  for (std::size_t l = 0; l < p.layers(); ++l)
    for (const auto* values : {&p.weights[l], &p.biases[l]})
      for (double v : *values)
        if (std::abs(v) > std::numeric_limits<float>::max())
          throw Error(file.string() + ": layer " + std::to_string(l) + " holds " + exact_text(v) +
                      ", too large for the model file's F32");
  SafeTensors content;
  content.metadata = std::move(metadata);
  content.metadata["format"] = "sigmanet-model";
  content.metadata["sizes"] = sizes_text(p.sizes);
  add_layer_tensors(content, p, Dtype::f32);
  write_safetensors(file, content);
}

Model load_model(const std::filesystem::path& file) {
  SafeTensors content = read_safetensors(file);
  Model m;
  m.parameters = layer_parameters(content, file.string());
  m.metadata = std::move(content.metadata);
  return m;
}

namespace {

// The shape a model's layers imply where nothing else says: 784 inputs as MNIST's 28x28, any other width flat.
ModelShape shape_of_layers(const std::vector<int>& sizes) {
  ModelShape s;
  if (sizes.empty()) return s;
  s.rows = sizes.front() == 784 ? 28 : 1;
  s.cols = std::size_t(sizes.front()) / s.rows;
  s.classes = std::size_t(sizes.back());
  return s;
}

std::string shape_text(const ModelShape& s) {
  return s.rows == 1 ? std::to_string(s.cols) : std::to_string(s.rows) + "x" + std::to_string(s.cols);
}

// A whole number 1..2^31 written in decimal digits, or nothing.
std::optional<std::size_t> count_from_text(const std::string& text) {
  if (text.empty() || text.size() > 10 || text.find_first_not_of("0123456789") != std::string::npos) return {};
  const std::size_t n = std::stoull(text);
  if (n == 0 || n > (std::size_t{1} << 31)) return {};
  return n;
}

}  // namespace

ModelShape model_shape(const Model& model, const std::string& file) {
  const std::vector<int>& sizes = model.parameters.sizes;
  ModelShape s = shape_of_layers(sizes);
  const auto bad = [&](const std::string& key, const std::string& why) {
    throw InputError(file + ": __metadata__ \"" + key + "\" is \"" + model.metadata.at(key) + "\", " + why);
  };
  if (const auto it = model.metadata.find("input_shape"); it != model.metadata.end()) {
    const std::size_t x = it->second.find('x');
    const auto rows = x == std::string::npos ? std::optional<std::size_t>(1) : count_from_text(it->second.substr(0, x));
    const auto cols = count_from_text(x == std::string::npos ? it->second : it->second.substr(x + 1));
    if (!rows || !cols) bad("input_shape", "expected ROWSxCOLS or a width");
    if (*rows * *cols != std::size_t(sizes.front()))
      bad("input_shape", "but the first layer takes " + std::to_string(sizes.front()) + " inputs");
    s.rows = *rows, s.cols = *cols;
  }
  if (const auto it = model.metadata.find("features"); it != model.metadata.end()) {
    if (it->second != "pixels" && it->second != "float") bad("features", "expected pixels or float");
    s.float_features = it->second == "float";
  }
  if (const auto it = model.metadata.find("classes"); it != model.metadata.end()) {
    const auto classes = count_from_text(it->second);
    if (!classes) bad("classes", "expected a whole number");
    if (*classes != std::size_t(sizes.back()))
      bad("classes", "but the output layer has " + std::to_string(sizes.back()) + " neurons");
  }
  if (const auto it = model.metadata.find("class_names"); it != model.metadata.end()) {
    std::string rest = it->second;
    for (std::size_t comma; (comma = rest.find(',')) != std::string::npos; rest.erase(0, comma + 1))
      s.class_names.push_back(rest.substr(0, comma));
    s.class_names.push_back(rest);
    if (s.class_names.size() != s.classes)
      bad("class_names", "naming " + std::to_string(s.class_names.size()) + " classes, the model has " +
                             std::to_string(s.classes));
  }
  return s;
}

std::map<std::string, std::string> trained_model_metadata(const TrainConfig& c, std::size_t epochs,
                                                          std::optional<double> accuracy, std::size_t test_size,
                                                          const ModelShape& shape) {
  std::map<std::string, std::string> m{{"epochs", std::to_string(epochs)},
                                       {"seed", std::to_string(c.seed)},
                                       {"batch", std::to_string(c.batch)},
                                       {"eta", exact_text(c.eta)},
                                       {"cost", to_string(c.cost)},
                                       {"lambda", exact_text(c.lambda)},
                                       {"early_stopping", std::to_string(c.early_stopping)},
                                       {"eta_schedule", eta_schedule_text(c.halve_eta_after)},
                                       {"init", to_string(c.init)},
                                       {"precision", to_string(c.precision)}};
  if (accuracy) {
    char text[32];
    std::snprintf(text, sizeof text, "%.4f", *accuracy);
    m["accuracy"] = text;
    m["test_size"] = std::to_string(test_size);
  }
  const ModelShape layers = shape_of_layers(c.sizes);
  m["input_shape"] = shape_text(shape.rows ? shape : layers);
  m["features"] = shape.float_features ? "float" : "pixels";
  m["classes"] = std::to_string(shape.classes ? shape.classes : layers.classes);
  if (!shape.class_names.empty()) {
    std::string names;
    for (const std::string& n : shape.class_names) names += (names.empty() ? "" : ",") + n;
    m["class_names"] = names;
  }
  return m;
}

}  // namespace sigmanet
