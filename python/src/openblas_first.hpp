#pragma once
// OpenBLAS is one library per process, and it picks its kernels as it loads. The sigmanet library names them first
// (it sets OPENBLAS_CORETYPE from the CPU's features, unless the user has, and then opens OpenBLAS), so that its
// products run on the kernels the command-line tool uses: the same speed and the same bits. In Python, numpy or
// torch may have loaded OpenBLAS before sigmanet was imported; then the products run on the kernels OpenBLAS chose
// by itself, which on many CPUs are others (Debian 12's OpenBLAS falls back to SSE3 on CPUs from 2023 on).
#include <optional>
#include <string>

namespace sigmanet::python {

// Has the library open OpenBLAS now, and says (a warning's text) when another module had loaded it already with
// other kernels than the library would have named.
std::optional<std::string> open_blas_first();

}  // namespace sigmanet::python
