// Checkpoints: what goes in comes out, and a run that stops (between epochs or mid-epoch) and resumes from
// the file ends with exactly the parameters of a run that never stopped.
#include <gtest/gtest.h>

#include "sigmanet/backends/factory.hpp"
#include "cpu/fast_network.hpp"
#include "formats/atomic_file.hpp"
#include "formats/safetensors.hpp"
#include "safetensors_bytes.hpp"
#include "sigmanet/error.hpp"
#include "sigmanet/formats/checkpoint.hpp"
#include "sigmanet/formats/model_file.hpp"
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
  auto straight = make_backend(Device::cpu, c.precision);
  Trainer a(c, *straight, train);
  a.train_epoch();
  a.train_epoch();

  TempDir dir;
  {
    auto first = make_backend(Device::cpu, c.precision);
    Trainer b(c, *first, train);
    b.train_epoch();
    save_checkpoint(dir / "ck", Checkpoint{c, first->parameters(), b.state()});
  }
  const Checkpoint ck = load_checkpoint(dir / "ck");
  EXPECT_EQ(ck.state.epochs_done, 1);
  EXPECT_TRUE(ck.state.order.empty());
  auto second = make_backend(Device::cpu, c.precision);
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
  auto straight = make_backend(Device::cpu, c.precision);
  Trainer a(c, *straight, train);
  for (int e = 0; e < 3; ++e) a.train_epoch();

  TempDir dir;
  {
    auto first = make_backend(Device::cpu, c.precision);
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
  auto second = make_backend(Device::cpu, c.precision);
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
  // Not exact in binary, and 17 significant digits to come back bit for bit: six (std::to_string's "0.100000")
  // or %g's would round it. 0.1 and 0.3 survive six digits, so they cannot tell.
  c.eta = 0.1 / 3;
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

TEST(Checkpoint, KeepsChapter3SettingsAndTheRulesState) {
  TrainConfig c = small_config(Precision::f32);
  c.cost = Cost::log_likelihood;
  c.lambda = 0.3 / 7;  // not exact in binary, and rounded by six or %g's digits
  c.early_stopping = 4;
  c.halve_eta_after = 2;
  Rng rng(6);
  Checkpoint ck{c, init_parameters(c.sizes, c.init, rng), {}};
  ck.parameters.output = Activation::softmax;
  ck.state.epochs_done = 5;
  ck.state.rng = rng.snapshot();
  ck.state.eta_halvings = 3;
  ck.state.best_validation = 0.9123 / 3;
  ck.state.epochs_since_best = 1;
  ck.state.epochs_since_eta_change = 2;
  TempDir dir;
  save_checkpoint(dir / "ck", ck);
  const Checkpoint back = load_checkpoint(dir / "ck");
  EXPECT_EQ(back.config.cost, Cost::log_likelihood);
  EXPECT_EQ(back.config.lambda, 0.3 / 7);
  EXPECT_EQ(back.config.early_stopping, 4);
  EXPECT_EQ(back.config.halve_eta_after, 2);
  EXPECT_EQ(back.parameters.output, Activation::softmax);
  EXPECT_EQ(back.state.eta_halvings, 3);
  EXPECT_EQ(back.state.best_validation, 0.9123 / 3);
  EXPECT_EQ(back.state.epochs_since_best, 1);
  EXPECT_EQ(back.state.epochs_since_eta_change, 2);
  EXPECT_EQ(load_model(dir / "ck").parameters.output, Activation::softmax);
}

TEST(Checkpoint, AVersion1FileLoadsAsAChapter1Run) {
  const TrainConfig c = small_config(Precision::f64);
  Rng rng(7);
  Checkpoint ck{c, init_parameters(c.sizes, c.init, rng), {}};
  ck.state.rng = rng.snapshot();
  TempDir dir;
  save_checkpoint(dir / "ck", ck);
  SafeTensors f = read_safetensors(dir / "ck");
  f.metadata["version"] = std::string("1");
  for (const char* key : {"cost", "lambda", "early_stopping", "eta_schedule", "eta_halvings", "best_validation",
                          "epochs_since_best", "epochs_since_eta_change", "output_activation"})
    f.metadata.erase(key);
  write_safetensors(dir / "ck", f);
  const Checkpoint back = load_checkpoint(dir / "ck");
  EXPECT_EQ(back.config.cost, Cost::quadratic);
  EXPECT_EQ(back.config.lambda, 0.0);
  EXPECT_EQ(back.config.early_stopping, 0);
  EXPECT_EQ(back.config.halve_eta_after, 0);
  EXPECT_EQ(back.parameters.output, Activation::sigmoid);
  EXPECT_EQ(back.state.eta_halvings, 0);
  expect_identical(back.parameters, ck.parameters);
}

// A version 1 file is a chapter 1 run; metadata naming another cost, a lambda or a rule contradicts its version
// and used to be dropped silently, resuming another run than the file describes.
TEST(Checkpoint, AVersion1FileThatNamesChapter3SettingsIsRefused) {
  const TrainConfig c = small_config(Precision::f64);
  Rng rng(7);
  Checkpoint ck{c, init_parameters(c.sizes, c.init, rng), {}};
  ck.state.rng = rng.snapshot();
  TempDir dir;
  save_checkpoint(dir / "ck", ck);
  for (const auto& [key, value] : std::vector<std::pair<std::string, std::string>>{
           {"cost", "cross-entropy"}, {"lambda", "5"}, {"early_stopping", "3"}, {"eta_schedule", "halve:2"}}) {
    SafeTensors f = read_safetensors(dir / "ck");
    f.metadata["version"] = std::string("1");
    f.metadata[key] = value;
    write_safetensors(dir / "v1", f);
    try {
      load_checkpoint(dir / "v1");
      ADD_FAILURE() << key << " " << value << " was accepted";
    } catch (const InputError& e) {
      EXPECT_EQ(std::string(e.what()), (dir / "v1").string() +
                                           ": checkpoint version 1 is a chapter 1 run (quadratic cost, no L2, no "
                                           "rules), but its metadata says " + key + " \"" + value +
                                           "\"; refused rather than resumed as chapter 1");
    }
  }
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

// (One-character values as std::string: GCC 12 misreports assigning them as literals under -Wrestrict.)
TEST(Checkpoint, RefusesInconsistentFiles) {
  expect_refused("not a checkpoint", [](SafeTensors& f) { f.metadata["format"] = "sigmanet-model"; });
  expect_refused("version 9", [](SafeTensors& f) { f.metadata["version"] = std::string("9"); });
  expect_refused("no \"eta\"", [](SafeTensors& f) { f.metadata.erase("eta"); });
  expect_refused("\"eta\" is not a finite number", [](SafeTensors& f) { f.metadata["eta"] = "nan"; });
  expect_refused("\"batch\" is not a number", [](SafeTensors& f) { f.metadata["batch"] = "ten"; });
  expect_refused("settings are unusable", [](SafeTensors& f) { f.metadata["batch"] = std::string("0"); });
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
  expect_refused("\"cost\" is \"hinge\"", [](SafeTensors& f) { f.metadata["cost"] = std::string("hinge"); });
  expect_refused("does not go with its sigmoid output layer",
                 [](SafeTensors& f) { f.metadata["cost"] = std::string("log-likelihood"); });
  expect_refused("\"output_activation\"", [](SafeTensors& f) { f.metadata["output_activation"] = std::string("relu"); });
  expect_refused("lambda", [](SafeTensors& f) { f.metadata["lambda"] = std::string("-1"); });
  expect_refused("\"eta_schedule\"", [](SafeTensors& f) { f.metadata["eta_schedule"] = std::string("halve:0"); });
  expect_refused("\"eta_halvings\" must lie in 0..7", [](SafeTensors& f) { f.metadata["eta_halvings"] = std::string("8"); });
  expect_refused("validation accuracy is out of range",
                 [](SafeTensors& f) { f.metadata["best_validation"] = std::string("2"); });
  expect_refused("shapes do not chain", [](SafeTensors& f) {
    f.tensors["layers.1.weight"] = Tensor::from_doubles(std::vector<double>(50, 0.1), {10, 5}, Dtype::f32);
    f.metadata.erase("sizes");
  });
}

// A mid-epoch checkpoint with a spare normal: every tensor and every metadata field in use.
Checkpoint mid_epoch_checkpoint(Precision precision) {
  const TrainConfig c = small_config(precision);
  Rng rng(11);
  rng.normal();
  Checkpoint ck{c, init_parameters(c.sizes, c.init, rng), {}};
  ck.state.epochs_done = 1;
  ck.state.order = rng.permutation(c.split.train);
  ck.state.position = 40;
  ck.state.rng = rng.snapshot();
  return ck;
}

void expect_damage_refused(const std::filesystem::path& file, const std::string& tensor) {
  try {
    load_checkpoint(file);
    ADD_FAILURE() << "a damaged " << tensor << " was loaded";
  } catch (const InputError& e) {
    const std::string m = e.what();
    EXPECT_EQ(m.rfind(file.string() + ": tensor '" + tensor + "' is damaged: ", 0), 0u) << m;
    EXPECT_EQ(m.find('\n'), std::string::npos) << m;
  }
}

class CheckpointChecksums : public ::testing::TestWithParam<Precision> {};

// Each flip leaves a checkpoint every other check accepts: a finite weight off in its last bit, another
// generator state, another spare normal. Without the checksums they load (shown on the same bytes).
TEST_P(CheckpointChecksums, AFlippedBitIsRefusedNamingTheFileAndTheTensor) {
  TempDir dir;
  const Checkpoint ck = mid_epoch_checkpoint(GetParam());
  save_checkpoint(dir / "ck", ck);
  const Checkpoint saved = load_checkpoint(dir / "ck");  // a float run's parameters as F32 hold them
  const test::Bytes good = read_file_bytes(dir / "ck");
  for (const std::string tensor : {"layers.0.weight", "layers.1.bias", "trainer.rng", "trainer.spare_normal"}) {
    test::Bytes bad = good;
    test::flip_bit(bad, tensor, 0, 0);
    test::write_bytes(dir / "bad", bad);
    expect_damage_refused(dir / "bad", tensor);
    test::write_bytes(dir / "old", test::without_checksums(bad));
    const Checkpoint loaded = load_checkpoint(dir / "old");
    const bool changed = loaded.parameters.weights != saved.parameters.weights ||
                         loaded.parameters.biases != saved.parameters.biases ||
                         loaded.state.rng.state != saved.state.rng.state ||
                         loaded.state.rng.spare_normal != saved.state.rng.spare_normal;
    EXPECT_TRUE(changed) << tensor << ": the flip should have changed what loads";
  }
}

TEST_P(CheckpointChecksums, ACheckpointWithoutChecksumsLoadsAsBefore) {
  TempDir dir;
  const Checkpoint ck = mid_epoch_checkpoint(GetParam());
  save_checkpoint(dir / "ck", ck);
  test::write_bytes(dir / "old", test::without_checksums(read_file_bytes(dir / "ck")));
  ASSERT_FALSE(read_safetensors(dir / "old").checksums);
  ASSERT_TRUE(read_safetensors(dir / "ck").checksums);
  const Checkpoint back = load_checkpoint(dir / "old");
  expect_identical(back.parameters, load_checkpoint(dir / "ck").parameters);
  EXPECT_EQ(back.state.order, ck.state.order);
  EXPECT_EQ(back.state.position, ck.state.position);
  EXPECT_EQ(back.state.rng.state, ck.state.rng.state);
  EXPECT_EQ(back.state.rng.spare_normal, ck.state.rng.spare_normal);
  // Saved again, it is the file sigmanet writes now, byte for byte.
  save_checkpoint(dir / "again", back);
  EXPECT_EQ(read_file_bytes(dir / "again"), read_file_bytes(dir / "ck"));
}

TEST_P(CheckpointChecksums, AMissingOrMalformedChecksumIsRefused) {
  TempDir dir;
  save_checkpoint(dir / "ck", mid_epoch_checkpoint(GetParam()));
  const test::Bytes good = read_file_bytes(dir / "ck");
  const std::vector<std::pair<std::function<void(nlohmann::json&)>, std::string>> cases = {
      {[](nlohmann::json& h) { h["__metadata__"].erase("crc32:trainer.order"); },
       "tensor 'trainer.order' has no checksum"},
      {[](nlohmann::json& h) { h["__metadata__"]["crc32:layers.0.bias"] = "0000000g"; },
       "tensor 'layers.0.bias': checksum \"0000000g\" in __metadata__ is not a CRC32"},
      {[](nlohmann::json& h) { h["__metadata__"]["crc32:layers.9.bias"] = "00000000"; },
       "the checksum of tensor 'layers.9.bias', which the file does not hold"},
  };
  for (const auto& [edit, says] : cases) {
    test::write_bytes(dir / "bad", test::with_header_edited(good, edit));
    try {
      load_checkpoint(dir / "bad");
      ADD_FAILURE() << "accepted; expected: " << says;
    } catch (const InputError& e) {
      const std::string m = e.what();
      EXPECT_EQ(m.rfind((dir / "bad").string() + ": ", 0), 0u) << m;
      EXPECT_NE(m.find(says), std::string::npos) << m;
    }
  }
}

TEST_P(CheckpointChecksums, SaveLoadSaveIsByteIdentical) {
  TempDir dir;
  save_checkpoint(dir / "a", mid_epoch_checkpoint(GetParam()));
  save_checkpoint(dir / "b", load_checkpoint(dir / "a"));
  EXPECT_EQ(read_file_bytes(dir / "a"), read_file_bytes(dir / "b"));
}

INSTANTIATE_TEST_SUITE_P(Precisions, CheckpointChecksums, ::testing::Values(Precision::f32, Precision::f64),
                         [](const auto& info) { return std::string(info.param == Precision::f32 ? "float" : "double"); });

}  // namespace
}  // namespace sigmanet
