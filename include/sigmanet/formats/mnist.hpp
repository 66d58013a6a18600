#pragma once
// MNIST from its four IDX files (raw or gzip), split as Nielsen splits it (dataset.hpp's MnistSplitSizes).
#include <filesystem>
#include <string>
#include <vector>

#include "sigmanet/dataset.hpp"
#include "sigmanet/formats/data_source.hpp"

namespace sigmanet {

// Nielsen's split of an IDX folder, with the class count and notes every data source gives.
using Mnist = LabelledData;

// Reads the four files (each as NAME or NAME.gz) from dir, of any image size and labels, validated as load_data
// validates every source. A missing file throws InputError that names every missing file and says how to fetch
// them (scripts/get-mnist.sh).
Mnist load_mnist(const std::filesystem::path& dir, const MnistSplitSizes& sizes = {});

// One set from an images file and a labels file in MNIST's IDX format (raw or gzip), as Fashion-MNIST and other
// data laid out like MNIST come: every header and length validated, and a labels file of another length than the
// images refused naming both files.
Dataset load_idx_set(const std::filesystem::path& images, const std::filesystem::path& labels);

// The files load_mnist(dir) reads: each of the four as NAME and as NAME.gz where present. Outputs are checked
// against them before any work (formats/atomic_file.hpp's check_outputs_are_not_inputs).
std::vector<std::filesystem::path> mnist_files(const std::filesystem::path& dir);

// Where the data lives: the flag if given, else $SIGMANET_DATA, else ./data/mnist.
std::filesystem::path resolve_data_dir(const std::string& flag_value);

}  // namespace sigmanet
