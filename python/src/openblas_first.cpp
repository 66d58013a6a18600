#include "openblas_first.hpp"

#include <dlfcn.h>
#include <strings.h>

#include <cstdlib>

#include "sigmanet_api.hpp"

namespace sigmanet::python {

std::optional<std::string> open_blas_first() {
  const bool named_by_user = std::getenv("OPENBLAS_CORETYPE") != nullptr;
  void* loaded_before = dlopen("libopenblas.so.0", RTLD_LAZY | RTLD_NOLOAD);
  make_backend(Device::cpu, Precision::f32)->describe();  // the CPU backend names OpenBLAS, opening it
  if (!loaded_before) return std::nullopt;
  std::optional<std::string> warning;
  // The library's choice is in the variable now, set as it opened OpenBLAS (none on a CPU without AVX2 and FMA).
  const char* wanted = std::getenv("OPENBLAS_CORETYPE");
  using Name = char*();
  auto* corename = reinterpret_cast<Name*>(dlsym(loaded_before, "openblas_get_corename"));
  if (!named_by_user && wanted && corename && strcasecmp(corename(), wanted) != 0)
    warning = std::string("OpenBLAS was loaded before sigmanet (by numpy, torch or another module) and runs its ") +
              corename() + " kernels, not the " + wanted +
              " kernels the sigmanet tool names on this CPU: sigmanet's CPU training may be slower and differ from "
              "the tool's in the last bits. Import sigmanet before numpy, or set OPENBLAS_CORETYPE=" +
              wanted + " before Python starts.";
  dlclose(loaded_before);
  return warning;
}

}  // namespace sigmanet::python
