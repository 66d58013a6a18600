// Must not compile for the SIMT executor: __ldg and the other load intrinsics are not emulated.
__global__ void kernel(const float* in, float* out) { out[threadIdx.x] = __ldg(in + threadIdx.x); }
