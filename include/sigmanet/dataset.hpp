#pragma once
// Labelled records as the trainer and every backend take them, whatever file they were read from
// (formats/data_source.hpp reads IDX folders, CSV and NPZ files into them).
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace sigmanet {

// A set of labelled records. Features come in one of two kinds, chosen by the source:
// - pixels: 1 byte each, an input of byte / 255, as image data comes (MNIST's IDX files, a CSV of whole numbers
//   0-255); the fast paths keep them as bytes (4x less to move than floats; the CPU's sparse first layer).
// - values: float32 each, used as given (tabular data, a float NPZ); `pixels` is then empty.
// Either way record i's features are row-major, `features()` of them; rows x cols is the image geometry
// (28 x 28 for MNIST) or 1 x width for a table.
struct Dataset {
  std::string name;                 // "train", "validation", "test", or a file name
  std::size_t rows = 0, cols = 0;   // 28 x 28 for MNIST; 1 x width for a table
  std::vector<std::uint8_t> pixels; // size() * features() bytes, or empty when the features are values
  std::vector<float> values;        // size() * features() floats, or empty when the features are pixels
  std::vector<std::uint8_t> labels; // size(), each below the data's class count (at most 256)

  std::size_t size() const { return labels.size(); }
  std::size_t features() const { return rows * cols; }
  // Whether the features are float values (else bytes read as byte / 255).
  bool has_values() const { return !values.empty(); }
  const std::uint8_t* image(std::size_t i) const { return pixels.data() + i * features(); }
  const float* row(std::size_t i) const { return values.data() + i * features(); }

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
