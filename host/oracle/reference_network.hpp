#pragma once
// THE reference network, the oracle every other implementation is checked against (the fast CPU network,
// the CUDA backend; `sigmanet verify`). Plain loops over std::vector, to be read beside Nielsen's "Neural
// Networks and Deep Learning": the cost and SGD update of chapter 1, the four backpropagation equations
// BP1-BP4 of chapter 2, and chapter 3's cross-entropy and log-likelihood costs, softmax output and L2 update,
// each named where it is computed. No SIMD, tiling, prefetching or special storage:
// slow on purpose (an MNIST epoch of 784-30-10 at batch 10 in double: 2.9 s, against 0.34 s for the fast
// CPU network). Double is the reference; float is there to compare float implementations step by step.
//
// Notation: layer l = 1..L has weights w^l (w^l_jk joins neuron k of layer l-1 to neuron j of layer l),
// biases b^l, weighted input z^l = w^l a^{l-1} + b^l and activation a^l = sigma(z^l); a^0 is the input.
// The methods count layers from 0: weights(0) is w^1, delta(0) is delta^1, activation(0) is a^0.
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "sigmanet/backend.hpp"
#include "sigmanet/dataset.hpp"
#include "sigmanet/parameters.hpp"

namespace sigmanet {

template <class T>
class ReferenceNetwork {
 public:
  // Throws InputError for parameters that do not chain, Error when the objective's cost does not go with the
  // parameters' output layer.
  explicit ReferenceNetwork(const Parameters& p, const Objective& objective = {});

  std::size_t layers() const { return w_.size(); }
  Parameters parameters() const;

  // Feedforward of m samples, x holding m rows of sizes[0] inputs. Keeps every layer's activations.
  void forward(const T* x, std::size_t m);
  // Backpropagation for the last forward(), against the one-hot vectors y of the digit labels: the deltas,
  // and the gradients of the objective's cost (without its L2 term) summed over the batch.
  void backward(const std::uint8_t* labels);
  // The SGD step for the m samples of the last forward(), with L2 for a training set of n records:
  // w <- (1 - eta*lambda/n) w - (eta/m) * sum of the gradients; b <- b - (eta/m) * sum of the gradients.
  // n matters only with L2 (lambda > 0), which needs n >= 1.
  void update(T eta, std::size_t n = 0);

  // SGD over `order` (record numbers in data), `batch` records at a time; the last batch may be smaller.
  // L2's n is data.size().
  void train(const Dataset& data, std::span<const std::uint32_t> order, std::size_t batch, T eta);
  // Argmax accuracy and the objective's cost (1/n) sum_x C_x (no L2 term) over a set, one record at a time
  // (this overwrites what the last forward() kept).
  Evaluation evaluate(const Dataset& data);
  // C_x of sample s of the last forward(), in double.
  double sample_cost(std::size_t s, std::uint8_t label) const;

  // m rows of sizes[l] values.
  const std::vector<T>& activation(std::size_t l) const { return a_[l]; }
  // delta^{l+1} = dC/dz^{l+1}: m rows of sizes[l+1] values.
  const std::vector<T>& delta(std::size_t l) const { return delta_[l]; }
  // Summed over the batch; sizes[l+1] x sizes[l] row-major, and sizes[l+1].
  const std::vector<T>& weight_gradient(std::size_t l) const { return grad_w_[l]; }
  const std::vector<T>& bias_gradient(std::size_t l) const { return grad_b_[l]; }
  const std::vector<T>& weights(std::size_t l) const { return w_[l]; }
  const std::vector<T>& biases(std::size_t l) const { return b_[l]; }

 private:
  std::vector<int> sizes_;
  Activation output_;
  Objective objective_;
  std::vector<std::vector<T>> w_, b_;
  std::size_t m_ = 0;
  std::vector<std::vector<T>> a_, delta_, grad_w_, grad_b_;
};

// The network's input for m records of data: the float values as given, or pixel / 255, record after record (x
// holds m * features()).
template <class T>
void reference_inputs(const Dataset& data, const std::uint32_t* records, std::size_t m, T* x);

extern template class ReferenceNetwork<float>;
extern template class ReferenceNetwork<double>;

}  // namespace sigmanet
