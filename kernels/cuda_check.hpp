#pragma once
// Status checks for CUDA runtime and cuBLAS calls: a failure throws sigmanet::Error naming the call, the
// file and line, and the library's own message. Kernel launches are checked with cudaGetLastError.
#include <cublas_v2.h>
#include <cuda_runtime.h>

namespace sigmanet::cuda {

// Out of line (cuda_check.cpp): the message is built in host code, never in a kernel file's object code
// (which the emulator build instruments for its memory checks). A failed runtime call also leaves its error
// as the "last error", which the next launch's check would report as its own: these clear it first.
[[noreturn]] void throw_cuda_error(cudaError_t status, const char* call, const char* file, int line);
// A launch in thread-block clusters of `cluster` blocks that cudaLaunchKernelEx refused (launch.cuh).
[[noreturn]] void throw_cluster_launch_error(cudaError_t status, const char* kernel, unsigned cluster);
[[noreturn]] void throw_cublas_error(cublasStatus_t status, const char* call, const char* file, int line);

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
