#pragma once
// What every persistent-path driver (persistent_driver.cpp alone, persistent_group_driver.cpp for runs together)
// does around its launches: how many batches the next launch runs, and a copy of the parameters at a chunk's start
// to go back to when a stop lands inside a chunk that ran further.
#include <chrono>
#include <cstddef>
#include <vector>

#include "device_model.hpp"

namespace sigmanet::cuda {

// Batches a launch runs: CudaOptions::persistent_chunk when not 0, else as many as take about kChunkSeconds at the
// pace of the launch before (16 for the first), so that the host still hears from the device (progress, Ctrl-C) a
// few times a second; at least 1, at most kMaxChunk.
class ChunkPacer {
 public:
  static constexpr double kChunkSeconds = 0.25;
  static constexpr std::size_t kMaxChunk = 4096;
  static constexpr std::size_t kFirstChunk = 16;

  explicit ChunkPacer(std::size_t fixed) : fixed_(fixed), chunk_(fixed ? fixed : kFirstChunk) {}
  std::size_t chunk() const { return chunk_; }
  // Around a launch of `steps` batches: started before it is queued, finished once it has run.
  void started() { start_ = std::chrono::steady_clock::now(); }
  void finished(std::size_t steps);

 private:
  std::size_t fixed_, chunk_;
  std::chrono::steady_clock::time_point start_;
};

// A device copy of a model's parameters. Both copies are queued on the model's stream.
class ParameterBackup {
 public:
  void save(DeviceModel& model) { copy(model, true); }
  void restore(DeviceModel& model) { copy(model, false); }

 private:
  void copy(DeviceModel& model, bool to_backup);
  std::vector<DeviceBuffer<float>> backup_;  // W0, b0, W1, ...
};

}  // namespace sigmanet::cuda
