// The cuBLAS calls sigmanet makes, on the CPU: a handle's settings, and SGEMM with cuBLAS's documented
// argument checks, column-major layout, beta = 0 meaning "C is not read", and TF32 rounding in that math mode.
#include <cublas_v2.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

#include "emulator.hpp"

struct cublasContext {
  cudaStream_t stream = nullptr;
  void* workspace = nullptr;
  std::size_t workspace_bytes = 0;
  cublasMath_t math = CUBLAS_DEFAULT_MATH;
  cublasPointerMode_t pointer_mode = CUBLAS_POINTER_MODE_HOST;
  cublasAtomicsMode_t atomics = CUBLAS_ATOMICS_NOT_ALLOWED;
};

namespace {

namespace emu = sigmanet::gpu_emulator;

// What the tensor cores do to SGEMM inputs in TF32 mode: keep 10 of the 23 mantissa bits, rounding to nearest.
float to_tf32(float x) {
  std::uint32_t bits;
  std::memcpy(&bits, &x, sizeof bits);
  if ((bits & 0x7F800000u) != 0x7F800000u) bits = (bits + 0x1000u) & 0xFFFFE000u;  // leave Inf and NaN alone
  std::memcpy(&x, &bits, sizeof x);
  return x;
}

// Bytes a column-major rows x cols matrix with leading dimension ld spans.
std::size_t span_bytes(int rows, int cols, int ld) {
  if (rows == 0 || cols == 0) return 0;
  return (std::size_t(ld) * std::size_t(cols - 1) + std::size_t(rows)) * sizeof(float);
}

// Like cuBLAS, and unlike the CPU networks, the sums are not taken in order over k: each element is the
// sum of partial sums over blocks of kSplitK consecutive l, so the tests' tolerances meet a different
// rounding than the CPU networks', as they do on a GPU.
constexpr int kSplitK = 16;

// C = alpha op(A) op(B) + beta C in float.
void sgemm(bool ta, bool tb, int m, int n, int k, float alpha, const float* A, int lda, const float* B, int ldb,
           float beta, float* C, int ldc, bool tf32) {
  auto round = [tf32](float x) { return tf32 ? to_tf32(x) : x; };
  auto a = [&](int i, int l) { return round(ta ? A[l + std::size_t(i) * lda] : A[i + std::size_t(l) * lda]); };
  auto b = [&](int l, int j) { return round(tb ? B[j + std::size_t(l) * ldb] : B[l + std::size_t(j) * ldb]); };
  std::vector<float> column(static_cast<std::size_t>(m)), partial(static_cast<std::size_t>(m));
  for (int j = 0; j < n; ++j) {
    std::fill(column.begin(), column.end(), 0.0f);
    for (int l0 = 0; l0 < k; l0 += kSplitK) {
      std::fill(partial.begin(), partial.end(), 0.0f);
      for (int l = l0; l < std::min(k, l0 + kSplitK); ++l) {
        const float blj = b(l, j);
        for (int i = 0; i < m; ++i) partial[i] += a(i, l) * blj;
      }
      for (int i = 0; i < m; ++i) column[i] += partial[i];
    }
    float* c = C + std::size_t(j) * ldc;
    for (int i = 0; i < m; ++i) c[i] = beta == 0.0f ? alpha * column[i] : alpha * column[i] + beta * c[i];
  }
}

}  // namespace

cublasStatus_t cublasCreate_v2(cublasHandle_t* handle) {
  int devices = 0;
  if (!handle) return CUBLAS_STATUS_INVALID_VALUE;
  if (cudaGetDeviceCount(&devices) != cudaSuccess || devices == 0) return CUBLAS_STATUS_NOT_INITIALIZED;
  if (emu::refused_during_capture()) return CUBLAS_STATUS_ALLOC_FAILED;  // it allocates
  *handle = new cublasContext;
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasDestroy_v2(cublasHandle_t handle) {
  if (!handle) return CUBLAS_STATUS_NOT_INITIALIZED;
  emu::drain(handle->stream);  // cuBLAS synchronises before releasing its resources
  delete handle;
  return CUBLAS_STATUS_SUCCESS;
}

// As in cuBLAS, setting the stream drops a workspace set earlier (it goes back to cuBLAS's own pool).
cublasStatus_t cublasSetStream_v2(cublasHandle_t handle, cudaStream_t stream) {
  if (!handle) return CUBLAS_STATUS_NOT_INITIALIZED;
  handle->stream = stream;
  handle->workspace = nullptr;
  handle->workspace_bytes = 0;
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasSetWorkspace_v2(cublasHandle_t handle, void* workspace, size_t bytes) {
  if (!handle) return CUBLAS_STATUS_NOT_INITIALIZED;
  if (reinterpret_cast<std::uintptr_t>(workspace) % 256 != 0) return CUBLAS_STATUS_INVALID_VALUE;
  if (bytes) emu::check_device_range(workspace, bytes, "cublasSetWorkspace");
  handle->workspace = workspace;
  handle->workspace_bytes = bytes;
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasSetMathMode(cublasHandle_t handle, cublasMath_t mode) {
  if (!handle) return CUBLAS_STATUS_NOT_INITIALIZED;
  handle->math = mode;
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasSetPointerMode_v2(cublasHandle_t handle, cublasPointerMode_t mode) {
  if (!handle) return CUBLAS_STATUS_NOT_INITIALIZED;
  handle->pointer_mode = mode;
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasSetAtomicsMode(cublasHandle_t handle, cublasAtomicsMode_t mode) {
  if (!handle) return CUBLAS_STATUS_NOT_INITIALIZED;
  handle->atomics = mode;
  return CUBLAS_STATUS_SUCCESS;
}

const char* cublasGetStatusName(cublasStatus_t status) {
  switch (status) {
    case CUBLAS_STATUS_SUCCESS: return "CUBLAS_STATUS_SUCCESS";
    case CUBLAS_STATUS_NOT_INITIALIZED: return "CUBLAS_STATUS_NOT_INITIALIZED";
    case CUBLAS_STATUS_INVALID_VALUE: return "CUBLAS_STATUS_INVALID_VALUE";
    case CUBLAS_STATUS_EXECUTION_FAILED: return "CUBLAS_STATUS_EXECUTION_FAILED";
    default: return "CUBLAS_STATUS_UNKNOWN";
  }
}

const char* cublasGetStatusString(cublasStatus_t status) {
  switch (status) {
    case CUBLAS_STATUS_SUCCESS: return "success";
    case CUBLAS_STATUS_NOT_INITIALIZED: return "the library was not initialized";
    case CUBLAS_STATUS_INVALID_VALUE: return "an invalid numeric value was used as an argument";
    case CUBLAS_STATUS_EXECUTION_FAILED: return "the GPU program failed to execute";
    default: return "unknown error";
  }
}

cublasStatus_t cublasSgemm_v2(cublasHandle_t handle, cublasOperation_t transa, cublasOperation_t transb, int m, int n,
                              int k, const float* alpha, const float* A, int lda, const float* B, int ldb,
                              const float* beta, float* C, int ldc) {
  if (!handle) return CUBLAS_STATUS_NOT_INITIALIZED;
  const auto known = [](cublasOperation_t op) { return op == CUBLAS_OP_N || op == CUBLAS_OP_T || op == CUBLAS_OP_C; };
  const bool ta = transa != CUBLAS_OP_N, tb = transb != CUBLAS_OP_N;
  // The checks cuBLAS documents for gemm, in its order.
  if (!known(transa) || !known(transb) || m < 0 || n < 0 || k < 0 || lda < std::max(1, ta ? k : m) ||
      ldb < std::max(1, tb ? n : k) || ldc < std::max(1, m) || !alpha || !beta)
    return CUBLAS_STATUS_INVALID_VALUE;
  if (m == 0 || n == 0) return CUBLAS_STATUS_SUCCESS;
  if (handle->pointer_mode != CUBLAS_POINTER_MODE_HOST) return CUBLAS_STATUS_NOT_SUPPORTED;  // never used here
  const float al = *alpha, be = *beta;  // host pointer mode: read at the call, as cuBLAS does
  const bool tf32 = (handle->math & 0xF) == CUBLAS_TF32_TENSOR_OP_MATH;
  // Without a workspace of its own a captured SGEMM would take one from cuBLAS's pool; sigmanet sets one so
  // that nothing allocates during capture (cublasSetStream drops it, so it must be set after that).
  cudaStreamCaptureStatus capture = cudaStreamCaptureStatusNone;
  if (cudaStreamIsCapturing(handle->stream, &capture) == cudaSuccess && capture == cudaStreamCaptureStatusActive &&
      !handle->workspace)
    emu::fail("cublasSgemm captured into a graph with no workspace set on its handle (set it after cublasSetStream)");
  const void* workspace = handle->workspace;
  const std::size_t workspace_bytes = handle->workspace_bytes;
  emu::enqueue(handle->stream, "cublasSgemm", [=] {
    if (workspace) emu::check_device_range(workspace, workspace_bytes, "cublasSgemm workspace");
    const std::size_t a_bytes = span_bytes(ta ? k : m, ta ? m : k, lda);
    const std::size_t b_bytes = span_bytes(tb ? n : k, tb ? k : n, ldb);
    if (k > 0 && al != 0.0f) {
      emu::check_device_range(A, a_bytes, "cublasSgemm A");
      emu::check_device_range(B, b_bytes, "cublasSgemm B");
    }
    emu::check_device_range(C, span_bytes(m, n, ldc), "cublasSgemm C");
    sgemm(ta, tb, m, n, al == 0.0f ? 0 : k, al, A, lda, B, ldb, be, C, ldc, tf32);  // alpha = 0: A, B unread
    for (int j = 0; j < n; ++j) emu::mark_written(C + std::size_t(j) * ldc, std::size_t(m) * sizeof(float));
  });
  return CUBLAS_STATUS_SUCCESS;
}
