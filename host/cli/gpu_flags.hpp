#pragma once
// --gpu-kernel auto|persistent|graph and --gpu-cluster auto|1|2|4|8: the GPU's options (cuda/cuda_options.hpp) as
// the commands that train take them, each with its own words for what they do there.
#include <CLI/CLI.hpp>

#include <string>

#include "sigmanet/cuda/cuda_options.hpp"

namespace sigmanet::cli {

void add_gpu_flags(CLI::App* sub, CudaOptions& gpu, const std::string& kernel_help, const std::string& cluster_help);

}  // namespace sigmanet::cli
