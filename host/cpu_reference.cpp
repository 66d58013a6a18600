// The CPU reference network. Layout: a batch is m rows (one per sample) of a layer's width, row-major;
// W is n_out x n_in row-major. Every inner loop runs along contiguous memory so the compiler vectorises
// it, and dot products are blocked over four samples so each weight row is loaded once per block.
#include "sigmanet/cpu_reference.hpp"

#include <cmath>
#include <cstring>

#include "sigmanet/error.hpp"

namespace sigmanet {
namespace {

template <class T>
T sigmoid(T z) {
  return T(1) / (T(1) + std::exp(-z));
}

template <class T>
T dot(const T* w, const T* x, std::size_t n) {
  T s = 0;
#pragma omp simd reduction(+ : s)
  for (std::size_t i = 0; i < n; ++i) s += w[i] * x[i];
  return s;
}

// Four dot products of one weight row with four samples: four independent sums keep the FPU busy.
template <class T>
void dot4(const T* w, const T* x0, const T* x1, const T* x2, const T* x3, std::size_t n, T* out) {
  T s0 = 0, s1 = 0, s2 = 0, s3 = 0;
#pragma omp simd reduction(+ : s0, s1, s2, s3)
  for (std::size_t i = 0; i < n; ++i) {
    s0 += w[i] * x0[i];
    s1 += w[i] * x1[i];
    s2 += w[i] * x2[i];
    s3 += w[i] * x3[i];
  }
  out[0] = s0, out[1] = s1, out[2] = s2, out[3] = s3;
}

// y += c * x
template <class T>
void axpy(T c, const T* x, T* y, std::size_t n) {
#pragma omp simd
  for (std::size_t i = 0; i < n; ++i) y[i] += c * x[i];
}

}  // namespace

template <class T>
CpuNetwork<T>::CpuNetwork(const Parameters& p) : sizes_(p.sizes) {
  validate_parameters(p, "CpuNetwork");
  for (std::size_t l = 0; l < p.layers(); ++l) {
    w_.emplace_back(p.weights[l].begin(), p.weights[l].end());
    b_.emplace_back(p.biases[l].begin(), p.biases[l].end());
    grad_w_.emplace_back(w_[l].size());
    grad_b_.emplace_back(b_[l].size());
  }
  a_.resize(layers() + 1);
  delta_.resize(layers());
}

template <class T>
Parameters CpuNetwork<T>::parameters() const {
  Parameters p;
  p.sizes = sizes_;
  for (std::size_t l = 0; l < layers(); ++l) {
    p.weights.emplace_back(w_[l].begin(), w_[l].end());
    p.biases.emplace_back(b_[l].begin(), b_[l].end());
  }
  return p;
}

template <class T>
void CpuNetwork<T>::forward(const T* x, std::size_t m) {
  m_ = m;
  a_[0].assign(x, x + m * std::size_t(sizes_[0]));
  for (std::size_t l = 0; l < layers(); ++l) {
    const std::size_t n_in = sizes_[l], n_out = sizes_[l + 1];
    const T* in = a_[l].data();
    a_[l + 1].resize(m * n_out);
    T* out = a_[l + 1].data();
    for (std::size_t j = 0; j < n_out; ++j) {
      const T* w = &w_[l][j * n_in];
      std::size_t s = 0;
      for (; s + 4 <= m; s += 4) {
        T z[4];
        dot4(w, in + s * n_in, in + (s + 1) * n_in, in + (s + 2) * n_in, in + (s + 3) * n_in, n_in, z);
        for (std::size_t k = 0; k < 4; ++k) out[(s + k) * n_out + j] = z[k] + b_[l][j];
      }
      for (; s < m; ++s) out[s * n_out + j] = dot(w, in + s * n_in, n_in) + b_[l][j];
    }
    for (std::size_t i = 0; i < m * n_out; ++i) out[i] = sigmoid(out[i]);
  }
}

template <class T>
void CpuNetwork<T>::backward(const std::uint8_t* labels) {
  const std::size_t m = m_, L = layers();
  // Output layer: dC/dz = (a - y) * sigma'(z), and sigma'(z) = a (1 - a).
  {
    const std::size_t n = sizes_[L];
    const std::vector<T>& a = a_[L];
    delta_[L - 1].resize(m * n);
    for (std::size_t s = 0; s < m; ++s)
      for (std::size_t j = 0; j < n; ++j) {
        const T y = labels[s] == j ? T(1) : T(0);
        const T out = a[s * n + j];
        delta_[L - 1][s * n + j] = (out - y) * out * (T(1) - out);
      }
  }
  for (std::size_t l = L; l-- > 0;) {
    const std::size_t n_in = sizes_[l], n_out = sizes_[l + 1];
    const T* d = delta_[l].data();
    const T* in = a_[l].data();
    // Gradients summed over the batch: dW = delta^T . a_in, db = column sums of delta.
    for (std::size_t j = 0; j < n_out; ++j) {
      T* g = &grad_w_[l][j * n_in];
      std::memset(g, 0, n_in * sizeof(T));  // +0.0 is all zero bits; GCC leaves std::fill on floats scalar
      T gb = 0;
      for (std::size_t s = 0; s < m; ++s) {
        axpy(d[s * n_out + j], in + s * n_in, g, n_in);
        gb += d[s * n_out + j];
      }
      grad_b_[l][j] = gb;
    }
    if (l == 0) break;  // the input layer has no delta
    // Hidden layer below: delta_in = (delta . W) * a_in (1 - a_in).
    std::vector<T>& below = delta_[l - 1];
    below.assign(m * n_in, T(0));
    for (std::size_t s = 0; s < m; ++s) {
      T* row = &below[s * n_in];
      for (std::size_t j = 0; j < n_out; ++j) axpy(d[s * n_out + j], &w_[l][j * n_in], row, n_in);
      const T* a = in + s * n_in;
      for (std::size_t i = 0; i < n_in; ++i) row[i] *= a[i] * (T(1) - a[i]);
    }
  }
}

template <class T>
void CpuNetwork<T>::update(T eta) {
  const T step = eta / T(m_);
  for (std::size_t l = 0; l < layers(); ++l) {
    axpy(-step, grad_w_[l].data(), w_[l].data(), w_[l].size());
    axpy(-step, grad_b_[l].data(), b_[l].data(), b_[l].size());
  }
}

template <class T>
void CpuNetwork<T>::train_batch(const T* x, const std::uint8_t* labels, std::size_t m, T eta) {
  forward(x, m);
  backward(labels);
  update(eta);
}

template <class T>
double CpuNetwork<T>::batch_cost(const std::uint8_t* labels) const {
  const std::size_t n = sizes_.back();
  const std::vector<T>& a = a_.back();
  double cost = 0;
  for (std::size_t s = 0; s < m_; ++s)
    for (std::size_t j = 0; j < n; ++j) {
      const double e = double(a[s * n + j]) - (labels[s] == j ? 1.0 : 0.0);
      cost += 0.5 * e * e;
    }
  return cost;
}

template <class T>
void gather_inputs(const Dataset& data, const std::uint32_t* index, std::size_t m, T* x) {
  const std::size_t n = data.features();
  for (std::size_t s = 0; s < m; ++s) {
    const std::uint8_t* img = data.image(index[s]);
    for (std::size_t i = 0; i < n; ++i) x[s * n + i] = T(img[i]) / T(255);
  }
}

template class CpuNetwork<float>;
template class CpuNetwork<double>;
template void gather_inputs<float>(const Dataset&, const std::uint32_t*, std::size_t, float*);
template void gather_inputs<double>(const Dataset&, const std::uint32_t*, std::size_t, double*);

}  // namespace sigmanet
