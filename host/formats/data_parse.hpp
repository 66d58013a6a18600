#pragma once
// The CSV and NPZ readers on bytes already in memory, so that the fuzzer reaches them without files. `name` is what
// error messages call the input (the file's path when it came from one). Both throw InputError starting with it.
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "sigmanet/dataset.hpp"
#include "sigmanet/formats/csv.hpp"

namespace sigmanet::detail {

Dataset parse_csv(std::string_view text, const std::string& name, const CsvOptions& options);
Dataset parse_npz(std::span<const std::uint8_t> bytes, const std::string& name, const std::string& x,
                  const std::string& y);

}  // namespace sigmanet::detail
