// THE reference network (see the header). Equation numbers are Nielsen's: (6), (20), (21) and (22) in
// chapter 1, BP1-BP4 in chapter 2, (63), (66), (78), (80), (84) and (93) in
// chapter 3. A batch of m samples is m rows; sample s of layer l is a_[l][s * n + k].
#include "oracle/reference_network.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "sigmanet/error.hpp"

namespace sigmanet {
namespace {

template <class T>
T sigmoid(T z) {
  return T(1) / (T(1) + std::exp(-z));
}

// sigma'(z) = sigma(z) (1 - sigma(z)), taken from the activation a = sigma(z) already computed.
template <class T>
T sigmoid_prime_of_activation(T a) {
  return a * (T(1) - a);
}

// ln x for a cost, with an activation that rounded to exactly 0 taken as the smallest normal double instead
// (ln = -708.4): a saturated output then costs a large finite amount, as network2.py's nan_to_num arranges.
double log_of_activation(double x) { return std::log(std::max(x, std::numeric_limits<double>::min())); }

}  // namespace

template <class T>
ReferenceNetwork<T>::ReferenceNetwork(const Parameters& p, const Objective& objective)
    : sizes_(p.sizes), output_(p.output), objective_(objective) {
  validate_parameters(p, "ReferenceNetwork");
  check_output_layer(objective, p.output, "ReferenceNetwork");
  for (std::size_t l = 0; l < p.layers(); ++l) {
    w_.emplace_back(p.weights[l].begin(), p.weights[l].end());
    b_.emplace_back(p.biases[l].begin(), p.biases[l].end());
  }
  a_.resize(layers() + 1);
  delta_.resize(layers());
  grad_w_.resize(layers());
  grad_b_.resize(layers());
}

template <class T>
Parameters ReferenceNetwork<T>::parameters() const {
  Parameters p;
  p.sizes = sizes_;
  p.output = output_;
  for (std::size_t l = 0; l < layers(); ++l) {
    p.weights.emplace_back(w_[l].begin(), w_[l].end());
    p.biases.emplace_back(b_[l].begin(), b_[l].end());
  }
  return p;
}

template <class T>
void ReferenceNetwork<T>::forward(const T* x, std::size_t m) {
  m_ = m;
  a_[0].assign(x, x + m * std::size_t(sizes_[0]));
  for (std::size_t l = 0; l < layers(); ++l) {
    const std::size_t n_in = sizes_[l], n_out = sizes_[l + 1];
    a_[l + 1].assign(m * n_out, T(0));
    const bool softmax = l + 1 == layers() && output_ == Activation::softmax;
    for (std::size_t s = 0; s < m; ++s) {
      T* a = &a_[l + 1][s * n_out];
      for (std::size_t j = 0; j < n_out; ++j) {
        // z = w a + b, one neuron at a time; (22): a' = sigma(z).
        T z = 0;
        for (std::size_t k = 0; k < n_in; ++k) z += w_[l][j * n_in + k] * a_[l][s * n_in + k];
        a[j] = softmax ? z + b_[l][j] : sigmoid(z + b_[l][j]);
      }
      if (softmax) {
        // (78): a_j = e^{z_j} / sum_k e^{z_k}, computed as e^{z_j - max z} / sum_k e^{z_k - max z}, which is the
        // same number without overflowing for large z.
        T top = a[0];
        for (std::size_t j = 1; j < n_out; ++j) top = std::max(top, a[j]);
        T sum = 0;
        for (std::size_t j = 0; j < n_out; ++j) sum += std::exp(a[j] - top);
        for (std::size_t j = 0; j < n_out; ++j) a[j] = std::exp(a[j] - top) / sum;
      }
    }
  }
}

template <class T>
void ReferenceNetwork<T>::backward(const std::uint8_t* labels) {
  const std::size_t L = layers(), m = m_;
  for (std::size_t l = 0; l < L; ++l) {
    delta_[l].assign(m * std::size_t(sizes_[l + 1]), T(0));
    grad_w_[l].assign(w_[l].size(), T(0));
    grad_b_[l].assign(b_[l].size(), T(0));
  }
  for (std::size_t s = 0; s < m; ++s) {
    // BP1: delta^L = dC/da^L * sigma'(z^L). For the quadratic cost 1/2 ||y - a^L||^2, dC/da^L = a^L - y.
    // Cross-entropy's derivative (a - y) / (a (1 - a)) cancels sigma', leaving (66): delta^L = a^L - y; and
    // log-likelihood with a softmax output gives the same, (84).
    const std::size_t n_out = sizes_[L];
    for (std::size_t j = 0; j < n_out; ++j) {
      const T a = a_[L][s * n_out + j], y = labels[s] == j ? T(1) : T(0);
      delta_[L - 1][s * n_out + j] =
          objective_.cost == Cost::quadratic ? (a - y) * sigmoid_prime_of_activation(a) : a - y;
    }
    // BP2: delta^l = ((w^{l+1})^T delta^{l+1}) * sigma'(z^l), from the top hidden layer down.
    for (std::size_t l = L - 1; l >= 1; --l) {
      const std::size_t n_in = sizes_[l], n = sizes_[l + 1];
      for (std::size_t k = 0; k < n_in; ++k) {
        T back = 0;
        for (std::size_t j = 0; j < n; ++j) back += w_[l][j * n_in + k] * delta_[l][s * n + j];
        delta_[l - 1][s * n_in + k] = back * sigmoid_prime_of_activation(a_[l][s * n_in + k]);
      }
    }
    // BP3: dC/db^l_j = delta^l_j. BP4: dC/dw^l_jk = a^{l-1}_k delta^l_j. Each summed over the batch.
    for (std::size_t l = 0; l < L; ++l) {
      const std::size_t n_in = sizes_[l], n = sizes_[l + 1];
      for (std::size_t j = 0; j < n; ++j) {
        const T d = delta_[l][s * n + j];
        grad_b_[l][j] += d;
        for (std::size_t k = 0; k < n_in; ++k) grad_w_[l][j * n_in + k] += a_[l][s * n_in + k] * d;
      }
    }
  }
}

template <class T>
void ReferenceNetwork<T>::update(T eta, std::size_t n) {
  // (20) and (21): w <- w - (eta/m) sum_x dC_x/dw, b <- b - (eta/m) sum_x dC_x/db; with L2, (93): the weights
  // first shrink by the factor 1 - eta*lambda/n.
  if (objective_.lambda != 0 && n == 0) throw Error("ReferenceNetwork::update: L2 needs the training set's size");
  const T step = eta / T(m_);
  const T decay = objective_.lambda == 0 ? T(1) : T(1 - double(eta) * objective_.lambda / double(n));
  for (std::size_t l = 0; l < layers(); ++l) {
    for (std::size_t i = 0; i < w_[l].size(); ++i) w_[l][i] = decay * w_[l][i] - step * grad_w_[l][i];
    for (std::size_t j = 0; j < b_[l].size(); ++j) b_[l][j] -= step * grad_b_[l][j];
  }
}

template <class T>
void ReferenceNetwork<T>::train(const Dataset& data, std::span<const std::uint32_t> order, std::size_t batch,
                                T eta) {
  if (batch == 0) throw Error("ReferenceNetwork::train: batch size 0");
  check_data_fits(sizes_, data);
  for (std::size_t first = 0; first < order.size(); first += batch) {
    const std::size_t m = std::min(batch, order.size() - first);
    std::vector<T> x(m * data.features());
    std::vector<std::uint8_t> labels(m);
    for (std::size_t s = 0; s < m; ++s) {
      if (order[first + s] >= data.size()) throw Error("ReferenceNetwork::train: order holds a record past the data");
      labels[s] = data.labels[order[first + s]];
    }
    reference_inputs(data, &order[first], m, x.data());
    forward(x.data(), m);
    backward(labels.data());
    update(eta, data.size());
  }
}

template <class T>
Evaluation ReferenceNetwork<T>::evaluate(const Dataset& data) {
  check_data_fits(sizes_, data);
  Evaluation e;
  e.total = data.size();
  std::vector<T> x(data.features());
  for (std::uint32_t r = 0; r < data.size(); ++r) {
    reference_inputs(data, &r, 1, x.data());
    forward(x.data(), 1);
    const std::vector<T>& out = a_.back();
    std::size_t best = 0;  // the first of equal outputs, as std::max_element
    for (std::size_t j = 1; j < out.size(); ++j)
      if (out[j] > out[best]) best = j;
    if (best == data.labels[r]) ++e.correct;
    e.cost += sample_cost(0, data.labels[r]);
  }
  if (e.total) e.cost /= double(e.total);
  return e;
}

template <class T>
double ReferenceNetwork<T>::sample_cost(std::size_t s, std::uint8_t label) const {
  const std::size_t n = sizes_.back();
  const T* a = &a_.back()[s * n];
  double c = 0;
  for (std::size_t j = 0; j < n; ++j) {
    const double y = label == j ? 1.0 : 0.0, out = double(a[j]);
    switch (objective_.cost) {
      case Cost::quadratic:  // (6)
        c += 0.5 * (y - out) * (y - out);
        break;
      case Cost::cross_entropy:  // (63)
        c -= y * log_of_activation(out) + (1 - y) * log_of_activation(1 - out);
        break;
      case Cost::log_likelihood:  // (80): -ln a_y
        if (label == j) c -= log_of_activation(out);
        break;
    }
  }
  return c;
}

template <class T>
void reference_inputs(const Dataset& data, const std::uint32_t* records, std::size_t m, T* x) {
  const std::size_t n = data.features();
  for (std::size_t s = 0; s < m; ++s)
    for (std::size_t k = 0; k < n; ++k)
      x[s * n + k] = data.has_values() ? T(data.row(records[s])[k]) : T(data.image(records[s])[k]) / T(255);
}

template class ReferenceNetwork<float>;
template class ReferenceNetwork<double>;
template void reference_inputs<float>(const Dataset&, const std::uint32_t*, std::size_t, float*);
template void reference_inputs<double>(const Dataset&, const std::uint32_t*, std::size_t, double*);

}  // namespace sigmanet
