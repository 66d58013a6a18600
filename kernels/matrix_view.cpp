#include "matrix_view.hpp"

#include <string>

#include "sigmanet/error.hpp"

namespace sigmanet::kernels {
namespace {

// "w is weights of 30 outputs x 784 inputs", "in is a batch of 10 samples x 17 features", "b is a vector of 30"
std::string describe(const ArgumentShape& a) {
  const std::string rows = std::to_string(a.rows), columns = std::to_string(a.columns);
  std::string text = std::string(a.name) + " is ";
  switch (a.kind) {
    case ArgumentShape::Kind::batch: return text + "a batch of " + rows + " samples x " + columns + " features";
    case ArgumentShape::Kind::weights: return text + "weights of " + rows + " outputs x " + columns + " inputs";
    case ArgumentShape::Kind::vector: break;
  }
  return text + "a vector of " + rows;
}

}  // namespace

void throw_slice_out_of_range(const char* view, const char* what, std::size_t first, std::size_t count,
                              std::size_t available) {
  throw Error(std::string(view) + "::slice: " + what + " [" + std::to_string(first) + ", " + std::to_string(first) +
              " + " + std::to_string(count) + ") past the view's " + std::to_string(available));
}

void throw_shape_mismatch(const char* wrapper, const char* rule, const ArgumentShape& a, const ArgumentShape& b) {
  throw Error(std::string(wrapper) + ": shapes do not fit (" + rule + "): " + describe(a) + ", " + describe(b));
}

}  // namespace sigmanet::kernels
