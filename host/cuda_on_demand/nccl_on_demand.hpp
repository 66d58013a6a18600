#pragma once
// NCCL opened on first use (nccl_on_demand.cpp), as cuBLAS is: only a job that trains across GPUs needs
// libnccl, so every other run starts without it, and a machine without it still runs sigmanet.
#include <string>

namespace sigmanet::cuda {

// Whether libnccl can be opened (opening it if it is not yet); if not, *reason says why, in the dynamic
// loader's words.
bool nccl_library_available(std::string* reason = nullptr);

}  // namespace sigmanet::cuda
