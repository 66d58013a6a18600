#pragma once
// The weights and biases of a fully connected sigmoid network, as every backend exchanges them.
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "sigmanet/cost.hpp"
#include "sigmanet/random.hpp"

namespace sigmanet {

// Values are held in double: any float converts to double and back exactly, so a float network's
// parameters survive the trip bit for bit, and a double network loses nothing.
struct Parameters {
  std::vector<int> sizes;                    // neurons per layer, input first: {784, 30, 10}
  std::vector<std::vector<double>> weights;  // layer l: sizes[l+1] x sizes[l], row-major (as torch.nn.Linear)
  std::vector<std::vector<double>> biases;   // layer l: sizes[l+1]
  // The output layer's activation (hidden layers are always sigmoid): part of what the network computes, so it
  // travels with the weights into every backend, model file and checkpoint.
  Activation output = Activation::sigmoid;

  std::size_t layers() const { return weights.size(); }
  std::size_t count() const;  // number of scalars
};

enum class Init {
  standard,  // N(0, 1) for weights and biases, as Nielsen's chapter 1
  scaled,    // weights N(0, 1/n_in), biases N(0, 1), as his chapter 3
};
std::string to_string(Init init);  // "standard", "scaled"
// The Init named by to_string's text; none for any other text.
std::optional<Init> init_from_text(const std::string& text);

// Checks that sizes describe a network: at least two layers, each of 1 neuron or more.
// Throws SettingError (Setting::sizes).
void validate_sizes(const std::vector<int>& sizes);

// "784,30,10", or with separator '-' "784-30-10".
std::string sizes_text(const std::vector<int>& sizes, char separator = ',');

// Draws biases then weights, layer by layer, from rng.
Parameters init_parameters(const std::vector<int>& sizes, Init init, Rng& rng);

// Throws InputError (prefixed by `what`) unless shapes chain and every value is finite.
void validate_parameters(const Parameters& p, const std::string& what);

// ||a - b|| / ||b|| over all weights and biases; NaN anywhere gives NaN. Shapes and output layers must match.
double relative_difference(const Parameters& a, const Parameters& b);

}  // namespace sigmanet
