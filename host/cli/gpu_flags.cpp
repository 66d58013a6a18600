#include "cli/gpu_flags.hpp"

#include "cli/flags.hpp"

namespace sigmanet::cli {

void add_gpu_flags(CLI::App* sub, CudaOptions& gpu, const std::string& kernel_help, const std::string& cluster_help) {
  std::vector<std::pair<std::string, CudaOptions::Kernel>> kernels;
  for (CudaOptions::Kernel k :
       {CudaOptions::Kernel::automatic, CudaOptions::Kernel::persistent, CudaOptions::Kernel::graph})
    kernels.emplace_back(to_string(k), k);
  add_choice(sub, "--gpu-kernel", gpu.kernel, kernels, kernel_help);
  add_choice(sub, "--gpu-cluster", gpu.persistent_blocks, {{"auto", 0}, {"1", 1}, {"2", 2}, {"4", 4}, {"8", 8}},
             cluster_help);
}

}  // namespace sigmanet::cli
