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

std::map<std::string, std::string> trained_model_metadata(const TrainConfig& c, std::size_t epochs,
                                                          std::optional<double> accuracy, std::size_t test_size) {
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
  return m;
}

}  // namespace sigmanet
