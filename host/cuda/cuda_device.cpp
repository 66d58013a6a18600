// What the rest of sigmanet asks of the CUDA device before it makes a backend: whether one is usable and why not,
// what it is, whether NCCL can join a job's GPUs, which device a job's rank takes, and whether the persistent
// kernel fits a network there.
#include "cuda_check.hpp"
#include "kernels.hpp"
#include "nccl_sum.hpp"
#include "cuda_backend.hpp"
#include "sigmanet/error.hpp"
#include "training_path.hpp"

namespace sigmanet {
namespace {

std::string version_string(int v) { return std::to_string(v / 1000) + "." + std::to_string((v % 1000) / 10); }

// Why cudaGetDeviceCount failed, in words for people. Without any NVIDIA driver the runtime says "CUDA driver
// version is insufficient for CUDA runtime version", which sends a person to upgrade a driver they do not have;
// the runtime reports driver version 0 exactly then.
std::string device_count_failure(cudaError_t status) {
  int driver = -1;
  if (cudaDriverGetVersion(&driver) == cudaSuccess && driver == 0) return "no NVIDIA driver found";
  return cudaGetErrorString(status);
}

}  // namespace

bool cuda_device_usable(std::string* reason) {
  int count = 0;
  const cudaError_t status = cudaGetDeviceCount(&count);
  if (status != cudaSuccess) {
    if (reason) *reason = device_count_failure(status);
    (void)cudaGetLastError();
    return false;
  }
  if (count == 0) {
    if (reason) *reason = "no CUDA device";
    return false;
  }
  const cudaError_t image = kernels::kernel_image_status();
  if (image != cudaSuccess) {
    (void)cudaGetLastError();
    if (reason) {
      const auto info = cuda_device_info();
      *reason = "this build has no code for the GPU" +
                (info ? " (" + info->name + ", sm_" + std::to_string(info->compute_capability) + ")" : std::string()) +
                ": " + cudaGetErrorString(image);
    }
    return false;
  }
  return true;
}

std::optional<DeviceInfo> cuda_device_info() {
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess || count == 0) {
    (void)cudaGetLastError();
    return std::nullopt;
  }
  int device = 0, driver = 0, runtime = 0;
  cudaDeviceProp properties{};
  if (cudaGetDevice(&device) != cudaSuccess || cudaGetDeviceProperties(&properties, device) != cudaSuccess ||
      cudaDriverGetVersion(&driver) != cudaSuccess || cudaRuntimeGetVersion(&runtime) != cudaSuccess) {
    (void)cudaGetLastError();
    return std::nullopt;
  }
  DeviceInfo info;
  info.name = properties.name;
  info.driver_version = version_string(driver);
  info.runtime_version = version_string(runtime);
  info.compute_capability = properties.major * 10 + properties.minor;
  info.memory_bytes = properties.totalGlobalMem;
  return info;
}

bool cuda_nccl_available(std::string* reason) { return cuda::nccl_available(reason); }

void cuda_use_device_of_local_rank(int local_rank) {
  int count = 0;
  SIGMANET_CUDA_CHECK(cudaGetDeviceCount(&count));
  if (count < 1) throw Error("no CUDA device");
  SIGMANET_CUDA_CHECK(cudaSetDevice(local_rank % count));
}

bool cuda_persistent_fits(const std::vector<int>& sizes, std::size_t batch, int blocks) {
  if (sizes.size() < 2 || sizes.size() - 1 > std::size_t(kernels::kPersistentMaxLayers)) return false;
  // A device that cannot be asked has limits of zero, which nothing fits.
  return cuda::persistent_blocks(cuda::persistent_shape(sizes, Activation::sigmoid), batch, blocks,
                                 cuda::current_persistent_limits()) > 0;
}

}  // namespace sigmanet
