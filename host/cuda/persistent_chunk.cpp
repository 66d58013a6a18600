// The persistent path's chunk sizes and chunk-start copies (persistent_chunk.hpp).
#include "persistent_chunk.hpp"

#include <algorithm>

#include "cuda_check.hpp"

namespace sigmanet::cuda {

void ChunkPacer::finished(std::size_t steps) {
  if (fixed_) return;
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const double per_step = std::max(seconds / double(steps), 1e-7);
  chunk_ = std::clamp<std::size_t>(std::size_t(kChunkSeconds / per_step), 1, kMaxChunk);
}

void ParameterBackup::copy(DeviceModel& model, bool to_backup) {
  const std::vector<DeviceLayer>& layers = model.layers();
  bool backup_fits = backup_.size() == 2 * layers.size();
  for (std::size_t l = 0; backup_fits && l < layers.size(); ++l)
    backup_fits = backup_[2 * l].size() == layers[l].w.size() && backup_[2 * l + 1].size() == layers[l].b.size();
  if (!backup_fits) {
    model.synchronize();
    backup_.clear();
    for (const DeviceLayer& layer : layers) {
      backup_.emplace_back(layer.w.size());
      backup_.emplace_back(layer.b.size());
    }
  }
  for (std::size_t l = 0; l < layers.size(); ++l) {
    const DeviceBuffer<float>* live[2] = {&layers[l].w, &layers[l].b};
    for (int k = 0; k < 2; ++k) {
      float* from = to_backup ? live[k]->get() : backup_[2 * l + k].get();
      float* to = to_backup ? backup_[2 * l + k].get() : live[k]->get();
      SIGMANET_CUDA_CHECK(
          cudaMemcpyAsync(to, from, live[k]->size() * sizeof(float), cudaMemcpyDeviceToDevice, model.stream()));
    }
  }
}

}  // namespace sigmanet::cuda
