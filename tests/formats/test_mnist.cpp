// The IDX reader on files the test writes itself, and load_mnist on the real data.
#include <gtest/gtest.h>

#include <numeric>

#include "formats/idx_parse.hpp"
#include "sigmanet/dataset.hpp"
#include "sigmanet/error.hpp"
#include "sigmanet/formats/mnist.hpp"
#include "test_support.hpp"

namespace sigmanet {
namespace {

using test::TempDir;

using test::idx_images;
using test::idx_labels;

// Expects an InputError whose message names the file and contains `what`.
template <class F>
void expect_input_error(F&& f, const std::filesystem::path& file, const std::string& what) {
  try {
    f();
    FAIL() << "no error for " << file;
  } catch (const InputError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find(file.string()), std::string::npos) << msg;
    EXPECT_NE(msg.find(what), std::string::npos) << msg;
  }
}

TEST(IdxReader, ReadsRawImages) {
  TempDir dir;
  test::write_bytes(dir / "img", idx_images(3, 28, 28));
  const IdxImages images = read_idx_images(dir / "img");
  EXPECT_EQ(images.count, 3u);
  EXPECT_EQ(images.rows, 28u);
  EXPECT_EQ(images.cols, 28u);
  ASSERT_EQ(images.pixels.size(), 3u * 784u);
  EXPECT_EQ(images.pixels[5], 35);
}

TEST(IdxReader, ReadsGzipToTheSameBytes) {
  TempDir dir;
  const auto raw = idx_images(4, 28, 28);
  test::write_bytes(dir / "img", raw);
  test::write_bytes(dir / "img.gz", test::gzip_bytes(raw));
  EXPECT_EQ(read_idx_images(dir / "img").pixels, read_idx_images(dir / "img.gz").pixels);
  test::write_bytes(dir / "lab.gz", test::gzip_bytes(idx_labels({1, 2, 9})));
  EXPECT_EQ(read_idx_labels(dir / "lab.gz"), (std::vector<std::uint8_t>{1, 2, 9}));
}

TEST(IdxReader, ReadsConcatenatedGzipMembers) {
  TempDir dir;
  const auto raw = idx_labels({3, 1, 4, 1, 5});
  auto first = test::gzip_bytes({raw.begin(), raw.begin() + 6});
  const auto second = test::gzip_bytes({raw.begin() + 6, raw.end()});
  first.insert(first.end(), second.begin(), second.end());
  test::write_bytes(dir / "lab.gz", first);
  EXPECT_EQ(read_idx_labels(dir / "lab.gz"), (std::vector<std::uint8_t>{3, 1, 4, 1, 5}));
}

TEST(IdxReader, RejectsWrongMagic) {
  TempDir dir;
  test::write_bytes(dir / "img", idx_images(1, 28, 28, 2049));
  expect_input_error([&] { read_idx_images(dir / "img"); }, dir / "img", "bad magic number 2049, expected 2051");
  test::write_bytes(dir / "lab", idx_labels({1}, 2051));
  expect_input_error([&] { read_idx_labels(dir / "lab"); }, dir / "lab", "bad magic number 2051, expected 2049");
}

TEST(IdxReader, RejectsTruncatedAndOverlongFiles) {
  TempDir dir;
  auto bytes = idx_images(2, 28, 28);
  bytes.pop_back();
  test::write_bytes(dir / "img", bytes);
  expect_input_error([&] { read_idx_images(dir / "img"); }, dir / "img", "truncated");
  bytes.push_back(0);
  bytes.push_back(0);
  test::write_bytes(dir / "img", bytes);
  expect_input_error([&] { read_idx_images(dir / "img"); }, dir / "img", "1 bytes past the end");
  test::write_bytes(dir / "lab", {0, 0, 8, 1, 0});
  expect_input_error([&] { read_idx_labels(dir / "lab"); }, dir / "lab", "truncated header");
}

TEST(IdxReader, RejectsCountMismatchInLoadMnist) {
  TempDir dir;
  test::write_bytes(dir / "train-images-idx3-ubyte", idx_images(5, 28, 28));
  test::write_bytes(dir / "train-labels-idx1-ubyte", idx_labels({1, 2, 3, 4}));
  test::write_bytes(dir / "t10k-images-idx3-ubyte", idx_images(2, 28, 28));
  test::write_bytes(dir / "t10k-labels-idx1-ubyte", idx_labels({1, 2}));
  expect_input_error([&] { load_mnist(dir.path(), {3, 1, 2}); }, dir / "train-images-idx3-ubyte",
                     "has 5 images but train-labels-idx1-ubyte has 4 labels");
}

TEST(IdxReader, ReadsAnyByteLabel) {
  // The class count is the data's (load_data): Fashion-MNIST has 10, EMNIST's balanced split 47.
  TempDir dir;
  test::write_bytes(dir / "lab", idx_labels({0, 9, 10, 255}));
  EXPECT_EQ(read_idx_labels(dir / "lab"), (std::vector<std::uint8_t>{0, 9, 10, 255}));
}

TEST(IdxReader, RejectsEmptyFile) {
  TempDir dir;
  test::write_bytes(dir / "img", {});
  expect_input_error([&] { read_idx_images(dir / "img"); }, dir / "img", "empty file");
}

TEST(IdxReader, RejectsCorruptAndTruncatedGzip) {
  TempDir dir;
  auto packed = test::gzip_bytes(idx_images(3, 28, 28));
  auto corrupt = packed;
  for (std::size_t i = 12; i < 40; ++i) corrupt[i] ^= 0x5a;
  test::write_bytes(dir / "bad.gz", corrupt);
  expect_input_error([&] { read_idx_images(dir / "bad.gz"); }, dir / "bad.gz", "gzip");
  packed.resize(packed.size() / 2);
  test::write_bytes(dir / "short.gz", packed);
  expect_input_error([&] { read_idx_images(dir / "short.gz"); }, dir / "short.gz", "truncated gzip");
}

TEST(IdxReader, RejectsMissingFileAndFolder) {
  TempDir dir;
  expect_input_error([&] { read_idx_labels(dir / "nope"); }, dir / "nope", "cannot open");
  expect_input_error([&] { read_idx_labels(dir.path()); }, dir.path(), "is a directory");
}

TEST(IdxReader, ReadsImagesOfAnySizeInLoadMnist) {
  TempDir dir;
  test::write_bytes(dir / "train-images-idx3-ubyte", idx_images(3, 27, 5));
  test::write_bytes(dir / "train-labels-idx1-ubyte", idx_labels({1, 2, 14}));
  test::write_bytes(dir / "t10k-images-idx3-ubyte", idx_images(1, 27, 5));
  test::write_bytes(dir / "t10k-labels-idx1-ubyte", idx_labels({1}));
  const Mnist m = load_mnist(dir.path(), {2, 1, 1});
  EXPECT_EQ(m.train.rows, 27u);
  EXPECT_EQ(m.train.cols, 5u);
  EXPECT_EQ(m.classes, 15u);  // the largest training label + 1
}

TEST(IdxReader, RejectsTrainAndTestOfDifferentSizesInLoadMnist) {
  TempDir dir;
  test::write_bytes(dir / "train-images-idx3-ubyte", idx_images(2, 27, 28));
  test::write_bytes(dir / "train-labels-idx1-ubyte", idx_labels({1, 2}));
  test::write_bytes(dir / "t10k-images-idx3-ubyte", idx_images(1, 28, 28));
  test::write_bytes(dir / "t10k-labels-idx1-ubyte", idx_labels({1}));
  expect_input_error([&] { load_mnist(dir.path(), {1, 1, 1}); }, dir / "t10k-images-idx3-ubyte",
                     "records of 784 features, but the training data's (" +
                         (dir / "train-images-idx3-ubyte").string() + ") have 756");
}

TEST(LoadMnist, NamesEveryMissingFileAndTheFetchScript) {
  TempDir dir;
  test::write_bytes(dir / "train-labels-idx1-ubyte.gz", test::gzip_bytes(idx_labels({1})));
  try {
    load_mnist(dir.path());
    FAIL();
  } catch (const InputError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("train-images-idx3-ubyte"), std::string::npos) << msg;
    EXPECT_EQ(msg.find("train-labels-idx1-ubyte"), std::string::npos) << msg;
    EXPECT_NE(msg.find("t10k-images-idx3-ubyte"), std::string::npos) << msg;
    EXPECT_NE(msg.find("t10k-labels-idx1-ubyte"), std::string::npos) << msg;
    EXPECT_NE(msg.find("scripts/get-mnist.sh"), std::string::npos) << msg;
  }
}

TEST(LoadMnist, SplitSizesAreChecked) {
  EXPECT_THROW(load_mnist(test::mnist_dir(), {50001, 10000, 10000}), InputError);
  EXPECT_THROW(load_mnist(test::mnist_dir(), {0, 10000, 10000}), InputError);
  EXPECT_THROW(load_mnist(test::mnist_dir(), {100, 100, 10001}), InputError);
}

TEST(ResolveDataDir, FlagThenEnvironmentThenDefault) {
  EXPECT_EQ(resolve_data_dir("/x/y"), std::filesystem::path("/x/y"));
  const char* old = std::getenv("SIGMANET_DATA");
  const std::string saved = old ? old : "";
  setenv("SIGMANET_DATA", "/from/env", 1);
  EXPECT_EQ(resolve_data_dir(""), std::filesystem::path("/from/env"));
  unsetenv("SIGMANET_DATA");
  EXPECT_EQ(resolve_data_dir(""), std::filesystem::path("data/mnist"));
  if (old) setenv("SIGMANET_DATA", saved.c_str(), 1);
}

// The known figures in shared/data/mnist/README.md.
TEST(LoadMnist, MatchesTheKnownFigures) {
  const Mnist m = load_mnist(test::mnist_dir(), {50000, 10000, 10000});
  ASSERT_EQ(m.train.size(), 50000u);
  ASSERT_EQ(m.validation.size(), 10000u);
  ASSERT_EQ(m.test.size(), 10000u);
  EXPECT_EQ(m.train.rows, 28u);
  EXPECT_EQ(m.train.cols, 28u);

  std::array<std::size_t, 10> train_counts{}, test_counts{};
  for (auto l : m.train.labels) ++train_counts[l];
  for (auto l : m.validation.labels) ++train_counts[l];
  for (auto l : m.test.labels) ++test_counts[l];
  EXPECT_EQ(train_counts, (std::array<std::size_t, 10>{5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949}));
  EXPECT_EQ(test_counts, (std::array<std::size_t, 10>{980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009}));
  EXPECT_EQ(std::vector<int>(m.train.labels.begin(), m.train.labels.begin() + 10),
            (std::vector<int>{5, 0, 4, 1, 9, 2, 1, 3, 1, 4}));
  EXPECT_EQ(std::vector<int>(m.test.labels.begin(), m.test.labels.begin() + 10),
            (std::vector<int>{7, 2, 1, 0, 4, 1, 4, 9, 5, 9}));

  double sum = std::accumulate(m.train.pixels.begin(), m.train.pixels.end(), 0.0);
  sum = std::accumulate(m.validation.pixels.begin(), m.validation.pixels.end(), sum);
  EXPECT_NEAR(sum / double(60000 * 784), 33.318421449829934, 1e-9);
}

TEST(LoadMnist, ValidationIsTheLastRecordsOfTheTrainingFile) {
  const Mnist full = load_mnist(test::mnist_dir(), {60000, 0, 10});
  const Mnist split = load_mnist(test::mnist_dir(), {100, 200, 10});
  EXPECT_EQ(split.validation.labels, std::vector<std::uint8_t>(full.train.labels.end() - 200, full.train.labels.end()));
  EXPECT_EQ(split.train.labels, std::vector<std::uint8_t>(full.train.labels.begin(), full.train.labels.begin() + 100));
  EXPECT_EQ(split.validation.pixels.size(), 200u * 784u);
}

}  // namespace
}  // namespace sigmanet
