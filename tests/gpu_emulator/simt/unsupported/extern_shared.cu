// Must not compile for the SIMT executor: dynamic shared memory is SIGMANET_DYNAMIC_SHARED there.
__global__ void kernel(float* out) {
  extern __shared__ float s[];
  out[threadIdx.x] = s[threadIdx.x];
}
