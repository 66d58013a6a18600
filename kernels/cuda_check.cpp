#include "cuda_check.hpp"

#include <string>

#include "sigmanet/error.hpp"

namespace sigmanet::cuda {

void throw_cuda_error(cudaError_t status, const char* call, const char* file, int line) {
  (void)cudaGetLastError();
  throw Error(std::string("CUDA error in ") + call + " at " + file + ":" + std::to_string(line) + ": " +
              cudaGetErrorString(status) + " (" + cudaGetErrorName(status) + ")");
}

void throw_cluster_launch_error(cudaError_t status, const char* kernel, unsigned cluster) {
  (void)cudaGetLastError();
  throw Error(std::string("CUDA error launching ") + kernel + " in clusters of " + std::to_string(cluster) + ": " +
              cudaGetErrorString(status) + " (" + cudaGetErrorName(status) + ")");
}

void throw_cublas_error(cublasStatus_t status, const char* call, const char* file, int line) {
  throw Error(std::string("cuBLAS error in ") + call + " at " + file + ":" + std::to_string(line) + ": " +
              cublasGetStatusString(status) + " (" + cublasGetStatusName(status) + ")");
}

}  // namespace sigmanet::cuda
