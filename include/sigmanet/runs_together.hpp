#pragma once
// What a group of runs trained in shared launches is given and gives back (backends/train_together.hpp trains them):
// in the core, beside Backend, so that a backend that can train runs together (the GPU's) speaks of them without
// knowing the factory above it.
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "sigmanet/backend.hpp"

namespace sigmanet {

// The most runs one launch trains (kernels::kPersistentMaxRuns).
constexpr std::size_t kMaxRunsTogether = 32;

// One run of a group: its backend and what its train() would be given.
struct RunTogether {
  Backend* backend = nullptr;
  std::span<const std::uint32_t> order;
  double eta = 0.0;
};

struct TrainedTogether {
  std::vector<std::size_t> samples;  // each run's, as its backend's train() returns them
  std::size_t launches = 0;          // the launches the runs shared (a stop inside a chunk adds one)
};

}  // namespace sigmanet
