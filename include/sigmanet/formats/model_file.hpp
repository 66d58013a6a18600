#pragma once
// A trained network kept as a safetensors file that PyTorch users can read as they would their own:
// layers.N.weight [out, in] and layers.N.bias [out] per layer, row-major, as torch.nn.Linear holds them,
// with __metadata__ describing how it was made (sizes, epochs, seed, accuracy, ...).
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "sigmanet/parameters.hpp"
#include "sigmanet/trainer.hpp"

namespace sigmanet {

struct Model {
  Parameters parameters;
  std::map<std::string, std::string> metadata;
};

// What a model takes and gives, kept in its metadata: "input_shape" ("28x28", or "4" for a flat width), "features"
// ("pixels" or "float"), "classes" and, where the data named them, "class_names" (comma-separated).
struct ModelShape {
  std::size_t rows = 0, cols = 0;  // the input's geometry: 28 x 28 for images, 1 x width for a table
  std::size_t classes = 0;         // output neurons, one per class
  std::vector<std::string> class_names;
  bool float_features = false;     // trained on float values, not pixels (bytes / 255)
  std::size_t features() const { return rows * cols; }
};

// The model's shape from its metadata; a model without it (saved before it was recorded) takes its input width (784
// as 28x28) and output count from its layers. Throws InputError naming the file where the metadata is malformed or
// disagrees with the layers.
ModelShape model_shape(const Model& model, const std::string& file);

// Writes p as F32 (atomically) with metadata; "format" and "sizes" are filled in, and each tensor's CRC32.
void save_model(const std::filesystem::path& file, const Parameters& p, std::map<std::string, std::string> metadata);

// The metadata of a network trained with c for `epochs` epochs: the settings, with numbers written so that they read
// back exactly, and, where it was measured, its test accuracy (a fraction, written with 4 decimals) on test_size
// records, and the data's shape (fields left 0 follow c.sizes: 784 inputs as 28x28, any other width flat). Every
// front end saves a trained network with it, so the same run saves the same bytes.
std::map<std::string, std::string> trained_model_metadata(const TrainConfig& c, std::size_t epochs,
                                                          std::optional<double> accuracy, std::size_t test_size,
                                                          const ModelShape& shape = {});

// Reads a model (or a checkpoint, which holds one). Throws InputError naming the file, and the tensor where one
// is damaged (its bytes do not match its CRC32). A file without checksums, from before them, loads unchecked.
Model load_model(const std::filesystem::path& file);

}  // namespace sigmanet
