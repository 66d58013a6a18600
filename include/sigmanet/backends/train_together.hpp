#pragma once
// Several runs trained in shared launches: on a GPU's persistent kernel, one launch a chunk of batches trains up to
// kMaxRunsTogether runs of one network, batch and cost, a thread-block cluster each, each with its own parameters,
// order, eta and L2 decay. Each run's bits are those its backend's train() gives it alone; only the launches are
// shared. A caller (a sweep) asks can_train_together first and trains the runs' epochs through Trainer's
// begin_training/finish_training (trainer.hpp). Every call for a group must come from one thread.
#include <cstddef>
#include <span>

#include "sigmanet/backend.hpp"
#include "sigmanet/runs_together.hpp"

namespace sigmanet {

// Whether these backends can train together at `batch`: 2 to kMaxRunsTogether GPU backends of this build, made
// alike (make_backend's options), each on the persistent path at this batch (CudaOptions::kernel), with parameters
// of the same network and output layer, the same cost, and the same training set (the same Dataset). False
// otherwise, and always in a build without a GPU backend.
bool can_train_together(std::span<Backend* const> backends, std::size_t batch);

// Trains every run's order at `batch` as its backend's train(order, batch, eta, ...) would, the runs side by side:
// a run whose batch's outputs hold a NaN or Inf stops there alone (its backend's nonfinite_batch() says which), the
// others go on. after_batch is called after each batch with the samples each run still training has trained so
// far; returning false stops every run after that batch. The orders must be equally long. Throws Error when the
// backends cannot train together (can_train_together) or an order does not fit.
TrainedTogether train_together(std::span<const RunTogether> runs, std::size_t batch, const AfterBatch& after_batch);

}  // namespace sigmanet
