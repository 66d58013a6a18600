#pragma once
// Status checks for CUDA runtime and cuBLAS calls: a failure throws sigmanet::Error naming the call, the
// file and line, and the library's own message. Kernel launches are checked with cudaGetLastError.
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <string>

#include "sigmanet/error.hpp"

namespace sigmanet::cuda {

[[noreturn]] inline void throw_cuda_error(cudaError_t status, const char* call, const char* file, int line) {
  throw Error(std::string("CUDA error in ") + call + " at " + file + ":" + std::to_string(line) + ": " +
              cudaGetErrorString(status) + " (" + cudaGetErrorName(status) + ")");
}

[[noreturn]] inline void throw_cublas_error(cublasStatus_t status, const char* call, const char* file, int line) {
  throw Error(std::string("cuBLAS error in ") + call + " at " + file + ":" + std::to_string(line) + ": " +
              cublasGetStatusString(status) + " (" + cublasGetStatusName(status) + ")");
}

inline void check(cudaError_t status, const char* call, const char* file, int line) {
  if (status != cudaSuccess) throw_cuda_error(status, call, file, line);
}
inline void check(cublasStatus_t status, const char* call, const char* file, int line) {
  if (status != CUBLAS_STATUS_SUCCESS) throw_cublas_error(status, call, file, line);
}

}  // namespace sigmanet::cuda

// Checks a CUDA runtime or cuBLAS call.
#define SIGMANET_CUDA_CHECK(call) ::sigmanet::cuda::check((call), #call, __FILE__, __LINE__)
// Checks the kernel launch just made (bad configuration, no kernel image for this GPU, ...).
#define SIGMANET_CUDA_CHECK_LAUNCH(kernel) \
  ::sigmanet::cuda::check(cudaGetLastError(), "launch of " kernel, __FILE__, __LINE__)
