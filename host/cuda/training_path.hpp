#pragma once
// Which driver trains a train() call (training_driver.hpp), and whether the persistent kernel fits: the one place
// the CUDA backend's options, the network, the batch, the job and the device's limits are weighed.
#include <cstddef>
#include <vector>

#include "device_model.hpp"
#include "kernels.hpp"
#include "cuda_backend.hpp"
#include "sigmanet/parameters.hpp"

namespace sigmanet::cuda {

enum class TrainingPath { graph, persistent, data_parallel };

// The current device's limits; all zero when it cannot be asked.
PersistentLimits current_persistent_limits();

// The network's shape as the persistent kernel's fit rules take it (no parameters): `layers` as many as sizes
// has, the sizes themselves only when they are kernels::kPersistentMaxLayers or fewer (more never fit).
kernels::PersistentNet persistent_shape(const std::vector<int>& sizes, Activation output);

// The blocks of the persistent kernel's cluster for this network at this batch: `forced` (CudaOptions::
// persistent_blocks) when it is not 0 and fits, else kernels::persistent_cluster_blocks's choice; 0 when it does
// not fit. A last, partial batch runs with its full batch's blocks: the bits depend on the cluster's size.
int persistent_blocks(const kernels::PersistentNet& net, std::size_t batch, int forced, const PersistentLimits& limits);

// The path for a call at `batch` (in_job: as one rank of a job across GPUs). Throws SettingError (gpu_kernel or
// gpu_cluster) when the options ask for what this network, batch, job, data or device cannot do: a cluster size
// or the persistent kernel asked for is never dropped in silence, since the bits depend on them. float_values:
// the training set's features are float values, which only the graph path trains (the persistent kernel's batch
// pipeline moves pixel bytes).
TrainingPath choose_training_path(const CudaOptions& options, const std::vector<int>& sizes, Activation output,
                                  std::size_t batch, bool in_job, const PersistentLimits& limits,
                                  bool float_values);

}  // namespace sigmanet::cuda
