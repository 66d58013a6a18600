#pragma once
// The fast CPU network as a Backend (`--device cpu`); make_backend (backends/factory.hpp) is the way in.
#include <memory>

#include "sigmanet/backend.hpp"

namespace sigmanet {

std::unique_ptr<Backend> make_cpu_backend(Precision precision);

}  // namespace sigmanet
