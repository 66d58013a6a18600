// The .npz reader: the archive through libzip, each member's .npy header parsed here (small and strict: the
// format is one Python dict literal, https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html).
#include "sigmanet/formats/npz.hpp"

#ifdef SIGMANET_HAVE_LIBZIP
#include <zip.h>
#endif

#include <cmath>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <vector>

#include "formats/atomic_file.hpp"
#include "formats/data_parse.hpp"
#include "sigmanet/error.hpp"

namespace sigmanet {

#ifndef SIGMANET_HAVE_LIBZIP
bool can_read_npz() { return false; }

namespace detail {
Dataset parse_npz(std::span<const std::uint8_t>, const std::string& name, const std::string&, const std::string&) {
  throw InputError(name + ": this build of sigmanet reads no .npz files (a portable build, without libzip)");
}
}  // namespace detail

Dataset read_npz_set(const std::filesystem::path& file, const std::string& x, const std::string& y) {
  return detail::parse_npz({}, file.string(), x, y);
}
#else
bool can_read_npz() { return true; }

namespace {

namespace fs = std::filesystem;

// No archive or member we accept is larger.
constexpr std::size_t kMaxBytes = std::size_t{1} << 32;

struct ZipCloser {
  void operator()(zip_t* z) const { zip_discard(z); }
};
struct ZipFileCloser {
  void operator()(zip_file_t* f) const { zip_fclose(f); }
};

// A .npy array: its dtype (descr), shape, and the bytes after the header.
struct NpyArray {
  std::string descr;
  std::vector<std::size_t> shape;
  std::vector<std::uint8_t> data;
  std::size_t count() const {
    std::size_t n = 1;
    for (std::size_t s : shape) n *= s;
    return n;
  }
};

// The header dict, e.g. {'descr': '<f4', 'fortran_order': False, 'shape': (60000, 28, 28), }, read strictly:
// exactly these three keys, a descr string, a boolean, a tuple of whole numbers.
class HeaderParser {
 public:
  HeaderParser(std::string_view text, std::string where) : text_(text), where_(std::move(where)) {}

  NpyArray parse() {
    NpyArray a;
    bool have_descr = false, have_order = false, have_shape = false;
    expect('{');
    while (!peek('}')) {
      const std::string key = string_literal();
      expect(':');
      if (key == "descr" && !have_descr) {
        a.descr = string_literal(), have_descr = true;
      } else if (key == "fortran_order" && !have_order) {
        if (word("True")) fail("is stored in Fortran order; save it in C order (np.ascontiguousarray)");
        if (!word("False")) fail("'fortran_order' is neither True nor False");
        have_order = true;
      } else if (key == "shape" && !have_shape) {
        a.shape = tuple(), have_shape = true;
      } else {
        fail("unexpected key '" + key + "' in the .npy header");
      }
      if (!peek('}')) expect(',');
    }
    expect('}');
    skip_space();
    if (pos_ != text_.size()) fail("text after the .npy header's dict");
    if (!have_descr || !have_order || !have_shape) fail("the .npy header lacks descr, fortran_order or shape");
    return a;
  }

 private:
  [[noreturn]] void fail(const std::string& what) const { throw InputError(where_ + ": " + what); }
  void skip_space() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\n')) ++pos_;
  }
  bool peek(char c) {
    skip_space();
    return pos_ < text_.size() && text_[pos_] == c;
  }
  void expect(char c) {
    if (!peek(c)) fail(std::string("malformed .npy header: expected '") + c + "' at byte " + std::to_string(pos_));
    ++pos_;
  }
  bool word(std::string_view w) {
    skip_space();
    if (text_.substr(pos_, w.size()) != w) return false;
    pos_ += w.size();
    return true;
  }
  std::string string_literal() {
    skip_space();
    if (pos_ >= text_.size() || (text_[pos_] != '\'' && text_[pos_] != '"'))
      fail("malformed .npy header: expected a string at byte " + std::to_string(pos_));
    const char quote = text_[pos_++];
    const std::size_t end = text_.find(quote, pos_);
    if (end == std::string_view::npos) fail("malformed .npy header: unterminated string");
    std::string s(text_.substr(pos_, end - pos_));
    pos_ = end + 1;
    return s;
  }
  std::vector<std::size_t> tuple() {
    std::vector<std::size_t> dims;
    expect('(');
    while (!peek(')')) {
      std::size_t n = 0;
      bool digits = false;
      while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9') {
        if (n > (std::size_t{1} << 40)) fail("a dimension of the shape is too large");
        n = n * 10 + std::size_t(text_[pos_++] - '0');
        digits = true;
      }
      if (!digits) fail("malformed .npy header: the shape holds something other than whole numbers");
      dims.push_back(n);
      if (!peek(')')) expect(',');
    }
    expect(')');
    return dims;
  }

  std::string_view text_;
  std::string where_;
  std::size_t pos_ = 0;
};

NpyArray parse_npy(const std::vector<std::uint8_t>& bytes, const std::string& where) {
  const auto fail = [&](const std::string& what) { throw InputError(where + ": " + what); };
  if (bytes.size() < 10 || std::memcmp(bytes.data(), "\x93NUMPY", 6) != 0)
    fail("not a .npy array (no \\x93NUMPY magic)");
  const unsigned major = bytes[6];
  std::size_t header_len = 0, start = 0;
  if (major == 1) {
    header_len = bytes[8] | (std::size_t{bytes[9]} << 8), start = 10;
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 12) fail("truncated .npy header");
    header_len =
        bytes[8] | (std::size_t{bytes[9]} << 8) | (std::size_t{bytes[10]} << 16) | (std::size_t{bytes[11]} << 24);
    start = 12;
  } else {
    fail(".npy format version " + std::to_string(major) + " is not one of 1, 2, 3");
  }
  if (bytes.size() - start < header_len) fail("truncated .npy header");
  const std::string_view header(reinterpret_cast<const char*>(bytes.data()) + start, header_len);
  NpyArray a = HeaderParser(header, where).parse();
  const std::size_t item = a.descr.size() == 3 ? std::size_t(a.descr[2] - '0') : 0;
  const bool known = a.descr.size() == 3 && (a.descr[0] == '<' || a.descr[0] == '|' || a.descr[0] == '>') &&
                     (a.descr[1] == 'u' || a.descr[1] == 'i' || a.descr[1] == 'f') &&
                     (item == 1 || item == 2 || item == 4 || item == 8);
  if (!known) fail("dtype '" + a.descr + "' is not an integer or float type sigmanet reads");
  if (a.descr[0] == '>' && item > 1) fail("dtype '" + a.descr + "' is big-endian; save it little-endian");
  if (a.shape.empty()) fail("is a scalar; expected one record per row");
  std::size_t count = 1;
  for (std::size_t s : a.shape) {
    if (s != 0 && count > kMaxBytes / s) fail("shape too large");
    count *= s;
  }
  const std::size_t data_bytes = bytes.size() - start - header_len;
  if (data_bytes != count * item)
    fail("holds " + std::to_string(data_bytes) + " data bytes, its shape and dtype need " +
         std::to_string(count * item));
  a.data.assign(bytes.begin() + std::ptrdiff_t(start + header_len), bytes.end());
  return a;
}

NpyArray read_member(zip_t* archive, const std::string& file, const std::string& array) {
  const std::string member = array + ".npy";
  const std::string where = file + ": " + array;
  zip_stat_t st;
  zip_stat_init(&st);
  if (zip_stat(archive, member.c_str(), 0, &st) != 0) throw InputError(where + ": no such array in the archive");
  if (!(st.valid & ZIP_STAT_SIZE) || st.size > kMaxBytes) throw InputError(where + ": larger than 4 GiB");
  std::unique_ptr<zip_file_t, ZipFileCloser> f(zip_fopen(archive, member.c_str(), 0));
  if (!f) throw InputError(where + ": cannot open: " + zip_strerror(archive));
  // Read in pieces, so that memory follows the data there is, not the size the archive's directory claims.
  std::vector<std::uint8_t> bytes;
  std::vector<std::uint8_t> piece(std::size_t{1} << 16);
  for (;;) {
    const zip_int64_t got = zip_fread(f.get(), piece.data(), piece.size());
    if (got < 0) throw InputError(where + ": cannot read: " + std::string(zip_file_strerror(f.get())));
    if (got == 0) break;
    bytes.insert(bytes.end(), piece.begin(), piece.begin() + got);
    if (bytes.size() > st.size) break;
  }
  if (bytes.size() != st.size)
    throw InputError(where + ": holds " + std::to_string(bytes.size()) + " bytes, the archive's directory says " +
                     std::to_string(st.size));
  return parse_npy(bytes, where);
}

template <class T>
T little_endian(const std::uint8_t* p) {
  T v;
  std::memcpy(&v, p, sizeof v);  // the machines sigmanet runs on are little-endian, as the dtype
  return v;
}

}  // namespace

namespace detail {

Dataset parse_npz(std::span<const std::uint8_t> bytes, const std::string& name, const std::string& x,
                  const std::string& y) {
  zip_error_t error;
  zip_error_init(&error);
  zip_source_t* source = zip_source_buffer_create(bytes.data(), bytes.size(), 0, &error);
  std::unique_ptr<zip_t, ZipCloser> archive(source ? zip_open_from_source(source, ZIP_RDONLY, &error) : nullptr);
  if (!archive) {
    const std::string why = zip_error_strerror(&error);
    if (source) zip_source_free(source);
    zip_error_fini(&error);
    throw InputError(name + ": not a .npz file (" + why + ")");
  }
  zip_error_fini(&error);
  const NpyArray features = read_member(archive.get(), name, x);
  const NpyArray labels = read_member(archive.get(), name, y);

  const std::size_t n = features.shape[0];
  if (labels.shape[0] != n || labels.count() != n)
    throw InputError(name + ": " + x + " has " + std::to_string(n) + " records but " + y + " has " +
                     std::to_string(labels.count()) + " labels");
  if (n == 0) throw InputError(name + ": " + x + " has no records");
  Dataset d;
  d.name = fs::path(name).filename().string() + ":" + x;
  d.rows = features.shape.size() == 3 ? features.shape[1] : 1;
  d.cols = n ? features.count() / n / d.rows : 0;
  if (d.features() == 0) throw InputError(name + ": " + x + " has records of no features");
  const char kind = features.descr[1];
  const std::size_t item = std::size_t(features.descr[2] - '0');
  if (kind == 'u' && item == 1) {
    d.pixels = features.data;
  } else if (kind == 'f' && item == 4) {
    d.values.resize(features.count());
    for (std::size_t i = 0; i < d.values.size(); ++i) {
      d.values[i] = little_endian<float>(&features.data[i * 4]);
      if (!std::isfinite(d.values[i]))
        throw InputError(name + ": " + x + ": record " + std::to_string(i / d.features()) + ", feature " +
                         std::to_string(i % d.features()) + " is " + (std::isnan(d.values[i]) ? "NaN" : "Inf") +
                         "; features must be finite");
    }
  } else {
    throw InputError(name + ": " + x + ": dtype '" + features.descr + "'; features must be uint8 or float32");
  }

  const char label_kind = labels.descr[1];
  const std::size_t label_item = std::size_t(labels.descr[2] - '0');
  if (label_kind == 'f') throw InputError(name + ": " + y + ": dtype '" + labels.descr + "'; labels must be integers");
  d.labels.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint8_t* p = &labels.data[i * label_item];
    std::int64_t v = 0;
    if (label_kind == 'u') {
      std::uint64_t u = label_item == 1   ? *p
                        : label_item == 2 ? little_endian<std::uint16_t>(p)
                        : label_item == 4 ? little_endian<std::uint32_t>(p)
                                          : little_endian<std::uint64_t>(p);
      if (u > 255)
        throw InputError(name + ": " + y + ": label " + std::to_string(u) + " at record " + std::to_string(i) +
                         " is not 0..255");
      v = std::int64_t(u);
    } else {
      v = label_item == 1   ? std::int64_t(static_cast<std::int8_t>(*p))
          : label_item == 2 ? little_endian<std::int16_t>(p)
          : label_item == 4 ? little_endian<std::int32_t>(p)
                            : little_endian<std::int64_t>(p);
    }
    if (v < 0 || v > 255)
      throw InputError(name + ": " + y + ": label " + std::to_string(v) + " at record " + std::to_string(i) +
                       " is not 0..255");
    d.labels[i] = static_cast<std::uint8_t>(v);
  }
  return d;
}

}  // namespace detail

Dataset read_npz_set(const fs::path& file, const std::string& x, const std::string& y) {
  return detail::parse_npz(read_file_bytes(file, kMaxBytes), file.string(), x, y);
}
#endif

}  // namespace sigmanet
