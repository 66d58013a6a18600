#pragma once
// A shared library opened the first time it is asked for, and the functions looked up in it: what cuBLAS and
// NCCL are to sigmanet (cublas_on_demand.cpp, nccl_on_demand.cpp), so that only the runs that use them pay
// for loading them.
#include <dlfcn.h>

#include <initializer_list>
#include <string>

namespace sigmanet::cuda {

class LibraryOnDemand {
 public:
  // Tries the names in order (a soname for the loader's own search first, then a full path) and keeps the first
  // that opens; if none does, the loader's words for the first failure.
  LibraryOnDemand(std::initializer_list<std::string> names) {
    for (const std::string& name : names) {
      if ((handle_ = dlopen(name.c_str(), RTLD_NOW | RTLD_LOCAL))) return;
      if (error_.empty()) error_ = dlerror();
    }
  }
  LibraryOnDemand(const LibraryOnDemand&) = delete;
  LibraryOnDemand& operator=(const LibraryOnDemand&) = delete;

  bool loaded() const { return handle_ != nullptr; }
  const std::string& error() const { return error_; }

  // The function named `name`, of the type F; null when the library or the function is missing.
  template <class F>
  F* function(const char* name) const {
    return handle_ ? reinterpret_cast<F*>(dlsym(handle_, name)) : nullptr;
  }

 private:
  void* handle_ = nullptr;
  std::string error_;
};

}  // namespace sigmanet::cuda
