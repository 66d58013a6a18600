#pragma once
// The small interface every trainer backend (the fast CPU network, CUDA) implements, so the training loop,
// the CLI and the tests drive them all the same way.
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
#include "sigmanet/formats/dataset.hpp"
#include "sigmanet/parameters.hpp"

namespace sigmanet {

enum class Precision { f32, f64 };
enum class Device { cpu, gpu, automatic };
// How a GPU trains (Setting::gpu_kernel): one persistent kernel holding a small network in shared memory for a
// chunk of batches, a CUDA graph of the step's kernels per batch, or whichever fits (persistent for small
// batches of networks that fit one block).
enum class GpuKernel { automatic, persistent, graph };

std::string to_string(Precision p);  // "float", "double"
std::string to_string(Device d);     // "cpu", "gpu", "auto"
std::string to_string(GpuKernel k);  // "auto", "persistent", "graph"
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

// Throws SettingError (sizes) unless the network's input layer is as wide as the data's images: the one
// check of it, made wherever a network meets data (the trainer, every backend's evaluation).
void check_input_width(const std::vector<int>& sizes, const Dataset& data);

// The GPU a CUDA backend would use, for reports; no value when there is none.
struct DeviceInfo {
  std::string name;            // "NVIDIA H200"
  std::string driver_version;  // "13.0"
  std::string runtime_version; // "13.0"
  int compute_capability = 0;  // 90 for sm_90
  std::size_t memory_bytes = 0;
};
std::optional<DeviceInfo> gpu_info();

// The best backend for the request. Device::automatic picks the GPU when a usable one is present and
// otherwise the CPU, writing a one-line reason to *notice. Device::gpu with no usable GPU throws
// InputError carrying the driver's reason. kernel says how a GPU backend trains, gpu_cluster the blocks of the
// persistent kernel's cluster (0: its rule); either given (not automatic, not 0) for a backend that trains on the
// CPU, asked for or fallen back to, throws SettingError naming it: it would change nothing.
std::unique_ptr<Backend> make_backend(Device device, Precision precision, std::string* notice = nullptr,
                                      GpuKernel kernel = GpuKernel::automatic, int gpu_cluster = 0);

// Up to this batch GpuKernel::automatic takes the persistent kernel where it fits (bench/RESULTS.md's model:
// a persistent step grows with the batch, a graph step costs ~11 launches whatever the batch).
constexpr std::size_t kGpuPersistentMaxAutoBatch = 32;

// Whether the GPU's persistent kernel can train this network at this batch on the usable device: its shared
// memory a block, in one block or a thread-block cluster of its choice (gpu_cluster 0) or of gpu_cluster
// blocks. False without a usable GPU.
bool gpu_persistent_fits(const std::vector<int>& sizes, std::size_t batch, int gpu_cluster = 0);

// Whether this build has a CUDA backend and a usable device; if not, *reason says why.
bool gpu_available(std::string* reason = nullptr);

// For a rank of a job across processes (collective.hpp): whether it can train on a GPU, which takes a usable
// one and NCCL to sum the ranks' gradients; if not, *reason says why. The ranks decide together on its answers.
bool gpu_available_for_job(std::string* reason = nullptr);

// Makes this rank's GPU the current one, before its backend is made: the rank's place among the job's
// processes on its machine, modulo the GPUs it sees (device 0 where a launcher shows each rank its own alone).
// Two ranks left on one GPU are refused when the backend joins the job (NCCL needs a GPU per process).
void use_gpu_of_rank(const Collective& job);

}  // namespace sigmanet
