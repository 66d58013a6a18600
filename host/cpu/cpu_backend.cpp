// The fast CPU network behind the Backend interface.
#include <algorithm>
#include <cmath>

#include "sigmanet/cpu/fast_network.hpp"
#include "sigmanet/error.hpp"

namespace sigmanet {
namespace {

template <class T>
class CpuBackend final : public Backend {
 public:
  std::string describe() const override { return "cpu " + to_string(precision()); }
  Precision precision() const override { return sizeof(T) == 4 ? Precision::f32 : Precision::f64; }

  void set_parameters(const Parameters& p) override { net_ = std::make_unique<FastCpuNetwork<T>>(p, objective_.cost); }
  Parameters parameters() const override { return network().parameters(); }

  void set_objective(const Objective& objective) override {
    objective_ = objective;
    if (net_) net_->set_cost(objective.cost);
  }

  void set_training_data(const Dataset& train) override { train_ = &train; }

  std::size_t train(std::span<const std::uint32_t> order, std::size_t batch, double eta,
                    const AfterBatch& after_batch) override {
    if (!train_) throw Error("CpuBackend::train: no training data set");
    if (batch == 0) throw Error("CpuBackend::train: batch size 0");
    check_input_width(network().sizes(), *train_);
    check_output_layer(objective_, network().output(), "CpuBackend::train");
    FastCpuNetwork<T>& net = network();
    const T decay = T(weight_decay(eta, objective_.lambda, train_->size()));
    std::vector<std::uint8_t> labels(batch);
    x_.resize(batch * train_->features());
    std::size_t done = 0;
    nonfinite_batch_.reset();
    for (std::size_t batch_index = 0; done < order.size(); ++batch_index) {
      const std::size_t m = std::min(batch, order.size() - done);
      const std::uint32_t* index = order.data() + done;
      for (std::size_t s = 0; s < m; ++s) {
        if (index[s] >= train_->size()) throw Error("CpuBackend::train: order holds an index past the data");
        labels[s] = train_->labels[index[s]];
      }
      gather_inputs(*train_, index, m, x_.data());
      net.train_batch(x_.data(), labels.data(), m, T(eta), decay);
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
  FastCpuNetwork<T>& network() const {
    if (!net_) throw Error("CpuBackend: no parameters set");
    return *net_;
  }

  // Runs forward over records [first, first + count) in chunks, calling f(first, m, output activations).
  template <class F>
  void for_each_chunk(const Dataset& data, std::size_t first, std::size_t count, F&& f) {
    check_input_width(network().sizes(), data);
    std::vector<std::uint32_t> index(kCpuEvaluationChunk);
    x_.resize(kCpuEvaluationChunk * data.features());
    for (std::size_t start = first; start < first + count; start += kCpuEvaluationChunk) {
      const std::size_t m = std::min(kCpuEvaluationChunk, first + count - start);
      for (std::size_t s = 0; s < m; ++s) index[s] = static_cast<std::uint32_t>(start + s);
      gather_inputs(data, index.data(), m, x_.data());
      network().forward(x_.data(), m);
      f(start, m, network().activation(network().layers()));
    }
  }

  std::unique_ptr<FastCpuNetwork<T>> net_;
  Objective objective_;
  const Dataset* train_ = nullptr;
  std::optional<std::size_t> nonfinite_batch_;
  // Aligned like the network's own buffers, so neither the gather's stores nor forward()'s copy of the
  // batch split cache lines in some processes and not in others.
  AlignedVector<T> x_;
};

}  // namespace

std::unique_ptr<Backend> make_cpu_backend(Precision precision) {
  if (precision == Precision::f64) return std::make_unique<CpuBackend<double>>();
  return std::make_unique<CpuBackend<float>>();
}

}  // namespace sigmanet
