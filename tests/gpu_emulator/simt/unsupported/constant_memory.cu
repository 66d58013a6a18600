// Must not compile for the SIMT executor: __constant__ memory is not emulated.
__constant__ float table[4];
__global__ void kernel(float* out) { out[threadIdx.x] = table[threadIdx.x % 4]; }
