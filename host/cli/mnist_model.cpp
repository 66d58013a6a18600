#include "cli/mnist_model.hpp"

#include <algorithm>
#include <cstdio>

#include "sigmanet/error.hpp"

namespace sigmanet::cli {

Model load_mnist_model(const std::string& file) {
  Model m = load_model(file);
  const auto& sizes = m.parameters.sizes;
  if (sizes.front() != 28 * 28)
    throw InputError(file + ": the model takes " + std::to_string(sizes.front()) +
                     " inputs; MNIST images have 784 (28x28)");
  if (sizes.back() != 10)
    throw InputError(file + ": the model has " + std::to_string(sizes.back()) + " outputs; MNIST needs 10");
  return m;
}

std::unique_ptr<Backend> backend_for(const Model& model, Device device) {
  std::string notice;
  std::unique_ptr<Backend> backend = make_backend(device, Precision::f32, &notice);
  if (!notice.empty()) std::fprintf(stderr, "sigmanet: %s\n", notice.c_str());
  backend->set_parameters(model.parameters);
  return backend;
}

int argmax(const double* values, std::size_t n) {
  return static_cast<int>(std::max_element(values, values + n) - values);
}

}  // namespace sigmanet::cli
