#pragma once
// What evaluate, predict and show-weights share: a model file loaded with its shape, and a backend that holds it.
#include <memory>
#include <string>

#include "sigmanet/backend.hpp"
#include "sigmanet/dataset.hpp"
#include "sigmanet/formats/model_file.hpp"

namespace sigmanet::cli {

struct SavedModel {
  Model model;
  ModelShape shape;  // what it takes and gives (formats/model_file.hpp)
};

// Loads the model and its shape. Throws InputError naming the file.
SavedModel load_saved_model(const std::string& file);

// Refuses data the model cannot take: records of another width, or labels past its outputs. Throws InputError
// naming the model file and the data.
void check_data_fits_model(const SavedModel& saved, const std::string& file, const Dataset& data);

// The class's name where the model has names, else its number.
std::string class_name(const ModelShape& shape, int index);

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
