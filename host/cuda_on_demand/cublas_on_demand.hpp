#pragma once
// cuBLAS opened on first use (cublas_on_demand.cpp), so that a CUDA build starts, and runs on the CPU, as
// lightly as a CPU-only one, and runs at all where cuBLAS is not installed.
#include <string>

namespace sigmanet::cuda {

// Whether libcublas can be opened (opening it if it is not yet); if not, *reason says why, in the dynamic
// loader's words.
bool cublas_available(std::string* reason = nullptr);

}  // namespace sigmanet::cuda
