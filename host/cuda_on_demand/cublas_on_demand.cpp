// The cuBLAS calls sigmanet makes, defined here instead of linked from libcublas. libcublas and libcublasLt
// are about 570 MB of libraries: linked, the dynamic loader maps and relocates them at every start of the
// tool, GPU or not (0.24 s and 221 MB of resident memory for `sigmanet --help`, against under 10 ms and 5 MB
// without them). Each definition below opens libcublas the first time any is called and forwards to its
// function of the same name; the declarations are cuBLAS's own (cublas_v2.h), so a signature that drifts from
// the toolkit's does not compile.
#include "cuda_on_demand/cublas_on_demand.hpp"

#include <cublas_v2.h>

#include "cuda_on_demand/library_on_demand.hpp"


namespace sigmanet::cuda {
namespace {

// The toolkit's folder the build used comes second: a machine that runs the build where it was made finds
// it there even when the loader's own search path does not include it.
const LibraryOnDemand& library() {
  static const LibraryOnDemand lib{"libcublas.so." SIGMANET_CUBLAS_SOVERSION,
                                   SIGMANET_CUBLAS_DIR "/libcublas.so." SIGMANET_CUBLAS_SOVERSION};
  return lib;
}

}  // namespace

bool cublas_available(std::string* reason) {
  if (library().loaded()) return true;
  if (reason) *reason = "cuBLAS could not be loaded (" + library().error() + ")";
  return false;
}

}  // namespace sigmanet::cuda

// Each forwarder looks its function up once. Without the library every call says NOT_INITIALIZED, which the
// callers' status checks report; gpu_available() says why before any of them is reached.
#define SIGMANET_CUBLAS_FORWARD(name, params, args)                                      \
  extern "C" cublasStatus_t CUBLASWINAPI name params {                                  \
    static const auto f = sigmanet::cuda::library().function<decltype(name)>(#name);    \
    return f ? f args : CUBLAS_STATUS_NOT_INITIALIZED;                                  \
  }

SIGMANET_CUBLAS_FORWARD(cublasCreate_v2, (cublasHandle_t * handle), (handle))
SIGMANET_CUBLAS_FORWARD(cublasDestroy_v2, (cublasHandle_t handle), (handle))
SIGMANET_CUBLAS_FORWARD(cublasSetStream_v2, (cublasHandle_t handle, cudaStream_t stream), (handle, stream))
SIGMANET_CUBLAS_FORWARD(cublasSetMathMode, (cublasHandle_t handle, cublasMath_t mode), (handle, mode))
SIGMANET_CUBLAS_FORWARD(cublasSetAtomicsMode, (cublasHandle_t handle, cublasAtomicsMode_t mode), (handle, mode))
SIGMANET_CUBLAS_FORWARD(cublasSetPointerMode_v2, (cublasHandle_t handle, cublasPointerMode_t mode), (handle, mode))
SIGMANET_CUBLAS_FORWARD(cublasSetWorkspace_v2, (cublasHandle_t handle, void* workspace, size_t bytes),
                        (handle, workspace, bytes))
SIGMANET_CUBLAS_FORWARD(cublasSgemm_v2,
                        (cublasHandle_t handle, cublasOperation_t a_op, cublasOperation_t b_op, int m, int n, int k,
                         const float* alpha, const float* a, int lda, const float* b, int ldb, const float* beta,
                         float* c, int ldc),
                        (handle, a_op, b_op, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc))
#undef SIGMANET_CUBLAS_FORWARD

// The status texts: without the library, the status itself is all there is to say.
extern "C" const char* CUBLASWINAPI cublasGetStatusString(cublasStatus_t status) {
  static const auto f =
      sigmanet::cuda::library().function<decltype(cublasGetStatusString)>("cublasGetStatusString");
  return f ? f(status) : "cuBLAS could not be loaded";
}

extern "C" const char* CUBLASWINAPI cublasGetStatusName(cublasStatus_t status) {
  static const auto f = sigmanet::cuda::library().function<decltype(cublasGetStatusName)>("cublasGetStatusName");
  return f ? f(status) : "CUBLAS_STATUS_NOT_INITIALIZED";
}
