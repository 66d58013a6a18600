// make_backend and the GPU questions: the one place that knows which backends this build has.
#include "sigmanet/backends/factory.hpp"

#include "cpu/cpu_backend.hpp"
#include "sigmanet/error.hpp"

#ifdef SIGMANET_HAVE_CUDA
#include "cuda/cuda_backend.hpp"
#endif
#ifdef SIGMANET_CUBLAS_ON_DEMAND
#include "cuda_on_demand/cublas_on_demand.hpp"
#endif

namespace sigmanet {

void refuse_gpu_options_on_cpu(const CudaOptions& gpu, const Message& why) {
  if (gpu.persistent_blocks == 0 && gpu.kernel == CudaOptions::Kernel::automatic) return;
  const Setting option = gpu.persistent_blocks != 0 ? Setting::gpu_cluster : Setting::gpu_kernel;
  const std::string value = gpu.persistent_blocks != 0 ? std::to_string(gpu.persistent_blocks) : to_string(gpu.kernel);
  Message message{option, " " + value + ": "};
  message += why;
  throw SettingError(option, message, value);
}

void check_gpu_options(Device device, const CudaOptions& gpu) {
  const int cluster = gpu.persistent_blocks;
  if (cluster != 0 && cluster != 1 && cluster != 2 && cluster != 4 && cluster != 8)
    throw SettingError(Setting::gpu_cluster, "must be auto, 1, 2, 4 or 8", std::to_string(cluster));
  if (cluster != 0 && gpu.kernel == CudaOptions::Kernel::graph)
    throw SettingError(Setting::gpu_cluster,
                       {Setting::gpu_cluster, " " + std::to_string(cluster) + ": the graph path (", Setting::gpu_kernel,
                        " graph) has no cluster; the persistent kernel does"},
                       std::to_string(cluster));
  if (device == Device::cpu)
    refuse_gpu_options_on_cpu(gpu, {"the run trains on the CPU (", Setting::device,
                                    " cpu), which has no GPU kernel to choose"});
}

std::unique_ptr<Backend> make_backend(Device device, Precision precision, std::string* notice,
                                      const CudaOptions& gpu) {
  check_gpu_options(device, gpu);
  if (device == Device::cpu) return make_cpu_backend(precision);
  std::string reason;
  const bool have_gpu = gpu_available(&reason);
  if (device == Device::gpu && !have_gpu)
    throw SettingError(Setting::device, {Setting::device, " gpu: no usable GPU: " + reason}, "gpu");
  if (!have_gpu) {
    refuse_gpu_options_on_cpu(gpu, {"no usable GPU (" + reason + "), and the CPU has no GPU kernel to choose"});
    if (notice) *notice = "no usable GPU, using the CPU: " + reason;
    return make_cpu_backend(precision);
  }
#ifdef SIGMANET_HAVE_CUDA
  return make_cuda_backend(precision, gpu);
#else
  return make_cpu_backend(precision);  // unreachable: gpu_available() is false without CUDA
#endif
}

bool gpu_available(std::string* reason) {
#ifdef SIGMANET_CUBLAS_ON_DEMAND
  if (!cuda_device_usable(reason)) return false;
  return cuda::cublas_available(reason);
#elif defined(SIGMANET_HAVE_CUDA)
  return cuda_device_usable(reason);
#else
  if (reason) *reason = "this build of sigmanet has no CUDA backend (" SIGMANET_NO_CUDA_REASON ")";
  return false;
#endif
}

std::optional<DeviceInfo> gpu_info(Device device) {
#ifdef SIGMANET_HAVE_CUDA
  if (device != Device::cpu && gpu_available()) return cuda_device_info();
#else
  (void)device;
#endif
  return std::nullopt;
}

bool gpu_persistent_fits(const std::vector<int>& sizes, std::size_t batch, int gpu_cluster) {
#ifdef SIGMANET_HAVE_CUDA
  return gpu_available() && cuda_persistent_fits(sizes, batch, gpu_cluster);
#else
  (void)sizes;
  (void)batch;
  (void)gpu_cluster;
  return false;
#endif
}

bool gpu_available_for_job(std::string* reason) {
  if (!gpu_available(reason)) return false;
#ifdef SIGMANET_HAVE_CUDA
  return cuda_nccl_available(reason);
#else
  return false;  // unreachable: gpu_available() is false without CUDA
#endif
}

void use_gpu_of_rank([[maybe_unused]] const Collective& job) {
#ifdef SIGMANET_HAVE_CUDA
  cuda_use_device_of_local_rank(job.local_rank());
#endif
}

}  // namespace sigmanet
