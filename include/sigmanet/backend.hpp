#pragma once
// The small interface every trainer backend (the fast CPU network, CUDA) implements, so the training loop,
// the CLI and the tests drive them all the same way. make_backend (backends/factory.hpp) makes them.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "sigmanet/collective.hpp"
#include "sigmanet/cost.hpp"
#include "sigmanet/dataset.hpp"
#include "sigmanet/parameters.hpp"

namespace sigmanet {

enum class Precision { f32, f64 };
enum class Device { cpu, gpu, automatic };

std::string to_string(Precision p);  // "float", "double"
std::string to_string(Device d);     // "cpu", "gpu", "auto"
// The Precision named by to_string's text; none for any other text.
std::optional<Precision> precision_from_text(const std::string& text);

// Rows a backend evaluates at a time: the CPU through its training buffers, a GPU in its own workspace
// (8192 x 784 floats = 26 MB, no burden on any GPU, and large enough to keep one busy).
constexpr std::size_t kCpuEvaluationChunk = 500;
constexpr std::size_t kGpuEvaluationChunk = 8192;

struct Evaluation {
  std::size_t correct = 0;
  std::size_t total = 0;
  double cost = 0.0;  // the objective's cost (cost.hpp) averaged over the set, (1/n) sum_x C_x; no L2 term
  double accuracy() const { return total ? double(correct) / double(total) : 0.0; }
};

// Called after each mini-batch with the number of samples trained so far in this call;
// returning false stops training after that batch.
using AfterBatch = std::function<bool(std::size_t samples_done)>;

class Backend {
 public:
  virtual ~Backend() = default;

  // For people: "cpu float", "gpu float (NVIDIA H200)".
  virtual std::string describe() const = 0;
  virtual Precision precision() const = 0;

  // The network, output layer included (Parameters::output).
  virtual void set_parameters(const Parameters& p) = 0;
  virtual Parameters parameters() const = 0;

  // What train() minimises and evaluate() reports (cost.hpp); chapter 1's quadratic cost without L2 until
  // set. The cost's output layer must be the parameters' (train() and evaluate() throw Error otherwise).
  virtual void set_objective(const Objective& objective) = 0;

  // Trains as one rank of a data-parallel job (collective.hpp) from now on: train() then trains this rank's
  // share of every batch and adds the shares' gradients across the ranks; null trains alone. The collective
  // must outlive the backend. A backend that cannot throws Error (the default).
  virtual void set_collective(Collective* collective);

  // CPU threads the backend may use (the CPU backend: for large batches and evaluation; any number gives the same
  // bits). Others ignore it. 1 until set.
  virtual void set_threads(int threads) { (void)threads; }

  // The set that train() indexes into. It must outlive every later train() call.
  virtual void set_training_data(const Dataset& train) = 0;

  // SGD over order, batch samples at a time (the last batch may be smaller; its update uses its own
  // size): for each batch, w <- d w - (eta/m) * sum of the per-sample gradients of the objective's cost, with
  // d = weight_decay(eta, lambda, training set size) (1 without L2; biases are never decayed).
  // Returns the number of samples trained: less than order.size() only when after_batch said stop or a
  // batch's outputs were NaN or Inf (then nonfinite_batch() says which; a GPU may stop a few batches later).
  virtual std::size_t train(std::span<const std::uint32_t> order, std::size_t batch, double eta,
                            const AfterBatch& after_batch) = 0;

  // Accuracy (argmax of the output against the label) and the objective's cost over a whole set.
  virtual Evaluation evaluate(const Dataset& data) = 0;

  // Output activations (sigmoid or softmax) of records [first, first + count): count rows of sizes.back() values.
  virtual std::vector<double> outputs(const Dataset& data, std::size_t first, std::size_t count) = 0;

  // Divergence: the index (counted from 0 within the last train() call) of the first mini-batch whose
  // output activations held a NaN or Inf, if any. train() stops soon after such a batch (the CPU at once,
  // a GPU backend when it next reads the device flag), so the caller can report it.
  virtual std::optional<std::size_t> nonfinite_batch() const = 0;

  // Runs work and returns the seconds it took on this backend's clock: the steady clock on the CPU,
  // CUDA events on a GPU (the time includes finishing the device work that `work` queued).
  virtual double time_seconds(const std::function<void()>& work);
};

// Throws Error unless the objective's cost goes with the network's output layer (a backend's check before it
// trains or evaluates).
void check_output_layer(const Objective& objective, Activation output, const std::string& who);

// Throws SettingError (sizes) unless the network's input layer is as wide as the data's records have features.
void check_input_width(const std::vector<int>& sizes, const Dataset& data);
// check_input_width, and that every label is below the output layer's width (a label past it would index past
// the outputs): the one check of a network against data, made wherever they meet (the trainer, every backend's
// training and evaluation).
void check_data_fits(const std::vector<int>& sizes, const Dataset& data);

// A GPU as a program learns of it (backends/factory.hpp's gpu_info): for reports, and to hold a run's estimated
// memory to the device's (trainer.hpp's check_memory).
struct DeviceInfo {
  std::string name;            // "NVIDIA H200"
  std::string driver_version;  // "13.0"
  std::string runtime_version; // "13.0"
  int compute_capability = 0;  // 90 for sm_90
  std::size_t memory_bytes = 0;
};

}  // namespace sigmanet
