#pragma once
// CUDA's pipeline primitives (the toolkit's cuda_pipeline_primitives.h) on the SIMT executor, found before the
// toolkit's header in the emulator build. __pipeline_memcpy_async copies at once, checked (pipeline_copy,
// executor.hpp); commit and wait then have nothing left to do. Another thread sees a copy only after a
// __syncthreads, as on a GPU, and the race check holds the copy to that. What this cannot show: a thread that
// reads its own copy's destination before __pipeline_wait_prior.
#include <cstddef>

#include "executor.hpp"

inline void __pipeline_memcpy_async(void* __restrict__ dst_shared, const void* __restrict__ src_global,
                                    std::size_t size_and_align, std::size_t zfill = 0) {
  ::sigmanet::simt::pipeline_copy(dst_shared, src_global, size_and_align, zfill);
}
inline void __pipeline_commit() {}
inline void __pipeline_wait_prior(std::size_t) {}
