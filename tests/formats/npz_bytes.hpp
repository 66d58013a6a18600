#pragma once
// .npy arrays and .npz archives built in memory, as NumPy writes them (np.save, np.savez: a zip of stored
// members), for the readers' tests to write exactly the bytes they mean, good and bad.
#include <zlib.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

namespace sigmanet::test {

// A version 1.0 .npy: magic, header dict padded with spaces to a multiple of 64 bytes and ended by '\n', data.
inline std::vector<std::uint8_t> npy_bytes(const std::string& descr, const std::string& shape,
                                           const std::vector<std::uint8_t>& data) {
  std::string header = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shape + ", }";
  while ((10 + header.size() + 1) % 64) header += ' ';
  header += '\n';
  std::vector<std::uint8_t> out = {
      0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, std::uint8_t(header.size() & 0xff), std::uint8_t(header.size() >> 8)};
  out.insert(out.end(), header.begin(), header.end());
  out.insert(out.end(), data.begin(), data.end());
  return out;
}

// A .npy whose header dict is given whole (for malformed headers).
inline std::vector<std::uint8_t> npy_with_header(const std::string& header, const std::vector<std::uint8_t>& data) {
  std::vector<std::uint8_t> out = {
      0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, std::uint8_t(header.size() & 0xff), std::uint8_t(header.size() >> 8)};
  out.insert(out.end(), header.begin(), header.end());
  out.insert(out.end(), data.begin(), data.end());
  return out;
}

// The bytes of values of type T, little-endian as on every machine sigmanet runs on.
template <class T>
std::vector<std::uint8_t> raw_bytes(const std::vector<T>& values) {
  std::vector<std::uint8_t> out(values.size() * sizeof(T));
  if (!values.empty()) std::memcpy(out.data(), values.data(), out.size());
  return out;
}

// A zip of stored (uncompressed) members, as np.savez writes it: local headers, data, central directory, end.
inline std::vector<std::uint8_t> zip_bytes(
    const std::vector<std::pair<std::string, std::vector<std::uint8_t>>>& files) {
  std::vector<std::uint8_t> out, central;
  const auto u16 = [](std::vector<std::uint8_t>& v, unsigned x) {
    v.push_back(std::uint8_t(x)), v.push_back(std::uint8_t(x >> 8));
  };
  const auto u32 = [&](std::vector<std::uint8_t>& v, std::uint32_t x) { u16(v, x & 0xffff), u16(v, x >> 16); };
  for (const auto& [name, data] : files) {
    const std::uint32_t crc = std::uint32_t(crc32(0, data.data(), uInt(data.size())));
    const std::uint32_t offset = std::uint32_t(out.size());
    u32(out, 0x04034b50), u16(out, 20), u16(out, 0), u16(out, 0), u16(out, 0), u16(out, 0x21);
    u32(out, crc), u32(out, std::uint32_t(data.size())), u32(out, std::uint32_t(data.size()));
    u16(out, unsigned(name.size())), u16(out, 0);
    out.insert(out.end(), name.begin(), name.end());
    out.insert(out.end(), data.begin(), data.end());
    u32(central, 0x02014b50), u16(central, 20), u16(central, 20), u16(central, 0), u16(central, 0), u16(central, 0),
        u16(central, 0x21);
    u32(central, crc), u32(central, std::uint32_t(data.size())), u32(central, std::uint32_t(data.size()));
    u16(central, unsigned(name.size())), u16(central, 0), u16(central, 0), u16(central, 0), u16(central, 0);
    u32(central, 0), u32(central, offset);
    central.insert(central.end(), name.begin(), name.end());
  }
  const std::uint32_t central_at = std::uint32_t(out.size());
  out.insert(out.end(), central.begin(), central.end());
  u32(out, 0x06054b50), u16(out, 0), u16(out, 0), u16(out, unsigned(files.size())), u16(out, unsigned(files.size()));
  u32(out, std::uint32_t(central.size())), u32(out, central_at), u16(out, 0);
  return out;
}

}  // namespace sigmanet::test
