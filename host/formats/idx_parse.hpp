#pragma once
// The IDX parsers on bytes already in memory, so the fuzzer and the tests reach them without files.
// `name` is what error messages call the input (the file's path when it came from one).
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "sigmanet/formats/dataset.hpp"

namespace sigmanet::detail {

// The bytes themselves, or their gunzipped content when they start with the gzip magic.
std::vector<std::uint8_t> decode_maybe_gzip(std::span<const std::uint8_t> bytes, const std::string& name);

// An IDX image or label file, raw or gzip. Throws InputError starting with name.
IdxImages parse_idx_images(std::span<const std::uint8_t> bytes, const std::string& name);
std::vector<std::uint8_t> parse_idx_labels(std::span<const std::uint8_t> bytes, const std::string& name);

}  // namespace sigmanet::detail
