#include "formats/layer_tensors.hpp"

#include <charconv>
#include <climits>
#include <map>

#include "sigmanet/error.hpp"

namespace sigmanet {
namespace {

struct LayerTensors {
  const Tensor* weight = nullptr;
  const Tensor* bias = nullptr;
};

// "layers.12.weight" -> (12, "weight"); anything else under "layers." is an error.
std::pair<std::size_t, std::string> parse_layer_name(const std::string& name, const std::string& what) {
  const std::string prefix = "layers.";
  const auto dot = name.find('.', prefix.size());
  std::size_t index = 0;
  const char* first = name.data() + prefix.size();
  const char* last = dot == std::string::npos ? name.data() + name.size() : name.data() + dot;
  const auto [end, ec] = std::from_chars(first, last, index);
  const std::string kind = dot == std::string::npos ? "" : name.substr(dot + 1);
  if (first == last || ec != std::errc() || end != last || (kind != "weight" && kind != "bias") || index > 10000)
    throw InputError(what + ": tensor '" + name + "' is not named layers.N.weight or layers.N.bias");
  return {index, kind};
}

}  // namespace

std::vector<int> parse_sizes(const std::string& text, const std::string& what) {
  std::vector<int> sizes;
  const char* p = text.data();
  const char* end = text.data() + text.size();
  while (p < end) {
    int n = 0;
    const auto [next, ec] = std::from_chars(p, end, n);
    if (ec != std::errc() || n < 1 || (next != end && *next != ','))
      throw InputError(what + ": sizes \"" + text + "\" is not a list like 784,30,10");
    sizes.push_back(n);
    p = next == end ? end : next + 1;
  }
  if (sizes.size() < 2) throw InputError(what + ": sizes \"" + text + "\" needs at least two layers");
  return sizes;
}

void add_layer_tensors(SafeTensors& file, const Parameters& p, Dtype dtype) {
  for (std::size_t l = 0; l < p.layers(); ++l) {
    const auto n_in = static_cast<std::size_t>(p.sizes[l]);
    const auto n_out = static_cast<std::size_t>(p.sizes[l + 1]);
    const std::string name = "layers." + std::to_string(l);
    file.tensors[name + ".weight"] = Tensor::from_doubles(p.weights[l], {n_out, n_in}, dtype);
    file.tensors[name + ".bias"] = Tensor::from_doubles(p.biases[l], {n_out}, dtype);
  }
  file.metadata["output_activation"] = to_string(p.output);
}

Parameters layer_parameters(const SafeTensors& file, const std::string& what) {
  std::map<std::size_t, LayerTensors> layers;
  for (const auto& [name, tensor] : file.tensors) {
    if (name.rfind("layers.", 0) != 0) continue;
    const auto [index, kind] = parse_layer_name(name, what);
    (kind == "weight" ? layers[index].weight : layers[index].bias) = &tensor;
  }
  if (layers.empty()) throw InputError(what + ": holds no layers.N.weight tensors; is this a sigmanet model?");

  Parameters p;
  std::size_t expected = 0;
  for (const auto& [index, t] : layers) {
    const std::string layer = "layers." + std::to_string(index);
    if (index != expected) throw InputError(what + ": layers." + std::to_string(expected) + " is missing");
    if (!t.weight) throw InputError(what + ": " + layer + ".weight is missing");
    if (!t.bias) throw InputError(what + ": " + layer + ".bias is missing");
    if (t.weight->shape.size() != 2) throw InputError(what + ": " + layer + ".weight is not a matrix [out, in]");
    if (t.bias->shape.size() != 1) throw InputError(what + ": " + layer + ".bias is not a vector [out]");
    const std::size_t n_out = t.weight->shape[0], n_in = t.weight->shape[1];
    if (n_out < 1 || n_in < 1 || n_out > INT_MAX || n_in > INT_MAX)
      throw InputError(what + ": " + layer + ".weight has an unusable shape [" + std::to_string(n_out) + ", " +
                       std::to_string(n_in) + "]");
    if (index == 0) p.sizes.push_back(static_cast<int>(n_in));
    if (static_cast<std::size_t>(p.sizes.back()) != n_in)
      throw InputError(what + ": shapes do not chain: " + layer + ".weight takes " + std::to_string(n_in) +
                       " inputs but the layer before gives " + std::to_string(p.sizes.back()));
    if (t.bias->shape[0] != n_out)
      throw InputError(what + ": " + layer + ".bias has " + std::to_string(t.bias->shape[0]) + " values for " +
                       std::to_string(n_out) + " neurons");
    p.sizes.push_back(static_cast<int>(n_out));
    p.weights.push_back(t.weight->as_doubles(what + ": " + layer + ".weight"));
    p.biases.push_back(t.bias->as_doubles(what + ": " + layer + ".bias"));
    ++expected;
  }
  if (const auto it = file.metadata.find("sizes"); it != file.metadata.end()) {
    const std::vector<int> stated = parse_sizes(it->second, what + ": __metadata__");
    if (stated != p.sizes)
      throw InputError(what + ": __metadata__ says sizes " + it->second + " but the tensors give " +
                       sizes_text(p.sizes));
  }
  // Files from before softmax outputs have no entry: their networks are sigmoid throughout.
  if (const auto it = file.metadata.find("output_activation"); it != file.metadata.end()) {
    const std::optional<Activation> output = activation_from_text(it->second);
    if (!output)
      throw InputError(what + ": __metadata__ \"output_activation\" is \"" + it->second +
                       "\", expected sigmoid or softmax");
    p.output = *output;
  }
  validate_parameters(p, what);
  return p;
}

}  // namespace sigmanet
