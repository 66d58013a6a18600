#pragma once
// OpenBLAS's matrix products for the fast CPU network's large stages, opened when first asked for (dlopen),
// so the tool starts without it and runs without it (the network's own kernels then do every product).
//
// Why a BLAS at all: past a few hundred thousand multiply-adds a product, a tuned GEMM (packed panels, a
// register-blocked micro-kernel per instruction set) runs at 75-85% of a core's peak, two to three times the
// network's own dot-product tiles (bench/RESULTS.md, "OpenBLAS or our own kernels"). Why OpenBLAS rather than
// BLIS: on the same products it measured faster at every shape tried. Why opened rather than linked: OpenBLAS
// picks its kernels for the CPU when it loads, and Debian 12's 0.3.21 does not know the CPUs of 2023 on
// (Sapphire and Emerald Rapids): it falls back to its SSE3 kernels at a sixth of the speed. Opening it
// ourselves lets us name the kernels first (OPENBLAS_CORETYPE, from the CPU's own feature flags) unless the
// user already has. OpenBLAS's own threads are turned off: the network splits the products over its threads
// itself, so that the split, and with it the bits, do not depend on the library.
#include <cstddef>
#include <string>

namespace sigmanet {

// Row-major C = alpha * op(A) * op(B) + beta * C with op(X) = X or X^T, C m x n, op(A) m x k, op(B) k x n.
struct GemmShape {
  bool transpose_a = false, transpose_b = false;
  std::size_t m = 0, n = 0, k = 0;
};

// True when OpenBLAS could be opened (the first call opens it); otherwise `reason` (when not null) says why.
bool blas_available(std::string* reason = nullptr);
// "OpenBLAS 0.3.21 (SkylakeX kernels)" when available, else why not.
std::string blas_description();

// The product on OpenBLAS, on `threads` of its threads; Error when it is not available, or a dimension does not
// fit its 32-bit ints.
void blas_gemm(const GemmShape& s, float alpha, const float* a, std::size_t lda, const float* b, std::size_t ldb,
               float beta, float* c, std::size_t ldc, int threads = 1);
void blas_gemm(const GemmShape& s, double alpha, const double* a, std::size_t lda, const double* b,
               std::size_t ldb, double beta, double* c, std::size_t ldc, int threads = 1);

}  // namespace sigmanet
