// The CLI on data other than MNIST's IDX folder: CSV and NPZ sources, networks that follow the data's width and
// classes, bad data refused in one line, models of another geometry evaluated and predicted, predict --rows.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "../formats/npz_bytes.hpp"
#include "sigmanet/formats/mnist.hpp"
#include "sigmanet/formats/model_file.hpp"
#include "sigmanet/formats/npz.hpp"
#include "sigmanet/random.hpp"
#include "test_support.hpp"

namespace sigmanet {
namespace {

using test::CliRun;
using test::run_cli_argv;
using test::TempDir;

void write_text(const std::filesystem::path& file, const std::string& text) {
  std::ofstream(file, std::ios::binary) << text;
}

std::vector<std::uint8_t> file_bytes(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

// A set as CSV text: the label first, then the pixels, after a header row.
std::string csv_text(const Dataset& d) {
  std::string text = "label";
  for (std::size_t i = 0; i < d.features(); ++i) text += ",p" + std::to_string(i);
  text += "\n";
  for (std::size_t r = 0; r < d.size(); ++r) {
    text += std::to_string(d.labels[r]);
    for (std::size_t i = 0; i < d.features(); ++i) text += "," + std::to_string(d.image(r)[i]);
    text += "\n";
  }
  return text;
}

std::vector<std::uint8_t> idx_images_of(const Dataset& d) {
  std::vector<std::uint8_t> out;
  test::put_u32(out, 2051), test::put_u32(out, std::uint32_t(d.size()));
  test::put_u32(out, std::uint32_t(d.rows)), test::put_u32(out, std::uint32_t(d.cols));
  out.insert(out.end(), d.pixels.begin(), d.pixels.end());
  return out;
}

std::vector<std::uint8_t> npz_of(const Dataset& train, const Dataset& test) {
  const auto x = [](const Dataset& d) {
    return test::npy_bytes(
        "|u1", "(" + std::to_string(d.size()) + ", " + std::to_string(d.rows) + ", " + std::to_string(d.cols) + ")",
        d.pixels);
  };
  const auto y = [](const Dataset& d) {
    return test::npy_bytes("<i8", "(" + std::to_string(d.size()) + ",)",
                           test::raw_bytes(std::vector<std::int64_t>(d.labels.begin(), d.labels.end())));
  };
  return test::zip_bytes(
      {{"x_train.npy", x(train)}, {"y_train.npy", y(train)}, {"x_test.npy", x(test)}, {"y_test.npy", y(test)}});
}

// The same records as an IDX folder, a CSV folder and an NPZ file under dir.
void write_three_formats(const TempDir& dir, const Dataset& train, const Dataset& test) {
  std::filesystem::create_directories(dir / "idx");
  test::write_bytes(dir / "idx" / "train-images-idx3-ubyte", idx_images_of(train));
  test::write_bytes(dir / "idx" / "train-labels-idx1-ubyte", test::idx_labels(train.labels));
  test::write_bytes(dir / "idx" / "t10k-images-idx3-ubyte", idx_images_of(test));
  test::write_bytes(dir / "idx" / "t10k-labels-idx1-ubyte", test::idx_labels(test.labels));
  std::filesystem::create_directories(dir / "csv");
  write_text(dir / "csv" / "train.csv", csv_text(train));
  write_text(dir / "csv" / "test.csv", csv_text(test));
  test::write_bytes(dir / "data.npz", npz_of(train, test));
}

// MNIST's first 1,200 training and 200 test records as IDX, CSV and NPZ: one epoch on each trains the same model,
// bit for bit (the saved files are identical), and says so with the same accuracy.
TEST(DataCli, MnistAsIdxCsvAndNpzTrainsThreeIdenticalModels) {
  if (!can_read_npz()) GTEST_SKIP() << "this build reads no .npz (portable, without libzip)";
  TempDir dir;
  const Mnist mnist = load_mnist(test::mnist_dir(), {1200, 0, 200});
  const Dataset& train = mnist.train;
  const Dataset& test = mnist.test;
  write_three_formats(dir, train, test);
  std::vector<std::string> epochs;
  for (const std::string source : {"idx", "csv", "data.npz"}) {
    const CliRun run = run_cli_argv({"train", "--data", (dir / source).string(), "--device", "cpu", "--epochs", "1",
                                     "--save", (dir / (source + ".model")).string()});
    ASSERT_EQ(run.status, 0) << source << run.err;
    EXPECT_NE(run.out.find("Training 784-30-10 on cpu float"), std::string::npos) << run.out;
    EXPECT_NE(run.out.find("1000 samples"), std::string::npos) << run.out;  // 1,200 less a sixth
    epochs.push_back(run.out.substr(run.out.find("Epoch 1/1: test"), 32));
  }
  EXPECT_EQ(epochs[1], epochs[0]);
  EXPECT_EQ(epochs[2], epochs[0]);
  const auto idx_model = file_bytes(dir / "idx.model");
  ASSERT_FALSE(idx_model.empty());
  EXPECT_EQ(file_bytes(dir / "csv.model"), idx_model);
  EXPECT_EQ(file_bytes(dir / "data.npz.model"), idx_model);
}

// 7x7 images of 3 classes, written as IDX, CSV and NPZ.
struct SmallImages {
  TempDir dir;
  Dataset train, test;
  SmallImages() {
    for (Dataset* d : {&train, &test}) {
      d->rows = d->cols = 7;
      const std::size_t n = d == &train ? 300 : 30;
      for (std::size_t r = 0; r < n; ++r) {
        const std::uint8_t label = std::uint8_t(r % 3);
        d->labels.push_back(label);
        for (std::size_t i = 0; i < 49; ++i) d->pixels.push_back(i % 3 == label ? 250 : std::uint8_t(r * i % 60));
      }
    }
    write_three_formats(dir, train, test);
  }
};

TEST(DataCli, TheNetworkFollowsTheDataAndSizesMustMatchIt) {
  SmallImages data;
  CliRun run = run_cli_argv({"train", "--data", (data.dir / "csv").string(), "--device", "cpu", "--epochs", "1"});
  ASSERT_EQ(run.status, 0) << run.err;
  EXPECT_EQ(run.out.rfind("Training 49-30-3 on cpu float", 0), 0u) << run.out;
  run = run_cli_argv({"train", "--data", (data.dir / "idx").string(), "--device", "cpu", "--sizes", "784,30,10"});
  EXPECT_EQ(run.status, 2);
  EXPECT_EQ(run.err,
            "sigmanet: --sizes: the network takes 784 inputs and gives 10 outputs, but the data has 49 features and 3 "
            "classes (try --sizes 49,30,3)\n");
  run = run_cli_argv({"train", "--data", (data.dir / "idx").string(), "--device", "cpu", "--sizes", "49,20,4",
                      "--classes", "4", "--epochs", "1"});
  EXPECT_EQ(run.status, 0) << run.err;  // a declared class count the data does not fill
}

TEST(DataCli, BadDataExits2WithOneLineNamingTheFile) {
  TempDir dir;
  std::filesystem::create_directories(dir / "d");
  const std::string train = (dir / "d" / "train.csv").string(), test = (dir / "d" / "test.csv").string();
  const auto refused = [&](const std::string& train_text, const std::string& test_text,
                           std::vector<std::string> more = {}) {
    write_text(train, train_text);
    write_text(test, test_text);
    std::vector<std::string> args{"train", "--data", (dir / "d").string(), "--device", "cpu", "--epochs", "1"};
    args.insert(args.end(), more.begin(), more.end());
    const CliRun run = run_cli_argv(args);
    EXPECT_EQ(run.status, 2) << run.out;
    EXPECT_EQ(run.out, "");
    return run.err;
  };
  EXPECT_EQ(refused("0,1,2\n1,nan,3\n", "0,1,1\n"),
            "sigmanet: " + train + ": line 2, column 2: nan is not a finite number\n");
  EXPECT_EQ(refused("0,1,2\n1,1,3\n", "0,1,Inf\n"),
            "sigmanet: " + test + ": line 1, column 3: Inf is not a finite number\n");
  EXPECT_EQ(refused("1,1,2\n1,1,3\n", "1,1,1\n"),
            "sigmanet: " + train + ": every record has label 1; training needs at least two classes\n");
  EXPECT_EQ(refused("0,1,2\n1,1,3\n", "5,1,1\n"), "sigmanet: " + test + ": label 5, a class the training data (" +
                                                      train +
                                                      ") lacks: its labels go up to 1 (declare more with --classes)\n");
  EXPECT_EQ(refused("0,1,2\n1,1,3\n", "1,1,1,1\n"),
            "sigmanet: " + test + ": records of 3 features, but the training data's (" + train + ") have 2\n");
  EXPECT_EQ(refused("0,1,2\n1,1,3\n", "1,1,3\n1,2\n"),
            "sigmanet: " + test + ": line 2: 2 fields, the first line has 3\n");
  if (can_read_npz()) {
    test::write_bytes(dir / "t.npz", test::zip_bytes({{"x_test.npy", test::npy_bytes("|u1", "(2, 2)", {1, 2, 3, 4})},
                                                      {"y_test.npy", test::npy_bytes("|u1", "(1,)", {0})}}));
    EXPECT_EQ(refused("0,1,2\n1,1,3\n", "1,1,1\n", {"--test-data", (dir / "t.npz").string()}),
              "sigmanet: " + (dir / "t.npz").string() + ": x_test has 2 records but y_test has 1 labels\n");
  }
  // An IDX images file with a labels file of another length.
  test::write_bytes(dir / "im", test::idx_images(3, 2, 2));
  test::write_bytes(dir / "lb", test::idx_labels({0, 1}));
  const CliRun run = run_cli_argv({"train", "--train-images", (dir / "im").string(), "--train-labels",
                                   (dir / "lb").string(), "--test-data", test, "--device", "cpu"});
  EXPECT_EQ(run.status, 2);
  EXPECT_EQ(run.err, "sigmanet: " + (dir / "im").string() + ": has 3 images but lb has 2 labels\n");
}

TEST(DataCli, OutputsAreCheckedAgainstTheNewSourcesBeforeAnyWork) {
  SmallImages data;
  const std::string train_csv = (data.dir / "csv" / "train.csv").string();
  CliRun run = run_cli_argv({"train", "--data", (data.dir / "csv").string(), "--device", "cpu", "--save", train_csv});
  EXPECT_EQ(run.status, 2);
  EXPECT_EQ(run.err.rfind("sigmanet: --save: " + train_csv + " is the data file " + train_csv + " this run reads", 0),
            0u)
      << run.err;
  EXPECT_EQ(run.out, "");
  const std::string npz = (data.dir / "data.npz").string();
  run = run_cli_argv(
      {"train", "--data", (data.dir / "idx").string(), "--test-data", npz, "--device", "cpu", "--metrics", npz});
  EXPECT_EQ(run.status, 2);
  EXPECT_EQ(run.err.rfind("sigmanet: --metrics: " + npz + " is the data file " + npz + " this run reads", 0), 0u)
      << run.err;
  EXPECT_EQ(file_bytes(data.dir / "data.npz"), npz_of(data.train, data.test));
}

// A model of 7x7 images and 3 classes: evaluate's table has its 3 classes, predict reads images of its size and
// rows of its width, and data of another width is refused naming the model.
TEST(DataCli, AModelOfAnotherGeometryIsEvaluatedAndPredicted) {
  SmallImages data;
  const std::string model = (data.dir / "m.safetensors").string();
  CliRun run = run_cli_argv(
      {"train", "--data", (data.dir / "idx").string(), "--device", "cpu", "--epochs", "3", "--save", model});
  ASSERT_EQ(run.status, 0) << run.err;

  run = run_cli_argv({"evaluate", "--model", model, "--data", (data.dir / "csv").string(), "--device", "cpu"});
  ASSERT_EQ(run.status, 0) << run.err;
  EXPECT_NE(run.out.find("Model " + model + ": 49-30-3"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("test set: "), std::string::npos) << run.out;
  const std::string table = run.out.substr(run.out.find("Per class:"));
  EXPECT_NE(table.find("\n      2  "), std::string::npos) << table;
  EXPECT_EQ(table.find("\n      3  "), std::string::npos) << table;

  // Rows as CSV (labelled: the true class is shown), rows as CSV without labels, rows as NPZ in JSON.
  run = run_cli_argv(
      {"predict", "--model", model, "--rows", (data.dir / "csv" / "test.csv").string(), "--device", "cpu"});
  ASSERT_EQ(run.status, 0) << run.err;
  EXPECT_EQ(std::count(run.out.begin(), run.out.end(), '\n'), 30);
  EXPECT_EQ(run.out.rfind("test.csv[0]: ", 0), 0u) << run.out;
  EXPECT_NE(run.out.find(" (true 0); outputs "), std::string::npos) << run.out;
  const std::string labelled = run.out;
  std::string features_only;
  for (std::size_t r = 0; r < 2; ++r) {
    for (std::size_t i = 0; i < 49; ++i) features_only += (i ? "," : "") + std::to_string(data.test.image(r)[i]);
    features_only += "\n";
  }
  write_text(data.dir / "rows.csv", features_only);
  run = run_cli_argv({"predict", "--model", model, "--rows", (data.dir / "rows.csv").string(), "--device", "cpu"});
  ASSERT_EQ(run.status, 0) << run.err;
  // The same records as the labelled file's first two, without "(true ...)".
  const std::string first = labelled.substr(labelled.find(": "), labelled.find(" (true") - labelled.find(": "));
  EXPECT_EQ(run.out.rfind("rows.csv[0]" + first + "; outputs ", 0), 0u) << run.out << labelled;
  EXPECT_EQ(std::count(run.out.begin(), run.out.end(), '\n'), 2);
  if (can_read_npz()) {
    run = run_cli_argv(
        {"predict", "--model", model, "--rows", (data.dir / "data.npz").string(), "--json", "--device", "cpu"});
    ASSERT_EQ(run.status, 0) << run.err;
    std::istringstream lines(run.out);
    std::string line;
    std::size_t count = 0;
    while (std::getline(lines, line)) {
      const nlohmann::json j = nlohmann::json::parse(line);
      EXPECT_EQ(j["record"], "data.npz[" + std::to_string(count) + "]");
      EXPECT_EQ(j["outputs"].size(), 3u);
      EXPECT_EQ(j["true"], std::to_string(data.test.labels[count]));
      ++count;
    }
    EXPECT_EQ(count, 30u);
  }

  // An image of the model's size, and one of MNIST's; MNIST's test set.
  test::write_bytes(data.dir / "seven.pgm", [] {
    std::vector<std::uint8_t> pgm{'P', '5', '\n', '7', ' ', '7', '\n', '2', '5', '5', '\n'};
    pgm.resize(pgm.size() + 49, 0);
    return pgm;
  }());
  run = run_cli_argv({"predict", "--model", model, (data.dir / "seven.pgm").string(), "--device", "cpu"});
  EXPECT_EQ(run.status, 0) << run.err;
  EXPECT_EQ(run.out.rfind((data.dir / "seven.pgm").string() + ": ", 0), 0u) << run.out;
  run = run_cli_argv({"evaluate", "--model", model, "--data", test::mnist_dir().string(), "--device", "cpu"});
  EXPECT_EQ(run.status, 2);
  EXPECT_EQ(run.err, "sigmanet: " + model + ": the model takes 49 inputs, but the test records have 784 features\n");
  run = run_cli_argv({"predict", "--model", model, "--rows", (data.dir / "rows.csv").string(), "--index", "0", "--data",
                      test::mnist_dir().string(), "--device", "cpu"});
  EXPECT_EQ(run.status, 2);
  EXPECT_EQ(run.out, "");  // refused before any prediction is printed
}

TEST(DataCli, PredictRowsOfTheWrongWidthAreRefused) {
  SmallImages data;
  const std::string model = (data.dir / "m.safetensors").string();
  ASSERT_EQ(run_cli_argv(
                {"train", "--data", (data.dir / "idx").string(), "--device", "cpu", "--epochs", "1", "--save", model})
                .status,
            0);
  write_text(data.dir / "rows.csv", "1,2,3\n");
  const CliRun run =
      run_cli_argv({"predict", "--model", model, "--rows", (data.dir / "rows.csv").string(), "--device", "cpu"});
  EXPECT_EQ(run.status, 2);
  EXPECT_EQ(run.err, "sigmanet: " + model + ": the model takes 49 inputs, but the rows.csv records have 3 features\n");
}

// A model's recorded shape: read back, checked against its layers, and followed by show-weights.
TEST(DataCli, AModelRecordsItsShapeAndAFlatOneHasNoWeightPicture) {
  TempDir dir;
  Rng rng(1);
  const Parameters p = init_parameters({4, 5, 3}, Init::standard, rng);
  TrainConfig c;
  c.sizes = {4, 5, 3};
  save_model(dir / "flat", p, trained_model_metadata(c, 1, std::nullopt, 0, {1, 4, 3, {"a", "b", "c"}, true}));
  const Model flat = load_model(dir / "flat");
  EXPECT_EQ(flat.metadata.at("input_shape"), "4");
  EXPECT_EQ(flat.metadata.at("features"), "float");
  EXPECT_EQ(flat.metadata.at("classes"), "3");
  EXPECT_EQ(flat.metadata.at("class_names"), "a,b,c");
  const ModelShape shape = model_shape(flat, "flat");
  EXPECT_EQ(shape.features(), 4u);
  EXPECT_TRUE(shape.float_features);
  EXPECT_EQ(shape.class_names, (std::vector<std::string>{"a", "b", "c"}));
  const CliRun run =
      run_cli_argv({"show-weights", "--model", (dir / "flat").string(), "--out", (dir / "w.png").string()});
  EXPECT_EQ(run.status, 2);
  EXPECT_EQ(run.err, "sigmanet: " + (dir / "flat").string() +
                         ": the model takes rows of 4 features, not images: its weights have no picture\n");
  // Metadata that disagrees with the layers is refused naming the file.
  Model wrong = flat;
  wrong.metadata["classes"] = "4";
  EXPECT_EQ(test::thrown<InputError>([&] { model_shape(wrong, "m"); }),
            "m: __metadata__ \"classes\" is \"4\", but the output layer has 3 neurons");
  wrong = flat;
  wrong.metadata["input_shape"] = "2x3";
  EXPECT_EQ(test::thrown<InputError>([&] { model_shape(wrong, "m"); }),
            "m: __metadata__ \"input_shape\" is \"2x3\", but the first layer takes 4 inputs");
  // A model saved without the shape (before it was recorded): 784 inputs are MNIST's 28x28.
  Model old = load_model(dir / "flat");
  old.metadata.clear();
  EXPECT_EQ(model_shape(old, "m").rows, 1u);
  EXPECT_EQ(model_shape(old, "m").classes, 3u);
}

}  // namespace
}  // namespace sigmanet
