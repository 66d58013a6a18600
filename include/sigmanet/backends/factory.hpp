#pragma once
// Where every backend is made: the fast CPU network or the CUDA backend, by device and precision, with the GPU's
// own options (cuda/cuda_options.hpp); and what a program asks about the GPU before it chooses.
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "sigmanet/backend.hpp"
#include "sigmanet/collective.hpp"
#include "sigmanet/cuda/cuda_options.hpp"
#include "sigmanet/error.hpp"

namespace sigmanet {

// The best backend for the request. Device::automatic picks the GPU when a usable one is present and otherwise the
// CPU, writing a one-line reason to *notice. Device::gpu with no usable GPU throws SettingError (device) carrying
// the driver's reason. `gpu` says how a GPU backend computes; options a backend cannot take throw SettingError
// (check_gpu_options), and so do options other than the defaults for a run that falls back to the CPU: they would
// change nothing.
std::unique_ptr<Backend> make_backend(Device device, Precision precision, std::string* notice = nullptr,
                                      const CudaOptions& gpu = {});

// Throws SettingError (gpu_cluster, gpu_kernel) for GPU options no backend takes: a cluster of other than 1, 2, 4 or
// 8 blocks, a cluster on the graph path, or any option but the defaults for a run on Device::cpu. make_backend checks
// them first; a program checks them early, before it loads data.
void check_gpu_options(Device device, const CudaOptions& gpu);

// GPU options other than the defaults for a run that trains on the CPU: refused, since they would change nothing.
// Throws SettingError naming the first such option and its value, then `why` ("the run trains on the CPU (device
// cpu), which has no GPU kernel to choose").
void refuse_gpu_options_on_cpu(const CudaOptions& gpu, const Message& why);

// Whether this build has a CUDA backend and a usable device; if not, *reason says why.
bool gpu_available(std::string* reason = nullptr);

// The usable GPU a run on `device` would take, for reports and the memory check (trainer.hpp's check_memory): none
// for Device::cpu (no GPU is looked for) nor without a usable one.
std::optional<DeviceInfo> gpu_info(Device device = Device::automatic);

// Whether the GPU's persistent kernel can train this network at this batch on the usable device: its shared
// memory a block, in one block or a thread-block cluster of its choice (gpu_cluster 0) or of gpu_cluster
// blocks. False without a usable GPU.
bool gpu_persistent_fits(const std::vector<int>& sizes, std::size_t batch, int gpu_cluster = 0);

// For a rank of a job across processes (collective.hpp): whether it can train on a GPU, which takes a usable
// one and NCCL to sum the ranks' gradients; if not, *reason says why. The ranks decide together on its answers.
bool gpu_available_for_job(std::string* reason = nullptr);

// Makes this rank's GPU the current one, before its backend is made: the rank's place among the job's
// processes on its machine, modulo the GPUs it sees (device 0 where a launcher shows each rank its own alone).
// Two ranks left on one GPU are refused when the backend joins the job (NCCL needs a GPU per process).
void use_gpu_of_rank(const Collective& job);

}  // namespace sigmanet
