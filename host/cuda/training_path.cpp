// The CUDA backend's choice of training path and the persistent kernel's fit rules (training_path.hpp).
#include "training_path.hpp"

#include <string>

#include "sigmanet/error.hpp"

namespace sigmanet::cuda {
namespace {

// The least shared memory a block needs, and over how many blocks: the cluster asked for, else the cheapest
// size this device allows.
struct LeastNeed {
  int blocks = 1;
  std::size_t bytes = 0;  // 0: no cluster size takes this network at this batch
};

LeastNeed least_need(const kernels::PersistentNet& net, std::size_t batch, int forced, bool clusters) {
  LeastNeed need{forced > 0 ? forced : 1, 0};
  need.bytes = kernels::persistent_shared_bytes(net, batch, need.blocks);
  if (forced == 0 && clusters)
    for (int b = 2; b <= kernels::kPersistentMaxBlocks; b *= 2) {
      const std::size_t bytes = kernels::persistent_shared_bytes(net, batch, b);
      if (bytes > 0 && (need.bytes == 0 || bytes < need.bytes)) need = {b, bytes};
    }
  return need;
}

// Why the persistent kernel cannot train this network at this batch on this device.
std::string why_it_does_not_fit(const std::vector<int>& sizes, std::size_t batch, const LeastNeed& need,
                                const PersistentLimits& limits) {
  std::string why;
  if (need.blocks > 1 && !limits.clusters)
    why = "a cluster of " + std::to_string(need.blocks) +
          " blocks needs a GPU of compute capability 9.0 or later and sigmanet built for it (sm_90 on)";
  else if (need.bytes == 0)
    why = "the kernel takes 1 to " + std::to_string(kernels::kPersistentMaxLayers) + " weight layers, batches of 1 to " +
          std::to_string(kernels::kPersistentMaxBatch) +
          ", at most 512 first-layer neurons, and a 16-byte piece of every input row a block (a piece of the "
          "row's largest size that divides it: 16, 8, 4 or 1 bytes)";
  else
    why = "it needs " + std::to_string(need.bytes) + " bytes of shared memory a block" +
          (need.blocks > 1 ? " split over a cluster of " + std::to_string(need.blocks) : "") + ", this GPU allows " +
          std::to_string(limits.shared_optin_bytes);
  return "a " + sizes_text(sizes, '-') + " network at batch " + std::to_string(batch) +
         " does not fit the persistent kernel (" + why + ")";
}

SettingError cluster_refused(int forced, const std::string& why) {
  const std::string cluster = std::to_string(forced);
  return SettingError(Setting::gpu_cluster, {Setting::gpu_cluster, " " + cluster + ": " + why}, cluster);
}

}  // namespace

PersistentLimits current_persistent_limits() {
  int device = 0;
  cudaDeviceProp properties{};
  if (cudaGetDevice(&device) != cudaSuccess || cudaGetDeviceProperties(&properties, device) != cudaSuccess) {
    (void)cudaGetLastError();
    return {};
  }
  return {properties.sharedMemPerBlockOptin, kernels::persistent_clusters_supported()};
}

kernels::PersistentNet persistent_shape(const std::vector<int>& sizes, Activation output) {
  kernels::PersistentNet net;
  net.layers = int(sizes.size()) - 1;
  net.output = output;
  if (net.layers > kernels::kPersistentMaxLayers) return net;
  for (std::size_t l = 0; l < sizes.size(); ++l) net.sizes[l] = sizes[l];
  return net;
}

int persistent_blocks(const kernels::PersistentNet& net, std::size_t batch, int forced, const PersistentLimits& limits) {
  if (forced == 0)
    return kernels::persistent_cluster_blocks(net, batch, limits.shared_optin_bytes, limits.clusters);
  const std::size_t bytes = kernels::persistent_shared_bytes(net, batch, forced);
  return (forced == 1 || limits.clusters) && bytes > 0 && bytes <= limits.shared_optin_bytes ? forced : 0;
}

TrainingPath choose_training_path(const CudaOptions& options, const std::vector<int>& sizes, Activation output,
                                  std::size_t batch, bool in_job, const PersistentLimits& limits, bool float_values) {
  using Kernel = CudaOptions::Kernel;
  const int forced = options.persistent_blocks;
  if (forced > 0 && in_job) throw cluster_refused(forced, "a job across GPUs trains on the graph path, which has no cluster");
  if (forced > 0 && options.kernel == Kernel::graph)
    throw cluster_refused(forced, "the graph path has no cluster; the persistent kernel does");
  if (forced > 0 && options.kernel == Kernel::automatic && batch > kGpuPersistentMaxAutoBatch)
    throw cluster_refused(forced, "batch " + std::to_string(batch) +
                                      " trains on the graph path, which has no cluster (auto takes the persistent "
                                      "kernel up to batch " + std::to_string(kGpuPersistentMaxAutoBatch) + ")");
  if (in_job && options.kernel == Kernel::persistent)
    throw SettingError(Setting::gpu_kernel,
                       {Setting::gpu_kernel,
                        " persistent: a job across GPUs sums every batch's gradients between its ranks, which the "
                        "persistent kernel (one launch for many batches) cannot; use ",
                        Setting::gpu_kernel, " graph or auto"},
                       "persistent");
  if (in_job) return TrainingPath::data_parallel;
  if (options.kernel == Kernel::graph) return TrainingPath::graph;
  if (float_values) {
    const std::string why = "the persistent kernel trains pixel data only (its batch pipeline moves bytes), and "
                            "these features are float values";
    if (forced > 0) throw cluster_refused(forced, why);
    if (options.kernel == Kernel::persistent)
      throw SettingError(Setting::gpu_kernel,
                         {Setting::gpu_kernel, " persistent: " + why + "; use ", Setting::gpu_kernel, " graph or auto"},
                         "persistent");
    return TrainingPath::graph;
  }
  const kernels::PersistentNet net = persistent_shape(sizes, output);
  const bool fits = persistent_blocks(net, batch, forced, limits) > 0;
  if (options.kernel == Kernel::automatic && forced == 0)
    return batch <= kGpuPersistentMaxAutoBatch && fits ? TrainingPath::persistent : TrainingPath::graph;
  if (fits) return TrainingPath::persistent;
  const std::string what = why_it_does_not_fit(sizes, batch, least_need(net, batch, forced, limits.clusters), limits);
  if (forced > 0) throw cluster_refused(forced, what);
  throw SettingError(Setting::gpu_kernel,
                     {Setting::gpu_kernel, " persistent: " + what + "; use ", Setting::gpu_kernel, " graph"},
                     "persistent");
}

}  // namespace sigmanet::cuda
