#pragma once
// The IDX readers load_mnist is made of: on files, and on bytes already in memory, so the fuzzer and the tests reach
// them without files. Both accept raw or gzip input and validate everything: magic (2051 images, 2049 labels),
// dimensions and exact length (labels are bytes: any value; the data's class count is load_data's to judge). Failures throw InputError naming the file (`name`: what error
// messages call the input, the file's path when it came from one).
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "sigmanet/dataset.hpp"

namespace sigmanet {

struct IdxImages {
  std::size_t count = 0, rows = 0, cols = 0;
  std::vector<std::uint8_t> pixels;
};
IdxImages read_idx_images(const std::filesystem::path& file);
std::vector<std::uint8_t> read_idx_labels(const std::filesystem::path& file);
// Reads a whole file, decompressing it when it is gzip. Throws InputError naming the file.
std::vector<std::uint8_t> read_maybe_gzip(const std::filesystem::path& file);

// The training and test sets of an IDX folder laid out as MNIST's (train-images-idx3-ubyte, train-labels-idx1-ubyte,
// t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte, each raw or .gz), whole; only the sets asked for are read. A missing
// file throws SettingError(data) naming every missing file. Notes say which of NAME and NAME.gz was read.
struct IdxFolder {
  Dataset train, test;
  std::filesystem::path train_images, test_images;  // the files read, for messages
};
IdxFolder read_idx_folder(const std::filesystem::path& dir, bool train, bool test, std::vector<std::string>& notes);

namespace detail {

// The bytes themselves, or their gunzipped content when they start with the gzip magic.
std::vector<std::uint8_t> decode_maybe_gzip(std::span<const std::uint8_t> bytes, const std::string& name);

// An IDX image or label file, raw or gzip. Throws InputError starting with name.
IdxImages parse_idx_images(std::span<const std::uint8_t> bytes, const std::string& name);
std::vector<std::uint8_t> parse_idx_labels(std::span<const std::uint8_t> bytes, const std::string& name);

}  // namespace detail
}  // namespace sigmanet
