// The persistent path: chunks of batches, each chunk one launch of the persistent kernel
// (kernels/persistent_train.cu), which holds the network in shared memory throughout. After a chunk the host
// hears of each of its batches in order. When after_batch stops at batch k inside a chunk that ran further, the
// parameters go back to the chunk's start and batches up to k run again (same bits: the kernel's sums do not
// depend on the chunk), so a stop lands exactly where it does on the graph path.
#include <algorithm>
#include <chrono>

#include "cuda_check.hpp"
#include "training_driver.hpp"
#include "training_path.hpp"

namespace sigmanet::cuda {
namespace {

// Chunks run for about this long, so the host still hears from the device (progress, Ctrl-C) a few times a
// second; at least 1 batch, at most kMaxChunk.
constexpr double kChunkSeconds = 0.25;
constexpr std::size_t kMaxChunk = 4096;
constexpr std::size_t kFirstChunk = 16;

class PersistentDriver final : public TrainingDriver {
 public:
  explicit PersistentDriver(DeviceModel& model) : model_(model) {}

  Trained train(const TrainingCall& call) override {
    model_.upload_order(call.order);
    model_.reset_bad();
    const std::size_t batch = call.batch, full_batches = call.order.size() / batch, last = call.order.size() % batch;
    const std::size_t batches = full_batches + (last ? 1 : 0);
    const std::size_t fixed_chunk = model_.options().persistent_chunk;
    const bool may_stop = call.after_batch && *call.after_batch;
    std::size_t chunk = fixed_chunk ? fixed_chunk : kFirstChunk;
    Trained trained;
    for (std::size_t b = 0; b < batches;) {
      const std::size_t m = b < full_batches ? batch : last;
      const std::size_t steps = m == batch ? std::min(chunk, full_batches - b) : 1;
      if (may_stop) copy_parameters(true);
      const auto start = std::chrono::steady_clock::now();
      launch(call, b, m, steps);
      if (const unsigned bad = model_.read_bad(); bad != kNoBadBatch) {
        trained.nonfinite_batch = bad;
        trained.samples += (bad - b) * batch;
        return trained;
      }
      if (!fixed_chunk) {  // the next chunk aimed at kChunkSeconds from this one's pace
        const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        const double per_step = std::max(seconds / double(steps), 1e-7);
        chunk = std::clamp<std::size_t>(std::size_t(kChunkSeconds / per_step), 1, kMaxChunk);
      }
      for (std::size_t k = 0; k < steps; ++k) {
        trained.samples += m;
        if (!call.stop_after(trained.samples)) continue;
        if (k + 1 < steps) {
          copy_parameters(false);
          launch(call, b, m, k + 1);
          model_.synchronize();
        }
        return trained;
      }
      b += steps;
    }
    return trained;
  }

 private:
  // Runs batches [b, b + steps) of the uploaded order, each of m samples.
  void launch(const TrainingCall& call, std::size_t b, std::size_t m, std::size_t steps) {
    const std::vector<DeviceLayer>& layers = model_.layers();
    kernels::PersistentNet net = persistent_shape(model_.sizes(), model_.output());
    for (std::size_t l = 0; l < layers.size(); ++l) {
      net.w[l] = layers[l].w.get();
      net.b[l] = layers[l].b.get();
    }
    const int blocks = persistent_blocks(net, call.batch, model_.options().persistent_blocks,
                                         model_.persistent_limits());
    const kernels::PersistentUpdate update{call.eta / float(m), call.decay, call.cost};  // the CPU float's eta / T(m)
    kernels::persistent_train(net, model_.train_images(), model_.train_labels(), model_.order(), b * call.batch, m,
                              steps, update, unsigned(b), model_.bad(), model_.stream(), blocks);
  }

  // Copies every layer's parameters between the live buffers and the chunk-start copy.
  void copy_parameters(bool to_backup) {
    const std::vector<DeviceLayer>& layers = model_.layers();
    bool backup_fits = backup_.size() == 2 * layers.size();
    for (std::size_t l = 0; backup_fits && l < layers.size(); ++l)
      backup_fits = backup_[2 * l].size() == layers[l].w.size() && backup_[2 * l + 1].size() == layers[l].b.size();
    if (!backup_fits) {
      model_.synchronize();
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
            cudaMemcpyAsync(to, from, live[k]->size() * sizeof(float), cudaMemcpyDeviceToDevice, model_.stream()));
      }
    }
  }

  DeviceModel& model_;
  std::vector<DeviceBuffer<float>> backup_;  // the parameters at a chunk's start: W0, b0, W1, ...
};

}  // namespace

std::unique_ptr<TrainingDriver> make_persistent_driver(DeviceModel& model) {
  return std::make_unique<PersistentDriver>(model);
}

}  // namespace sigmanet::cuda
