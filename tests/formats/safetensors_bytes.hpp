#pragma once
// Byte-level surgery on safetensors files for tests: where a tensor's bytes lie, a bit flipped as a bad disk
// would, the header edited as a careless tool would, the checksums recomputed after a patch (so a test that
// plants a NaN reaches the NaN check, not the checksum), or removed (a file from before sigmanet kept them).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <iterator>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "formats/safetensors.hpp"

namespace sigmanet::test {

using Bytes = std::vector<std::uint8_t>;

inline std::size_t header_length(const Bytes& file) {
  if (file.size() < 8) throw std::invalid_argument("header_length: shorter than 8 bytes");
  std::uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = n << 8 | file[static_cast<std::size_t>(i)];
  return static_cast<std::size_t>(n);
}

inline nlohmann::json header_of(const Bytes& file) {
  const auto begin = file.begin() + 8;
  return nlohmann::json::parse(begin, begin + static_cast<std::ptrdiff_t>(header_length(file)));
}

inline std::size_t data_start(const Bytes& file) { return 8 + header_length(file); }

// The file offset of the tensor's first byte.
inline std::size_t tensor_begin(const Bytes& file, const std::string& tensor) {
  return data_start(file) + header_of(file).at(tensor).at("data_offsets").at(0).get<std::size_t>();
}

// Flips one bit of the tensor's byte `byte` (counted from the tensor's start).
inline void flip_bit(Bytes& file, const std::string& tensor, std::size_t byte, int bit) {
  file.at(tensor_begin(file, tensor) + byte) ^= static_cast<std::uint8_t>(1u << bit);
}

// The same data under a header changed by `edit`, padded with spaces to a multiple of 8 as sigmanet writes.
inline Bytes with_header_edited(const Bytes& file, const std::function<void(nlohmann::json&)>& edit) {
  nlohmann::json header = header_of(file);
  edit(header);
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');
  Bytes out;
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<std::uint8_t>(std::uint64_t(text.size()) >> (8 * i)));
  out.insert(out.end(), text.begin(), text.end());
  out.insert(out.end(), file.begin() + static_cast<std::ptrdiff_t>(data_start(file)), file.end());
  return out;
}

// Every tensor's checksum recomputed from its bytes as they are now.
inline Bytes with_checksums_recomputed(const Bytes& file) {
  const std::size_t data = data_start(file);
  return with_header_edited(file, [&](nlohmann::json& header) {
    nlohmann::json checksums = nlohmann::json::object();
    for (const auto& [name, entry] : header.items()) {
      if (name == "__metadata__") continue;
      const auto begin = data + entry.at("data_offsets").at(0).get<std::size_t>();
      const auto end = data + entry.at("data_offsets").at(1).get<std::size_t>();
      char hex[9];
      std::snprintf(hex, sizeof hex, "%08x", crc32_of(std::span(file.data() + begin, end - begin)));
      checksums[checksum_key(name)] = hex;
    }
    header["__metadata__"].update(checksums);
  });
}

// The file as sigmanet wrote it before it kept checksums.
inline Bytes without_checksums(const Bytes& file) {
  return with_header_edited(file, [](nlohmann::json& header) {
    if (!header.contains("__metadata__")) return;
    auto& metadata = header["__metadata__"];
    for (auto it = metadata.begin(); it != metadata.end();)
      it = it.key().starts_with("crc32:") ? metadata.erase(it) : std::next(it);
    if (metadata.empty()) header.erase("__metadata__");
  });
}

}  // namespace sigmanet::test
