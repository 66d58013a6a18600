#pragma once
// The flags that say where labelled data comes from and how to read it, the same for every command that reads data
// (train, evaluate, predict --index, verify, bench).
#include <CLI/CLI.hpp>
#include <string>

#include "sigmanet/formats/data_source.hpp"

namespace sigmanet::cli {

struct DataFlags {
  std::string data;  // empty: $SIGMANET_DATA, else ./data/mnist
  std::string test_data;
  std::string train_images, train_labels, test_images, test_labels;
  bool emnist = false;
  std::string label_column;
  HeaderRow header = HeaderRow::automatic;
  FeatureKind features = FeatureKind::automatic;
  std::size_t classes = 0;
};

// Registers --data, --test-data, --train-images, --train-labels, --test-images, --test-labels, --emnist,
// --label-column, --header, --features and --classes on sub.
void add_data_flags(CLI::App* sub, DataFlags& flags);

// The reader's options for these flags and a split.
DataSourceOptions data_source(const DataFlags& flags, const SplitRequest& split = {});

}  // namespace sigmanet::cli
