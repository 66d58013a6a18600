// The device-side step counter that lets one captured graph serve every full batch of an epoch.
#include "cuda_check.hpp"
#include "kernels.hpp"
#include "launch.cuh"

namespace sigmanet::kernels {
namespace {

__global__ void advance_counter_kernel(unsigned* counter) { *counter += 1; }

}  // namespace

void advance_counter(unsigned* counter, cudaStream_t stream) {
  require(counter != nullptr, "advance_counter", "null pointer");
  SIGMANET_LAUNCH(advance_counter_kernel, 1, 1, 0, stream)(counter);
  SIGMANET_CUDA_CHECK_LAUNCH("advance_counter_kernel");
}

cudaError_t kernel_image_status() {
  // Asking for a kernel's attributes loads the module: it fails with cudaErrorNoKernelImageForDevice (or
  // similar) when no image in this binary suits the current GPU.
  cudaFuncAttributes attributes{};
  return cudaFuncGetAttributes(&attributes, advance_counter_kernel);
}

}  // namespace sigmanet::kernels
