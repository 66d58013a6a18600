// The fast CPU network behind the Backend interface.
#include "cpu/cpu_backend.hpp"

#include <algorithm>
#include <cmath>

#include "cpu/blas.hpp"
#include "cpu/fast_network.hpp"
#include "cpu/sparse_input.hpp"
#include "sigmanet/error.hpp"

namespace sigmanet {
namespace {

template <class T>
class CpuBackend final : public Backend {
 public:
  // "cpu float, 2 threads, OpenBLAS": the last where its products run on OpenBLAS (host/cpu/blas.hpp).
  std::string describe() const override {
    return "cpu " + to_string(precision()) + (threads_ > 1 ? ", " + std::to_string(threads_) + " threads" : "") +
           (blas_available() ? ", OpenBLAS" : "");
  }
  Precision precision() const override { return sizeof(T) == 4 ? Precision::f32 : Precision::f64; }

  void set_parameters(const Parameters& p) override {
    net_ = std::make_unique<FastCpuNetwork<T>>(p, objective_.cost);
    if (threads_ > 1) net_->set_threads(threads_);
    if (!sparse_input_) net_->set_sparse_input(false);
  }

  void set_threads(int threads) override {
    threads_ = threads < 1 ? 1 : threads;
    if (net_ && net_->threads() != threads_) net_->set_threads(threads_);
  }
  Parameters parameters() const override { return network().parameters(); }

  void set_objective(const Objective& objective) override {
    objective_ = objective;
    if (net_) net_->set_cost(objective.cost);
  }

  // The first layer's layout follows the training set: transposed, to skip the inputs that are 0, where at most
  // kSparseInputDensity of its pixels are nonzero (MNIST: 19%); on denser data the products train faster
  // (fast_network.hpp). A function of the data alone, so a resumed run and every rank of a job choose alike.
  // Float values take the dense layout: the sparse sums are tuned for image bytes, mostly 0.
  void set_training_data(const Dataset& train) override {
    train_ = &train;
    const std::size_t nonzero = count_nonzero_pixels(train.pixels.data(), train.pixels.size());
    sparse_input_ = !train.has_values() &&
                    double(nonzero) <= FastCpuNetwork<T>::kSparseInputDensity * double(train.pixels.size());
    if (net_) net_->set_sparse_input(sparse_input_);
  }

  void set_collective(Collective* collective) override {
    collective_ = collective && collective->size() > 1 ? collective : nullptr;
  }

  std::size_t train(std::span<const std::uint32_t> order, std::size_t batch, double eta,
                    const AfterBatch& after_batch) override {
    if (!train_) throw Error("CpuBackend::train: no training data set");
    if (batch == 0) throw Error("CpuBackend::train: batch size 0");
    check_data_fits(network().sizes(), *train_);
    check_output_layer(objective_, network().output(), "CpuBackend::train");
    FastCpuNetwork<T>& net = network();
    const T decay = T(weight_decay(eta, objective_.lambda, train_->size()));
    std::vector<std::uint8_t> labels(batch);
    nonfinite_batch_.reset();
    for (std::uint32_t index : order)
      if (index >= train_->size()) throw Error("CpuBackend::train: order holds an index past the data");
    if (collective_) return train_share(order, batch, T(eta), decay, after_batch, labels);
    std::size_t done = 0;
    for (std::size_t batch_index = 0; done < order.size(); ++batch_index) {
      const std::size_t m = std::min(batch, order.size() - done);
      const std::uint32_t* index = order.data() + done;
      for (std::size_t s = 0; s < m; ++s) labels[s] = train_->labels[index[s]];
      T* x = net.input_buffer(m);
      gather_inputs(*train_, index, m, x);
      net.train_batch(x, labels.data(), m, T(eta), decay);
      done += m;
      if (!std::isfinite(net.batch_cost(labels.data()))) {
        nonfinite_batch_ = batch_index;
        break;
      }
      if (after_batch && !after_batch(done)) break;
    }
    return done;
  }

  std::optional<std::size_t> nonfinite_batch() const override { return nonfinite_batch_; }

  Evaluation evaluate(const Dataset& data) override {
    check_data_fits(network().sizes(), data);
    check_output_layer(objective_, network().output(), "CpuBackend::evaluate");
    Evaluation e;
    e.total = data.size();
    const std::size_t n_out = network().sizes().back();
    for_each_chunk(data, 0, data.size(), [&](std::size_t first, std::size_t m, const AlignedVector<T>& a) {
      for (std::size_t s = 0; s < m; ++s) {
        const T* row = &a[s * n_out];
        const auto best = static_cast<std::size_t>(std::max_element(row, row + n_out) - row);
        if (best == data.labels[first + s]) ++e.correct;
      }
      e.cost += network().batch_cost(&data.labels[first]);
    });
    if (e.total) e.cost /= double(e.total);
    return e;
  }

  std::vector<double> outputs(const Dataset& data, std::size_t first, std::size_t count) override {
    if (first + count > data.size()) throw Error("CpuBackend::outputs: records past the end of " + data.name);
    std::vector<double> out;
    for_each_chunk(data, first, count, [&](std::size_t, std::size_t, const AlignedVector<T>& a) {
      out.insert(out.end(), a.begin(), a.end());
    });
    return out;
  }

 private:
  // One rank's part of data-parallel SGD: each batch's share of this rank (batch_share) goes forward and back
  // here, the gradient sums are added across the ranks in rank order, and every rank takes the same step with
  // the whole batch's m, so the job trains what one process would (up to the order of the sums). Two flags
  // travel with the gradients, so the ranks decide together without another message: a NaN or Inf in some
  // rank's outputs (every rank stops after that batch, as one process would), and a stop that after_batch asked
  // for on some rank after the batch before (no rank takes this batch).
  std::size_t train_share(std::span<const std::uint32_t> order, std::size_t batch, T eta, T decay,
                          const AfterBatch& after_batch, std::vector<std::uint8_t>& labels) {
    FastCpuNetwork<T>& net = network();
    const int rank = collective_->rank(), ranks = collective_->size();
    std::size_t done = 0;
    bool stop_asked = false;
    for (std::size_t batch_index = 0; done < order.size(); ++batch_index) {
      const std::size_t m = std::min(batch, order.size() - done);
      const auto [first, last] = batch_share(m, rank, ranks);
      const std::size_t mine = last - first;
      const std::uint32_t* index = order.data() + done + first;
      for (std::size_t s = 0; s < mine; ++s) labels[s] = train_->labels[index[s]];
      T* x = net.input_buffer(mine);
      gather_inputs(*train_, index, mine, x);
      net.forward(x, mine);
      net.backward(labels.data());
      const bool nonfinite = !std::isfinite(net.batch_cost(labels.data()));

      exchange_.clear();
      for (std::size_t l = 0; l < net.layers(); ++l)
        for (const AlignedVector<T>* g : {&net.weight_gradient(l), &net.bias_gradient(l)})
          exchange_.insert(exchange_.end(), g->begin(), g->end());
      exchange_.push_back(nonfinite ? T(1) : T(0));
      exchange_.push_back(stop_asked ? T(1) : T(0));
      collective_->sum_in_rank_order(std::span<T>(exchange_));
      if (exchange_.back() > 0) break;
      const T* sum = exchange_.data();
      for (std::size_t l = 0; l < net.layers(); ++l)
        for (AlignedVector<T>* g : {&net.weight_gradient(l), &net.bias_gradient(l)}) {
          std::copy(sum, sum + g->size(), g->begin());
          sum += g->size();
        }
      net.update(eta, decay, m);
      done += m;
      if (exchange_[exchange_.size() - 2] > 0) {
        nonfinite_batch_ = batch_index;
        break;
      }
      stop_asked = after_batch && !after_batch(done);
    }
    return done;
  }


  FastCpuNetwork<T>& network() const {
    if (!net_) throw Error("CpuBackend: no parameters set");
    return *net_;
  }

  // Runs forward over records [first, first + count) in chunks, calling f(first, m, output activations).
  template <class F>
  void for_each_chunk(const Dataset& data, std::size_t first, std::size_t count, F&& f) {
    check_input_width(network().sizes(), data);
    std::vector<std::uint32_t> index(kCpuEvaluationChunk);
    for (std::size_t start = first; start < first + count; start += kCpuEvaluationChunk) {
      const std::size_t m = std::min(kCpuEvaluationChunk, first + count - start);
      for (std::size_t s = 0; s < m; ++s) index[s] = static_cast<std::uint32_t>(start + s);
      network().forward_images(data, index.data(), m);
      f(start, m, network().activation(network().layers()));
    }
  }

  std::unique_ptr<FastCpuNetwork<T>> net_;
  Objective objective_;
  Collective* collective_ = nullptr;
  int threads_ = 1;
  bool sparse_input_ = true;  // whether the training set is sparse enough for the transposed first layer
  std::vector<T> exchange_;  // one batch's gradients and flags, as the ranks add them up
  const Dataset* train_ = nullptr;
  std::optional<std::size_t> nonfinite_batch_;
};

}  // namespace

std::unique_ptr<Backend> make_cpu_backend(Precision precision) {
  if (precision == Precision::f64) return std::make_unique<CpuBackend<double>>();
  return std::make_unique<CpuBackend<float>>();
}

}  // namespace sigmanet
