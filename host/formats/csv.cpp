// The CSV reader: strict about every field, so that a stray value is named rather than trained on.
#include "sigmanet/formats/csv.hpp"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <string_view>
#include <vector>

#include "formats/atomic_file.hpp"
#include "formats/data_parse.hpp"
#include "sigmanet/error.hpp"

namespace sigmanet {
namespace {

namespace fs = std::filesystem;

// No CSV we accept is larger: it stops a wrong path (a disk image) from being read into memory.
constexpr std::size_t kMaxCsvBytes = std::size_t{1} << 32;

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

std::vector<std::string_view> split_fields(std::string_view line) {
  std::vector<std::string_view> fields;
  for (;;) {
    const std::size_t comma = line.find(',');
    fields.push_back(trim(line.substr(0, comma)));
    if (comma == std::string_view::npos) return fields;
    line.remove_prefix(comma + 1);
  }
}

// The field as a number, or nothing when it is not one (from_chars takes no '+', spaces or trailing text).
std::optional<double> number(std::string_view field) {
  double v = 0;
  const char* end = field.data() + field.size();
  const auto [ptr, ec] = std::from_chars(field.data(), end, v);
  if (field.empty() || ec != std::errc() || ptr != end) return std::nullopt;
  return v;
}

std::string unquoted(std::string_view field) {
  if (field.size() >= 2 && field.front() == '"' && field.back() == '"') field = field.substr(1, field.size() - 2);
  return std::string(field);
}

// 'field', its first 40 characters (a line without commas can be long).
std::string quoted(std::string_view field) {
  std::string text(1, '\'');
  text.append(field.substr(0, 40));
  text.push_back('\'');
  return text;
}

bool whole_byte(double v) { return v >= 0 && v <= 255 && v == std::floor(v); }

}  // namespace

namespace detail {

Dataset parse_csv(std::string_view text, const std::string& name, const CsvOptions& options) {
  const auto fail = [&](std::size_t line, std::size_t column, const std::string& what) {
    throw InputError(name + ": line " + std::to_string(line) + (column ? ", column " + std::to_string(column) : "") +
                     ": " + what);
  };

  // Pixels are kept as bytes while every feature is one (a quarter of the memory of floats); the first that is not
  // turns them all into floats, unless pixels were asked for.
  std::vector<std::uint8_t> bytes_read;
  std::vector<float> floats;
  std::vector<std::uint8_t> labels;
  std::size_t width = 0;  // fields per line, from the first
  std::size_t label_at = options.labelled ? 0 : std::string::npos;
  bool all_bytes = options.features != FeatureKind::values;
  std::size_t line_number = 0;
  std::size_t pos = 0;
  bool first = true;
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_number;
    if (trim(line).empty()) continue;  // blank lines (a trailing newline, a blank last line) hold no record
    const std::vector<std::string_view> fields = split_fields(line);
    if (first) {
      first = false;
      width = fields.size();
      if (width < 2 && options.labelled)
        fail(line_number, 0, "1 field; a record needs a label and at least one feature");
      bool header = options.header == HeaderRow::yes;
      if (options.header == HeaderRow::automatic)
        for (std::string_view f : fields) header = header || !number(f);
      if (options.labelled && !options.label_column.empty()) {
        bool found = false;
        if (header)
          for (std::size_t c = 0; c < width && !found; ++c)
            if (unquoted(fields[c]) == options.label_column) label_at = c, found = true;
        if (!found) {
          const std::optional<double> n = number(options.label_column);
          if (!n || *n < 1 || *n > double(width) || *n != std::floor(*n))
            throw InputError("--label-column: " + name + " has no column " + options.label_column + " (" +
                             (header ? "its header names " + std::string(trim(line)) + ", "
                                     : std::string("it has no header row, ")) +
                             "and a column number is 1.." + std::to_string(width) + ")");
          label_at = std::size_t(*n) - 1;
        }
      }
      if (header) continue;
    }
    if (fields.size() != width)
      fail(line_number, 0, std::to_string(fields.size()) + " fields, the first line has " + std::to_string(width));
    for (std::size_t c = 0; c < width; ++c) {
      const std::optional<double> v = number(fields[c]);
      if (!v) fail(line_number, c + 1, quoted(fields[c]) + " is not a number");
      if (!std::isfinite(*v)) fail(line_number, c + 1, std::string(fields[c]) + " is not a finite number");
      if (c == label_at) {
        if (!whole_byte(*v))
          fail(line_number, c + 1, "label " + std::string(fields[c]) + " is not a whole number 0..255");
        labels.push_back(static_cast<std::uint8_t>(*v));
        continue;
      }
      const bool byte = whole_byte(*v);
      if (!byte && options.features == FeatureKind::pixels)
        fail(line_number, c + 1, std::string(fields[c]) + " is not a pixel (a whole number 0..255)");
      if (std::abs(*v) > std::numeric_limits<float>::max())
        fail(line_number, c + 1, std::string(fields[c]) + " is too large for a float");
      if (all_bytes && !byte) {
        all_bytes = false;
        floats.assign(bytes_read.begin(), bytes_read.end());
        bytes_read = {};
      }
      if (all_bytes) bytes_read.push_back(static_cast<std::uint8_t>(*v));
      else floats.push_back(static_cast<float>(*v));
    }
    if (!options.labelled) labels.push_back(0);
  }
  if (labels.empty()) throw InputError(name + ": no records");

  Dataset d;
  d.name = fs::path(name).filename().string();
  d.labels = std::move(labels);
  const std::size_t n_features = options.labelled ? width - 1 : width;
  const bool pixels = all_bytes;
  const auto side = static_cast<std::size_t>(std::lround(std::sqrt(double(n_features))));
  d.rows = pixels && side * side == n_features ? side : 1;
  d.cols = n_features / d.rows;
  if (pixels)
    d.pixels = std::move(bytes_read);
  else
    d.values = std::move(floats);
  return d;
}

}  // namespace detail

Dataset read_csv_set(const fs::path& file, const CsvOptions& options) {
  const std::vector<std::uint8_t> bytes = read_file_bytes(file, kMaxCsvBytes);
  return detail::parse_csv(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()),
                           file.string(), options);
}

}  // namespace sigmanet
