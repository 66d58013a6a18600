#pragma once
// The three cuBLAS SGEMMs of training, written once so the backend and the equivalence checks make the
// very same calls. Layout (see kernels/kernels.hpp): a batch is an n x m column-major matrix (one column per
// sample, leading dimension n); the row-major n_out x n_in weights are, column-major, W^T with leading
// dimension n_in.
#include <cublas_v2.h>

#include <cstddef>

namespace sigmanet::cuda {

// z = W . in: (n_out x m) = op_T(W^T: n_in x n_out) . (in: n_in x m).
void gemm_forward(cublasHandle_t handle, const float* w, const float* in, int n_in, int n_out, std::size_t m,
                  float* z);

// back = W^T . delta: (n_in x m) = (W^T: n_in x n_out) . (delta: n_out x m).
void gemm_backward(cublasHandle_t handle, const float* w, const float* delta, int n_in, int n_out, std::size_t m,
                   float* back);

// W <- W - scale * delta . in^T, i.e. in column-major terms W^T <- W^T - scale * in . delta^T:
// (n_in x n_out) += -scale * (in: n_in x m) . op_T(delta: n_out x m), one GEMM with beta = 1.
void gemm_update(cublasHandle_t handle, const float* in, const float* delta, int n_in, int n_out, std::size_t m,
                 float scale, float* w);

}  // namespace sigmanet::cuda
