#include "sigmanet/cost.hpp"

#include "sigmanet/parameters.hpp"

namespace sigmanet {

std::string to_string(Cost cost) {
  switch (cost) {
    case Cost::cross_entropy:
      return "cross-entropy";
    case Cost::log_likelihood:
      return "log-likelihood";
    case Cost::quadratic:
      break;
  }
  return "quadratic";
}

std::string to_string(Activation activation) { return activation == Activation::softmax ? "softmax" : "sigmoid"; }

std::optional<Cost> cost_from_text(const std::string& text) {
  for (Cost c : {Cost::quadratic, Cost::cross_entropy, Cost::log_likelihood})
    if (text == to_string(c)) return c;
  return std::nullopt;
}

std::optional<Activation> activation_from_text(const std::string& text) {
  for (Activation a : {Activation::sigmoid, Activation::softmax})
    if (text == to_string(a)) return a;
  return std::nullopt;
}

Activation output_activation(Cost cost) {
  return cost == Cost::log_likelihood ? Activation::softmax : Activation::sigmoid;
}

double weight_decay(double eta, double lambda, std::size_t n) {
  if (lambda == 0 || n == 0) return 1.0;
  return 1.0 - eta * lambda / double(n);
}

double weight_penalty(const Parameters& p, double lambda, std::size_t n) {
  if (lambda == 0 || n == 0) return 0.0;
  double squares = 0;
  for (const auto& w : p.weights)
    for (double v : w) squares += v * v;
  return 0.5 * lambda / double(n) * squares;
}

}  // namespace sigmanet
