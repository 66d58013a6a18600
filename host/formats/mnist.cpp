// IDX readers (raw or gzip) and the MNIST split.
#include "sigmanet/formats/mnist.hpp"

#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <cerrno>
#include <cstring>

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <limits>
#include <sstream>
#include <span>

#include "formats/atomic_file.hpp"
#include "idx_parse.hpp"
#include "sigmanet/error.hpp"
#include "sigmanet/formats/data_source.hpp"

namespace sigmanet {
namespace {

namespace fs = std::filesystem;

// No IDX file we accept decompresses past this; it stops a corrupt or hostile length from exhausting memory.
constexpr std::size_t kMaxFileBytes = std::size_t{1} << 31;

[[noreturn]] void fail(const std::string& name, const std::string& what) { throw InputError(name + ": " + what); }
[[noreturn]] void fail(const fs::path& file, const std::string& what) { fail(file.string(), what); }

std::vector<std::uint8_t> read_file(const fs::path& file) {
  std::error_code ec;
  if (fs::is_directory(file, ec)) fail(file, "is a directory, not a file");
  // Regular files only (a FIFO would hang the read), and the size checked before reading, so a huge file is
  // refused rather than read into memory.
  if (const auto size = fs::file_size(file, ec); !ec && size > kMaxFileBytes)
    fail(file, "larger than 2 GiB; not an IDX file");
  return read_file_bytes(file, kMaxFileBytes);
}

std::vector<std::uint8_t> gunzip(const std::string& file, std::span<const std::uint8_t> packed) {
  std::vector<std::uint8_t> out;
  z_stream z{};
  if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) fail(file, "zlib could not start");
  z.next_in = const_cast<Bytef*>(packed.data());
  z.avail_in = static_cast<uInt>(packed.size());
  std::vector<std::uint8_t> chunk(std::size_t{1} << 16);
  int rc = Z_OK;
  for (;;) {
    z.next_out = chunk.data();
    z.avail_out = static_cast<uInt>(chunk.size());
    rc = inflate(&z, Z_NO_FLUSH);
    out.insert(out.end(), chunk.data(), chunk.data() + (chunk.size() - z.avail_out));
    if (out.size() > kMaxFileBytes) {
      inflateEnd(&z);
      fail(file, "decompresses to more than 2 GiB; not an IDX file");
    }
    if (rc == Z_STREAM_END) {
      if (z.avail_in == 0) break;
      inflateReset(&z);  // another gzip member follows (concatenated .gz files are valid)
      continue;
    }
    if (rc == Z_BUF_ERROR && z.avail_in == 0) {
      inflateEnd(&z);
      fail(file, "truncated gzip data (the download may be incomplete)");
    }
    if (rc != Z_OK && rc != Z_BUF_ERROR) {
      std::string msg = z.msg ? z.msg : "unknown error";
      inflateEnd(&z);
      fail(file, "corrupt gzip data (" + msg + ")");
    }
  }
  inflateEnd(&z);
  return out;
}

std::uint32_t big_endian_u32(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | p[3];
}

void check_header(const std::string& file, const std::vector<std::uint8_t>& bytes, std::size_t header_bytes,
                  std::uint32_t magic, const char* kind) {
  if (bytes.empty()) fail(file, "empty file");
  if (bytes.size() < header_bytes)
    fail(file, "truncated header: " + std::to_string(bytes.size()) + " bytes, an IDX " + kind + " header has " +
                   std::to_string(header_bytes));
  const std::uint32_t found = big_endian_u32(bytes.data());
  if (found != magic)
    fail(file, "bad magic number " + std::to_string(found) + ", expected " + std::to_string(magic) + " (IDX " +
                   kind + ")");
}

void check_length(const std::string& file, std::size_t actual, std::size_t expected) {
  if (actual < expected)
    fail(file, "truncated: " + std::to_string(actual) + " bytes, the header promises " + std::to_string(expected));
  if (actual > expected)
    fail(file, std::to_string(actual - expected) + " bytes past the end the header gives (" +
                   std::to_string(expected) + " bytes)");
}

bool present(const fs::path& file) {
  std::error_code ec;
  const bool found = fs::exists(file, ec);  // any kind of file: read_file says what is wrong with a FIFO
  if (ec && ec != std::errc::no_such_file_or_directory && ec != std::errc::not_a_directory)
    fail(file, ec == std::errc::permission_denied ? "permission denied" : ec.message());
  return found;
}

// NAME if it exists, else NAME.gz if it exists, else empty. Both present is fine when they hold the same
// records (NAME is read); when they differ, neither is taken silently.
fs::path find_idx(const fs::path& dir, const std::string& name, std::vector<std::string>& notes) {
  const fs::path raw = dir / name, packed = dir / (name + ".gz");
  const bool have_raw = present(raw), have_packed = present(packed);
  if (have_raw && have_packed) {
    if (read_maybe_gzip(raw) != read_maybe_gzip(packed))
      fail(dir, "holds both " + name + " and " + name + ".gz, and they differ; remove the one you do not mean");
    notes.push_back(dir.string() + " holds both " + name + " and " + name + ".gz with the same records: read " +
                    name);
  }
  if (have_raw) return raw;
  if (have_packed) return packed;
  return {};
}

// The data folder itself: a missing folder is reported with the missing files; one that is not a folder or
// cannot be read is named as such, not as "MNIST not found".
void check_data_dir(const fs::path& dir) {
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) {
    if (errno == EACCES) fail(dir, "permission denied");
    return;
  }
  if (!S_ISDIR(st.st_mode)) fail(dir, "is " + file_kind(st.st_mode) + ", not a folder of MNIST files");
  if (::access(dir.c_str(), R_OK | X_OK) != 0)
    fail(dir, errno == EACCES ? std::string("permission denied") : std::string(std::strerror(errno)));
}

}  // namespace

namespace detail {

std::vector<std::uint8_t> decode_maybe_gzip(std::span<const std::uint8_t> bytes, const std::string& name) {
  if (bytes.size() >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b) return gunzip(name, bytes);
  if (bytes.size() > kMaxFileBytes) fail(name, "larger than 2 GiB; not an IDX file");
  return {bytes.begin(), bytes.end()};
}

IdxImages parse_idx_images(std::span<const std::uint8_t> packed, const std::string& file) {
  const std::vector<std::uint8_t> bytes = decode_maybe_gzip(packed, file);
  check_header(file, bytes, 16, 2051, "images");
  IdxImages out;
  out.count = big_endian_u32(&bytes[4]);
  out.rows = big_endian_u32(&bytes[8]);
  out.cols = big_endian_u32(&bytes[12]);
  if (out.rows == 0 || out.cols == 0)
    fail(file, "image size " + std::to_string(out.rows) + "x" + std::to_string(out.cols) + " is empty");
  // Each factor is below 2^32, so rows * cols fits; the full product is checked against the actual size.
  const std::size_t per_image = out.rows * out.cols;
  if (out.count > (kMaxFileBytes - 16) / per_image)
    fail(file, "header claims " + std::to_string(out.count) + " images of " + std::to_string(per_image) +
                   " bytes, more than 2 GiB");
  check_length(file, bytes.size(), 16 + out.count * per_image);
  out.pixels.assign(bytes.begin() + 16, bytes.end());
  return out;
}

std::vector<std::uint8_t> parse_idx_labels(std::span<const std::uint8_t> packed, const std::string& file) {
  const std::vector<std::uint8_t> bytes = decode_maybe_gzip(packed, file);
  check_header(file, bytes, 8, 2049, "labels");
  const std::size_t count = big_endian_u32(&bytes[4]);
  check_length(file, bytes.size(), 8 + count);
  return std::vector<std::uint8_t>(bytes.begin() + 8, bytes.end());
}

}  // namespace detail

std::vector<std::uint8_t> read_maybe_gzip(const fs::path& file) {
  return detail::decode_maybe_gzip(read_file(file), file.string());
}

IdxImages read_idx_images(const fs::path& file) { return detail::parse_idx_images(read_file(file), file.string()); }

std::vector<std::uint8_t> read_idx_labels(const fs::path& file) {
  return detail::parse_idx_labels(read_file(file), file.string());
}

namespace {

constexpr const char* kMnistNames[4] = {"train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                                        "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"};

}  // namespace

std::vector<fs::path> mnist_files(const fs::path& dir) {
  std::vector<fs::path> files;
  std::error_code ec;
  for (const char* name : kMnistNames)
    for (const fs::path& file : {dir / name, dir / (std::string(name) + ".gz")})
      if (fs::exists(file, ec)) files.push_back(file);
  return files;
}

IdxFolder read_idx_folder(const fs::path& dir, bool train, bool test, std::vector<std::string>& notes) {
  const auto& names = kMnistNames;
  check_data_dir(dir);
  fs::path paths[4];
  std::string missing;
  for (int i = 0; i < 4; ++i) {
    if (!(i < 2 ? train : test)) continue;
    paths[i] = find_idx(dir, names[i], notes);
    if (paths[i].empty()) missing += std::string(missing.empty() ? "" : ", ") + names[i] + "[.gz]";
  }
  if (!missing.empty())
    throw SettingError(Setting::data,
                       {"MNIST not found in " + dir.string() + ": missing " + missing +
                            "; fetch them with scripts/get-mnist.sh " + dir.string() + " or point ",
                        Setting::data, " / SIGMANET_DATA at a folder that has them"},
                       dir.string());
  IdxFolder folder;
  if (train) folder.train = load_idx_set(paths[0], paths[1]), folder.train_images = paths[0];
  if (test) folder.test = load_idx_set(paths[2], paths[3]), folder.test_images = paths[2];
  return folder;
}

Mnist load_mnist(const fs::path& dir, const MnistSplitSizes& sizes) {
  DataSourceOptions options;
  options.data = dir;
  options.split = {sizes.train, sizes.validation, sizes.test};
  return load_data(options);
}

fs::path resolve_data_dir(const std::string& flag_value) {
  if (!flag_value.empty()) return flag_value;
  if (const char* env = std::getenv("SIGMANET_DATA"); env && *env) return env;
  return fs::path("data") / "mnist";
}

Dataset load_idx_set(const fs::path& images, const fs::path& labels) {
  IdxImages read = read_idx_images(images);
  Dataset d;
  d.name = images.filename().string();
  d.labels = read_idx_labels(labels);
  if (d.labels.size() != read.count)
    fail(images, "has " + std::to_string(read.count) + " images but " +
                     (labels.parent_path() == images.parent_path() ? labels.filename() : labels).string() + " has " +
                     std::to_string(d.labels.size()) + " labels");
  d.rows = read.rows;
  d.cols = read.cols;
  d.pixels = std::move(read.pixels);
  return d;
}

}  // namespace sigmanet
