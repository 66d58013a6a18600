#include "cuda_blas.hpp"

#include <climits>
#include <string>

#include "cuda_check.hpp"
#include "sigmanet/error.hpp"

namespace sigmanet::cuda {
namespace {

// cuBLAS counts in int.
int blas_int(std::size_t n, const char* wrapper, const char* what) {
  if (n > std::size_t(INT_MAX))
    throw Error(std::string(wrapper) + ": " + what + " of " + std::to_string(n) + " is too large for cuBLAS");
  return static_cast<int>(n);
}

}  // namespace

void gemm_forward(cublasHandle_t handle, kernels::WeightView<const float> w, kernels::BatchView<const float> in,
                  kernels::BatchView<float> z) {
  SIGMANET_REQUIRE_SHAPES("cuda::gemm_forward", w.inputs == in.features, w, in);
  SIGMANET_REQUIRE_SHAPES("cuda::gemm_forward", w.outputs == z.features, w, z);
  SIGMANET_REQUIRE_SHAPES("cuda::gemm_forward", z.samples == in.samples, z, in);
  if (in.samples == 0) return;
  const char* wrapper = "cuda::gemm_forward";
  const int n_in = blas_int(w.inputs, wrapper, "layer"), n_out = blas_int(w.outputs, wrapper, "layer");
  const float one = 1.0f, zero = 0.0f;
  SIGMANET_CUDA_CHECK(cublasSgemm(handle, CUBLAS_OP_T, CUBLAS_OP_N, n_out, blas_int(in.samples, wrapper, "batch"),
                                  n_in, &one, w.data, n_in, in.data, n_in, &zero, z.data, n_out));
}

void gemm_backward(cublasHandle_t handle, kernels::WeightView<const float> w, kernels::BatchView<const float> delta,
                   kernels::BatchView<float> back) {
  SIGMANET_REQUIRE_SHAPES("cuda::gemm_backward", w.outputs == delta.features, w, delta);
  SIGMANET_REQUIRE_SHAPES("cuda::gemm_backward", w.inputs == back.features, w, back);
  SIGMANET_REQUIRE_SHAPES("cuda::gemm_backward", back.samples == delta.samples, back, delta);
  if (delta.samples == 0) return;
  const char* wrapper = "cuda::gemm_backward";
  const int n_in = blas_int(w.inputs, wrapper, "layer"), n_out = blas_int(w.outputs, wrapper, "layer");
  const float one = 1.0f, zero = 0.0f;
  SIGMANET_CUDA_CHECK(cublasSgemm(handle, CUBLAS_OP_N, CUBLAS_OP_N, n_in, blas_int(delta.samples, wrapper, "batch"),
                                  n_out, &one, w.data, n_in, delta.data, n_out, &zero, back.data, n_in));
}

namespace {

// w <- beta * w + alpha * delta . in^T, for gemm_update and gemm_gradient.
void gemm_outer(const char* wrapper, cublasHandle_t handle, kernels::BatchView<const float> in,
                kernels::BatchView<const float> delta, float alpha, float beta, kernels::WeightView<float> w) {
  SIGMANET_REQUIRE_SHAPES(wrapper, w.inputs == in.features, w, in);
  SIGMANET_REQUIRE_SHAPES(wrapper, w.outputs == delta.features, w, delta);
  SIGMANET_REQUIRE_SHAPES(wrapper, delta.samples == in.samples, delta, in);
  if (in.samples == 0) return;
  const int n_in = blas_int(w.inputs, wrapper, "layer"), n_out = blas_int(w.outputs, wrapper, "layer");
  SIGMANET_CUDA_CHECK(cublasSgemm(handle, CUBLAS_OP_N, CUBLAS_OP_T, n_in, n_out, blas_int(in.samples, wrapper, "batch"),
                                  &alpha, in.data, n_in, delta.data, n_out, &beta, w.data, n_in));
}

}  // namespace

void gemm_update(cublasHandle_t handle, kernels::BatchView<const float> in, kernels::BatchView<const float> delta,
                 float scale, float decay, kernels::WeightView<float> w) {
  gemm_outer("cuda::gemm_update", handle, in, delta, -scale, decay, w);
}

void gemm_gradient(cublasHandle_t handle, kernels::BatchView<const float> in, kernels::BatchView<const float> delta,
                   kernels::WeightView<float> gradient) {
  gemm_outer("cuda::gemm_gradient", handle, in, delta, 1.0f, 0.0f, gradient);
}

}  // namespace sigmanet::cuda
