// The oracle against things that do not come from its own code: a 2-3-2 net whose every stage was
// computed by hand in 40-digit arithmetic (mpmath, from Nielsen's equations), a net of zero weights whose
// values are exact by inspection, and central finite differences of its own cost; then its training and
// evaluation over a Dataset, and the input it refuses.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "oracle/reference_network.hpp"
#include "sigmanet/error.hpp"
#include "sigmanet/random.hpp"
#include "test_support.hpp"

namespace sigmanet {
namespace {

// 2-3-2, batch of two: x = (1, 0.5) labelled 1 and x = (0.25, -0.5) labelled 0, eta 3.
Parameters tiny() {
  Parameters p;
  p.sizes = {2, 3, 2};
  p.weights = {{0.5, -1.0, 1.5, 0.25, -0.75, 2.0}, {1.0, -2.0, 0.5, -1.5, 0.75, 1.25}};
  p.biases = {{0.1, -0.2, 0.3}, {0.2, -0.1}};
  return p;
}
const std::vector<double> kTinyX = {1.0, 0.5, 0.25, -0.5};
const std::vector<std::uint8_t> kTinyLabels = {1, 0};

// Doubles agree with the 40-digit values to a few units in the last place; floats to a few of theirs.
template <class T>
constexpr double kHandTolerance = sizeof(T) == 4 ? 1e-6 : 1e-14;

template <class T>
void expect_values(const std::vector<T>& got, const std::vector<double>& want, const char* what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  for (std::size_t i = 0; i < want.size(); ++i)
    EXPECT_NEAR(double(got[i]), want[i], kHandTolerance<T>) << what << " " << i;
}

template <class T>
void check_tiny_by_hand() {
  ReferenceNetwork<T> net(tiny());
  const std::vector<T> x(kTinyX.begin(), kTinyX.end());
  net.forward(x.data(), 2);
  expect_values(net.activation(1),
                {0.52497918747893999, 0.80612106217614012, 0.63413559101080068, 0.67370709945452141,
                 0.51249739648421034, 0.29162600896767297},
                "a1");
  expect_values(net.activation(2), {0.36119179821829898, 0.62475759690875533, 0.49863133116098622, 0.41055897430324825},
                "a2");
  net.backward(kTinyLabels.data());
  expect_values(net.delta(1), {0.083338608246451249, -0.087970156155163901, -0.12534122801869309, 0.099355396148860192},
                "delta2");
  expect_values(net.delta(0),
                {0.053689125915374408, -0.036361599584006645, -0.015844588710107371, -0.060314566848774482,
                 0.081248959607329987, 0.012709568946569536},
                "delta1");
  expect_values(net.weight_gradient(0),
                {0.038610484203180788, 0.057001846382074445, -0.016049359682174148, -0.058805279595668316,
                 -0.012667196473464987, -0.014277078828338454},
                "dC/dw1");
  expect_values(net.bias_gradient(0), {-0.0066254409334000734, 0.044887360023323342, -0.0031350197635378354}, "dC/db1");
  expect_values(net.weight_gradient(1),
                {-0.040692240327693846, 0.0029439543681965446, 0.016295215508182418, 0.020753934653870111,
                 -0.019995213866653447, -0.026810389316473083},
                "dC/dw2");
  expect_values(net.bias_gradient(1), {-0.04200261977224184, 0.011385239993696291}, "dC/db2");
  net.update(T(3));  // eta/m = 1.5
  expect_values(net.weights(0),
                {0.44208427369522882, -1.0855027695731117, 1.5240740395232612, 0.33820791939350247,
                 -0.73099920528980252, 2.0214156182425077},
                "w1 after the step");
  expect_values(net.biases(1), {0.26300392965836276, -0.11707785999054444}, "b2 after the step");
}

TEST(ReferenceNetwork, TinyNetMatchesHandComputedValuesInDouble) { check_tiny_by_hand<double>(); }
TEST(ReferenceNetwork, TinyNetMatchesHandComputedValuesInFloat) { check_tiny_by_hand<float>(); }

// All weights and biases zero: every activation is sigma(0) = 1/2 exactly, so delta^L = (1/2 - y) / 4 is
// +-1/8, the hidden deltas are 0 (no weight carries the error back), and dC/dw^L_jk = delta_j / 2.
TEST(ReferenceNetwork, ZeroWeightsGiveExactValues) {
  Parameters p;
  p.sizes = {3, 2, 2};
  p.weights = {std::vector<double>(6, 0.0), std::vector<double>(4, 0.0)};
  p.biases = {{0.0, 0.0}, {0.0, 0.0}};
  ReferenceNetwork<double> net(p);
  const double x[3] = {0.3, 0.6, 0.9};
  const std::uint8_t label = 1;
  net.forward(x, 1);
  EXPECT_EQ(net.activation(2), (std::vector<double>{0.5, 0.5}));
  net.backward(&label);
  EXPECT_EQ(net.delta(1), (std::vector<double>{0.125, -0.125}));
  EXPECT_EQ(net.delta(0), (std::vector<double>{0.0, 0.0}));
  EXPECT_EQ(net.weight_gradient(1), (std::vector<double>{0.0625, 0.0625, -0.0625, -0.0625}));
  EXPECT_EQ(net.bias_gradient(1), (std::vector<double>{0.125, -0.125}));
  EXPECT_EQ(net.weight_gradient(0), std::vector<double>(6, 0.0));
  net.update(2.0);
  EXPECT_EQ(net.biases(1), (std::vector<double>{-0.25, 0.25}));
  EXPECT_EQ(net.weights(1), (std::vector<double>{-0.125, -0.125, 0.125, 0.125}));
}

// Cost of a batch, for the finite differences: sum over samples of 1/2 ||y - a||^2 (from evaluate's (6)).
double batch_cost(const ReferenceNetwork<double>& net, const std::vector<std::uint8_t>& labels, std::size_t width) {
  double cost = 0;
  for (std::size_t s = 0; s < labels.size(); ++s)
    for (std::size_t j = 0; j < width; ++j) {
      const double e = net.activation(net.layers())[s * width + j] - (labels[s] == j ? 1.0 : 0.0);
      cost += 0.5 * e * e;
    }
  return cost;
}

TEST(ReferenceNetwork, GradientsMatchCentralFiniteDifferences) {
  for (const std::vector<int>& sizes : std::vector<std::vector<int>>{{4, 3}, {5, 4, 3}, {6, 5, 4, 3}}) {
    Rng rng(21 + sizes.size());
    const Parameters p = init_parameters(sizes, Init::scaled, rng);
    const std::size_t m = 3, width = std::size_t(sizes.back());
    std::vector<double> x(m * std::size_t(sizes.front()));
    for (double& v : x) v = rng.uniform();
    std::vector<std::uint8_t> labels(m);
    for (auto& v : labels) v = static_cast<std::uint8_t>(rng.below(width));
    ReferenceNetwork<double> net(p);
    net.forward(x.data(), m);
    net.backward(labels.data());
    auto cost_with = [&](Parameters q) {
      ReferenceNetwork<double> other(q);
      other.forward(x.data(), m);
      return batch_cost(other, labels, width);
    };
    const double h = 1e-5;
    double diff = 0, norm = 0;
    for (std::size_t l = 0; l < p.layers(); ++l)
      for (int which = 0; which < 2; ++which) {
        const std::vector<double>& analytic = which == 0 ? net.weight_gradient(l) : net.bias_gradient(l);
        for (std::size_t i = 0; i < analytic.size(); ++i) {
          Parameters plus = p, minus = p;
          (which == 0 ? plus.weights : plus.biases)[l][i] += h;
          (which == 0 ? minus.weights : minus.biases)[l][i] -= h;
          const double numeric = (cost_with(plus) - cost_with(minus)) / (2 * h);
          diff += (numeric - analytic[i]) * (numeric - analytic[i]);
          norm += analytic[i] * analytic[i];
        }
      }
    EXPECT_LT(std::sqrt(diff / norm), 1e-7) << sizes.size() << " layers";
    EXPECT_GT(norm, 0.0);
  }
}

Dataset four_images() {
  Dataset d;
  d.name = "four";
  d.rows = 1;
  d.cols = 2;
  d.pixels = {255, 0, 51, 102, 0, 0, 255, 255};
  d.labels = {1, 0, 0, 1};
  return d;
}

// train() is forward + backward + update per batch on pixel / 255, the last batch short; evaluate() is
// the argmax and the mean of 1/2 ||y - a||^2 over the set.
TEST(ReferenceNetwork, TrainsAndEvaluatesADatasetBatchByBatch) {
  const Dataset d = four_images();
  const std::vector<std::uint32_t> order = {1, 0, 3};
  ReferenceNetwork<double> trained(tiny()), by_hand(tiny());
  trained.train(d, order, 2, 3.0);
  const std::uint32_t first[2] = {1, 0}, last[1] = {3};
  std::vector<double> x(4);
  reference_inputs(d, first, 2, x.data());
  EXPECT_EQ(x, (std::vector<double>{0.2, 0.4, 1.0, 0.0}));
  const std::uint8_t labels_first[2] = {0, 1}, labels_last[1] = {1};
  by_hand.forward(x.data(), 2);
  by_hand.backward(labels_first);
  by_hand.update(3.0);
  reference_inputs(d, last, 1, x.data());
  by_hand.forward(x.data(), 1);
  by_hand.backward(labels_last);
  by_hand.update(3.0);
  EXPECT_EQ(trained.parameters().weights, by_hand.parameters().weights);
  EXPECT_EQ(trained.parameters().biases, by_hand.parameters().biases);

  // Evaluated by hand (mpmath): the untrained tiny net says 1 for all four images, right for two of them,
  // at a mean cost of 0.22137624695422637.
  const Evaluation e = ReferenceNetwork<double>(tiny()).evaluate(d);
  EXPECT_EQ(e.total, 4u);
  EXPECT_EQ(e.correct, 2u);
  EXPECT_NEAR(e.cost, 0.22137624695422637, 1e-15);
}

TEST(ReferenceNetwork, RefusesBadInput) {
  Parameters p = tiny();
  p.weights[1].pop_back();
  EXPECT_THROW(ReferenceNetwork<double>{p}, InputError);
  p = tiny();
  p.biases[0][1] = std::nan("");
  EXPECT_THROW(ReferenceNetwork<float>{p}, InputError);

  ReferenceNetwork<double> net(tiny());
  const Dataset d = four_images();
  const std::vector<std::uint32_t> past = {0, 4};
  EXPECT_EQ(test::thrown<Error>([&] { net.train(d, past, 2, 3.0); }),
            "ReferenceNetwork::train: order holds a record past the data");
  EXPECT_EQ(test::thrown<Error>([&] { net.train(d, std::vector<std::uint32_t>{0}, 0, 3.0); }),
            "ReferenceNetwork::train: batch size 0");
  Dataset wide = d;
  wide.cols = 1;
  wide.rows = 4;
  wide.labels.resize(2);
  EXPECT_THROW(net.evaluate(wide), SettingError);
  EXPECT_THROW(net.train(wide, std::vector<std::uint32_t>{0}, 1, 3.0), SettingError);
}

}  // namespace
}  // namespace sigmanet
