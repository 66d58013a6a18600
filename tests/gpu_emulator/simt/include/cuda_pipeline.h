#pragma once
// CUDA's pipeline primitives (the toolkit's cuda_pipeline_primitives.h) on the SIMT executor, found before the
// toolkit's header in the emulator build. A copy lands when its thread waits for its batch, as on a GPU it may
// land any time until then (pipeline_copy, executor.hpp); another thread sees it after a __syncthreads that
// follows that wait.
#include <cstddef>

#include "executor.hpp"

inline void __pipeline_memcpy_async(void* __restrict__ dst_shared, const void* __restrict__ src_global,
                                    std::size_t size_and_align, std::size_t zfill = 0) {
  ::sigmanet::simt::pipeline_copy(dst_shared, src_global, size_and_align, zfill);
}
inline void __pipeline_commit() { ::sigmanet::simt::pipeline_commit(); }
inline void __pipeline_wait_prior(std::size_t prior) { ::sigmanet::simt::pipeline_wait_prior(prior); }
