// The persistent path: chunks of batches, each chunk one launch of the persistent kernel
// (kernels/persistent_train.cu), which holds the network in shared memory throughout. After a chunk the host
// hears of each of its batches in order. When after_batch stops at batch k inside a chunk that ran further, the
// parameters go back to the chunk's start and batches up to k run again (same bits: the kernel's sums do not
// depend on the chunk), so a stop lands exactly where it does on the graph path.
#include <algorithm>

#include "persistent_chunk.hpp"
#include "training_driver.hpp"
#include "training_path.hpp"

namespace sigmanet::cuda {
namespace {

class PersistentDriver final : public TrainingDriver {
 public:
  explicit PersistentDriver(DeviceModel& model) : model_(model) {}

  Trained train(const TrainingCall& call) override {
    model_.upload_order(call.order);
    model_.reset_bad();
    const std::size_t batch = call.batch, full_batches = call.order.size() / batch, last = call.order.size() % batch;
    const std::size_t batches = full_batches + (last ? 1 : 0);
    const bool may_stop = call.after_batch && *call.after_batch;
    ChunkPacer pacer(model_.options().persistent_chunk);
    Trained trained;
    for (std::size_t b = 0; b < batches;) {
      const std::size_t m = b < full_batches ? batch : last;
      const std::size_t steps = m == batch ? std::min(pacer.chunk(), full_batches - b) : 1;
      if (may_stop) backup_.save(model_);
      pacer.started();
      launch(call, b, m, steps);
      if (const unsigned bad = model_.read_bad(); bad != kNoBadBatch) {
        trained.nonfinite_batch = bad;
        trained.samples += (bad - b) * batch;
        return trained;
      }
      pacer.finished(steps);
      for (std::size_t k = 0; k < steps; ++k) {
        trained.samples += m;
        if (!call.stop_after(trained.samples)) continue;
        if (k + 1 < steps) {
          backup_.restore(model_);
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

  DeviceModel& model_;
  ParameterBackup backup_;  // the parameters at a chunk's start
};

}  // namespace

std::unique_ptr<TrainingDriver> make_persistent_driver(DeviceModel& model) {
  return std::make_unique<PersistentDriver>(model);
}

}  // namespace sigmanet::cuda
