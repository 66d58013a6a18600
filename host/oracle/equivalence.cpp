// Backend-against-oracle checks (ReferenceNetwork<double>) shared by `sigmanet verify` and the tests.
#include "oracle/equivalence.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <numeric>

#include "oracle/reference_network.hpp"
#include "sigmanet/error.hpp"
#include "sigmanet/random.hpp"

namespace sigmanet {
namespace {

// The book's learning rates, so the checks take the steps users take: 3.0 for chapter 1's quadratic cost, 0.5
// for chapter 3's costs (whose gradients lack the sigmoid's damping factor a (1 - a)).
double eta_for(const Objective& objective) { return objective.cost == Cost::quadratic ? 3.0 : 0.5; }

template <class G>
Comparison compare_values(std::span<const G> got, std::span<const double> ref) {
  if (got.size() != ref.size())
    throw Error("compare: " + std::to_string(got.size()) + " values against " + std::to_string(ref.size()));
  double max_abs = 0.0, diff2 = 0.0, ref2 = 0.0;
  bool finite = true;
  for (std::size_t i = 0; i < got.size(); ++i) {
    const double g = double(got[i]), r = ref[i];
    finite = finite && std::isfinite(g) && std::isfinite(r);
    const double d = std::abs(g - r);
    max_abs = std::max(max_abs, d);
    diff2 += d * d;
    ref2 += r * r;
  }
  if (!finite) return {std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::quiet_NaN()};
  const double relative =
      ref2 > 0 ? std::sqrt(diff2) / std::sqrt(ref2) : (diff2 > 0 ? std::numeric_limits<double>::infinity() : 0.0);
  return {max_abs, relative};
}

std::vector<double> flatten(const Parameters& p) {
  std::vector<double> v;
  for (std::size_t l = 0; l < p.layers(); ++l) {
    v.insert(v.end(), p.weights[l].begin(), p.weights[l].end());
    v.insert(v.end(), p.biases[l].begin(), p.biases[l].end());
  }
  return v;
}

// Trains `candidate` and the oracle from `start` on the records `order` names, `batch` at a time, at the book's eta
// for the objective; returns the oracle as it ends.
ReferenceNetwork<double> train_beside_oracle(Backend& candidate, const Dataset& train, const Parameters& start,
                                             const Objective& objective, std::span<const std::uint32_t> order,
                                             std::size_t batch) {
  candidate.set_training_data(train);
  candidate.set_parameters(start);
  candidate.set_objective(objective);
  candidate.train(order, batch, eta_for(objective), {});
  ReferenceNetwork<double> reference(start, objective);
  reference.train(train, order, batch, eta_for(objective));
  return reference;
}

// " cross-entropy L2 5" for a stage's name: the objective when it is not chapter 1's, else nothing.
std::string objective_label(const Objective& objective) {
  if (objective.cost == Cost::quadratic && objective.lambda == 0) return {};
  std::string label = " ";
  label += objective_text(objective);
  return label;
}

}  // namespace

std::vector<double> minus(std::span<const double> a, std::span<const double> b) {
  if (a.size() != b.size())
    throw Error("minus: " + std::to_string(a.size()) + " values less " + std::to_string(b.size()));
  std::vector<double> d(a.size());
  for (std::size_t i = 0; i < a.size(); ++i) d[i] = a[i] - b[i];
  return d;
}

Comparison compare(std::span<const double> got, std::span<const double> ref) { return compare_values(got, ref); }
Comparison compare(std::span<const float> got, std::span<const double> ref) { return compare_values(got, ref); }

Comparison compare(const Parameters& got, const Parameters& ref) {
  if (got.sizes != ref.sizes) throw Error("compare: networks of different sizes");
  const std::vector<double> g = flatten(got), r = flatten(ref);
  return compare(std::span<const double>(g), std::span<const double>(r));
}

bool StageCheck::ok() const {
  const double measure = judged_by_abs ? result.max_abs : result.relative;
  return std::isfinite(measure) && measure <= tolerance;
}

bool all_ok(const std::vector<StageCheck>& checks) {
  return std::all_of(checks.begin(), checks.end(), [](const StageCheck& c) { return c.ok(); });
}

std::string format_checks(const std::vector<StageCheck>& checks) {
  std::size_t width = 5;
  for (const StageCheck& c : checks) width = std::max(width, c.stage.size());
  std::string out;
  char line[512];
  std::snprintf(line, sizeof line, "%-*s  %13s  %13s  %15s  %s\n", int(width), "stage", "max abs error",
                "relative", "tolerance", "result");
  out += line;
  for (const StageCheck& c : checks) {
    char tolerance[64];
    std::snprintf(tolerance, sizeof tolerance, "%.1e %s", c.tolerance, c.judged_by_abs ? "abs" : "rel");
    std::snprintf(line, sizeof line, "%-*s  %13.3e  %13.3e  %15s  %s\n", int(width), c.stage.c_str(),
                  c.result.max_abs, c.result.relative, tolerance, c.ok() ? "OK" : "NOT OK");
    out += line;
  }
  return out;
}

std::string objective_text(const Objective& objective) {
  std::string text = to_string(objective.cost);
  if (objective.lambda != 0) {
    char lambda[32];
    std::snprintf(lambda, sizeof lambda, " L2 %g", objective.lambda);
    text += lambda;
  }
  return text;
}

StageCheck check_one_step(Backend& candidate, const Dataset& train, const std::vector<int>& sizes, std::size_t m,
                          std::uint64_t seed, const Objective& objective) {
  if (m == 0 || m > train.size())
    throw Error("check_one_step: batch of " + std::to_string(m) + " from a set of " + std::to_string(train.size()));
  Rng rng(seed);
  Parameters start = init_parameters(sizes, Init::standard, rng);
  start.output = output_activation(objective.cost);
  std::vector<std::uint32_t> order(m);
  std::iota(order.begin(), order.end(), 0u);

  ReferenceNetwork<double> reference = train_beside_oracle(candidate, train, start, objective, order, m);
  // Compare the change each made, not the parameters: a wrong update would hide under the parameters' size.
  const std::vector<double> from = flatten(start);
  const std::vector<double> got = minus(flatten(candidate.parameters()), from);
  const std::vector<double> ref = minus(flatten(reference.parameters()), from);
  return {"one SGD step " + sizes_text(sizes, '-') + " m=" + std::to_string(m) + objective_label(objective) +
              " (update)",
          compare(std::span<const double>(got), std::span<const double>(ref)),
          candidate.precision() == Precision::f64 ? kDoubleStepTolerance : kStepTolerance};
}

std::vector<StageCheck> check_epoch(Backend& candidate, const Dataset& train, const Dataset& test,
                                    const std::vector<int>& sizes, std::size_t batch, std::uint64_t seed,
                                    std::size_t samples, const Objective& objective) {
  // Scaled initialisation: from N(0, 1) weights (Nielsen's chapter 1) an MNIST epoch at eta 3 is chaotic
  // enough that float and double part ways after ~1,500 steps (measured: relative difference 6e-6 after
  // 1,000 batches, 2e-4 after 2,000, 5e-2 after 5,000), whatever the implementation; from N(0, 1/n_in)
  // weights the whole epoch stays near 2e-5, so a real fault stands out.
  if (batch == 0) throw Error("check_epoch: batch size 0");
  Rng rng(seed);
  Parameters start = init_parameters(sizes, Init::scaled, rng);
  start.output = output_activation(objective.cost);
  const std::vector<std::uint32_t> full_order = rng.permutation(train.size());
  const std::span<const std::uint32_t> order(full_order.data(),
                                             samples ? std::min(samples, full_order.size()) : full_order.size());

  ReferenceNetwork<double> reference = train_beside_oracle(candidate, train, start, objective, order, batch);
  const bool is_double = candidate.precision() == Precision::f64;
  const double tolerance = is_double ? kDoubleEpochTolerance : kEpochTolerance;
  const std::size_t batches = (order.size() + batch - 1) / batch;
  const std::string name = (order.size() == train.size() ? "epoch " : std::to_string(batches) + " batches ") +
                           sizes_text(sizes, '-') + " batch " + std::to_string(batch) + objective_label(objective) +
                           " (scaled init)";
  std::vector<StageCheck> checks;
  checks.push_back({name + ": parameters", compare(candidate.parameters(), reference.parameters()), tolerance});

  const Evaluation got = candidate.evaluate(test), ref = reference.evaluate(test);
  const double points = 100.0 * std::abs(got.accuracy() - ref.accuracy());
  checks.push_back({name + ": " + test.name + " accuracy (points)",
                    {points, ref.accuracy() > 0 ? points / (100.0 * ref.accuracy()) : points},
                    kAccuracyTolerancePoints,
                    true});
  const double cost_diff = std::abs(got.cost - ref.cost);
  checks.push_back({name + ": " + test.name + " cost",
                    {cost_diff, std::isfinite(got.cost) ? cost_diff / std::abs(ref.cost) : got.cost},
                    tolerance});
  return checks;
}

Dataset synthetic_dataset(std::string name, std::size_t count, std::size_t rows, std::size_t cols,
                          std::uint64_t seed) {
  if (rows < 10) throw Error("synthetic_dataset: needs at least 10 rows, one band per digit");
  Rng rng(seed);
  Dataset d;
  d.name = std::move(name);
  d.rows = rows;
  d.cols = cols;
  d.labels.resize(count);
  d.pixels.resize(count * rows * cols);
  for (std::size_t s = 0; s < count; ++s) {
    const auto label = static_cast<std::uint8_t>(rng.below(10));
    d.labels[s] = label;
    const std::size_t band_first = label * rows / 10, band_last = (label + 1) * rows / 10;
    for (std::size_t r = 0; r < rows; ++r)
      for (std::size_t c = 0; c < cols; ++c) {
        const bool lit = r >= band_first && r < band_last;
        d.pixels[(s * rows + r) * cols + c] = static_cast<std::uint8_t>(lit ? 128 + rng.below(128) : rng.below(96));
      }
  }
  return d;
}

Dataset synthetic_records(std::string name, std::size_t count, std::size_t features, std::size_t classes,
                          bool values, std::uint64_t seed) {
  if (classes < 2 || classes > 256 || classes > features)
    throw Error("synthetic_records: needs 2 to 256 classes, at most one a feature");
  Rng rng(seed);
  Dataset d;
  d.name = std::move(name);
  d.rows = 1;
  d.cols = features;
  d.labels.resize(count);
  if (values)
    d.values.resize(count * features);
  else
    d.pixels.resize(count * features);
  for (std::size_t s = 0; s < count; ++s) {
    const auto label = static_cast<std::uint8_t>(rng.below(classes));
    d.labels[s] = label;
    const std::size_t band_first = label * features / classes, band_last = (label + 1) * features / classes;
    for (std::size_t k = 0; k < features; ++k) {
      const bool lit = k >= band_first && k < band_last;
      if (values)
        d.values[s * features + k] = float(lit ? 1 + rng.uniform() : rng.uniform() - 0.5);
      else
        d.pixels[s * features + k] = static_cast<std::uint8_t>(lit ? 128 + rng.below(128) : rng.below(96));
    }
  }
  return d;
}

}  // namespace sigmanet
