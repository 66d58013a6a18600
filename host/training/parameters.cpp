#include "sigmanet/parameters.hpp"

#include <cmath>

#include "sigmanet/error.hpp"

namespace sigmanet {

std::size_t Parameters::count() const {
  std::size_t n = 0;
  for (std::size_t l = 0; l < layers(); ++l) n += weights[l].size() + biases[l].size();
  return n;
}

void validate_sizes(const std::vector<int>& sizes) {
  if (sizes.size() < 2)
    throw SettingError(Setting::sizes, "needs at least two layers (input and output), e.g. 784,30,10",
                       sizes_text(sizes));
  for (std::size_t i = 0; i < sizes.size(); ++i)
    if (sizes[i] < 1)
      throw SettingError(Setting::sizes,
                         "layer " + std::to_string(i) + " has " + std::to_string(sizes[i]) +
                             " neurons; every layer needs at least 1",
                         sizes_text(sizes));
}

std::string to_string(Init init) { return init == Init::scaled ? "scaled" : "standard"; }

std::optional<Init> init_from_text(const std::string& text) {
  for (Init init : {Init::standard, Init::scaled})
    if (text == to_string(init)) return init;
  return std::nullopt;
}

std::string sizes_text(const std::vector<int>& sizes, char separator) {
  std::string s;
  for (int n : sizes) {
    if (!s.empty()) s += separator;
    s += std::to_string(n);
  }
  return s;
}

Parameters init_parameters(const std::vector<int>& sizes, Init init, Rng& rng) {
  validate_sizes(sizes);
  Parameters p;
  p.sizes = sizes;
  for (std::size_t l = 0; l + 1 < sizes.size(); ++l) {
    const auto n_in = static_cast<std::size_t>(sizes[l]);
    const auto n_out = static_cast<std::size_t>(sizes[l + 1]);
    const double weight_scale = init == Init::scaled ? 1.0 / std::sqrt(double(n_in)) : 1.0;
    std::vector<double> b(n_out), w(n_out * n_in);
    for (auto& v : b) v = rng.normal();
    for (auto& v : w) v = weight_scale * rng.normal();
    p.biases.push_back(std::move(b));
    p.weights.push_back(std::move(w));
  }
  return p;
}

void validate_parameters(const Parameters& p, const std::string& what) {
  if (p.sizes.size() < 2) throw InputError(what + ": a network needs at least two layers");
  if (p.weights.size() != p.sizes.size() - 1 || p.biases.size() != p.sizes.size() - 1)
    throw InputError(what + ": " + std::to_string(p.sizes.size()) + " layer sizes but " +
                     std::to_string(p.weights.size()) + " weight matrices and " + std::to_string(p.biases.size()) +
                     " bias vectors");
  for (std::size_t l = 0; l < p.layers(); ++l) {
    if (p.sizes[l] < 1 || p.sizes[l + 1] < 1) throw InputError(what + ": layer sizes must be at least 1");
    const auto n_in = static_cast<std::size_t>(p.sizes[l]);
    const auto n_out = static_cast<std::size_t>(p.sizes[l + 1]);
    if (p.weights[l].size() != n_out * n_in)
      throw InputError(what + ": layer " + std::to_string(l) + " weights have " + std::to_string(p.weights[l].size()) +
                       " values, expected " + std::to_string(n_out) + "x" + std::to_string(n_in));
    if (p.biases[l].size() != n_out)
      throw InputError(what + ": layer " + std::to_string(l) + " biases have " + std::to_string(p.biases[l].size()) +
                       " values, expected " + std::to_string(n_out));
    for (const auto* values : {&p.weights[l], &p.biases[l]})
      for (double v : *values)
        if (!std::isfinite(v))
          throw InputError(what + ": layer " + std::to_string(l) + " holds a non-finite value (NaN or Inf)");
  }
}

double relative_difference(const Parameters& a, const Parameters& b) {
  if (a.sizes != b.sizes) throw Error("relative_difference: networks of different sizes");
  if (a.output != b.output) throw Error("relative_difference: networks with different output layers");
  double diff = 0.0, ref = 0.0;
  auto add = [&](const std::vector<double>& x, const std::vector<double>& y) {
    for (std::size_t i = 0; i < x.size(); ++i) {
      diff += (x[i] - y[i]) * (x[i] - y[i]);
      ref += y[i] * y[i];
    }
  };
  for (std::size_t l = 0; l < a.layers(); ++l) {
    add(a.weights[l], b.weights[l]);
    add(a.biases[l], b.biases[l]);
  }
  return std::sqrt(diff) / std::sqrt(ref);
}

}  // namespace sigmanet
