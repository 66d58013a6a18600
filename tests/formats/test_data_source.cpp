// The data readers (CSV, NPZ, IDX folders and named IDX files) and the dispatcher on files the tests write
// themselves: what each reads, every refusal with its exact message, and the same data in three formats giving
// the same Datasets.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <limits>

#include "npz_bytes.hpp"
#include "sigmanet/error.hpp"
#include "sigmanet/formats/csv.hpp"
#include "sigmanet/formats/data_source.hpp"
#include "sigmanet/formats/npz.hpp"
#include "test_support.hpp"

namespace sigmanet {
namespace {

using test::TempDir;
using test::thrown;

void write_text(const std::filesystem::path& file, const std::string& text) {
  std::ofstream(file, std::ios::binary) << text;
}

DataSourceOptions from(const std::filesystem::path& data) {
  DataSourceOptions o;
  o.data = data;
  return o;
}

// ---- CSV ----

TEST(CsvReader, ReadsLabelFirstAfterAHeaderAsPixels) {
  TempDir dir;
  write_text(dir / "a.csv", "label,p0,p1,p2,p3\n3,0,255,7,8\r\n1, 1,2,3,4\n\n");
  const Dataset d = read_csv_set(dir / "a.csv", {});
  EXPECT_EQ(d.labels, (std::vector<std::uint8_t>{3, 1}));
  EXPECT_EQ(d.pixels, (std::vector<std::uint8_t>{0, 255, 7, 8, 1, 2, 3, 4}));
  EXPECT_FALSE(d.has_values());
  EXPECT_EQ(d.rows, 2u);  // 4 pixels: a square image
  EXPECT_EQ(d.cols, 2u);
  EXPECT_EQ(d.name, "a.csv");
}

TEST(CsvReader, ReadsFloatFeaturesAsValuesInOneRow) {
  TempDir dir;
  write_text(dir / "a.csv", "0,5.1,3.5,1.4\n2,6.3,-2.5,1e2\n");
  const Dataset d = read_csv_set(dir / "a.csv", {});
  EXPECT_EQ(d.labels, (std::vector<std::uint8_t>{0, 2}));
  EXPECT_EQ(d.values, (std::vector<float>{5.1f, 3.5f, 1.4f, 6.3f, -2.5f, 100.0f}));
  EXPECT_TRUE(d.pixels.empty());
  EXPECT_EQ(d.rows, 1u);
  EXPECT_EQ(d.cols, 3u);
}

TEST(CsvReader, WholeNumbersReadAsFloatValuesWhenTold) {
  TempDir dir;
  write_text(dir / "a.csv", "1,0,200\n0,3,4\n");
  CsvOptions o;
  o.features = FeatureKind::values;
  const Dataset d = read_csv_set(dir / "a.csv", o);
  EXPECT_EQ(d.values, (std::vector<float>{0, 200, 3, 4}));
  EXPECT_EQ(d.rows, 1u);
}

TEST(CsvReader, TakesTheLabelFromANamedOrNumberedColumn) {
  TempDir dir;
  write_text(dir / "a.csv", "x,y,\"species\"\n0.5,1.5,2\n0.25,3,1\n");
  CsvOptions o;
  o.label_column = "species";
  Dataset d = read_csv_set(dir / "a.csv", o);
  EXPECT_EQ(d.labels, (std::vector<std::uint8_t>{2, 1}));
  EXPECT_EQ(d.values, (std::vector<float>{0.5f, 1.5f, 0.25f, 3.0f}));
  o.label_column = "3";
  EXPECT_EQ(read_csv_set(dir / "a.csv", o).labels, d.labels);
}

// Rows to predict: every column a feature, whatever a label column would be (found by the fuzzer: a label column
// with unlabelled rows gave two labels a row).
TEST(CsvReader, UnlabelledRowsAreAllFeatures) {
  TempDir dir;
  write_text(dir / "a.csv", "a,b,c\n1,2,3\n4,5,6\n");
  CsvOptions o;
  o.labelled = false;
  o.label_column = "2";
  const Dataset d = read_csv_set(dir / "a.csv", o);
  EXPECT_EQ(d.labels, (std::vector<std::uint8_t>{0, 0}));
  EXPECT_EQ(d.pixels, (std::vector<std::uint8_t>{1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(d.features(), 3u);
}

TEST(CsvReader, ADeclaredHeaderIsSkippedAndNoHeaderIsData) {
  TempDir dir;
  write_text(dir / "a.csv", "1,2,3\n0,4,5\n");
  CsvOptions o;
  o.header = HeaderRow::yes;
  EXPECT_EQ(read_csv_set(dir / "a.csv", o).labels, (std::vector<std::uint8_t>{0}));
  o.header = HeaderRow::no;
  EXPECT_EQ(read_csv_set(dir / "a.csv", o).labels, (std::vector<std::uint8_t>{1, 0}));
  write_text(dir / "b.csv", "label,a\n0,4\n");
  EXPECT_EQ(thrown<InputError>([&] { read_csv_set(dir / "b.csv", o); }),
            (dir / "b.csv").string() + ": line 1, column 1: 'label' is not a number");
}

TEST(CsvReader, RefusesBadRowsNamingFileLineAndColumn) {
  TempDir dir;
  const auto refused = [&](const std::string& text, const CsvOptions& o = {}) {
    write_text(dir / "bad.csv", text);
    return thrown<InputError>([&] { read_csv_set(dir / "bad.csv", o); });
  };
  const std::string f = (dir / "bad.csv").string();
  EXPECT_EQ(refused("1,2,3\n0,4\n"), f + ": line 2: 2 fields, the first line has 3");
  EXPECT_EQ(refused("1,2,3\n0,4,5,6\n"), f + ": line 2: 4 fields, the first line has 3");
  EXPECT_EQ(refused("1,2,3\n0,4,x5\n"), f + ": line 2, column 3: 'x5' is not a number");
  EXPECT_EQ(refused("1,2,3\n0,4,\n"), f + ": line 2, column 3: '' is not a number");
  EXPECT_EQ(refused("1,2,3\n300,4,5\n"), f + ": line 2, column 1: label 300 is not a whole number 0..255");
  EXPECT_EQ(refused("1,2,3\n-1,4,5\n"), f + ": line 2, column 1: label -1 is not a whole number 0..255");
  EXPECT_EQ(refused("1,2,3\n1.5,4,5\n"), f + ": line 2, column 1: label 1.5 is not a whole number 0..255");
  EXPECT_EQ(refused("1,2,3\n0,nan,5\n"), f + ": line 2, column 2: nan is not a finite number");
  EXPECT_EQ(refused("1,2,3\n0,4,inf\n"), f + ": line 2, column 3: inf is not a finite number");
  EXPECT_EQ(refused("1,2,3\n0,4,1e39\n"), f + ": line 2, column 3: 1e39 is too large for a float");
  EXPECT_EQ(refused("a,b\n"), f + ": no records");
  EXPECT_EQ(refused("7\n"), f + ": line 1: 1 field; a record needs a label and at least one feature");
  CsvOptions pixels;
  pixels.features = FeatureKind::pixels;
  EXPECT_EQ(refused("1,2,3\n0,4,0.5\n", pixels), f + ": line 2, column 3: 0.5 is not a pixel (a whole number 0..255)");
  CsvOptions named;
  named.label_column = "kind";
  EXPECT_EQ(refused("a,b\n0,1\n", named),
            "--label-column: " + f + " has no column kind (its header names a,b, and a column number is 1..2)");
  EXPECT_EQ(refused("0,1\n0,1\n", named),
            "--label-column: " + f + " has no column kind (it has no header row, and a column number is 1..2)");
}

// ---- NPZ ----

std::vector<std::uint8_t> npz_of(const std::vector<std::uint8_t>& x, const std::vector<std::uint8_t>& y) {
  return test::zip_bytes({{"x_train.npy", x}, {"y_train.npy", y}, {"x_test.npy", x}, {"y_test.npy", y}});
}

TEST(NpzReader, ReadsBytesAsPixelsKeepingTheImageShape) {
  if (!can_read_npz()) GTEST_SKIP() << "this build reads no .npz (portable, without libzip)";
  TempDir dir;
  const auto x = test::npy_bytes("|u1", "(2, 2, 3)", {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12});
  const auto y = test::npy_bytes("<i8", "(2,)", test::raw_bytes<std::int64_t>({4, 0}));
  test::write_bytes(dir / "d.npz", npz_of(x, y));
  const Dataset d = read_npz_set(dir / "d.npz", "x_train", "y_train");
  EXPECT_EQ(d.rows, 2u);
  EXPECT_EQ(d.cols, 3u);
  EXPECT_EQ(d.pixels, (std::vector<std::uint8_t>{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}));
  EXPECT_EQ(d.labels, (std::vector<std::uint8_t>{4, 0}));
}

TEST(NpzReader, ReadsFloat32AsValuesAndFlattensOtherShapes) {
  if (!can_read_npz()) GTEST_SKIP() << "this build reads no .npz (portable, without libzip)";
  TempDir dir;
  const std::vector<float> values{0.5f, -1, 2, 3, 4, 5, 6, 7};
  const auto x = test::npy_bytes("<f4", "(2, 2, 1, 2)", test::raw_bytes(values));
  for (const auto& [descr, y] : std::vector<std::pair<std::string, std::vector<std::uint8_t>>>{
           {"|u1", {1, 2}},
           {"<u2", test::raw_bytes<std::uint16_t>({1, 2})},
           {"<i4", test::raw_bytes<std::int32_t>({1, 2})},
           {"<u8", test::raw_bytes<std::uint64_t>({1, 2})}}) {
    test::write_bytes(dir / "d.npz", npz_of(x, test::npy_bytes(descr, "(2,)", y)));
    const Dataset d = read_npz_set(dir / "d.npz", "x_test", "y_test");
    EXPECT_EQ(d.rows, 1u) << descr;
    EXPECT_EQ(d.cols, 4u) << descr;
    EXPECT_EQ(d.values, values) << descr;
    EXPECT_EQ(d.labels, (std::vector<std::uint8_t>{1, 2})) << descr;
  }
}

TEST(NpzReader, RefusesEveryMalformedArrayNamingFileAndArray) {
  if (!can_read_npz()) GTEST_SKIP() << "this build reads no .npz (portable, without libzip)";
  TempDir dir;
  const std::string f = (dir / "d.npz").string();
  const auto good_x = test::npy_bytes("|u1", "(2, 2)", {1, 2, 3, 4});
  const auto good_y = test::npy_bytes("|u1", "(2,)", {0, 1});
  const auto refused = [&](const std::vector<std::uint8_t>& x, const std::vector<std::uint8_t>& y) {
    test::write_bytes(dir / "d.npz", npz_of(x, y));
    return thrown<InputError>([&] { read_npz_set(dir / "d.npz", "x_train", "y_train"); });
  };
  EXPECT_EQ(refused(good_x, test::npy_bytes("|u1", "(3,)", {0, 1, 2})),
            f + ": x_train has 2 records but y_train has 3 labels");
  EXPECT_EQ(refused({1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}, good_y),
            f + ": x_train: not a .npy array (no \\x93NUMPY magic)");
  EXPECT_EQ(refused(test::npy_with_header("{'descr': '|u1', 'fortran_order': True, 'shape': (2, 2), }\n", {1, 2, 3, 4}),
                    good_y),
            f + ": x_train: is stored in Fortran order; save it in C order (np.ascontiguousarray)");
  EXPECT_EQ(refused(test::npy_with_header("{'descr': '|u1', 'shape': (2, 2), }\n", {1, 2, 3, 4}), good_y),
            f + ": x_train: the .npy header lacks descr, fortran_order or shape");
  EXPECT_EQ(refused(test::npy_with_header("{'descr': '|u1', 'fortran_order': False, 'shape': (2, 2), 'x': 1}\n",
                                          {1, 2, 3, 4}),
                    good_y),
            f + ": x_train: unexpected key 'x' in the .npy header");
  EXPECT_EQ(
      refused(test::npy_with_header("{'descr': '|u1', 'fortran_order': False, 'shape': (2, two), }\n", {1, 2, 3, 4}),
              good_y),
      f + ": x_train: malformed .npy header: the shape holds something other than whole numbers");
  EXPECT_EQ(refused(test::npy_with_header("['descr']\n", {}), good_y),
            f + ": x_train: malformed .npy header: expected '{' at byte 0");
  EXPECT_EQ(refused(test::npy_bytes("|u1", "(2, 2)", {1, 2, 3}), good_y),
            f + ": x_train: holds 3 data bytes, its shape and dtype need 4");
  EXPECT_EQ(refused(test::npy_bytes("<c8", "(2, 2)", {}), good_y),
            f + ": x_train: dtype '<c8' is not an integer or float type sigmanet reads");
  EXPECT_EQ(refused(test::npy_bytes(">f4", "(1, 1)", {0, 0, 0, 0}), good_y),
            f + ": x_train: dtype '>f4' is big-endian; save it little-endian");
  EXPECT_EQ(refused(test::npy_bytes("<f8", "(2, 1)", test::raw_bytes<double>({1, 2})), good_y),
            f + ": x_train: dtype '<f8'; features must be uint8 or float32");
  EXPECT_EQ(
      refused(test::npy_bytes("<f4", "(2, 1)", test::raw_bytes<float>({1, std::numeric_limits<float>::quiet_NaN()})),
              good_y),
      f + ": x_train: record 1, feature 0 is NaN; features must be finite");
  EXPECT_EQ(
      refused(test::npy_bytes("<f4", "(2, 1)", test::raw_bytes<float>({std::numeric_limits<float>::infinity(), 1})),
              good_y),
      f + ": x_train: record 0, feature 0 is Inf; features must be finite");
  EXPECT_EQ(refused(good_x, test::npy_bytes("<i4", "(2,)", test::raw_bytes<std::int32_t>({0, -3}))),
            f + ": y_train: label -3 at record 1 is not 0..255");
  EXPECT_EQ(refused(good_x, test::npy_bytes("<u2", "(2,)", test::raw_bytes<std::uint16_t>({1000, 1}))),
            f + ": y_train: label 1000 at record 0 is not 0..255");
  EXPECT_EQ(refused(good_x, test::npy_bytes("<f4", "(2,)", test::raw_bytes<float>({0, 1}))),
            f + ": y_train: dtype '<f4'; labels must be integers");
  // A directory that claims a member of 2 GiB is not believed with memory (found by the fuzzer: it allocated it).
  auto claims_more = npz_of(good_x, good_y);
  const std::uint8_t central[4] = {0x50, 0x4b, 0x01, 0x02};
  const auto entry = std::search(claims_more.begin(), claims_more.end(), central, central + 4);
  ASSERT_NE(entry, claims_more.end());
  entry[24] = 0xff, entry[25] = 0xff, entry[26] = 0xff, entry[27] = 0x7f;  // its uncompressed size
  test::write_bytes(dir / "d.npz", claims_more);
  const std::string claimed = thrown<InputError>([&] { read_npz_set(dir / "d.npz", "x_train", "y_train"); });
  EXPECT_EQ(claimed, f + ": x_train: cannot read: Zip archive inconsistent");
  test::write_bytes(dir / "d.npz", test::zip_bytes({{"x_train.npy", good_x}}));
  EXPECT_EQ(thrown<InputError>([&] { read_npz_set(dir / "d.npz", "x_train", "y_train"); }),
            f + ": y_train: no such array in the archive");
  test::write_bytes(dir / "d.npz", {'n', 'o', 't', ' ', 'a', ' ', 'z', 'i', 'p'});
  EXPECT_EQ(thrown<InputError>([&] {
              read_npz_set(dir / "d.npz", "x_train", "y_train");
            }).rfind(f + ": not a .npz file (", 0),
            0u);
}

// ---- the dispatcher and the checks every source passes ----

// A CSV folder: train.csv with `train` and test.csv with `test`, each a full file text.
std::filesystem::path csv_folder(const TempDir& dir, const std::string& train, const std::string& test) {
  std::filesystem::create_directories(dir / "csv");
  write_text(dir / "csv" / "train.csv", train);
  write_text(dir / "csv" / "test.csv", test);
  return dir / "csv";
}

TEST(LoadData, ReadsACsvFolderWithItsClassCountAndDefaultSplit) {
  TempDir dir;
  const auto folder = csv_folder(dir, "0,1.5\n1,2\n2,3\n0,4\n1,5\n2,6\n0,7\n", "1,0.5\n2,0.25\n");
  const LabelledData d = load_data(from(folder));
  EXPECT_EQ(d.classes, 3u);
  EXPECT_EQ(d.train.size(), 6u);  // 7 records: the last sixth (1) validates, the rest train
  EXPECT_EQ(d.validation.size(), 1u);
  EXPECT_EQ(d.validation.values, (std::vector<float>{7}));
  EXPECT_EQ(d.test.values, (std::vector<float>{0.5f, 0.25f}));
  EXPECT_TRUE(d.notes.empty());
}

TEST(LoadData, SplitFlagsKeepTheirMeaning) {
  TempDir dir;
  const auto folder = csv_folder(dir, "0,1\n1,2\n0,3\n1,4\n0,5\n", "1,1\n0,2\n1,3\n");
  DataSourceOptions o = from(folder);
  o.split = {2, 2, 1};
  const LabelledData d = load_data(o);
  EXPECT_EQ(d.train.pixels, (std::vector<std::uint8_t>{1, 2}));
  EXPECT_EQ(d.validation.pixels, (std::vector<std::uint8_t>{4, 5}));
  EXPECT_EQ(d.test.pixels, (std::vector<std::uint8_t>{1}));
  o.split = {4, 2, {}};
  EXPECT_EQ(thrown<SettingError>([&] { load_data(o); }),
            "train_size + validation_size: 4 + 2 exceeds the 5 records of " + (folder / "train.csv").string());
  o.split = {{}, {}, 4};
  EXPECT_EQ(thrown<SettingError>([&] { load_data(o); }),
            "test_size: must be 1..3 (the records of " + (folder / "test.csv").string() + ")");
}

TEST(LoadData, ATestSourceOfAnotherKind) {
  TempDir dir;
  test::write_tiny_mnist(dir / "idx");
  std::string rows;
  for (int r = 0; r < 3; ++r) {
    rows += std::to_string(r);
    for (int i = 0; i < 784; ++i) rows += "," + std::to_string((r + i) % 256);
    rows += "\n";
  }
  write_text(dir / "t.csv", rows);
  DataSourceOptions o = from(dir / "idx");
  o.test_data = dir / "t.csv";
  const LabelledData d = load_data(o);
  EXPECT_EQ(d.test.size(), 3u);
  EXPECT_EQ(d.test.rows, 28u);
  EXPECT_EQ(d.test.image(2)[0], 2);
  EXPECT_EQ(d.train.size(), 1750u);  // tiny MNIST's 2,100 training records less a sixth
  const auto files = data_source_files(o);
  EXPECT_EQ(files.back(), dir / "t.csv");
  // One CSV file for training, another for the test set; one alone has no test set.
  o.data = dir / "t.csv";
  o.split = {2, 1, 1};
  EXPECT_EQ(load_data(o).train.size(), 2u);
  o.test_data.clear();
  EXPECT_EQ(thrown<InputError>([&] { load_data(o); }),
            (dir / "t.csv").string() + ": one CSV file holds no test set; name one with --test-data");
}

TEST(LoadData, ReadsNamedIdxFilesAndEmnistsTransposedLetters) {
  TempDir dir;
  // 2x3 images stored transposed (as EMNIST stores them: column by column), letters 1..26.
  test::write_bytes(dir / "emnist-letters-train-images", test::idx_images(3, 3, 2));
  test::write_bytes(dir / "emnist-letters-train-labels", test::idx_labels({1, 26, 2}));
  test::write_bytes(dir / "emnist-letters-test-images", test::idx_images(1, 3, 2));
  test::write_bytes(dir / "emnist-letters-test-labels", test::idx_labels({3}));
  // A balanced split's names from its mapping: digits, then letters.
  test::write_bytes(dir / "emnist-balanced-train-images-idx3-ubyte", test::idx_images(3, 3, 2));
  test::write_bytes(dir / "emnist-balanced-train-labels-idx1-ubyte", test::idx_labels({0, 1, 2}));
  write_text(dir / "emnist-balanced-mapping.txt", "0 48\n1 49\n2 65\n");
  DataSourceOptions balanced;
  balanced.train_images = dir / "emnist-balanced-train-images-idx3-ubyte";
  balanced.train_labels = dir / "emnist-balanced-train-labels-idx1-ubyte";
  balanced.test_images = balanced.train_images, balanced.test_labels = balanced.train_labels;
  balanced.emnist = true;
  balanced.split = {3, 0, {}};
  EXPECT_EQ(load_data(balanced).class_names, (std::vector<std::string>{"0", "1", "A"}));
  DataSourceOptions o;
  o.train_images = dir / "emnist-letters-train-images", o.train_labels = dir / "emnist-letters-train-labels";
  o.test_images = dir / "emnist-letters-test-images", o.test_labels = dir / "emnist-letters-test-labels";
  o.split = {3, 0, {}};
  LabelledData plain = load_data(o);
  EXPECT_EQ(plain.train.rows, 3u);
  EXPECT_EQ(plain.classes, 27u);
  o.emnist = true;
  const LabelledData d = load_data(o);
  EXPECT_EQ(d.train.rows, 2u);
  EXPECT_EQ(d.train.cols, 3u);
  // Stored image 0 is 3 rows x 2 columns of i * 7: [0 7; 14 21; 28 35]; upright it is its transpose.
  EXPECT_EQ(std::vector<std::uint8_t>(d.train.image(0), d.train.image(0) + 6),
            (std::vector<std::uint8_t>{0, 14, 28, 7, 21, 35}));
  EXPECT_EQ(d.train.labels, (std::vector<std::uint8_t>{0, 25, 1}));
  EXPECT_EQ(d.test.labels, (std::vector<std::uint8_t>{2}));
  EXPECT_EQ(d.classes, 26u);
  ASSERT_EQ(d.class_names.size(), 26u);
  EXPECT_EQ(d.class_names.front(), "A");
  EXPECT_EQ(d.class_names.back(), "Z");
  // EMNIST's mapping file names the classes (the letters split: upper and lower case, 1..26).
  write_text(dir / "emnist-letters-mapping.txt", "1 65 97\n2 66 98\n3 67 99\n26 90 122\n");
  EXPECT_EQ(load_data(o).class_names.front(), "A");
  write_text(dir / "emnist-letters-mapping.txt", "1 65 97\nx\n");
  EXPECT_EQ(thrown<InputError>([&] { load_data(o); }),
            (dir / "emnist-letters-mapping.txt").string() + ": line 2: expected a label and a character's ASCII code");
  o.test_labels.clear();
  EXPECT_EQ(thrown<InputError>([&] { load_data(o); }), "--test-images: needs --test-labels too");
}

TEST(LoadData, RefusesBadDataNamingTheFile) {
  TempDir dir;
  const auto refused = [&](const std::string& train, const std::string& test, std::size_t classes = 0) {
    const auto folder = csv_folder(dir, train, test);
    DataSourceOptions o = from(folder);
    o.classes = classes;
    return thrown<InputError>([&] { load_data(o); });
  };
  const std::string train = (dir / "csv" / "train.csv").string(), test = (dir / "csv" / "test.csv").string();
  EXPECT_EQ(refused("3,1\n3,2\n3,3\n", "3,1\n"),
            train + ": every record has label 3; training needs at least two classes");
  EXPECT_EQ(refused("0,1\n1,2\n", "2,1\n"), test + ": label 2, a class the training data (" + train +
                                                ") lacks: its labels go up to 1 (declare more "
                                                "with --classes)");
  EXPECT_EQ(refused("0,1,2\n1,2,3\n", "1,1\n"),
            test + ": records of 1 features, but the training data's (" + train + ") have 2");
  EXPECT_EQ(refused("0,1\n1,2\n", "1,0.5\n"), test + ": features are float values but the training data's (" + train +
                                                  ") are pixels; say which with --features float or pixels");
  EXPECT_EQ(refused("0,1\n4,2\n", "1,1\n", 3), train + ": label 4 but --classes is 3");
  // The split can leave the training set with one class.
  const auto folder = csv_folder(dir, "0,1\n0,2\n1,3\n", "1,1\n");
  DataSourceOptions o = from(folder);
  o.split = {2, 1, {}};
  EXPECT_EQ(thrown<InputError>([&] { load_data(o); }),
            train + ": the 2 training records all have label 0; training needs at least two classes");
}

TEST(LoadData, WarnsOfATestClassTheTrainingSetLacks) {
  TempDir dir;
  const auto folder = csv_folder(dir, "0,1\n2,2\n", "1,1\n");
  DataSourceOptions o = from(folder);
  o.split = {2, 0, {}};
  const LabelledData d = load_data(o);
  EXPECT_EQ(d.classes, 3u);
  EXPECT_EQ(d.notes, (std::vector<std::string>{(folder / "test.csv").string() +
                                               ": class 1 is in the test set but not in the training set"}));
}

// MNIST's first records as IDX, CSV and NPZ: the same Datasets, bit for bit.
TEST(LoadData, TheSameDataInThreeFormatsGivesTheSameDatasets) {
  if (!can_read_npz()) GTEST_SKIP() << "this build reads no .npz (portable, without libzip)";
  TempDir dir;
  const auto folder = test::write_tiny_mnist(dir / "idx");
  DataSourceOptions o = from(folder);
  o.split = {300, 100, 50};
  const LabelledData idx = load_data(o);
  // The whole files, written as CSV (with a header) and NPZ (int64 labels, as NumPy's default).
  const Dataset train = load_idx_set(folder / "train-images-idx3-ubyte", folder / "train-labels-idx1-ubyte");
  const Dataset test = load_idx_set(folder / "t10k-images-idx3-ubyte", folder / "t10k-labels-idx1-ubyte");
  std::filesystem::create_directories(dir / "csv");
  for (const auto& [name, set] : {std::pair{"train.csv", &train}, std::pair{"test.csv", &test}}) {
    std::string text = "label";
    for (int i = 0; i < 784; ++i) text += ",pixel" + std::to_string(i);
    text += "\n";
    for (std::size_t r = 0; r < set->size(); ++r) {
      text += std::to_string(set->labels[r]);
      for (std::size_t i = 0; i < 784; ++i) text += "," + std::to_string(set->image(r)[i]);
      text += "\n";
    }
    write_text(dir / "csv" / name, text);
  }
  const auto labels64 = [](const Dataset& d) {
    return test::raw_bytes(std::vector<std::int64_t>(d.labels.begin(), d.labels.end()));
  };
  const auto shape = [](const Dataset& d) { return "(" + std::to_string(d.size()) + ", 28, 28)"; };
  test::write_bytes(
      dir / "d.npz",
      test::zip_bytes(
          {{"x_train.npy", test::npy_bytes("|u1", shape(train), train.pixels)},
           {"y_train.npy", test::npy_bytes("<i8", "(" + std::to_string(train.size()) + ",)", labels64(train))},
           {"x_test.npy", test::npy_bytes("|u1", shape(test), test.pixels)},
           {"y_test.npy", test::npy_bytes("<i8", "(" + std::to_string(test.size()) + ",)", labels64(test))}}));
  for (const auto& other : {dir / "csv", dir / "d.npz"}) {
    o.data = other;
    const LabelledData d = load_data(o);
    for (const auto& [a, b] :
         {std::pair{&d.train, &idx.train}, std::pair{&d.validation, &idx.validation}, std::pair{&d.test, &idx.test}}) {
      EXPECT_EQ(a->pixels, b->pixels) << other << " " << a->name;
      EXPECT_EQ(a->labels, b->labels) << other << " " << a->name;
      EXPECT_EQ(a->values, b->values) << other << " " << a->name;
      EXPECT_EQ(a->rows, b->rows) << other << " " << a->name;
      EXPECT_EQ(a->cols, b->cols) << other << " " << a->name;
    }
    EXPECT_EQ(d.classes, idx.classes);
  }
}

}  // namespace
}  // namespace sigmanet
