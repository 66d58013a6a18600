#pragma once
// The library's exceptions as Python's: sigmanet.InputError (a ValueError) for bad input, sigmanet.DivergenceError
// for training that went numerically wrong, sigmanet.Error (a RuntimeError) for the rest. A message that mentions a
// setting names it as the Python API does (train's `lam` for the library's lambda), in the CLI's wording.
#include <string>

#include <nanobind/nanobind.h>

#include "sigmanet_api.hpp"

namespace sigmanet::python {

// The Python argument that sets a library setting: Setting::lambda is "lam".
std::string argument_for(Setting s);

// Creates the exception classes in the module and translates the library's exceptions into them.
void register_errors(nanobind::module_& m);

}  // namespace sigmanet::python
