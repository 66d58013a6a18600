#pragma once
// The fast CPU network: the CPU backend's engine, tuned for speed (register-tiled SIMD dot products and
// gradient blocks, prefetched gathers), templated on float and double. It is not the reference: tests
// check it stage by stage against the plain oracle, ReferenceNetwork (reference_network.hpp). A mini-batch
// is processed as matrices, one row per sample. Every matrix is held in 64-byte-aligned storage
// (aligned_vector.hpp), so its speed does not depend on where the heap puts it.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "cpu/aligned_vector.hpp"
#include "sigmanet/backend.hpp"
#include "sigmanet/dataset.hpp"
#include "sigmanet/parameters.hpp"

namespace sigmanet {

class ThreadPool;  // host/cpu/thread_pool.hpp

// Who computes the network's matrix products: its own kernels, OpenBLAS (opened on demand, host/cpu/blas.hpp),
// or, automatically, OpenBLAS for the products large enough to gain by it (where measured faster,
// bench/RESULTS.md) when it can be opened, else the own kernels.
enum class CpuGemm { automatic, own, blas };

template <class T>
class FastCpuNetwork {
 public:
  // The cost trained for; backward() and batch_cost() throw Error unless it goes with the parameters' output
  // layer (cost.hpp), which a backend setting parameters and objective in either order may mismatch for a while.
  explicit FastCpuNetwork(const Parameters& p, Cost cost = Cost::quadratic);
  void set_cost(Cost cost) { cost_ = cost; }
  // Threads the large stages (of kThreadedWork multiply-adds or more, or `min_work` where given: tests split
  // small networks with it) are split over; 1 runs everything in the calling thread. On the own kernels any
  // number gives the same bits: each value is computed whole by one thread. On OpenBLAS a large product is one
  // call on that many of OpenBLAS's threads: the same bits for the same number, the same to rounding otherwise.
  void set_threads(int threads, double min_work = kThreadedWork);
  int threads() const;
  // Stages under this many multiply-adds run on one thread: at Nielsen's 784-30-10 even batch 1000's products
  // (23.5 million) were slower on two threads of the build machine than on one; 784-1024-1024-10's (200 million
  // and up) were 1.8-2x faster.
  static constexpr double kThreadedWork = 1 << 25;
  // Which products run on OpenBLAS; CpuGemm::blas throws Error when it cannot be opened.
  void set_gemm(CpuGemm gemm);
  CpuGemm gemm() const { return gemm_; }
  // A first layer at most kSparseInputWidth wide (Nielsen's 30 neurons) is held transposed, one row of weights
  // per input (host/cpu/transposed_layer.hpp), so that inputs that are 0 cost nothing:
  // - a forward pass takes the first layer's sums from the nonzero inputs only (host/cpu/sparse_input.hpp)
  //   where at most `max_density` of the inputs of the batch's first kDensitySamples samples are nonzero (MNIST:
  //   19%) and the weights are finite (0 * Inf is NaN, which a skipped zero would hide);
  // - a training step under kSkipRowsBatch samples, without L2's decay, updates only the rows of inputs that
  //   are nonzero in some sample: the others' gradient is exactly 0, so this gives the bits updating them would.
  // The sums are the same to rounding as the dense ones. On dense data this layout's training step was slower
  // than the products' (bench/RESULTS.md), so the CPU backend turns it off for a training set more than
  // kSparseInputDensity nonzero. Off: the first layer is held as W and goes through the products, as every wider
  // layer does. A `max_density` other than the default is for measuring where the sparse sums stop paying: on
  // the build machine, at 45-50% nonzero.
  void set_sparse_input(bool allowed, double max_density = kSparseInputDensity);
  static constexpr double kSparseInputDensity = 0.4;
  static constexpr std::size_t kSparseInputWidth = 256, kSparseThreadedBatch = 256, kDensitySamples = 64,
                               kSkipRowsBatch = 256;
  // Whether the first layer's weights are held transposed (weights(0) is then W^T, rows of
  // first_layer_stride()).
  bool first_layer_transposed() const { return w0_transposed_; }
  std::size_t first_layer_stride() const { return w0_stride_; }
  // Whether the last forward pass took the first layer from the nonzero inputs.
  bool last_forward_sparse() const { return last_forward_sparse_; }
  Activation output() const { return output_; }

  std::size_t layers() const { return w_.size(); }
  const std::vector<int>& sizes() const { return sizes_; }
  Parameters parameters() const;

  // Forward pass of m samples x (m x sizes[0], row-major), the output layer sigmoid or softmax as the
  // parameters say. Keeps every layer's activations.
  void forward(const T* x, std::size_t m);
  // Forward pass of the m records index[s] of data, evaluation's way in (cpu_backend.cpp): gather_inputs()
  // into input_buffer(m) and forward(), or, for pixels where the first layer takes the sparse sums
  // (set_sparse_input), the images straight from their bytes into them, never expanded to rows of T: then the outputs are the same to
  // rounding, activation(0) is not kept, and backward() throws Error until the next forward().
  void forward_images(const Dataset& data, const std::uint32_t* index, std::size_t m);
  // Room for m samples where forward() keeps its input: a batch gathered here and passed to forward() is not
  // copied again (at Nielsen's batch 10 the copy was 4% of a step).
  T* input_buffer(std::size_t m);
  // Activations after forward(): layer 0 is the input, layers() the output; m x sizes[l].
  const AlignedVector<T>& activation(std::size_t l) const { return a_[l]; }

  // Backpropagation for the last forward(): deltas and the gradients of the cost (quadratic
  // sum_s 1/2 ||a_s - y_s||^2, cross-entropy or log-likelihood) summed over the batch. Labels are digits; y is
  // their one-hot vector.
  void backward(const std::uint8_t* labels);
  // delta(l) is dC/dz of layer l+1 (l = 0 .. layers()-1), m x sizes[l+1].
  const AlignedVector<T>& delta(std::size_t l) const { return delta_[l]; }
  const AlignedVector<T>& weight_gradient(std::size_t l) const { return grad_w_[l]; }
  const AlignedVector<T>& bias_gradient(std::size_t l) const { return grad_b_[l]; }
  // The same, to be replaced by the sums over every rank of a data-parallel job before update().
  AlignedVector<T>& weight_gradient(std::size_t l) { return grad_w_[l]; }
  AlignedVector<T>& bias_gradient(std::size_t l) { return grad_b_[l]; }

  // w <- decay * w - (eta/m) * gradient, b <- b - (eta/m) * gradient, for the m of the last forward();
  // decay is L2's weight_decay (cost.hpp), 1 without it (then exactly w - (eta/m) * gradient).
  void update(T eta, T decay = T(1)) { update(eta, decay, m_); }
  // The same with the batch's m given: a data-parallel rank's forward() saw only its share of the batch.
  void update(T eta, T decay, std::size_t m);

  // forward + backward + update on one batch. The update is applied as each gradient block is summed, so the
  // weight gradients are never stored: weight_gradient() and bias_gradient() do not hold this batch's
  // afterwards. On the own kernels it is the same bits as the three calls; on OpenBLAS the weights' update is
  // the product's alpha and beta, the same to rounding.
  void train_batch(const T* x, const std::uint8_t* labels, std::size_t m, T eta, T decay = T(1));

  // sum over the batch of each sample's cost C_s for the last forward(), in double.
  double batch_cost(const std::uint8_t* labels) const;

  // Layer l's weights as held: W, n_out x n_in, or for a transposed first layer W^T (first_layer_transposed()).
  const AlignedVector<T>& weights(std::size_t l) const { return w_[l]; }
  const AlignedVector<T>& biases(std::size_t l) const { return b_[l]; }

 private:
  std::vector<int> sizes_;
  Activation output_;
  Cost cost_;
  std::vector<AlignedVector<T>> w_, b_;
  std::size_t m_ = 0;
  std::vector<AlignedVector<T>> a_, delta_, grad_w_, grad_b_;
  std::shared_ptr<ThreadPool> pool_;  // null: one thread
  double min_work_ = kThreadedWork;   // multiply-adds from which a stage is split over the threads
  CpuGemm gemm_ = CpuGemm::automatic;
  bool last_forward_sparse_ = false;
  double sparse_density_ = kSparseInputDensity;
  // The first layer held transposed, each input's row padded to w0_stride_ (a whole number of vectors, the
  // padding 0); whether its weights are all finite, kept up to date by every step.
  bool w0_transposed_ = false, w0_finite_ = true;
  std::size_t w0_stride_ = 0;
  std::vector<std::uint32_t> rows_;  // the rows a step of the transposed layer updates
  AlignedVector<T> padded_;          // a batch's first-layer errors, or a gradient, in W^T's padded layout

  bool input_kept_ = false;  // whether a_[0] holds the last forward pass's input (not after forward_images)

  // Whether the first layer of a forward pass of m samples goes through the sparse sums; count() is how many
  // inputs of its first kDensitySamples samples are nonzero.
  template <class Count>
  bool first_layer_sparse(std::size_t m, Count&& count);
  // The layers' forward pass for m samples, the input in a_[0], or with `sparse` the first layer from
  // list(s, nz, value), which lists sample s's nonzero inputs and returns how many (sparse_input.hpp).
  template <class List>
  void forward_layers(std::size_t m, bool sparse, List&& list);

  // OpenBLAS's threads for a product of `work` multiply-adds: the network's, where the own kernels would split.
  int blas_threads(double work) const;
  // Whether the forward (or a backward) product of m samples through an n_in -> n_out layer runs on OpenBLAS.
  bool use_blas(bool forward, std::size_t m, std::size_t n_in, std::size_t n_out) const;
  // The first layer's step on the own kernels when held transposed: the rows of inputs nonzero in the batch.
  void step_transposed_layer(const T* d, std::size_t m, T rate, T decay);
  void check_first_layer_finite();

  // backward(), and with a step (not null) the update too: each gradient block goes straight into the weights.
  struct Step {
    T rate, decay;  // eta / m, and L2's weight decay
  };
  void backpropagate(const std::uint8_t* labels, const Step* step);

  // body(first, last) over [0, n): split over the threads when `work` multiply-adds pay for it, else at once.
  template <class F>
  void across_threads(std::size_t n, double work, F&& body);
};

// Records to network input, for the records named by index: float values as given, or pixel / 255.
template <class T>
void gather_inputs(const Dataset& data, const std::uint32_t* index, std::size_t m, T* x);

// Where the CPU backend's matrix products run, for the record: "OpenBLAS 0.3.21 (SkylakeX kernels)", or
// "sigmanet's own kernels: OpenBLAS could not be loaded (...)".
std::string cpu_products();

extern template class FastCpuNetwork<float>;
extern template class FastCpuNetwork<double>;

}  // namespace sigmanet
