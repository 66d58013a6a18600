#pragma once
// A trained network kept as a safetensors file that PyTorch users can read as they would their own:
// layers.N.weight [out, in] and layers.N.bias [out] per layer, row-major, as torch.nn.Linear holds them,
// with __metadata__ describing how it was made (sizes, epochs, seed, accuracy, ...).
#include <filesystem>
#include <map>
#include <optional>
#include <string>

#include "sigmanet/parameters.hpp"
#include "sigmanet/trainer.hpp"

namespace sigmanet {

struct Model {
  Parameters parameters;
  std::map<std::string, std::string> metadata;
};

// Writes p as F32 (atomically) with metadata; "format" and "sizes" are filled in, and each tensor's CRC32.
void save_model(const std::filesystem::path& file, const Parameters& p, std::map<std::string, std::string> metadata);

// The metadata of a network trained with c for `epochs` epochs: the settings, with numbers written so that they read
// back exactly, and, where it was measured, its test accuracy (a fraction, written with 4 decimals) on test_size
// records. Every front end saves a trained network with it, so the same run saves the same bytes.
std::map<std::string, std::string> trained_model_metadata(const TrainConfig& c, std::size_t epochs,
                                                          std::optional<double> accuracy, std::size_t test_size);

// Reads a model (or a checkpoint, which holds one). Throws InputError naming the file, and the tensor where one
// is damaged (its bytes do not match its CRC32). A file without checksums, from before them, loads unchecked.
Model load_model(const std::filesystem::path& file);

}  // namespace sigmanet
