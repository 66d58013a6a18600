#pragma once
// How the CUDA backend runs a train() call's batches on its device model: one driver per path, each in its own
// file, all behind this interface. The backend picks one for each call (training_path.hpp):
// - the graph step (graph_driver.cpp): each batch's kernels and SGEMMs, captured once as a CUDA graph and
//   replayed per batch;
// - the persistent kernel (persistent_driver.cpp): the network held in shared memory for a chunk of batches;
// - one rank of a job across GPUs (data_parallel_driver.cpp): the rank's share of each batch, NCCL's sum of
//   the gradients, the same update on every rank.
// A step is queued, not run: the order lives on the device, a device counter selects the batch, and a NaN or
// Inf output is read back from a device flag only now and then, so a driver's loop is over launches.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "device_model.hpp"
#include "sigmanet/backend.hpp"
#include "sigmanet/collective.hpp"
#include "sigmanet/cost.hpp"

namespace sigmanet::cuda {

// One train() call, its arguments as the device takes them: eta in float (the CPU float network's T(eta)) and
// L2's decay of the weights a step (1 without L2), the cost whose output error the steps compute.
struct TrainingCall {
  std::span<const std::uint32_t> order;  // indices into the model's training set, checked by the backend
  std::size_t batch = 0;
  float eta = 0.0f, decay = 1.0f;
  Cost cost = Cost::quadratic;
  const AfterBatch* after_batch = nullptr;  // null or empty: never stop
  bool stop_after(std::size_t done) const { return after_batch && *after_batch && !(*after_batch)(done); }
};

struct Trained {
  std::size_t samples = 0;                     // trained, as Backend::train returns them
  std::optional<std::size_t> nonfinite_batch;  // the first batch whose outputs held a NaN or Inf
};

class TrainingDriver {
 public:
  virtual ~TrainingDriver() = default;
  // Trains the model on call.order, batch after batch (the last may be smaller), until the order ends,
  // after_batch says stop, or a batch's outputs hold a NaN or Inf.
  virtual Trained train(const TrainingCall& call) = 0;
};

// Runs trained side by side (persistent_group_driver.cpp): calls[i] on models[i], every chunk of batches one launch
// of the persistent kernel for all the runs still training (kernels::persistent_train_runs), each run's bits those
// of the persistent driver training it alone. A run whose batch's outputs hold a NaN or Inf stops there alone;
// after_batch (with the samples each run still training has trained) stops them all after the same batch, landing
// where the persistent driver would. The models: 1 to kernels::kPersistentMaxRuns of one network, output layer,
// training set and options, on the persistent path; the calls: equally long orders, one batch and cost. The
// launches go on the first model's stream.
struct GroupTrained {
  std::vector<Trained> runs;
  std::size_t launches = 0;
};
GroupTrained train_persistent_group(std::span<DeviceModel* const> models, std::span<const TrainingCall> calls,
                                    const AfterBatch& after_batch);

std::unique_ptr<TrainingDriver> make_graph_driver(DeviceModel& model);
std::unique_ptr<TrainingDriver> make_persistent_driver(DeviceModel& model);
// Joins the job's GPUs with NCCL, every rank together; throws InputError on every rank when one cannot.
std::unique_ptr<TrainingDriver> make_data_parallel_driver(DeviceModel& model, Collective& job);

}  // namespace sigmanet::cuda
