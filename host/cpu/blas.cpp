// OpenBLAS opened on demand (blas.hpp). Its CBLAS functions are declared here, not taken from cblas.h, so
// that only the library (Debian's libopenblas0-pthread), not its development package, is needed.
#include "cpu/blas.hpp"

#include <dlfcn.h>

#include <climits>
#include <cstdlib>
#include <mutex>

#include "sigmanet/error.hpp"

namespace sigmanet {
namespace {

// CBLAS's enumerations (cblas.h), and the functions used, with OpenBLAS's 32-bit integer interface.
enum CblasOrder { kRowMajor = 101 };
enum CblasTranspose { kNoTrans = 111, kTrans = 112 };
using Sgemm = void(int, int, int, int, int, int, float, const float*, int, const float*, int, float, float*, int);
using Dgemm = void(int, int, int, int, int, int, double, const double*, int, const double*, int, double, double*,
                   int);
using SetThreads = void(int);
using Name = char*();

struct OpenBlas {
  Sgemm* sgemm = nullptr;
  Dgemm* dgemm = nullptr;
  SetThreads* set_threads = nullptr;
  std::string description;  // or, without the library, why
};

// The kernels to ask for: OpenBLAS's names for the newest instruction set this CPU has. SkylakeX's are its
// AVX-512 kernels, Haswell's its AVX2 + FMA ones; an older CPU is left to OpenBLAS's own detection.
const char* kernels_for_this_cpu() {
#if defined(__x86_64__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
      __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl"))
    return "SkylakeX";
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return "Haswell";
#endif
  return nullptr;
}

const OpenBlas& open_blas() {
  static const OpenBlas blas = [] {
    OpenBlas b;
    // Read by OpenBLAS as it loads; a user's own settings win (setenv's last argument).
    if (const char* kernels = kernels_for_this_cpu()) setenv("OPENBLAS_CORETYPE", kernels, 0);
    // No threads of OpenBLAS's own at load: they are started when a product first asks for more than one,
    // from within the network's computation, so that they take its floating-point mode (float_mode.hpp).
    setenv("OPENBLAS_NUM_THREADS", "1", 1);
    void* lib = dlopen("libopenblas.so.0", RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
      const char* error = dlerror();
      b.description = std::string("OpenBLAS could not be loaded (") + (error ? error : "no reason given") +
                      "); install libopenblas0-pthread";
      return b;
    }
    auto* sgemm = reinterpret_cast<Sgemm*>(dlsym(lib, "cblas_sgemm"));
    auto* dgemm = reinterpret_cast<Dgemm*>(dlsym(lib, "cblas_dgemm"));
    auto* set_threads = reinterpret_cast<SetThreads*>(dlsym(lib, "openblas_set_num_threads"));
    auto* core = reinterpret_cast<Name*>(dlsym(lib, "openblas_get_corename"));
    auto* config = reinterpret_cast<Name*>(dlsym(lib, "openblas_get_config"));
    if (!sgemm || !dgemm || !set_threads || !core || !config) {
      b.description = "libopenblas.so.0 lacks cblas_sgemm, cblas_dgemm or openblas_*: not OpenBLAS?";
      return b;
    }
    set_threads(1);  // whatever OPENBLAS_NUM_THREADS said: each call says how many it may use
    b.set_threads = set_threads;
    b.sgemm = sgemm;
    b.dgemm = dgemm;
    // openblas_get_config() starts "OpenBLAS 0.3.21 ..." followed by build options.
    std::string version = config();
    const std::size_t space = version.find(' ', version.find(' ') + 1);
    if (space != std::string::npos) version.resize(space);
    b.description = version + " (" + core() + " kernels)";
    return b;
  }();
  return blas;
}

int dimension(std::size_t n) {
  if (n > std::size_t(INT_MAX))
    throw Error("blas_gemm: a dimension of " + std::to_string(n) + " exceeds OpenBLAS's int");
  return int(n);
}

// OpenBLAS's thread count is one setting for the whole process; it is changed only when a call asks for another.
void use_threads(int threads) {
  static std::mutex mutex;
  static int current = 1;
  const std::lock_guard<std::mutex> lock(mutex);
  if (threads != current) open_blas().set_threads(threads);
  current = threads;
}

template <class T, class F>
void gemm(F* f, const GemmShape& s, T alpha, const T* a, std::size_t lda, const T* b, std::size_t ldb, T beta, T* c,
          std::size_t ldc, int threads) {
  if (!f) throw Error("blas_gemm: " + open_blas().description);
  use_threads(threads < 1 ? 1 : threads);
  f(kRowMajor, s.transpose_a ? kTrans : kNoTrans, s.transpose_b ? kTrans : kNoTrans, dimension(s.m), dimension(s.n),
    dimension(s.k), alpha, a, dimension(lda), b, dimension(ldb), beta, c, dimension(ldc));
}

}  // namespace

bool blas_available(std::string* reason) {
  if (open_blas().sgemm) return true;
  if (reason) *reason = open_blas().description;
  return false;
}

std::string blas_description() { return open_blas().description; }

void blas_gemm(const GemmShape& s, float alpha, const float* a, std::size_t lda, const float* b, std::size_t ldb,
               float beta, float* c, std::size_t ldc, int threads) {
  gemm(open_blas().sgemm, s, alpha, a, lda, b, ldb, beta, c, ldc, threads);
}

void blas_gemm(const GemmShape& s, double alpha, const double* a, std::size_t lda, const double* b,
               std::size_t ldb, double beta, double* c, std::size_t ldc, int threads) {
  gemm(open_blas().dgemm, s, alpha, a, lda, b, ldb, beta, c, ldc, threads);
}

}  // namespace sigmanet
