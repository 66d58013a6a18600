#pragma once
// What evaluate, predict and show-weights share: a model file loaded and checked for MNIST, and a backend
// that holds it.
#include <memory>
#include <string>

#include "sigmanet/backend.hpp"
#include "sigmanet/formats/model_file.hpp"

namespace sigmanet::cli {

// Loads the model and checks it takes 28x28 images and gives 10 outputs. Throws InputError naming the file.
Model load_mnist_model(const std::string& file);

// What the model was trained for: its metadata's "cost" and "lambda"; a file without them (made before
// chapter 3) was trained for its output layer's cost, quadratic for sigmoid. Throws InputError naming the file
// for unknown values or a cost that does not go with the output layer.
Objective model_objective(const Model& model, const std::string& file);

// A backend (auto/cpu/gpu, float) holding the model's parameters and objective; a notice about the choice goes
// to stderr.
std::unique_ptr<Backend> backend_for(const Model& model, const std::string& file, Device device);

// Index of the largest of n values.
int argmax(const double* values, std::size_t n);

}  // namespace sigmanet::cli
