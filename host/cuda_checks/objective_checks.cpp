// Training with each objective through the whole CUDA backend against the oracle built with the same objective:
// the update one step made, or the parameters after many, and a test set's accuracy and cost.
#include <cmath>
#include <cstdio>
#include <limits>
#include <memory>
#include <tuple>

#include "check_support.hpp"
#include "cuda_checks.hpp"
#include "oracle/reference_network.hpp"
#include "sigmanet/error.hpp"
#include "sigmanet/random.hpp"

namespace sigmanet {
namespace {

// Chapter 3's learning rate for its cross-entropy network (network2.py's examples), taken for every chapter 3
// objective: at eta 3 the cross-entropy's larger steps make float and double part ways sooner.
constexpr double kChapter3Eta = 0.5;

}  // namespace

std::vector<StageCheck> check_objective_training(const CudaOptions& options, const Objective& objective,
                                                 const Dataset& train, const Dataset* test,
                                                 const std::vector<int>& sizes, std::size_t batch, std::size_t samples,
                                                 double eta, std::uint64_t seed) {
  if (batch == 0 || samples == 0) throw Error("check_objective_training: no batch to train");
  Rng rng(seed);
  Parameters start = init_parameters(sizes, Init::scaled, rng);
  start.output = output_activation(objective.cost);
  std::vector<std::uint32_t> order = rng.permutation(train.size());
  order.resize(std::min(samples, order.size()));

  const std::unique_ptr<Backend> gpu = make_cuda_backend(Precision::f32, options);
  gpu->set_objective(objective);
  gpu->set_training_data(train);
  gpu->set_parameters(start);
  const std::size_t trained = gpu->train(order, batch, eta, {});
  ReferenceNetwork<double> reference(start, objective);
  reference.train(train, order, batch, eta);

  const std::size_t batches = (order.size() + batch - 1) / batch;
  const std::string path = options.kernel == CudaOptions::Kernel::persistent ? "persistent"
                           : options.kernel == CudaOptions::Kernel::graph    ? "graph"
                                                                             : "auto";
  const std::string name = objective_text(objective) + ", " + path + ": " +
                           (batches == 1 ? "one SGD step" : std::to_string(batches) + " batches") + " " +
                           sizes_text(sizes, '-') + " m=" + std::to_string(batch);
  std::vector<StageCheck> checks;
  if (trained != order.size()) {  // stopped early (NaN/Inf): no comparison means anything
    const double nan = std::numeric_limits<double>::quiet_NaN();
    checks.push_back({name + ": trained every batch", {nan, nan}, 0.0, true});
    return checks;
  }
  if (batches == 1) {
    // The change the step made, not the parameters: a wrong update would hide under the parameters' size.
    const Parameters got = gpu->parameters(), ref = reference.parameters();
    std::vector<double> got_change, ref_change;
    for (std::size_t l = 0; l < start.layers(); ++l)
      for (const auto& [g, r, from] : {std::tuple{&got.weights[l], &ref.weights[l], &start.weights[l]},
                                       std::tuple{&got.biases[l], &ref.biases[l], &start.biases[l]}})
        for (std::size_t i = 0; i < from->size(); ++i) {
          got_change.push_back((*g)[i] - (*from)[i]);
          ref_change.push_back((*r)[i] - (*from)[i]);
        }
    checks.push_back({name + " (update)",
                      compare(std::span<const double>(got_change), std::span<const double>(ref_change)),
                      kStepTolerance});
  } else {
    checks.push_back({name + ": parameters", compare(gpu->parameters(), reference.parameters()), kEpochTolerance});
  }
  if (test) {
    const Evaluation got = gpu->evaluate(*test), ref = reference.evaluate(*test);
    const double points = 100.0 * std::abs(got.accuracy() - ref.accuracy());
    checks.push_back({name + ": " + test->name + " accuracy (points)",
                      {points, ref.accuracy() > 0 ? points / (100.0 * ref.accuracy()) : points},
                      kAccuracyTolerancePoints,
                      true});
    const double cost_diff = std::abs(got.cost - ref.cost);
    checks.push_back({name + ": " + test->name + " cost",
                      {cost_diff, std::isfinite(got.cost) ? cost_diff / std::abs(ref.cost) : got.cost},
                      kEpochTolerance});
  }
  return checks;
}

std::vector<StageCheck> cuda_objective_checks(const Dataset& train, const std::vector<int>& sizes,
                                              std::uint64_t seed) {
  std::string reason;
  if (!cuda_device_usable(&reason)) throw Error("cuda_objective_checks: no usable GPU: " + reason);
  CudaOptions persistent, graph;
  persistent.kernel = CudaOptions::Kernel::persistent;
  graph.kernel = CudaOptions::Kernel::graph;
  std::vector<StageCheck> checks;
  for (const Objective& objective :
       {Objective{Cost::quadratic, cuda_checks::kLambda}, Objective{Cost::cross_entropy, 0.0}, Objective{Cost::cross_entropy, cuda_checks::kLambda},
        Objective{Cost::log_likelihood, 0.0}, Objective{Cost::log_likelihood, cuda_checks::kLambda}})
    for (const CudaOptions& options : {persistent, graph}) {
      if (options.kernel == CudaOptions::Kernel::persistent && train.has_values()) continue;
      for (std::size_t samples : {std::size_t(10), std::size_t(1000)})
        for (StageCheck& c :
             check_objective_training(options, objective, train, nullptr, sizes, 10, samples, kChapter3Eta, seed))
          checks.push_back(std::move(c));
    }
  return checks;
}

}  // namespace sigmanet
