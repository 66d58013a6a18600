#pragma once
// MNIST-style data: uint8 images with uint8 labels, read from IDX files (raw or gzip).
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace sigmanet {

// A set of labelled images kept as the bytes of the files: 1 byte per pixel, row-major, image after image.
struct Dataset {
  std::string name;                 // "train", "validation", "test", or a file name
  std::size_t rows = 0, cols = 0;   // 28 x 28 for MNIST
  std::vector<std::uint8_t> pixels; // size() * rows * cols
  std::vector<std::uint8_t> labels; // size(), each 0..9

  std::size_t size() const { return labels.size(); }
  std::size_t features() const { return rows * cols; }
  const std::uint8_t* image(std::size_t i) const { return pixels.data() + i * features(); }

  // Records [first, first + count) as a new dataset.
  Dataset slice(std::string slice_name, std::size_t first, std::size_t count) const;
};

// The IDX readers. Both accept raw or gzip files and validate everything: magic (2051 images, 2049 labels),
// dimensions, exact length, and label values 0..9. Failures throw InputError naming the file.
struct IdxImages {
  std::size_t count = 0, rows = 0, cols = 0;
  std::vector<std::uint8_t> pixels;
};
IdxImages read_idx_images(const std::filesystem::path& file);
std::vector<std::uint8_t> read_idx_labels(const std::filesystem::path& file);
// Reads a whole file, decompressing it when it is gzip. Throws InputError naming the file.
std::vector<std::uint8_t> read_maybe_gzip(const std::filesystem::path& file);

// Nielsen's split: train = the first 50,000 of the training file, validation = its last 10,000,
// test = the t10k file.
struct MnistSplitSizes {
  std::size_t train = 50000;
  std::size_t validation = 10000;
  std::size_t test = 10000;
};

struct Mnist {
  Dataset train, validation, test;
  // What a user should hear about how the files were found, one line each: which of NAME and NAME.gz was
  // read where the folder holds both (with the same records; different ones are refused).
  std::vector<std::string> notes;
};

// Reads the four files (each as NAME or NAME.gz) from dir. A missing file throws InputError that names
// every missing file and says how to fetch them (scripts/get-mnist.sh).
Mnist load_mnist(const std::filesystem::path& dir, const MnistSplitSizes& sizes = {});

// The files load_mnist(dir) reads: each of the four as NAME and as NAME.gz where present. Outputs are checked
// against them before any work (atomic_file.hpp's check_outputs_are_not_inputs).
std::vector<std::filesystem::path> mnist_files(const std::filesystem::path& dir);

// Where the data lives: the flag if given, else $SIGMANET_DATA, else ./data/mnist.
std::filesystem::path resolve_data_dir(const std::string& flag_value);

}  // namespace sigmanet
