// The fast CPU backend against the oracle on data unlike MNIST: float features (used as given, negative and past
// 1), and input widths and class counts other than 784 and 10, in float and double, one step at batches 1, 7 and
// 10 and an epoch at batch 10, through the Backend interface as training uses it. The tolerances are
// equivalence.hpp's, the ones MNIST is held to; measured worst here: one step 4.4e-6 in float (5e-5 allowed) and
// 2.4e-15 in double (1e-12), an epoch's parameters 2.0e-7 (1e-4) and 3.0e-16 (1e-10), accuracy the same.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "cpu/fast_network.hpp"
#include "oracle/equivalence.hpp"
#include "oracle/reference_network.hpp"
#include "sigmanet/backends/factory.hpp"
#include "sigmanet/cost.hpp"
#include "sigmanet/random.hpp"
#include "test_support.hpp"

namespace sigmanet {
namespace {

using test::Geometry;

const Geometry kGeometries[] = {{1, 13, 3, true}, {20, 20, 47, false}, {1, 5, 2, true}, {1, 300, 12, true}};

void expect_ok(const StageCheck& c, const std::string& where) {
  EXPECT_TRUE(c.ok()) << where << "\n" << format_checks({c});
}

TEST(CpuBackendAnyData, OneStepMatchesTheOracle) {
  for (Precision precision : {Precision::f32, Precision::f64})
    for (const Geometry& g : kGeometries) {
      const Dataset train = g.records("train", 40, 1);
      const int n_in = int(g.rows * g.cols), n_out = int(g.classes);
      for (const std::vector<int>& sizes : {std::vector<int>{n_in, 17, n_out}, std::vector<int>{n_in, 9, 7, n_out}})
        for (std::size_t m : {1u, 7u, 10u})
          for (const Objective& objective : {Objective{}, Objective{Cost::log_likelihood, 0.0}}) {
            const auto cpu = make_backend(Device::cpu, precision);
            expect_ok(check_one_step(*cpu, train, sizes, m, 3, objective), g.text() + " " + to_string(precision));
          }
    }
}

TEST(CpuBackendAnyData, AnEpochMatchesTheOracle) {
  for (Precision precision : {Precision::f32, Precision::f64})
    for (const Geometry& g : kGeometries) {
      const Dataset train = g.records("train", 600, 2), test = g.records("test", 200, 3);
      const auto cpu = make_backend(Device::cpu, precision);
      for (const StageCheck& c :
           check_epoch(*cpu, train, test, {int(g.rows * g.cols), 17, int(g.classes)}, 10, 4))
        expect_ok(c, g.text() + " " + to_string(precision));
    }
}

// Pixel data of odd geometry sparse enough for the first layer's sparse sums (cpu_backend.cpp takes them at
// most FastCpuNetwork::kSparseInputDensity nonzero): the unlit pixels below 80 made 0.
TEST(CpuBackendAnyData, SparsePixelsOfAnyWidthMatchTheOracle) {
  const Geometry g{20, 20, 47, false};
  const auto sparse = [](Dataset d) {
    std::size_t nonzero = 0;
    for (std::uint8_t& p : d.pixels) {
      if (p < 80) p = 0;
      nonzero += p != 0;
    }
    EXPECT_LE(double(nonzero), FastCpuNetwork<float>::kSparseInputDensity * double(d.pixels.size()));
    return d;
  };
  const Dataset train = sparse(g.records("train", 600, 7)), test = sparse(g.records("test", 200, 8));
  // The fast network takes them through the sparse sums, straight from their bytes.
  Rng rng(11);
  FastCpuNetwork<float> net(init_parameters({400, 17, 47}, Init::standard, rng));
  const std::vector<std::uint32_t> index = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
  net.forward_images(train, index.data(), index.size());
  EXPECT_TRUE(net.last_forward_sparse());
  for (Precision precision : {Precision::f32, Precision::f64}) {
    const auto cpu = make_backend(Device::cpu, precision);
    for (std::size_t m : {1u, 7u, 10u})
      expect_ok(check_one_step(*cpu, train, {400, 17, 47}, m, 9), g.text() + " sparse " + to_string(precision));
    for (const StageCheck& c : check_epoch(*cpu, train, test, {400, 17, 47}, 10, 10))
      expect_ok(c, g.text() + " sparse " + to_string(precision));
  }
}

// Float features reach the network as given: the oracle's input is each value itself (not value / 255), and the
// backend's outputs for a record are the oracle's.
TEST(CpuBackendAnyData, FloatValuesAreUsedAsGiven) {
  const Geometry g{1, 13, 3, true};
  const Dataset train = g.records("train", 40, 5);
  Rng rng(6);
  Parameters p = init_parameters({13, 17, 3}, Init::standard, rng);
  const auto cpu = make_backend(Device::cpu, Precision::f64);
  cpu->set_training_data(train);
  cpu->set_parameters(p);
  ReferenceNetwork<double> oracle(p);
  std::vector<double> x(13);
  const std::uint32_t record = 0;
  reference_inputs(train, &record, 1, x.data());
  for (std::size_t k = 0; k < 13; ++k) EXPECT_EQ(x[k], double(train.values[k])) << k;
  oracle.forward(x.data(), 1);
  const std::vector<double> out = cpu->outputs(train, 0, 1);
  ASSERT_EQ(out.size(), 3u);
  for (std::size_t j = 0; j < 3; ++j) EXPECT_NEAR(out[j], oracle.activation(2)[j], 1e-14) << j;
}

}  // namespace
}  // namespace sigmanet
