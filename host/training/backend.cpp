// The backend interface's shared pieces: names of the choices, the input-width check, and make_backend.
#include "sigmanet/backend.hpp"

#include <chrono>

#include "sigmanet/cpu/fast_network.hpp"
#include "sigmanet/error.hpp"

#ifdef SIGMANET_HAVE_CUDA
#include "sigmanet/cuda/cuda_backend.hpp"
#endif
#ifdef SIGMANET_CUBLAS_ON_DEMAND
#include "cuda_on_demand/cublas_on_demand.hpp"
#endif

namespace sigmanet {

std::string to_string(Precision p) { return p == Precision::f32 ? "float" : "double"; }

std::optional<Precision> precision_from_text(const std::string& text) {
  for (Precision p : {Precision::f32, Precision::f64})
    if (text == to_string(p)) return p;
  return std::nullopt;
}

std::string to_string(GpuKernel k) {
  switch (k) {
    case GpuKernel::automatic: return "auto";
    case GpuKernel::persistent: return "persistent";
    case GpuKernel::graph: return "graph";
  }
  return "?";
}

std::string to_string(Device d) {
  switch (d) {
    case Device::cpu: return "cpu";
    case Device::gpu: return "gpu";
    case Device::automatic: return "auto";
  }
  return "?";
}

double Backend::time_seconds(const std::function<void()>& work) {
  const auto start = std::chrono::steady_clock::now();
  work();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

void Backend::set_collective(Collective* collective) {
  if (collective) throw Error(describe() + ": cannot train across processes");
}

void check_output_layer(const Objective& objective, Activation output, const std::string& who) {
  if (output_activation(objective.cost) != output)
    throw Error(who + ": the " + to_string(objective.cost) + " cost needs a " +
                to_string(output_activation(objective.cost)) + " output layer, but the network's is " +
                to_string(output));
}

void check_input_width(const std::vector<int>& sizes, const Dataset& data) {
  if (!sizes.empty() && std::size_t(sizes.front()) != data.features())
    throw SettingError(Setting::sizes,
                       "the input layer has " + std::to_string(sizes.front()) + " neurons but " + data.name +
                           " images have " + std::to_string(data.features()) + " pixels",
                       sizes_text(sizes));
}

std::optional<DeviceInfo> gpu_info() {
#ifdef SIGMANET_HAVE_CUDA
  return cuda_device_info();
#else
  return std::nullopt;
#endif
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

bool gpu_available(std::string* reason) {
#ifdef SIGMANET_CUBLAS_ON_DEMAND
  if (!cuda_device_usable(reason)) return false;
  return cuda::cublas_available(reason);
#elif defined(SIGMANET_HAVE_CUDA)
  return cuda_device_usable(reason);
#else
  if (reason) *reason = "this build of sigmanet has no CUDA backend (nvcc was not found when it was configured)";
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

namespace {

// The GPU flag given (kernel or cluster) to a backend that trains on the CPU: refused, since it would change
// nothing silently. `why` says why the CPU.
void refuse_gpu_flags_on_cpu(GpuKernel kernel, int gpu_cluster, const std::string& why) {
  if (gpu_cluster == 0 && kernel == GpuKernel::automatic) return;
  const Setting flag = gpu_cluster != 0 ? Setting::gpu_cluster : Setting::gpu_kernel;
  const std::string value = gpu_cluster != 0 ? std::to_string(gpu_cluster) : to_string(kernel);
  throw SettingError(flag, {flag, " " + value + ": " + why + ", and the CPU has no GPU kernel to choose"}, value);
}

}  // namespace

std::unique_ptr<Backend> make_backend(Device device, Precision precision, std::string* notice, GpuKernel kernel,
                                      int gpu_cluster) {
  if (device == Device::cpu) {
    refuse_gpu_flags_on_cpu(kernel, gpu_cluster, "the run trains on the CPU");
    return make_cpu_backend(precision);
  }
  std::string reason;
  const bool have_gpu = gpu_available(&reason);
  if (device == Device::gpu && !have_gpu)
    throw SettingError(Setting::device, {Setting::device, " gpu: no usable GPU: " + reason}, "gpu");
  if (!have_gpu) {
    refuse_gpu_flags_on_cpu(kernel, gpu_cluster, "no usable GPU (" + reason + ")");
    if (notice) *notice = "no usable GPU, using the CPU: " + reason;
    return make_cpu_backend(precision);
  }
#ifdef SIGMANET_HAVE_CUDA
  CudaOptions options;
  options.kernel = kernel == GpuKernel::persistent ? CudaOptions::Kernel::persistent
                   : kernel == GpuKernel::graph    ? CudaOptions::Kernel::graph
                                                   : CudaOptions::Kernel::automatic;
  options.persistent_blocks = gpu_cluster;
  return make_cuda_backend(precision, options);
#else
  (void)kernel;
  (void)gpu_cluster;
  return make_cpu_backend(precision);  // unreachable: gpu_available() is false without CUDA
#endif
}

}  // namespace sigmanet
