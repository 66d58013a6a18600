#pragma once
// What training minimises: Nielsen's costs (chapter 1's quadratic, chapter 3's cross-entropy and softmax
// log-likelihood) and chapter 3's L2 regularisation. Every backend implements the same formulas; this header
// names them and holds the few that are backend-independent.
//
// For one sample with output activations a and the one-hot vector y of its label:
//   quadratic       C = 1/2 ||a - y||^2                     sigmoid output   delta^L = (a - y) * a * (1 - a)
//   cross-entropy   C = -sum_j [y_j ln a_j + (1-y_j) ln(1-a_j)]  sigmoid     delta^L = a - y
//   log-likelihood  C = -ln a_label                         softmax output   delta^L = a - y
// L2 adds lambda/(2n) sum w^2 (n the training set's size, biases not included), so the update becomes
//   w <- (1 - eta*lambda/n) w - (eta/m) sum of the batch's gradients,   b <- b - (eta/m) sum ...
// as network2.py has it.
#include <cstddef>
#include <optional>
#include <string>

namespace sigmanet {

struct Parameters;

enum class Cost { quadratic, cross_entropy, log_likelihood };

// The output layer's activation: sigmoid like every hidden layer, or softmax (log-likelihood's).
enum class Activation { sigmoid, softmax };

std::string to_string(Cost cost);              // "quadratic", "cross-entropy", "log-likelihood"
std::string to_string(Activation activation);  // "sigmoid", "softmax"
// The value named by to_string's text; none for any other text.
std::optional<Cost> cost_from_text(const std::string& text);
std::optional<Activation> activation_from_text(const std::string& text);

// The output layer a cost is defined with: softmax for log-likelihood, sigmoid otherwise.
Activation output_activation(Cost cost);

// What a backend's train() minimises and its evaluate() reports. The default is chapter 1's: quadratic, no L2.
struct Objective {
  Cost cost = Cost::quadratic;
  double lambda = 0.0;  // L2 strength, >= 0
};

// The factor L2 multiplies every weight by before a step: 1 - eta*lambda/n, with n the training set's size;
// exactly 1 without L2 (and for an empty set), so chapter 1's arithmetic is untouched.
double weight_decay(double eta, double lambda, std::size_t n);

// L2's share of the reported cost, lambda/(2n) sum of every squared weight, with n the size of the set the cost
// is reported on, as network2.py's total_cost computes it; 0 when lambda or n is 0.
double weight_penalty(const Parameters& p, double lambda, std::size_t n);

}  // namespace sigmanet
