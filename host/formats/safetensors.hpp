#pragma once
// The safetensors file format (https://github.com/huggingface/safetensors): an 8-byte little-endian header
// length, a JSON header naming each tensor's dtype, shape and byte range, then the raw little-endian data.
// sigmanet keeps both its models and its checkpoints in it, so one strict reader serves both and any
// safetensors tool (Python, PyTorch) can open them.
//
// Every tensor sigmanet writes carries a CRC32 of its bytes in __metadata__, under "crc32:NAME", as 8
// lowercase hex digits (zlib's crc32, the same as Python's zlib.crc32), and the reader checks them: a finite
// weight with a flipped bit passes every other check. CRC32, not SHA-256: the danger is damage (a bad disk,
// a broken copy), which CRC32 catches (every single-bit flip, every burst of up to 32 bits, and other damage
// but for a 1 in 2^32 chance), at over 1 GB/s with the zlib sigmanet links anyway. Tampering no checksum kept
// in the same file can catch, however strong, since whoever changes a tensor can rewrite its checksum too.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <span>
#include <string>
#include <vector>

namespace sigmanet {

// The element types sigmanet writes and reads.
enum class Dtype { f32, f64, u32, u64 };
std::string to_string(Dtype d);  // "F32", "F64", "U32", "U64" as in the header
std::size_t dtype_bytes(Dtype d);

struct Tensor {
  Dtype dtype = Dtype::f32;
  std::vector<std::size_t> shape;  // row-major
  std::vector<std::uint8_t> data;  // little-endian, product(shape) * dtype_bytes(dtype) bytes

  std::size_t elements() const;

  // Typed views and builders. The builders store values as the dtype says (to_f32 rounds doubles);
  // as_doubles accepts F32 and F64, as_u32/as_u64 only their own dtype (all throw InputError naming `what`).
  static Tensor from_doubles(std::span<const double> values, std::vector<std::size_t> shape, Dtype dtype);
  static Tensor from_u32(std::span<const std::uint32_t> values, std::vector<std::size_t> shape);
  static Tensor from_u64(std::span<const std::uint64_t> values, std::vector<std::size_t> shape);
  std::vector<double> as_doubles(const std::string& what) const;
  std::vector<std::uint32_t> as_u32(const std::string& what) const;
  std::vector<std::uint64_t> as_u64(const std::string& what) const;
};

struct SafeTensors {
  // The header's "__metadata__": string values only. The checksums are not in it: they belong to the
  // format, written by encode and checked and removed by decode.
  std::map<std::string, std::string> metadata;
  std::map<std::string, Tensor> tensors;
  // encode: whether to write the checksums (false only to make files as sigmanet wrote them before it had
  // any: tests, fuzz seeds). decode: whether the file had them (then every one matched).
  bool checksums = true;
};

// The metadata key of a tensor's checksum, "crc32:" + name.
std::string checksum_key(const std::string& tensor);
// CRC32 of the bytes, as zlib and Python's zlib.crc32 compute it; given the CRC32 of bytes before them, of the
// two together.
std::uint32_t crc32_of(std::span<const std::uint8_t> bytes, std::uint32_t before = 0);

// The file's bytes. Tensors are laid out in name order; the header is padded with spaces to a multiple
// of 8 bytes so the data starts aligned. Metadata keys starting "crc32:" are the format's own: Error.
std::vector<std::uint8_t> encode_safetensors(const SafeTensors& file);

// Parses and validates everything: length fields, JSON, dtypes, shapes against byte ranges, ranges that
// must tile the data exactly (no overlap, no gap, nothing past the end), and the checksums: each must be
// 8 lowercase hex digits, name a tensor of the file and match its bytes, and a file with any has one for
// every tensor. A file without any (written before sigmanet kept them) is read unchecked, and says so in
// `checksums`. Throws InputError starting with `what` (usually the file name) and saying what is wrong.
SafeTensors decode_safetensors(std::span<const std::uint8_t> bytes, const std::string& what);

// Reads and decodes a file; InputError names the file.
SafeTensors read_safetensors(const std::filesystem::path& file);
// Encodes and writes atomically (see atomic_file.hpp).
void write_safetensors(const std::filesystem::path& file, const SafeTensors& content);

}  // namespace sigmanet
