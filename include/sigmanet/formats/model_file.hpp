#pragma once
// A trained network kept as a safetensors file that PyTorch users can read as they would their own:
// layers.N.weight [out, in] and layers.N.bias [out] per layer, row-major, as torch.nn.Linear holds them,
// with __metadata__ describing how it was made (sizes, epochs, seed, accuracy, ...).
#include <filesystem>
#include <map>
#include <string>

#include "sigmanet/parameters.hpp"
#include "sigmanet/formats/safetensors.hpp"

namespace sigmanet {

struct Model {
  Parameters parameters;
  std::map<std::string, std::string> metadata;
};

// The layers.N.* tensors of p in the given dtype (F32 or F64), and p's output layer as the metadata entry
// "output_activation" (sigmoid or softmax).
void add_layer_tensors(SafeTensors& file, const Parameters& p, Dtype dtype);

// The network in a file's layers.N.* tensors (F32 or F64; other tensors are left alone). Checks that every
// layer has both tensors of the right rank, that shapes chain (layer N+1's inputs are layer N's outputs),
// that they agree with a "sizes" metadata entry if there is one, and that every value is finite. The output
// layer is the "output_activation" entry's (sigmoid when there is none, as in files made before softmax).
// Throws InputError starting with `what`.
Parameters layer_parameters(const SafeTensors& file, const std::string& what);

// "784,30,10" (sizes_text, in parameters.hpp) back to sizes; throws InputError starting with `what`.
std::vector<int> parse_sizes(const std::string& text, const std::string& what);

// Writes p as F32 (atomically) with metadata; "format" and "sizes" are filled in, and each tensor's CRC32
// (safetensors.hpp).
void save_model(const std::filesystem::path& file, const Parameters& p, std::map<std::string, std::string> metadata);

// Reads a model (or a checkpoint, which holds one). Throws InputError naming the file, and the tensor where one
// is damaged (its bytes do not match its CRC32). A file without checksums, from before them, loads unchecked.
Model load_model(const std::filesystem::path& file);

}  // namespace sigmanet
