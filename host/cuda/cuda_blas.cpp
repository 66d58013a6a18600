#include "cuda_blas.hpp"

#include <climits>
#include <string>

#include "cuda_check.hpp"
#include "sigmanet/error.hpp"

namespace sigmanet::cuda {
namespace {

int batch_int(std::size_t m, const char* what) {
  if (m > std::size_t(INT_MAX)) throw Error(std::string(what) + ": batch of " + std::to_string(m) + " is too large for cuBLAS");
  return static_cast<int>(m);
}

}  // namespace

void gemm_forward(cublasHandle_t handle, const float* w, const float* in, int n_in, int n_out, std::size_t m,
                  float* z) {
  if (m == 0) return;
  const float one = 1.0f, zero = 0.0f;
  SIGMANET_CUDA_CHECK(cublasSgemm(handle, CUBLAS_OP_T, CUBLAS_OP_N, n_out, batch_int(m, "gemm_forward"), n_in, &one,
                                  w, n_in, in, n_in, &zero, z, n_out));
}

void gemm_backward(cublasHandle_t handle, const float* w, const float* delta, int n_in, int n_out, std::size_t m,
                   float* back) {
  if (m == 0) return;
  const float one = 1.0f, zero = 0.0f;
  SIGMANET_CUDA_CHECK(cublasSgemm(handle, CUBLAS_OP_N, CUBLAS_OP_N, n_in, batch_int(m, "gemm_backward"), n_out, &one,
                                  w, n_in, delta, n_out, &zero, back, n_in));
}

void gemm_update(cublasHandle_t handle, const float* in, const float* delta, int n_in, int n_out, std::size_t m,
                 float scale, float* w) {
  if (m == 0) return;
  const float alpha = -scale, one = 1.0f;
  SIGMANET_CUDA_CHECK(cublasSgemm(handle, CUBLAS_OP_N, CUBLAS_OP_T, n_in, n_out, batch_int(m, "gemm_update"), &alpha,
                                  in, n_in, delta, n_out, &one, w, n_in));
}

}  // namespace sigmanet::cuda
