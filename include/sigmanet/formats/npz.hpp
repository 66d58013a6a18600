#pragma once
// Labelled records from a NumPy .npz file as Keras ships MNIST (mnist.npz): x_train, y_train, x_test, y_test.
#include <filesystem>
#include <string>

#include "sigmanet/dataset.hpp"

namespace sigmanet {

// One set from the archive: features `x` (uint8, read as pixels, or float32, used as given; any shape whose first
// axis counts the records, a record of rows x cols kept as that image, any other shape flattened to one row) and
// labels `y` (integers of any width, 0..255, one a record). Compressed (np.savez_compressed) or not. A missing
// array, a malformed .npy header, an unsupported dtype, NaN or Inf features, or counts that differ throw InputError
// naming the file and the array.
// Whether this build reads .npz files (a portable build, linked without libzip, does not; read_npz_set then throws
// InputError saying so).
bool can_read_npz();

Dataset read_npz_set(const std::filesystem::path& file, const std::string& x, const std::string& y);

}  // namespace sigmanet
