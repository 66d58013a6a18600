#include "formats/safetensors.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string_view>

#include <nlohmann/json.hpp>
#include <zlib.h>

#include "formats/atomic_file.hpp"
#include "sigmanet/error.hpp"
#include "training/physical_memory.hpp"

namespace sigmanet {

// The format is little-endian; so is every machine sigmanet runs on, which lets data be copied as is.
static_assert(std::endian::native == std::endian::little, "safetensors I/O assumes a little-endian host");

namespace {

// As the reference implementation: a larger header is surely not a model.
constexpr std::uint64_t kMaxHeaderBytes = 100u << 20;

constexpr std::string_view kChecksumPrefix = "crc32:";

bool is_checksum_key(const std::string& key) { return key.starts_with(kChecksumPrefix); }

std::string checksum_text(std::uint32_t crc) {
  char buf[9];
  std::snprintf(buf, sizeof buf, "%08x", crc);
  return buf;
}

// Exactly 8 lowercase hex digits, as checksum_text writes them: anything else is damage, not a variant.
std::optional<std::uint32_t> parse_checksum(const std::string& text) {
  if (text.size() != 8) return std::nullopt;
  std::uint32_t crc = 0;
  for (char c : text) {
    const int digit = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
    if (digit < 0) return std::nullopt;
    crc = crc << 4 | static_cast<std::uint32_t>(digit);
  }
  return crc;
}

// Takes the checksums out of the metadata and checks them against the tensors. A file with none at all
// is read as it is: every file sigmanet wrote before it kept checksums is like that, and still loads. It
// loads without a notice, since the tool would print one on every use of such a file and the user can do
// nothing about it but save the model again; the caller can tell from SafeTensors::checksums.
void check_checksums(SafeTensors& file, const std::string& what) {
  std::map<std::string, std::uint32_t> stated;
  for (auto it = file.metadata.begin(); it != file.metadata.end();) {
    if (!is_checksum_key(it->first)) {
      ++it;
      continue;
    }
    const std::string tensor = it->first.substr(kChecksumPrefix.size());
    if (!file.tensors.contains(tensor))
      throw InputError(what + ": __metadata__ \"" + it->first + "\" is the checksum of tensor '" + tensor +
                       "', which the file does not hold");
    const std::optional<std::uint32_t> crc = parse_checksum(it->second);
    if (!crc)
      throw InputError(what + ": tensor '" + tensor + "': checksum \"" + it->second +
                       "\" in __metadata__ is not a CRC32 (8 lowercase hex digits)");
    stated.emplace(tensor, *crc);
    it = file.metadata.erase(it);
  }
  file.checksums = !stated.empty();
  if (!file.checksums) return;
  for (const auto& [name, t] : file.tensors) {
    const auto found = stated.find(name);
    if (found == stated.end())
      throw InputError(what + ": tensor '" + name + "' has no checksum (__metadata__ \"" + checksum_key(name) +
                       "\") though other tensors have one");
    const std::uint32_t actual = crc32_of(t.data);
    if (actual != found->second)
      throw InputError(what + ": tensor '" + name + "' is damaged: its bytes have CRC32 " + checksum_text(actual) +
                       " but the file recorded " + checksum_text(found->second));
  }
}

const std::map<std::string, Dtype>& dtype_names() {
  static const std::map<std::string, Dtype> names{
      {"F32", Dtype::f32}, {"F64", Dtype::f64}, {"U32", Dtype::u32}, {"U64", Dtype::u64}};
  return names;
}

std::string shape_text(const std::vector<std::size_t>& shape) {
  std::string s = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ", ";
    s += std::to_string(shape[i]);
  }
  return s + "]";
}

template <class T>
std::vector<T> copy_out(const Tensor& t) {
  std::vector<T> v(t.elements());
  if (!v.empty()) std::memcpy(v.data(), t.data.data(), v.size() * sizeof(T));
  return v;
}

template <class T>
Tensor copy_in(std::span<const T> values, std::vector<std::size_t> shape, Dtype dtype) {
  Tensor t;
  t.dtype = dtype;
  t.shape = std::move(shape);
  if (t.elements() != values.size())
    throw Error("Tensor: " + std::to_string(values.size()) + " values do not fill shape " + shape_text(t.shape));
  t.data.resize(values.size() * sizeof(T));
  if (!values.empty()) std::memcpy(t.data.data(), values.data(), t.data.size());
  return t;
}

std::uint64_t read_u64_le(const std::uint8_t* p) {
  std::uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

// One tensor's header entry, checked against the data section's size.
struct Entry {
  std::string name;
  Tensor tensor;
  std::uint64_t begin = 0, end = 0;
};

Entry parse_entry(const std::string& name, const nlohmann::json& j, std::uint64_t data_bytes,
                  const std::string& where) {
  const std::string what = where + ": tensor '" + name + "'";
  if (!j.is_object()) throw InputError(what + ": header entry is not a JSON object");
  for (const char* key : {"dtype", "shape", "data_offsets"})
    if (!j.contains(key)) throw InputError(what + ": header entry has no \"" + key + "\"");
  Entry e;
  e.name = name;
  const auto& dtype = j["dtype"];
  if (!dtype.is_string()) throw InputError(what + ": dtype is not a string");
  const auto found = dtype_names().find(dtype.get<std::string>());
  if (found == dtype_names().end())
    throw InputError(what + ": dtype " + dtype.get<std::string>() + " is not supported (F32, F64, U32, U64)");
  e.tensor.dtype = found->second;

  const auto& shape = j["shape"];
  if (!shape.is_array()) throw InputError(what + ": shape is not an array");
  std::uint64_t elements = 1;
  for (const auto& d : shape) {
    if (!d.is_number_unsigned()) throw InputError(what + ": shape holds something other than a non-negative integer");
    const auto n = d.get<std::uint64_t>();
    if (__builtin_mul_overflow(elements, n, &elements)) throw InputError(what + ": shape is impossibly large");
    e.tensor.shape.push_back(static_cast<std::size_t>(n));
  }
  std::uint64_t expected_bytes = 0;
  if (__builtin_mul_overflow(elements, std::uint64_t(dtype_bytes(e.tensor.dtype)), &expected_bytes))
    throw InputError(what + ": shape is impossibly large");

  const auto& offsets = j["data_offsets"];
  if (!offsets.is_array() || offsets.size() != 2 || !offsets[0].is_number_unsigned() ||
      !offsets[1].is_number_unsigned())
    throw InputError(what + ": data_offsets is not a pair of non-negative integers");
  e.begin = offsets[0].get<std::uint64_t>();
  e.end = offsets[1].get<std::uint64_t>();
  if (e.begin > e.end)
    throw InputError(what + ": data_offsets [" + std::to_string(e.begin) + ", " + std::to_string(e.end) +
                     "] end before they begin");
  if (e.end > data_bytes)
    throw InputError(what + ": data_offsets [" + std::to_string(e.begin) + ", " + std::to_string(e.end) +
                     "] run past the end of the data (" + std::to_string(data_bytes) +
                     " bytes; is the file truncated?)");
  if (e.end - e.begin != expected_bytes)
    throw InputError(what + ": shape " + shape_text(e.tensor.shape) + " of " + to_string(e.tensor.dtype) + " needs " +
                     std::to_string(expected_bytes) + " bytes but data_offsets give " +
                     std::to_string(e.end - e.begin));
  return e;
}

}  // namespace

std::string to_string(Dtype d) {
  switch (d) {
    case Dtype::f32: return "F32";
    case Dtype::f64: return "F64";
    case Dtype::u32: return "U32";
    case Dtype::u64: return "U64";
  }
  return "?";
}

std::string checksum_key(const std::string& tensor) { return std::string(kChecksumPrefix) + tensor; }

std::uint32_t crc32_of(std::span<const std::uint8_t> bytes, std::uint32_t before) {
  // zlib takes at most 4 GiB a call.
  uLong crc = before;
  for (std::size_t done = 0; done < bytes.size();) {
    const auto n = static_cast<uInt>(std::min<std::size_t>(bytes.size() - done, 1u << 30));
    crc = crc32(crc, bytes.data() + done, n);
    done += n;
  }
  return static_cast<std::uint32_t>(crc);
}

std::size_t dtype_bytes(Dtype d) { return d == Dtype::f32 || d == Dtype::u32 ? 4 : 8; }

std::size_t Tensor::elements() const {
  std::size_t n = 1;
  for (std::size_t d : shape) n *= d;
  return n;
}

Tensor Tensor::from_doubles(std::span<const double> values, std::vector<std::size_t> shape, Dtype dtype) {
  if (dtype == Dtype::f64) return copy_in(values, std::move(shape), Dtype::f64);
  if (dtype != Dtype::f32) throw Error("Tensor::from_doubles: dtype must be F32 or F64");
  std::vector<float> narrowed(values.begin(), values.end());
  return copy_in(std::span<const float>(narrowed), std::move(shape), Dtype::f32);
}

Tensor Tensor::from_u32(std::span<const std::uint32_t> values, std::vector<std::size_t> shape) {
  return copy_in(values, std::move(shape), Dtype::u32);
}

Tensor Tensor::from_u64(std::span<const std::uint64_t> values, std::vector<std::size_t> shape) {
  return copy_in(values, std::move(shape), Dtype::u64);
}

std::vector<double> Tensor::as_doubles(const std::string& what) const {
  if (dtype == Dtype::f64) return copy_out<double>(*this);
  if (dtype == Dtype::f32) {
    const std::vector<float> f = copy_out<float>(*this);
    return {f.begin(), f.end()};
  }
  throw InputError(what + ": dtype " + to_string(dtype) + ", expected F32 or F64");
}

std::vector<std::uint32_t> Tensor::as_u32(const std::string& what) const {
  if (dtype != Dtype::u32) throw InputError(what + ": dtype " + to_string(dtype) + ", expected U32");
  return copy_out<std::uint32_t>(*this);
}

std::vector<std::uint64_t> Tensor::as_u64(const std::string& what) const {
  if (dtype != Dtype::u64) throw InputError(what + ": dtype " + to_string(dtype) + ", expected U64");
  return copy_out<std::uint64_t>(*this);
}

std::vector<std::uint8_t> encode_safetensors(const SafeTensors& file) {
  nlohmann::json header = nlohmann::json::object();
  std::map<std::string, std::string> metadata = file.metadata;
  for (const auto& [key, value] : metadata)
    if (is_checksum_key(key))
      throw Error("encode_safetensors: metadata key \"" + key + "\" is reserved for the format's checksums");
  std::uint64_t offset = 0;
  for (const auto& [name, t] : file.tensors) {
    if (name == "__metadata__") throw Error("encode_safetensors: a tensor may not be called __metadata__");
    if (t.data.size() != t.elements() * dtype_bytes(t.dtype))
      throw Error("encode_safetensors: tensor '" + name + "' holds " + std::to_string(t.data.size()) +
                  " bytes for shape " + shape_text(t.shape));
    header[name] = {{"dtype", to_string(t.dtype)},
                    {"shape", t.shape},
                    {"data_offsets", {offset, offset + t.data.size()}}};
    offset += t.data.size();
    if (file.checksums) metadata[checksum_key(name)] = checksum_text(crc32_of(t.data));
  }
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');

  std::vector<std::uint8_t> out;
  out.reserve(8 + text.size() + offset);
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<std::uint8_t>(std::uint64_t(text.size()) >> (8 * i)));
  out.insert(out.end(), text.begin(), text.end());
  for (const auto& [name, t] : file.tensors) out.insert(out.end(), t.data.begin(), t.data.end());
  return out;
}

namespace {

// The header's length from the file's first bytes (as many of the 8 as it has), checked against the file's size.
std::uint64_t header_length(std::span<const std::uint8_t> first, std::uint64_t file_bytes, const std::string& what) {
  if (file_bytes < 8)
    throw InputError(what + ": truncated: " + std::to_string(file_bytes) +
                     " bytes, too short for the 8-byte header length of a safetensors file");
  const std::uint64_t header_bytes = read_u64_le(first.data());
  if (header_bytes < 2 || header_bytes > kMaxHeaderBytes)
    throw InputError(what + ": header length " + std::to_string(header_bytes) +
                     " is not plausible; is this a safetensors file?");
  if (header_bytes > file_bytes - 8)
    throw InputError(what + ": truncated: the header length says " + std::to_string(header_bytes) +
                     " bytes but only " + std::to_string(file_bytes - 8) + " follow");
  return header_bytes;
}

// The header: metadata and the tensors' entries, their byte ranges checked to tile the data_bytes that follow.
struct Header {
  std::map<std::string, std::string> metadata;
  std::vector<Entry> entries;  // by start
};

Header parse_header(std::span<const std::uint8_t> text, std::uint64_t data_bytes, const std::string& what) {
  if (text.empty() || text[0] != '{')
    throw InputError(what + ": the header is not a JSON object; is this a safetensors file?");
  nlohmann::json header;
  try {
    header = nlohmann::json::parse(text.begin(), text.end());
  } catch (const nlohmann::json::exception& e) {
    // nlohmann's message is long and multi-part; its byte position is what helps.
    std::string detail = e.what();
    if (const auto at = detail.find("at line"); at != std::string::npos) detail = detail.substr(at);
    if (const auto colon = detail.find(':'); colon != std::string::npos) detail = detail.substr(0, colon);
    throw InputError(what + ": the header is not valid JSON (" + detail + ")");
  }
  if (!header.is_object()) throw InputError(what + ": the header is not a JSON object");

  Header h;
  for (const auto& [key, value] : header.items()) {
    if (key == "__metadata__") {
      if (!value.is_object()) throw InputError(what + ": __metadata__ is not a JSON object");
      for (const auto& [mkey, mvalue] : value.items()) {
        if (!mvalue.is_string())
          throw InputError(what + ": __metadata__ value of '" + mkey + "' is not a string");
        h.metadata[mkey] = mvalue.get<std::string>();
      }
      continue;
    }
    h.entries.push_back(parse_entry(key, value, data_bytes, what));
  }

  // The ranges must tile the data exactly: sorted by start, each begins where the previous ended.
  std::sort(h.entries.begin(), h.entries.end(), [](const Entry& a, const Entry& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  std::uint64_t covered = 0;
  for (std::size_t i = 0; i < h.entries.size(); ++i) {
    const Entry& e = h.entries[i];
    if (e.begin < covered)
      throw InputError(what + ": tensor '" + e.name + "' overlaps tensor '" + h.entries[i - 1].name +
                       "' (data_offsets " + std::to_string(e.begin) + " < " + std::to_string(covered) + ")");
    if (e.begin > covered)
      throw InputError(what + ": " + std::to_string(e.begin - covered) + " bytes before tensor '" + e.name +
                       "' belong to no tensor");
    covered = e.end;
  }
  if (covered != data_bytes)
    throw InputError(what + ": " + std::to_string(data_bytes - covered) +
                     " bytes at the end of the file belong to no tensor");
  return h;
}

// The tensors' bytes put into the entries, and the checksums checked.
SafeTensors assemble(Header h, std::span<const std::uint8_t> data, const std::string& what) {
  SafeTensors file;
  file.metadata = std::move(h.metadata);
  for (Entry& e : h.entries) {
    e.tensor.data.assign(data.begin() + std::ptrdiff_t(e.begin), data.begin() + std::ptrdiff_t(e.end));
    file.tensors.emplace(e.name, std::move(e.tensor));
  }
  check_checksums(file, what);
  return file;
}

}  // namespace

SafeTensors decode_safetensors(std::span<const std::uint8_t> bytes, const std::string& what) {
  const std::uint64_t header_bytes = header_length(bytes, bytes.size(), what);
  Header h = parse_header(bytes.subspan(8, header_bytes), bytes.size() - 8 - header_bytes, what);
  return assemble(std::move(h), bytes.subspan(8 + header_bytes), what);
}

SafeTensors read_safetensors(const std::filesystem::path& file) {
  // The header first, checked against the file's size: a large file that is no model (or a sparse file that claims
  // to be one) is refused before its data is read, or memory is taken for it.
  const std::string what = file.string();
  const InputFile in(file);
  const std::uint64_t header_bytes = header_length(in.read(0, std::size_t(std::min<std::uint64_t>(8, in.size()))),
                                                   in.size(), what);
  const std::uint64_t data_bytes = in.size() - 8 - header_bytes;
  Header h = parse_header(in.read(8, header_bytes), data_bytes, what);
  // The bytes read, each tensor's copy of its own, and the values as doubles (twice an F32's bytes).
  const double need = 4.0 * double(data_bytes);
  if (const std::size_t have = physical_memory_bytes(); have && need > double(have))
    throw InputError(what + ": its tensors hold " + std::to_string(data_bytes) + " bytes; reading them would need " +
                     "about " + gib_text(need) + " of memory, more than this machine's " + gib_text(double(have)));
  return assemble(std::move(h), in.read(8 + header_bytes, std::size_t(data_bytes)), what);
}

void write_safetensors(const std::filesystem::path& file, const SafeTensors& content) {
  write_file_atomically(file, encode_safetensors(content));
}

}  // namespace sigmanet
