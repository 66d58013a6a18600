// The fast CPU network, checked against the oracle ReferenceNetwork. Layout: a batch is m rows (one per
// sample) of a layer's width, row-major; W is n_out x n_in row-major. The layers' arithmetic is
// dense_layer.hpp's tiles (dot products blocked over samples, so each weight row is loaded once per block) and,
// for a narrow first layer held transposed, transposed_layer.hpp's.
#include "cpu/fast_network.hpp"

#include "cpu/blas.hpp"
#include "cpu/dense_layer.hpp"
#include "cpu/float_mode.hpp"
#include "cpu/pixels.hpp"
#include "cpu/sigmoid.hpp"
#include "cpu/simd.hpp"
#include "cpu/sparse_input.hpp"
#include "cpu/thread_pool.hpp"
#include "cpu/transposed_layer.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <limits>

#include "sigmanet/error.hpp"

namespace sigmanet {
namespace {

// The own kernels' shapes in the automatic choice (use_blas).
constexpr std::size_t kNarrowLayer = 32, kNarrowLayerBatch = 64;

// Asks for an image's bytes ahead of their use, so the misses of records far apart (a shuffled batch) or of a
// stream the hardware does not foresee overlap with work instead of coming one after another.
inline void prefetch_image(const std::uint8_t* image, std::size_t n) {
  for (std::size_t i = 0; i < n; i += kCacheLineBytes) __builtin_prefetch(image + i);
}

// How many records ahead forward_images() asks for the next images.
constexpr std::size_t kPrefetchAhead = 4;

// Each row's softmax in place, from the row's weighted inputs: e^{z - max z} / sum e^{z - max z}.
template <class T>
void softmax_rows(T* z, std::size_t m, std::size_t n) {
  for (std::size_t s = 0; s < m; ++s) {
    T* row = z + s * n;
    T top = row[0];
    for (std::size_t j = 1; j < n; ++j) top = std::max(top, row[j]);
    T sum = 0;
    for (std::size_t j = 0; j < n; ++j) sum += row[j] = std::exp(row[j] - top);
    for (std::size_t j = 0; j < n; ++j) row[j] /= sum;
  }
}

// One sample's cost C_s from its output activations, in double.
template <class T>
double sample_cost(Cost cost, const T* out, std::size_t n, std::size_t label) {
  // ln of an activation that rounded to 0 is taken at the smallest normal double (-708.4), as the oracle does.
  const auto ln = [](double x) { return std::log(std::max(x, std::numeric_limits<double>::min())); };
  double c = 0;
  for (std::size_t j = 0; j < n; ++j) {
    const double y = label == j ? 1.0 : 0.0, a = double(out[j]);
    switch (cost) {
      case Cost::quadratic:
        c += 0.5 * (a - y) * (a - y);
        break;
      case Cost::cross_entropy:
        c -= y * ln(a) + (1 - y) * ln(1 - a);
        break;
      case Cost::log_likelihood:
        if (label == j) c -= ln(a);
        break;
    }
  }
  return c;
}

}  // namespace

template <class T>
FastCpuNetwork<T>::FastCpuNetwork(const Parameters& p, Cost cost) : sizes_(p.sizes), output_(p.output), cost_(cost) {
  validate_parameters(p, "FastCpuNetwork");
  for (std::size_t l = 0; l < p.layers(); ++l) {
    w_.emplace_back(p.weights[l].begin(), p.weights[l].end());
    b_.emplace_back(p.biases[l].begin(), p.biases[l].end());
    grad_w_.emplace_back(w_[l].size());
    grad_b_.emplace_back(b_[l].size());
  }
  a_.resize(layers() + 1);
  delta_.resize(layers());
  set_sparse_input(true);
}

template <class T>
void FastCpuNetwork<T>::set_sparse_input(bool allowed, double max_density) {
  sparse_density_ = max_density;
  const std::size_t n_in = sizes_[0], n_out = sizes_[1];
  const bool transposed = allowed && n_out <= kSparseInputWidth;
  if (transposed == w0_transposed_) return;
  if (transposed) {
    w0_stride_ = (n_out + Simd<T>::width - 1) / Simd<T>::width * Simd<T>::width;
    AlignedVector<T> wt(n_in * w0_stride_);
    transpose_weights(w_[0].data(), n_out, n_in, w0_stride_, wt.data());
    w_[0] = std::move(wt);
    rows_.resize(nonzero_column_room(n_in));
    check_first_layer_finite();
  } else {
    AlignedVector<T> w(n_out * n_in);
    for (std::size_t j = 0; j < n_out; ++j)
      for (std::size_t i = 0; i < n_in; ++i) w[j * n_in + i] = w_[0][i * w0_stride_ + j];
    w_[0] = std::move(w);
  }
  w0_transposed_ = transposed;
}

template <class T>
Parameters FastCpuNetwork<T>::parameters() const {
  Parameters p;
  p.sizes = sizes_;
  p.output = output_;
  for (std::size_t l = 0; l < layers(); ++l) {
    p.weights.emplace_back(w_[l].begin(), w_[l].end());
    p.biases.emplace_back(b_[l].begin(), b_[l].end());
  }
  if (w0_transposed_) {
    const std::size_t n_in = sizes_[0], n_out = sizes_[1];
    p.weights[0].resize(n_out * n_in);
    for (std::size_t j = 0; j < n_out; ++j)
      for (std::size_t i = 0; i < n_in; ++i) p.weights[0][j * n_in + i] = double(w_[0][i * w0_stride_ + j]);
  }
  return p;
}

template <class T>
void FastCpuNetwork<T>::forward(const T* x, std::size_t m) {
  const FlushSmallNumbers flush;
  if (x != a_[0].data()) a_[0].assign(x, x + m * std::size_t(sizes_[0]));
  input_kept_ = true;
  const std::size_t n_in = sizes_[0];
  const T* in = a_[0].data();
  const bool sparse = first_layer_sparse(m, [&] { return count_nonzero(in, std::min(m, kDensitySamples) * n_in); });
  forward_layers(m, sparse, [&](std::size_t s, std::uint32_t* nz, T* value) {
    return nonzero_inputs(in + s * n_in, n_in, nz, value);
  });
}

template <class T>
void FastCpuNetwork<T>::forward_images(const Dataset& data, const std::uint32_t* index, std::size_t m) {
  const std::size_t n_in = sizes_[0];
  if (data.features() != n_in)
    throw Error("FastCpuNetwork::forward_images: " + data.name + " has " + std::to_string(data.features()) +
                " features a record, the network " + std::to_string(n_in) + " inputs");
  const auto nonzero_pixels_in_batch = [&] {
    std::size_t count = 0;
    for (std::size_t s = 0; s < std::min(m, kDensitySamples); ++s)
      count += count_nonzero_pixels(data.image(index[s]), n_in);
    return count;
  };
  if (data.has_values() || !first_layer_sparse(m, nonzero_pixels_in_batch)) {
    gather_inputs(data, index, m, input_buffer(m));
    forward(a_[0].data(), m);
    return;
  }
  const FlushSmallNumbers flush;
  input_kept_ = false;
  a_[0].clear();
  forward_layers(m, true, [&](std::size_t s, std::uint32_t* nz, T* value) {
    if (s + kPrefetchAhead < m) prefetch_image(data.image(index[s + kPrefetchAhead]), n_in);
    return nonzero_pixels(data.image(index[s]), n_in, nz, value);
  });
}

template <class T>
template <class Count>
bool FastCpuNetwork<T>::first_layer_sparse(std::size_t m, Count&& count) {
  // A function of the network and the batch only, never of what ran before: a resumed run must take the same
  // path as the run it continues. The density is its first kDensitySamples samples' (a pass over a whole batch
  // of 1000 was a tenth of its step).
  if (!w0_transposed_ || !w0_finite_ || m == 0) return false;
  return double(count()) <= sparse_density_ * double(std::min(m, kDensitySamples) * std::size_t(sizes_[0]));
}

template <class T>
template <class List>
void FastCpuNetwork<T>::forward_layers(std::size_t m, bool sparse, List&& list) {
  m_ = m;
  last_forward_sparse_ = sparse;
  for (std::size_t l = 0; l < layers(); ++l) {
    const std::size_t n_in = sizes_[l], n_out = sizes_[l + 1];
    const T* in = a_[l].data();
    a_[l + 1].resize(m * n_out);
    T* out = a_[l + 1].data();
    const bool softmax = l + 1 == layers() && output_ == Activation::softmax;
    const T* w = w_[l].data();
    const T* b = b_[l].data();
    // A transposed first layer stays on the own kernels: at its narrow widths they run at the multiply-add
    // units' rate, where OpenBLAS's small-matrix kernel for this layout took twice as long at batch 10.
    const bool from_list = sparse && l == 0, transposed = l == 0 && w0_transposed_;
    const bool blas = !from_list && !transposed && use_blas(true, m, n_in, n_out);
    const double work = double(m) * double(n_in) * double(n_out);
    if (blas)  // Z = X W^T, one call on as many of OpenBLAS's threads as the network has
      blas_gemm({false, true, m, n_out, n_in}, T(1), in, n_in, w, n_in, T(0), out, n_out, blas_threads(work));
    // Samples [first, last): each sample's outputs are computed the same way whichever thread has it. The
    // sparse sums split over the threads from kSparseThreadedBatch samples (evaluation's chunks of 500 ran
    // 1.2-1.4x faster on 2 threads), where the products' stages of that size did not pay; a split per
    // training step at batch 10 made Nielsen's run 3x slower.
    const bool split = from_list && m >= kSparseThreadedBatch;
    across_threads(m, split ? std::max(work, min_work_) : work, [&](std::size_t first, std::size_t last) {
      if (from_list) {
        std::vector<std::uint32_t> nz(nonzero_list_room(n_in));
        AlignedVector<T> value(nonzero_list_room(n_in));
        for (std::size_t s = first; s < last; ++s) {
          const std::size_t listed = list(s, nz.data(), value.data());
          sparse_weighted_sums(w, w0_stride_, n_out, nz.data(), value.data(), listed, out + s * n_out);
        }
      } else if (!blas && transposed) {
        transposed_weighted_sums(w, w0_stride_, n_out, in + first * n_in, last - first, n_in, out + first * n_out);
      } else if (!blas) {
        weighted_sums(w, in + first * n_in, last - first, n_in, n_out, out + first * n_out);
      }
      for (std::size_t s = first; s < last; ++s) {
        if (softmax)
          for (std::size_t j = 0; j < n_out; ++j) out[s * n_out + j] += b[j];
        else
          sigmoid_row(out + s * n_out, b, n_out);
      }
      if (softmax) softmax_rows(out + first * n_out, last - first, n_out);
    });
  }
}

template <class T>
T* FastCpuNetwork<T>::input_buffer(std::size_t m) {
  a_[0].resize(m * std::size_t(sizes_[0]));
  return a_[0].data();
}

template <class T>
void FastCpuNetwork<T>::backward(const std::uint8_t* labels) {
  backpropagate(labels, nullptr);
}

template <class T>
void FastCpuNetwork<T>::backpropagate(const std::uint8_t* labels, const Step* step) {
  const FlushSmallNumbers flush;
  const std::size_t m = m_, L = layers();
  check_output_layer({cost_, 0.0}, output_, "FastCpuNetwork::backward");
  if (!input_kept_)
    throw Error("FastCpuNetwork::backward: no forward() before it (forward_images() keeps no input to go back to)");
  // Output layer: dC/dz = (a - y) * sigma'(z), with sigma'(z) = a (1 - a), for the quadratic cost; a - y for
  // cross-entropy (sigma' cancels) and for log-likelihood with softmax.
  {
    const std::size_t n = sizes_[L];
    const AlignedVector<T>& a = a_[L];
    delta_[L - 1].resize(m * n);
    const bool quadratic = cost_ == Cost::quadratic;
    for (std::size_t s = 0; s < m; ++s)
      for (std::size_t j = 0; j < n; ++j) {
        const T y = labels[s] == j ? T(1) : T(0);
        const T out = a[s * n + j];
        delta_[L - 1][s * n + j] = quadratic ? (out - y) * out * (T(1) - out) : out - y;
      }
  }
  for (std::size_t l = L; l-- > 0;) {
    const std::size_t n_in = sizes_[l], n_out = sizes_[l + 1];
    const T* d = delta_[l].data();
    const T* in = a_[l].data();
    const double work = double(m) * double(n_in) * double(n_out);
    const bool blas = use_blas(false, m, n_in, n_out);
    if (l > 0) {
      // The hidden layer below, first, while W is still this step's: delta_in = (delta . W) * a_in (1 - a_in),
      // samples [first, last) per thread.
      AlignedVector<T>& below = delta_[l - 1];
      below.resize(m * n_in);
      const T* w = w_[l].data();
      if (blas)
        blas_gemm({false, false, m, n_in, n_out}, T(1), d, n_out, w, n_in, T(0), below.data(), n_in,
                  blas_threads(work));
      across_threads(m, work, [&](std::size_t first, std::size_t last) {
        for (std::size_t s = first; s < last; ++s) {
          T* row = &below[s * n_in];
          if (!blas) {
            std::fill(row, row + n_in, T(0));
            for (std::size_t j = 0; j < n_out; ++j) axpy(d[s * n_out + j], w + j * n_in, row, n_in);
          }
          const T* a = in + s * n_in;
          for (std::size_t i = 0; i < n_in; ++i) row[i] *= a[i] * (T(1) - a[i]);
        }
      });
    }
    // Gradients summed over the batch: dW = delta^T . a_in, db = column sums of delta; rows [first, last) of
    // each per thread. With a step they go into W and b as SGD's update instead of into the gradients: on the
    // own kernels block by block, exactly as update() would; on OpenBLAS as the product's alpha and beta, which
    // rounds the update differently from update() (a fifth of a batch-10 step was the separate pass over W).
    // The transposed first layer's step goes into W^T (the gradient alone, for backward(), is W's layout).
    const bool transposed_step = step && l == 0 && w0_transposed_;
    T* gw = grad_w_[l].data();
    GradientSink<T> sink{gw};
    T* gb = grad_b_[l].data();
    if (step && !blas) sink = {w_[l].data(), true, step->rate, step->decay};
    T* b = b_[l].data();
    if (transposed_step) {  // own kernels at every batch: OpenBLAS took longer at 10 and 1000 (bench/RESULTS.md)
      step_transposed_layer(d, m, step->rate, step->decay);
    } else if (blas && step) {  // W <- decay W - rate (delta^T a_in): the update is the product's alpha and beta
      blas_gemm({true, false, n_out, n_in, m}, -step->rate, d, n_out, in, n_in, step->decay, w_[l].data(), n_in,
                blas_threads(work));
    } else if (blas) {
      blas_gemm({true, false, n_out, n_in, m}, T(1), d, n_out, in, n_in, T(0), gw, n_in, blas_threads(work));
    }
    across_threads(n_out, work, [&](std::size_t first, std::size_t last) {
      if (!blas && !transposed_step) sum_gradient(d, in, m, n_in, n_out, first, last, sink);
      // Row by row, each column's sum still running over the samples in order: down the columns, a wide
      // layer's large batch touched a new page every value.
      std::fill(gb + first, gb + last, T(0));
      for (std::size_t s = 0; s < m; ++s)
        for (std::size_t j = first; j < last; ++j) gb[j] += d[s * n_out + j];
      if (step)
        for (std::size_t j = first; j < last; ++j) b[j] += -step->rate * gb[j];  // as update()'s axpy
    });
  }
}

template <class T>
void FastCpuNetwork<T>::update(T eta, T decay, std::size_t m) {
  const FlushSmallNumbers flush;
  const T rate = eta / T(m);
  for (std::size_t l = 0; l < layers(); ++l) {
    T* w = w_[l].data();
    const T* g = grad_w_[l].data();
    if (l == 0 && w0_transposed_) {  // the gradient (W's layout) into W^T's, padding 0, for the same vector step
      const std::size_t n_in = sizes_[0], n_out = sizes_[1];
      padded_.assign(n_in * w0_stride_, T(0));
      for (std::size_t j = 0; j < n_out; ++j)
        for (std::size_t i = 0; i < n_in; ++i) padded_[i * w0_stride_ + j] = g[j * n_in + i];
      g = padded_.data();
    }
    across_threads(w_[l].size(), double(w_[l].size()), [&](std::size_t first, std::size_t last) {
      sgd_range(w + first, g + first, last - first, rate, decay);  // the fused train_batch()'s vector step
    });
    axpy(-rate, grad_b_[l].data(), b_[l].data(), b_[l].size());
  }
  if (w0_transposed_) check_first_layer_finite();
}

template <class T>
void FastCpuNetwork<T>::step_transposed_layer(const T* d, std::size_t m, T rate, T decay) {
  const std::size_t n_in = sizes_[0], n_out = sizes_[1];
  padded_.assign(m * w0_stride_, T(0));  // the errors in rows as long as W^T's, so every load is whole
  for (std::size_t s = 0; s < m; ++s) std::copy(d + s * n_out, d + (s + 1) * n_out, &padded_[s * w0_stride_]);
  const T* x = a_[0].data();
  // Without decay, the rows of inputs 0 in every sample have a gradient of exactly 0 and stay as they are. A
  // large batch leaves few such rows (MNIST's 1000 images: 9%), and finding them took longer than stepping them.
  std::size_t count = n_in;
  if (decay == T(1) && m < kSkipRowsBatch)
    count = nonzero_columns(x, m, n_in, rows_.data());
  else
    for (std::size_t i = 0; i < n_in; ++i) rows_[i] = std::uint32_t(i);
  const auto sgd = [rate, decay](typename Simd<T>::vec& w, const typename Simd<T>::vec& g) {
    sgd_step(w, g, rate, decay);
  };
  std::atomic<bool> finite{w0_finite_};
  across_threads(count, double(m) * double(count) * double(n_out), [&](std::size_t first, std::size_t last) {
    if (!transposed_gradient_step(x, n_in, padded_.data(), m, n_out, rows_.data() + first, last - first,
                                  w_[0].data(), w0_stride_, sgd))
      finite.store(false, std::memory_order_relaxed);
  });
  w0_finite_ = finite.load();  // a weight that is Inf or NaN stays so under SGD: no need to look at the others
}

template <class T>
void FastCpuNetwork<T>::check_first_layer_finite() {
  using S = Simd<T>;
  typename S::vec sum = {}, w;
  const AlignedVector<T>& wt = w_[0];  // n_in rows of w0_stride_: whole vectors
  for (std::size_t i = 0; i < wt.size(); i += S::width) {
    S::load(w, wt.data() + i);
    sum += w - w;  // stays 0 while every value is finite; Inf - Inf and NaN give NaN
  }
  w0_finite_ = S::sum(sum) == T(0);
}

template <class T>
void FastCpuNetwork<T>::set_threads(int threads, double min_work) {
  pool_ = threads > 1 ? std::make_shared<ThreadPool>(threads) : nullptr;
  min_work_ = min_work;
}

template <class T>
void FastCpuNetwork<T>::set_gemm(CpuGemm gemm) {
  std::string why;
  if (gemm == CpuGemm::blas && !blas_available(&why))
    throw Error("FastCpuNetwork: products on OpenBLAS asked for: " + why);
  gemm_ = gemm;
}

template <class T>
bool FastCpuNetwork<T>::use_blas(bool forward, std::size_t m, std::size_t n_in, std::size_t n_out) const {
  // A rank's empty share of a batch (m = 0) stays here: nothing to multiply.
  if (m == 0 || gemm_ == CpuGemm::own) return false;
  if (gemm_ == CpuGemm::blas) return true;
  // Measured (bench/RESULTS.md, "OpenBLAS or our own kernels"): OpenBLAS wins every backward product, and every
  // forward one but a narrow layer's (Nielsen's 30 neurons, the 10 outputs) over a wide input from a batch of
  // about a hundred samples, where the own tiles, each loaded weight row feeding five samples, were 25-45%
  // faster. At batch 10 OpenBLAS's small-matrix kernels win that one too.
  const bool narrow = n_out <= kNarrowLayer && n_in >= 8 * n_out && m >= kNarrowLayerBatch;
  return !(forward && narrow) && blas_available();
}

template <class T>
int FastCpuNetwork<T>::blas_threads(double work) const {
  return pool_ && work >= min_work_ ? pool_->threads() : 1;
}

template <class T>
int FastCpuNetwork<T>::threads() const {
  return pool_ ? pool_->threads() : 1;
}

template <class T>
template <class F>
void FastCpuNetwork<T>::across_threads(std::size_t n, double work, F&& body) {
  if (!pool_ || work < min_work_)
    body(std::size_t(0), n);
  else
    pool_->split(n, body);
}

template <class T>
void FastCpuNetwork<T>::train_batch(const T* x, const std::uint8_t* labels, std::size_t m, T eta, T decay) {
  forward(x, m);
  const Step step{eta / T(m), decay};
  backpropagate(labels, &step);
}

template <class T>
double FastCpuNetwork<T>::batch_cost(const std::uint8_t* labels) const {
  check_output_layer({cost_, 0.0}, output_, "FastCpuNetwork::batch_cost");
  const std::size_t n = sizes_.back();
  const AlignedVector<T>& a = a_.back();
  double cost = 0;
  for (std::size_t s = 0; s < m_; ++s) cost += sample_cost(cost_, &a[s * n], n, labels[s]);
  return cost;
}

template <class T>
void gather_inputs(const Dataset& data, const std::uint32_t* index, std::size_t m, T* x) {
  const std::size_t n = data.features();
  if (data.has_values()) {
    for (std::size_t s = 0; s < m; ++s) std::copy_n(data.row(index[s]), n, x + s * n);
    return;
  }
  // A shuffled batch's images lie far apart, so each first touch misses the caches: ask for all of them
  // up front and the misses overlap instead of coming one after another.
  for (std::size_t s = 0; s < m; ++s) prefetch_image(data.image(index[s]), n);
  for (std::size_t s = 0; s < m; ++s) {
    const std::uint8_t* img = data.image(index[s]);
    for (std::size_t i = 0; i < n; ++i) x[s * n + i] = pixel_value<T>(img[i]);
  }
}

std::string cpu_products() {
  std::string why;
  return blas_available(&why) ? blas_description() : "sigmanet's own kernels: " + why;
}

template class FastCpuNetwork<float>;
template class FastCpuNetwork<double>;
template void gather_inputs<float>(const Dataset&, const std::uint32_t*, std::size_t, float*);
template void gather_inputs<double>(const Dataset&, const std::uint32_t*, std::size_t, double*);

}  // namespace sigmanet
