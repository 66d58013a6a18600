// Checkpoints: what goes in comes out, and a run that stops (between epochs or mid-epoch) and resumes from
// the file ends with exactly the parameters of a run that never stopped.
#include <gtest/gtest.h>

#include "sigmanet/formats/checkpoint.hpp"
#include "sigmanet/cpu/fast_network.hpp"
#include "sigmanet/error.hpp"
#include "sigmanet/formats/model_file.hpp"
#include "sigmanet/formats/safetensors.hpp"
#include "test_support.hpp"

namespace sigmanet {
namespace {

using test::TempDir;

// A small random training set: 8x8 images, fixed seed. Enough to exercise every step; fast.
Dataset random_set(std::size_t n, std::uint64_t seed) {
  Rng rng(seed);
  Dataset d;
  d.name = "random";
  d.rows = d.cols = 8;
  d.pixels.resize(n * 64);
  for (auto& p : d.pixels) p = static_cast<std::uint8_t>(rng.below(256));
  for (std::size_t i = 0; i < n; ++i) d.labels.push_back(static_cast<std::uint8_t>(rng.below(10)));
  return d;
}

TrainConfig small_config(Precision precision) {
  TrainConfig c;
  c.sizes = {64, 12, 10};
  c.epochs = 2;
  c.batch = 10;
  c.eta = 3.0;
  c.seed = 42;
  c.precision = precision;
  c.split.train = 205;  // not a multiple of the batch: the last batch of an epoch is short
  return c;
}

void expect_identical(const Parameters& a, const Parameters& b) {
  ASSERT_EQ(a.sizes, b.sizes);
  for (std::size_t l = 0; l < a.layers(); ++l) {
    EXPECT_EQ(a.weights[l], b.weights[l]) << "layer " << l << " weights differ";
    EXPECT_EQ(a.biases[l], b.biases[l]) << "layer " << l << " biases differ";
  }
}

class ResumeTest : public ::testing::TestWithParam<Precision> {};

// Two epochs straight == one epoch, checkpoint to a file, a fresh backend and trainer resumed from it, one more.
TEST_P(ResumeTest, BetweenEpochsIsBitIdentical) {
  const TrainConfig c = small_config(GetParam());
  const Dataset train = random_set(c.split.train, 9);
  auto straight = make_cpu_backend(c.precision);
  Trainer a(c, *straight, train);
  a.train_epoch();
  a.train_epoch();

  TempDir dir;
  {
    auto first = make_cpu_backend(c.precision);
    Trainer b(c, *first, train);
    b.train_epoch();
    save_checkpoint(dir / "ck", Checkpoint{c, first->parameters(), b.state()});
  }
  const Checkpoint ck = load_checkpoint(dir / "ck");
  EXPECT_EQ(ck.state.epochs_done, 1);
  EXPECT_TRUE(ck.state.order.empty());
  auto second = make_cpu_backend(c.precision);
  Trainer resumed(ck.config, *second, train);
  resumed.resume(ck.parameters, ck.state);
  resumed.train_epoch();
  EXPECT_EQ(resumed.epochs_done(), 2);
  expect_identical(second->parameters(), straight->parameters());
}

// Stopped after 7 mini-batches of the second epoch (as SIGINT does), then resumed to the end of epoch 3.
TEST_P(ResumeTest, MidEpochIsBitIdentical) {
  TrainConfig c = small_config(GetParam());
  c.epochs = 3;
  const Dataset train = random_set(c.split.train, 10);
  auto straight = make_cpu_backend(c.precision);
  Trainer a(c, *straight, train);
  for (int e = 0; e < 3; ++e) a.train_epoch();

  TempDir dir;
  {
    auto first = make_cpu_backend(c.precision);
    Trainer b(c, *first, train);
    b.train_epoch();
    int batches = 0;
    EXPECT_FALSE(b.train_epoch([&](std::size_t) { return ++batches < 7; }));
    EXPECT_EQ(b.state().position, 70u);
    save_checkpoint(dir / "ck", Checkpoint{c, first->parameters(), b.state()});
  }
  const Checkpoint ck = load_checkpoint(dir / "ck");
  EXPECT_EQ(ck.state.epochs_done, 1);
  EXPECT_EQ(ck.state.position, 70u);
  EXPECT_EQ(ck.state.order.size(), c.split.train);
  auto second = make_cpu_backend(c.precision);
  Trainer resumed(ck.config, *second, train);
  resumed.resume(ck.parameters, ck.state);
  EXPECT_TRUE(resumed.train_epoch());
  EXPECT_TRUE(resumed.train_epoch());
  EXPECT_EQ(resumed.epochs_done(), 3);
  expect_identical(second->parameters(), straight->parameters());
}

INSTANTIATE_TEST_SUITE_P(Precisions, ResumeTest, ::testing::Values(Precision::f32, Precision::f64),
                         [](const auto& info) { return to_string(info.param); });

TEST(Checkpoint, KeepsEverySettingAndTheGeneratorExactly) {
  TrainConfig c = small_config(Precision::f64);
  c.eta = 0.1;  // not exact in binary: must come back bit for bit
  c.init = Init::scaled;
  c.seed = 18446744073709551615ull;
  c.split.validation = 17;
  c.split.test = 33;
  Rng rng(5);
  rng.normal();  // leaves a spare normal
  Checkpoint ck{c, init_parameters(c.sizes, c.init, rng), {}};
  ck.state.epochs_done = 4;
  ck.state.order = rng.permutation(c.split.train);
  ck.state.position = 30;
  ck.state.rng = rng.snapshot();
  ASSERT_TRUE(ck.state.rng.has_spare_normal);
  TempDir dir;
  save_checkpoint(dir / "ck", ck);
  const Checkpoint back = load_checkpoint(dir / "ck");
  EXPECT_EQ(back.config.sizes, c.sizes);
  EXPECT_EQ(back.config.epochs, c.epochs);
  EXPECT_EQ(back.config.batch, c.batch);
  EXPECT_EQ(back.config.eta, c.eta);
  EXPECT_EQ(back.config.seed, c.seed);
  EXPECT_EQ(back.config.init, c.init);
  EXPECT_EQ(back.config.precision, c.precision);
  EXPECT_EQ(back.config.split.train, c.split.train);
  EXPECT_EQ(back.config.split.validation, 17u);
  EXPECT_EQ(back.config.split.test, 33u);
  EXPECT_EQ(back.state.epochs_done, 4);
  EXPECT_EQ(back.state.order, ck.state.order);
  EXPECT_EQ(back.state.position, 30u);
  EXPECT_EQ(back.state.rng.state, ck.state.rng.state);
  EXPECT_EQ(back.state.rng.has_spare_normal, true);
  EXPECT_EQ(back.state.rng.spare_normal, ck.state.rng.spare_normal);
  expect_identical(back.parameters, ck.parameters);
  // A double run's parameters are F64 in the file; the model reader reads them too.
  EXPECT_EQ(read_safetensors(dir / "ck").tensors.at("layers.0.weight").dtype, Dtype::f64);
  expect_identical(load_model(dir / "ck").parameters, ck.parameters);
}

// Rewrites one part of a good checkpoint and expects load_checkpoint to refuse it naming the file.
void expect_refused(const std::string& says, void (*change)(SafeTensors&)) {
  TempDir dir;
  const TrainConfig c = small_config(Precision::f32);
  Rng rng(1);
  Checkpoint ck{c, init_parameters(c.sizes, c.init, rng), {}};
  ck.state.order = rng.permutation(c.split.train);
  ck.state.position = 20;
  ck.state.rng = rng.snapshot();
  save_checkpoint(dir / "ck", ck);
  SafeTensors f = read_safetensors(dir / "ck");
  change(f);
  write_safetensors(dir / "ck", f);
  try {
    load_checkpoint(dir / "ck");
    ADD_FAILURE() << "accepted; expected: " << says;
  } catch (const InputError& e) {
    const std::string m = e.what();
    EXPECT_EQ(m.rfind((dir / "ck").string() + ": ", 0), 0u) << m;
    EXPECT_NE(m.find(says), std::string::npos) << m;
  }
}

TEST(Checkpoint, RefusesInconsistentFiles) {
  expect_refused("not a checkpoint", [](SafeTensors& f) { f.metadata["format"] = "sigmanet-model"; });
  expect_refused("version 9", [](SafeTensors& f) { f.metadata["version"] = "9"; });
  expect_refused("no \"eta\"", [](SafeTensors& f) { f.metadata.erase("eta"); });
  expect_refused("\"eta\" is not a finite number", [](SafeTensors& f) { f.metadata["eta"] = "nan"; });
  expect_refused("\"batch\" is not a number", [](SafeTensors& f) { f.metadata["batch"] = "ten"; });
  expect_refused("settings are unusable", [](SafeTensors& f) { f.metadata["batch"] = "0"; });
  expect_refused("\"precision\"", [](SafeTensors& f) { f.metadata["precision"] = "half"; });
  expect_refused("not a permutation", [](SafeTensors& f) {
    auto order = f.tensors.at("trainer.order").as_u32("");
    order[1] = order[0];
    f.tensors["trainer.order"] = Tensor::from_u32(order, {order.size()});
  });
  expect_refused("indices for", [](SafeTensors& f) { f.metadata["train_size"] = "300"; });
  expect_refused("position 999", [](SafeTensors& f) { f.metadata["position"] = "999"; });
  expect_refused("expected U32", [](SafeTensors& f) {
    f.tensors["trainer.order"] = Tensor::from_u64(std::vector<std::uint64_t>{}, {0});
  });
  expect_refused("all zeros", [](SafeTensors& f) {
    f.tensors["trainer.rng"] = Tensor::from_u64(std::vector<std::uint64_t>(4, 0), {4});
  });
  expect_refused("no tensor 'trainer.rng'", [](SafeTensors& f) { f.tensors.erase("trainer.rng"); });
  expect_refused("shapes do not chain", [](SafeTensors& f) {
    f.tensors["layers.1.weight"] = Tensor::from_doubles(std::vector<double>(50, 0.1), {10, 5}, Dtype::f32);
    f.metadata.erase("sizes");
  });
}

}  // namespace
}  // namespace sigmanet
