// The dispatcher: what --data names decides the reader; the checks every source passes; the split.
#include "sigmanet/formats/data_source.hpp"

#include <algorithm>
#include <array>
#include <cstdio>

#include "formats/atomic_file.hpp"
#include "formats/idx_parse.hpp"
#include "sigmanet/error.hpp"
#include "sigmanet/formats/csv.hpp"
#include "sigmanet/formats/mnist.hpp"
#include "sigmanet/formats/npz.hpp"

namespace sigmanet {
namespace {

namespace fs = std::filesystem;

[[noreturn]] void refuse(const std::string& file, const std::string& what) { throw InputError(file + ": " + what); }

enum class SourceKind { idx, csv_folder, csv_file, npz };

SourceKind kind_of(const fs::path& source) {
  std::error_code ec;
  if (source.extension() == ".npz") return SourceKind::npz;
  if (source.extension() == ".csv") return SourceKind::csv_file;
  if (fs::exists(source / "train.csv", ec) || fs::exists(source / "test.csv", ec)) return SourceKind::csv_folder;
  return SourceKind::idx;
}

// One source's sets, whole; `file` names them in messages.
struct Whole {
  Dataset set;
  std::string file;
};

CsvOptions csv_options(const DataSourceOptions& o) { return {o.label_column, o.header, o.features}; }

// EMNIST stores each image transposed (column by column), and its letters' labels 1..26.
void untranspose(Dataset& d) {
  std::vector<std::uint8_t> upright(d.pixels.size());
  const std::size_t r = d.rows, c = d.cols, per = r * c;
  for (std::size_t i = 0; i < d.size(); ++i)
    for (std::size_t y = 0; y < c; ++y)
      for (std::size_t x = 0; x < r; ++x) upright[i * per + y * r + x] = d.pixels[i * per + x * c + y];
  d.pixels = std::move(upright);
  std::swap(d.rows, d.cols);
}

// EMNIST names each split's classes beside its files: emnist-SPLIT-mapping.txt, a line "LABEL CODE [CODE]" per
// class, CODE a character's ASCII code (the letters split gives upper and lower case; a comma, which the model's
// metadata separates names with, is refused). Empty where there is none.
std::vector<std::string> emnist_names(const std::string& train_images, bool letters) {
  const std::size_t at = train_images.rfind("-train-images");
  if (at == std::string::npos) return {};
  const fs::path mapping = train_images.substr(0, at) + "-mapping.txt";
  std::error_code ec;
  if (!fs::exists(mapping, ec)) return {};
  const std::vector<std::uint8_t> bytes = read_file_bytes(mapping, std::size_t{1} << 20);
  std::vector<std::string> names;
  std::size_t line = 0;
  for (std::size_t pos = 0; pos < bytes.size();) {
    std::size_t end = pos;
    while (end < bytes.size() && bytes[end] != '\n') ++end;
    const std::string text(bytes.begin() + std::ptrdiff_t(pos), bytes.begin() + std::ptrdiff_t(end));
    pos = end + 1;
    ++line;
    if (text.find_first_not_of(" \r") == std::string::npos) continue;
    unsigned label = 0, code = 0;
    if (std::sscanf(text.c_str(), "%u %u", &label, &code) != 2 || code < 33 || code > 126 || code == ',' || label > 255 ||
        (letters && label == 0))
      refuse(mapping.string(), "line " + std::to_string(line) + ": expected a label and a character's ASCII code");
    const std::size_t index = label - (letters ? 1 : 0);
    if (names.size() <= index) names.resize(index + 1);
    names[index] = std::string(1, char(code));
  }
  return names;
}

// The training (test false) or test set of a source.
Whole read_source(const fs::path& source, bool test, const DataSourceOptions& o, std::vector<std::string>& notes) {
  switch (kind_of(source)) {
    case SourceKind::npz:
      return {read_npz_set(source, test ? "x_test" : "x_train", test ? "y_test" : "y_train"), source.string()};
    case SourceKind::csv_file:
      return {read_csv_set(source, csv_options(o)), source.string()};
    case SourceKind::csv_folder: {
      const fs::path file = source / (test ? "test.csv" : "train.csv");
      return {read_csv_set(file, csv_options(o)), file.string()};
    }
    case SourceKind::idx:
      break;
  }
  IdxFolder folder = read_idx_folder(source, !test, test, notes);
  return test ? Whole{std::move(folder.test), folder.test_images.string()}
              : Whole{std::move(folder.train), folder.train_images.string()};
}

// The checks a run's data passes whatever it was read from.
void check_pair(Whole& train, Whole& test, std::size_t declared_classes, LabelledData& out) {
  if (train.set.size() == 0) refuse(train.file, "no records");
  if (test.set.size() == 0) refuse(test.file, "no records");
  if (test.set.features() != train.set.features())
    refuse(test.file, "records of " + std::to_string(test.set.features()) + " features, but the training data's (" +
                          train.file + ") have " + std::to_string(train.set.features()));
  if (test.set.has_values() != train.set.has_values())
    refuse(test.file,
           std::string("features are ") + (test.set.has_values() ? "float values" : "pixels (bytes 0..255)") +
               " but the training data's (" + train.file + ") are " +
               (train.set.has_values() ? "float values" : "pixels") + "; say which with --features float or pixels");
  test.set.rows = train.set.rows, test.set.cols = train.set.cols;  // one geometry: the training data's
  std::array<std::size_t, 256> train_count{}, test_count{};
  for (std::uint8_t l : train.set.labels) ++train_count[l];
  for (std::uint8_t l : test.set.labels) ++test_count[l];
  std::size_t classes = 0, kinds = 0;
  for (std::size_t c = 0; c < 256; ++c)
    if (train_count[c]) classes = c + 1, ++kinds;
  if (kinds == 1)
    refuse(train.file,
           "every record has label " + std::to_string(classes - 1) + "; training needs at least two classes");
  if (declared_classes) {
    if (classes > declared_classes)
      refuse(train.file,
             "label " + std::to_string(classes - 1) + " but --classes is " + std::to_string(declared_classes));
    classes = declared_classes;
  }
  for (std::size_t c = 0; c < 256; ++c) {
    if (!test_count[c] || train_count[c]) continue;
    if (c >= classes)
      refuse(test.file, "label " + std::to_string(c) + ", a class the training data (" + train.file +
                            ") lacks: its labels go up to " + std::to_string(classes - 1) +
                            " (declare more with --classes)");
    out.notes.push_back(test.file + ": class " + std::to_string(c) + " is in the test set but not in the training set");
  }
  out.classes = classes;
}

}  // namespace

MnistSplitSizes resolve_split(const SplitRequest& request, std::size_t train_records, std::size_t test_records,
                              const std::string& train_file, const std::string& test_file) {
  MnistSplitSizes s;
  s.validation = request.validation.value_or(train_records / 6);
  s.train = request.train.value_or(train_records - train_records / 6);
  s.test = request.test.value_or(test_records);
  if (s.train == 0) throw SettingError(Setting::train_size, "must be at least 1", "0");
  // Compared without adding, so that no pair of sizes can wrap round past the check.
  if (s.train > train_records || s.validation > train_records - s.train)
    throw SettingError(Setting::train_size,
                       {Setting::train_size, " + ", Setting::validation_size,
                        ": " + std::to_string(s.train) + " + " + std::to_string(s.validation) + " exceeds the " +
                            std::to_string(train_records) + " records of " + train_file},
                       std::to_string(s.train));
  if (s.test == 0 || s.test > test_records)
    throw SettingError(Setting::test_size,
                       "must be 1.." + std::to_string(test_records) + " (the records of " + test_file + ")",
                       std::to_string(s.test));
  return s;
}

LabelledData load_data(const DataSourceOptions& o) {
  LabelledData out;
  // Each of the training and test sets from its named IDX pair, else its own source, else --data.
  const auto pair = [](const fs::path& images, const fs::path& labels, const char* images_flag,
                       const char* labels_flag) {
    if (images.empty() != labels.empty())
      throw InputError(std::string(images.empty() ? labels_flag : images_flag) + ": needs " +
                       (images.empty() ? images_flag : labels_flag) + " too");
    return !images.empty();
  };
  Whole train, test;
  const bool train_pair = pair(o.train_images, o.train_labels, "--train-images", "--train-labels");
  const bool test_pair = pair(o.test_images, o.test_labels, "--test-images", "--test-labels");
  if (!train_pair && !test_pair && o.test_data.empty() && kind_of(o.data) == SourceKind::idx) {
    // Both from one IDX folder: read together, so that a folder without them names every missing file.
    IdxFolder folder = read_idx_folder(o.data, true, true, out.notes);
    train = {std::move(folder.train), folder.train_images.string()};
    test = {std::move(folder.test), folder.test_images.string()};
  } else {
    train = train_pair ? Whole{load_idx_set(o.train_images, o.train_labels), o.train_images.string()}
                       : read_source(o.data, false, o, out.notes);
    if (!test_pair && o.test_data.empty() && kind_of(o.data) == SourceKind::csv_file)
      throw InputError(o.data.string() + ": one CSV file holds no test set; name one with --test-data");
    test = test_pair ? Whole{load_idx_set(o.test_images, o.test_labels), o.test_images.string()}
                     : read_source(o.test_data.empty() ? o.data : o.test_data, true, o, out.notes);
  }
  if (o.emnist) {
    for (Whole* w : {&train, &test}) {
      if (w->set.has_values()) refuse(w->file, "--emnist: EMNIST's files are IDX images, these are float values");
      untranspose(w->set);
    }
    // The letters split labels A..Z (upper and lower case together) 1..26 and has no 0.
    const auto [low, high] = std::minmax_element(train.set.labels.begin(), train.set.labels.end());
    const bool letters = *low == 1 && *high == 26;
    if (letters) {
      for (Whole* w : {&train, &test})
        for (std::uint8_t& l : w->set.labels) {
          if (l == 0) refuse(w->file, "label 0 in EMNIST letters, whose labels are 1..26");
          --l;
        }
      for (char c = 'A'; c <= 'Z'; ++c) out.class_names.push_back(std::string(1, c));
    }
    if (auto names = emnist_names(train.file, letters); !names.empty())
      out.class_names = std::move(names);
  }
  check_pair(train, test, o.classes, out);
  if (!out.class_names.empty()) {
    out.class_names.resize(out.classes);
    for (std::size_t c = 0; c < out.classes; ++c)
      if (out.class_names[c].empty()) out.class_names[c] = std::to_string(c);  // a class the mapping does not name
  }
  const MnistSplitSizes s = resolve_split(o.split, train.set.size(), test.set.size(), train.file, test.file);
  out.train = train.set.slice("train", 0, s.train);
  out.validation = train.set.slice("validation", train.set.size() - s.validation, s.validation);
  out.test = test.set.slice("test", 0, s.test);
  // The training set proper needs two classes too: a split can leave it with one.
  if (std::all_of(out.train.labels.begin(), out.train.labels.end(),
                  [&](std::uint8_t l) { return l == out.train.labels.front(); }))
    refuse(train.file, "the " + std::to_string(s.train) + " training records all have label " +
                           std::to_string(out.train.labels.front()) + "; training needs at least two classes");
  return out;
}

std::vector<fs::path> data_source_files(const DataSourceOptions& o) {
  std::vector<fs::path> files;
  std::error_code ec;
  const auto add_source = [&](const fs::path& source) {
    switch (kind_of(source)) {
      case SourceKind::npz:
      case SourceKind::csv_file:
        files.push_back(source);
        return;
      case SourceKind::csv_folder:
        for (const char* name : {"train.csv", "test.csv"})
          if (fs::exists(source / name, ec)) files.push_back(source / name);
        return;
      case SourceKind::idx:
        for (const fs::path& f : mnist_files(source)) files.push_back(f);
        return;
    }
  };
  if (o.train_images.empty() || (o.test_images.empty() && o.test_data.empty())) add_source(o.data);
  for (const fs::path& f : {o.train_images, o.train_labels, o.test_images, o.test_labels})
    if (!f.empty()) files.push_back(f);
  if (!o.test_data.empty()) add_source(o.test_data);
  return files;
}

}  // namespace sigmanet
