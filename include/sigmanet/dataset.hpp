#pragma once
// Labelled images as the trainer and every backend take them, whatever file they were read from
// (formats/mnist.hpp reads MNIST's IDX files into them).
#include <cstddef>
#include <cstdint>
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

// How many records a run takes for each set. Nielsen's split: train = the first 50,000 of the training file,
// validation = its last 10,000, test = the t10k file.
struct MnistSplitSizes {
  std::size_t train = 50000;
  std::size_t validation = 10000;
  std::size_t test = 10000;
};

}  // namespace sigmanet
