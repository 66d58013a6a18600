#pragma once
// The three cuBLAS SGEMMs of training, written once so the backend and the equivalence checks make the
// very same calls. They take the kernels' views (kernels/matrix_view.hpp) and refuse shapes that do not fit.
// In cuBLAS's column-major terms a BatchView of m samples x n is an n x m matrix (one column per sample,
// leading dimension n), and a WeightView of n_out x n_in (row-major) is W^T with leading dimension n_in.
#include <cublas_v2.h>

#include "matrix_view.hpp"

namespace sigmanet::cuda {

// z = W . in: (n_out x m) = op_T(W^T: n_in x n_out) . (in: n_in x m).
void gemm_forward(cublasHandle_t handle, kernels::WeightView<const float> w, kernels::BatchView<const float> in,
                  kernels::BatchView<float> z);

// back = W^T . delta: (n_in x m) = (W^T: n_in x n_out) . (delta: n_out x m).
void gemm_backward(cublasHandle_t handle, kernels::WeightView<const float> w, kernels::BatchView<const float> delta,
                   kernels::BatchView<float> back);

// W <- decay * W - scale * delta . in^T, i.e. in column-major terms W^T <- decay * W^T - scale * in . delta^T:
// (n_in x n_out) = -scale * (in: n_in x m) . op_T(delta: n_out x m) + decay * (n_in x n_out), one GEMM with
// beta = decay. L2's weight decay (cost.hpp's weight_decay) rides on beta, so it costs nothing; without L2
// decay is exactly 1, chapter 1's beta.
void gemm_update(cublasHandle_t handle, kernels::BatchView<const float> in, kernels::BatchView<const float> delta,
                 float scale, float decay, kernels::WeightView<float> w);

// gradient = delta . in^T (W's layout), the same GEMM with beta = 0: one rank's share of a data-parallel step,
// which the ranks add up before any of them updates W. A batch of 0 samples writes nothing.
void gemm_gradient(cublasHandle_t handle, kernels::BatchView<const float> in, kernels::BatchView<const float> delta,
                   kernels::WeightView<float> gradient);

}  // namespace sigmanet::cuda
