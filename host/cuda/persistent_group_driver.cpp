// Runs trained side by side on the persistent path (training_driver.hpp's train_persistent_group): the persistent
// driver's loop (persistent_driver.cpp) over a table of runs. Each chunk is one launch of
// kernels::persistent_train_runs, a cluster a run; after it, a run whose outputs went bad leaves the table, and the
// host hears of the chunk's batches in order for the rest. A stop inside a chunk that ran further takes every run
// back to the chunk's start and runs the batches up to the stop again, as the persistent driver does for one.
//
// Each model keeps its own stream for its own work (orders, flags, chunk-start copies); a launch waits for all of it
// by synchronizing each, then runs on the first model's stream.
#include <algorithm>

#include "persistent_chunk.hpp"
#include "sigmanet/error.hpp"
#include "training_driver.hpp"
#include "training_path.hpp"

namespace sigmanet::cuda {
namespace {

// Batches [b, b + steps) of each active run's uploaded order, each batch of m samples, in one launch.
void launch(std::span<DeviceModel* const> models, std::span<const TrainingCall> calls,
            const std::vector<std::size_t>& active, std::size_t b, std::size_t m, std::size_t steps) {
  DeviceModel& lead = *models[0];
  const TrainingCall& first = calls[0];
  const kernels::PersistentNet net = persistent_shape(lead.sizes(), lead.output());
  const int blocks = persistent_blocks(net, first.batch, lead.options().persistent_blocks, lead.persistent_limits());
  std::vector<kernels::PersistentRun> table;
  for (std::size_t i : active) {
    kernels::PersistentRun run;
    const std::vector<DeviceLayer>& layers = models[i]->layers();
    for (std::size_t l = 0; l < layers.size(); ++l) {
      run.w[l] = layers[l].w.get();
      run.b[l] = layers[l].b.get();
    }
    run.order = models[i]->order().data;
    run.scale = calls[i].eta / float(m);  // the CPU float's eta / T(m), as the persistent driver's
    run.decay = calls[i].decay;
    run.bad = models[i]->bad();
    table.push_back(run);
  }
  for (std::size_t i : active) models[i]->synchronize();
  kernels::persistent_train_runs(net, lead.train_images(), lead.train_labels(), table.data(), int(table.size()),
                                 first.order.size(), b * first.batch, m, steps, first.cost, unsigned(b),
                                 lead.stream(), blocks);
  lead.synchronize();
}

}  // namespace

GroupTrained train_persistent_group(std::span<DeviceModel* const> models, std::span<const TrainingCall> calls,
                                    const AfterBatch& after_batch) {
  if (models.empty() || models.size() != calls.size() || models.size() > std::size_t(kernels::kPersistentMaxRuns))
    throw Error("train_persistent_group: 1 to " + std::to_string(kernels::kPersistentMaxRuns) +
                " models, a call each");
  const TrainingCall& first = calls[0];
  for (const TrainingCall& call : calls)
    if (call.order.size() != first.order.size() || call.batch != first.batch || call.cost != first.cost)
      throw Error("train_persistent_group: the runs' orders, batches or costs differ");
  GroupTrained trained;
  trained.runs.resize(models.size());
  if (first.order.empty()) return trained;
  std::vector<std::size_t> active;
  for (std::size_t i = 0; i < models.size(); ++i) {
    models[i]->upload_order(calls[i].order);
    models[i]->reset_bad();
    active.push_back(i);
  }
  const std::size_t batch = first.batch, full_batches = first.order.size() / batch;
  const std::size_t last = first.order.size() % batch, batches = full_batches + (last ? 1 : 0);
  const bool may_stop = bool(after_batch);
  ChunkPacer pacer(models[0]->options().persistent_chunk);
  std::vector<ParameterBackup> backups(may_stop ? models.size() : 0);
  std::size_t samples = 0;  // each active run's
  for (std::size_t b = 0; b < batches;) {
    const std::size_t m = b < full_batches ? batch : last;
    const std::size_t steps = m == batch ? std::min(pacer.chunk(), full_batches - b) : 1;
    if (may_stop)
      for (std::size_t i : active) backups[i].save(*models[i]);
    pacer.started();
    launch(models, calls, active, b, m, steps);
    ++trained.launches;
    std::erase_if(active, [&](std::size_t i) {
      const unsigned bad = models[i]->read_bad();
      if (bad == kNoBadBatch) return false;
      trained.runs[i].nonfinite_batch = bad;
      trained.runs[i].samples = samples + (bad - b) * batch;
      return true;
    });
    if (active.empty()) return trained;
    pacer.finished(steps);
    for (std::size_t k = 0; k < steps; ++k) {
      samples += m;
      for (std::size_t i : active) trained.runs[i].samples = samples;
      if (!may_stop || after_batch(samples)) continue;
      if (k + 1 < steps) {
        for (std::size_t i : active) backups[i].restore(*models[i]);
        launch(models, calls, active, b, m, k + 1);
        ++trained.launches;
      }
      return trained;
    }
    b += steps;
  }
  return trained;
}

}  // namespace sigmanet::cuda
