#pragma once
// Labelled records from a CSV file: one record a line, the label in one column (the first, or one named), the
// features in the others, as most tutorials and competitions ship MNIST-like and tabular data.
#include <filesystem>
#include <string>

#include "sigmanet/dataset.hpp"
#include "sigmanet/formats/data_source.hpp"

namespace sigmanet {

struct CsvOptions {
  // The label's column: a header name, else a column number counted from 1; empty: the first column.
  std::string label_column;
  HeaderRow header = HeaderRow::automatic;  // automatic: a first line with a field that is not a number
  FeatureKind features = FeatureKind::automatic;
  bool labelled = true;  // false: every column is a feature (rows to predict; label_column unused); labels all 0
};

// Reads every record. Labels must be whole numbers 0..255; features finite numbers, all whole numbers 0..255 for
// pixels (automatic: pixels exactly when they all are). Pixel features whose count is a square (784) are taken as
// a square image (28x28), others as one row. A line with another number of fields than the first, a field that is
// not a number, a label out of range, NaN or Inf throws InputError naming the file, line and column.
Dataset read_csv_set(const std::filesystem::path& file, const CsvOptions& options);

}  // namespace sigmanet
