// The one check of a network against data (backend.hpp's check_data_fits), and that the trainer and every
// backend on the CPU make it: a width other than the input layer's, or a label past the output layer, is refused
// with the set, the record and the sizes named, never read past the outputs.
#include <gtest/gtest.h>

#include "oracle/equivalence.hpp"
#include "oracle/reference_network.hpp"
#include "sigmanet/backends/factory.hpp"
#include "sigmanet/error.hpp"
#include "sigmanet/random.hpp"
#include "sigmanet/trainer.hpp"
#include "test_support.hpp"

namespace sigmanet {
namespace {

// 50 records of 13 float features in 3 classes, record 34's label raised to `label`.
Dataset with_label(std::uint8_t label) {
  Dataset d = synthetic_records("train", 50, 13, 3, true, 1);
  d.labels[34] = label;
  return d;
}

const char* const kLabelTooLarge = "sizes: train: label 12 at record 34 is not below the output layer's 3 neurons";

TEST(CheckDataFits, NamesTheFirstLabelPastTheOutputLayer) {
  const Dataset d = with_label(12);
  EXPECT_EQ(test::thrown<SettingError>([&] { check_data_fits({13, 5, 3}, d); }), kLabelTooLarge);
  try {
    check_data_fits({13, 5, 3}, d);
  } catch (const SettingError& e) {
    EXPECT_EQ(e.setting(), Setting::sizes);
    EXPECT_EQ(e.value(), "13,5,3");
  }
  // The largest label that fits, and an output layer wide enough for 12.
  EXPECT_NO_THROW(check_data_fits({13, 5, 3}, with_label(2)));
  EXPECT_NO_THROW(check_data_fits({13, 5, 13}, d));
}

TEST(CheckDataFits, NamesTheWidthsInFeatures) {
  const Dataset d = with_label(0);
  EXPECT_EQ(test::thrown<SettingError>([&] { check_data_fits({12, 5, 3}, d); }),
            "sizes: the input layer has 12 neurons but train records have 13 features");
  EXPECT_EQ(test::thrown<SettingError>([&] { check_input_width({14, 3}, d); }),
            "sizes: the input layer has 14 neurons but train records have 13 features");
}

TEST(CheckDataFits, TheTrainerAndEveryCpuBackendRefuseALabelPastTheOutputs) {
  const Dataset bad = with_label(12);
  TrainConfig c;
  c.sizes = {13, 5, 3};
  for (Precision precision : {Precision::f32, Precision::f64}) {
    c.precision = precision;
    const auto cpu = make_backend(Device::cpu, precision);
    EXPECT_EQ(test::thrown<SettingError>([&] { Trainer(c, *cpu, bad); }), kLabelTooLarge);

    // A backend given the set past the trainer: training and evaluation refuse it too.
    const Dataset good = with_label(0);
    Rng rng(2);
    cpu->set_training_data(good);
    cpu->set_parameters(init_parameters(c.sizes, Init::standard, rng));
    EXPECT_EQ(cpu->evaluate(good).total, 50u);
    EXPECT_EQ(test::thrown<SettingError>([&] { cpu->evaluate(bad); }), kLabelTooLarge);
    cpu->set_training_data(bad);
    const std::vector<std::uint32_t> order = rng.permutation(bad.size());
    EXPECT_EQ(test::thrown<SettingError>([&] { cpu->train(order, 10, 3.0, {}); }), kLabelTooLarge);
  }
  Rng rng(3);
  ReferenceNetwork<double> oracle(init_parameters(c.sizes, Init::standard, rng));
  const std::vector<std::uint32_t> order = rng.permutation(bad.size());
  EXPECT_EQ(test::thrown<SettingError>([&] { oracle.train(bad, order, 10, 3.0); }), kLabelTooLarge);
  EXPECT_EQ(test::thrown<SettingError>([&] { oracle.evaluate(bad); }), kLabelTooLarge);
}

}  // namespace
}  // namespace sigmanet
