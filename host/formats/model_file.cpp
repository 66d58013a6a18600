#include "sigmanet/formats/model_file.hpp"

#include <cmath>
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

}  // namespace sigmanet
