#pragma once
// Labelled data from whatever --data names: a folder of IDX files (MNIST, Fashion-MNIST, KMNIST, EMNIST), a
// folder holding train.csv and test.csv, or a .npz file (x_train, y_train, x_test, y_test); the test set may come
// from a separate source of any of these kinds. Every source gives the same Datasets: nothing past this reader
// knows the format.
#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "sigmanet/dataset.hpp"

namespace sigmanet {

// The sets a run takes, split from the sources, with what the data says about itself.
struct LabelledData {
  Dataset train, validation, test;
  std::size_t classes = 0;               // output neurons the data needs: declared, else max training label + 1
  std::vector<std::string> class_names;  // one per class where the source names them (EMNIST letters), else empty
  // What a user should hear about how the files were read, one line each (which of NAME and NAME.gz was read, a
  // class the training set lacks, ...).
  std::vector<std::string> notes;
};

// How a CSV's or the automatic choice's features are read.
enum class FeatureKind {
  automatic,  // whole numbers 0..255 throughout: pixels (byte / 255); anything else: float values
  pixels,     // bytes 0..255, read as byte / 255; another value is refused
  values,     // float values used as given
};

// Whether a CSV's first line names its columns.
enum class HeaderRow { automatic, yes, no };

// Records each set takes; a size not given follows the data: validation the last sixth of the training source
// (MNIST's 10,000 of 60,000), training the rest, test all of the test source.
struct SplitRequest {
  std::optional<std::size_t> train, validation, test;
};

struct DataSourceOptions {
  std::filesystem::path data;       // an IDX folder, a folder with train.csv and test.csv, a .npz file, or a .csv
                                    // file (its training records; the test set then comes from test_data)
  std::filesystem::path test_data;  // a separate test source of any kind; empty: the test set of `data`
  // IDX files not named the MNIST way; when given, all four are (and `data` is not read).
  std::filesystem::path train_images, train_labels, test_images, test_labels;
  bool emnist = false;       // EMNIST's IDX files: images stored transposed, the letters' labels 1..26
  std::string label_column;  // CSV: the label's column by its header name; empty: the first column
  HeaderRow header = HeaderRow::automatic;
  FeatureKind features = FeatureKind::automatic;
  std::size_t classes = 0;  // declared class count; 0: max training label + 1
  SplitRequest split;
};

// Reads, checks and splits the data. Bad data (a malformed file, NaN or Inf features, one class only, a test label
// the network has no output for, feature and label counts that differ, train and test of different widths) throws
// InputError naming the file; a split that does not fit throws SettingError naming the flag.
LabelledData load_data(const DataSourceOptions& options);

// The files load_data(options) reads (those present), for checking outputs against them before any work.
std::vector<std::filesystem::path> data_source_files(const DataSourceOptions& options);

// The split load_data makes of `train_records` and `test_records`: the request's sizes, the rest following the
// data. Throws SettingError naming the flag where they do not fit.
MnistSplitSizes resolve_split(const SplitRequest& request, std::size_t train_records, std::size_t test_records,
                              const std::string& train_file, const std::string& test_file);

}  // namespace sigmanet
