// sigmanet predict: the class a saved model sees in each image or row, with its output activations.
#include <nlohmann/json.hpp>

#include <cstdio>
#include <map>
#include <memory>

#include "cli/commands.hpp"
#include "cli/data_flags.hpp"
#include "cli/flags.hpp"
#include "cli/saved_model.hpp"
#include "cli/one_voice.hpp"
#include "formats/image_file.hpp"
#include "sigmanet/error.hpp"
#include "sigmanet/formats/csv.hpp"
#include "sigmanet/formats/data_source.hpp"
#include "sigmanet/formats/npz.hpp"

namespace sigmanet::cli {
namespace {

struct PredictOptions {
  std::string model;
  std::vector<std::string> images;
  std::vector<long long> indices;  // signed so that a negative index gets our message
  std::string rows;                // a CSV or NPZ file of records
  bool json = false;
  DataFlags data;
  Device device = Device::automatic;
};

// MNIST digits are light on a dark ground. A picture with a light border is taken to be the other way
// round (ink on paper) and inverted; the output says so.
bool invert_if_light_ground(Image& img) {
  std::size_t sum = 0, count = 0;
  for (std::size_t x = 0; x < img.width; ++x) sum += *img.at(x, 0) + *img.at(x, img.height - 1), count += 2;
  for (std::size_t y = 0; y < img.height; ++y) sum += *img.at(0, y) + *img.at(img.width - 1, y), count += 2;
  if (sum <= 127 * count) return false;
  for (auto& v : img.pixels) v = static_cast<std::uint8_t>(255 - v);
  return true;
}

// One line a record: "NAME: CLASS[NOTE]; outputs ...", or with --json {"record", "class", "outputs"[, "true"]}.
class Printer {
 public:
  Printer(const ModelShape& shape, bool json) : shape_(shape), json_(json) {}

  void print(const std::string& name, const double* out, const std::string& note, std::optional<int> truth = {}) {
    const int predicted = argmax(out, shape_.classes);
    if (json_) {
      nlohmann::json line{{"record", name}, {"class", class_name(shape_, predicted)},
                          {"outputs", std::vector<double>(out, out + shape_.classes)}};
      if (truth) line["true"] = class_name(shape_, *truth);
      std::printf("%s\n", line.dump().c_str());
      return;
    }
    std::printf("%s: %s%s", name.c_str(), class_name(shape_, predicted).c_str(), note.c_str());
    if (truth) std::printf(" (true %s)", class_name(shape_, *truth).c_str());
    std::printf("; outputs");
    for (std::size_t d = 0; d < shape_.classes; ++d) std::printf(" %.4f", out[d]);
    std::printf("\n");
  }

 private:
  const ModelShape& shape_;
  bool json_;
};

// The records of a CSV or NPZ file, as the model reads them. A CSV holds features only, or a label first (or in
// --label-column) and then the features; an NPZ holds x_test and y_test.
Dataset read_rows(const PredictOptions& o, const ModelShape& shape, bool& labelled) {
  const std::filesystem::path file = o.rows;
  Dataset d;
  if (file.extension() == ".npz") {
    d = read_npz_set(file, "x_test", "y_test");
    labelled = true;
  } else {
    CsvOptions csv{o.data.label_column, o.data.header,
                   shape.float_features ? FeatureKind::values : FeatureKind::pixels, false};
    d = read_csv_set(file, csv);
    labelled = d.features() == shape.features() + 1 || !o.data.label_column.empty();
    if (labelled) csv.labelled = true, d = read_csv_set(file, csv);
  }
  if (d.has_values() != shape.float_features)
    throw InputError(o.rows + ": the features are " + (d.has_values() ? "float values" : "pixels") +
                     ", the model was trained on " + (shape.float_features ? "float values" : "pixels"));
  d.name = file.filename().string();
  return d;
}

int run_predict(PredictOptions& o) {
  if (o.images.empty() && o.indices.empty() && o.rows.empty())
    throw InputError("predict: give IMAGE files, --index N into the test set, or --rows FILE (.csv or .npz)");
  const SavedModel saved = load_saved_model(o.model);
  const ModelShape& shape = saved.shape;
  Printer printer(shape, o.json);

  // Every image is read and checked before any prediction is printed.
  Dataset files;
  files.name = "images";
  files.rows = shape.rows, files.cols = shape.cols;
  std::vector<std::string> notes;
  for (const std::string& file : o.images) {
    if (shape.rows == 1 || shape.float_features)
      throw InputError(file + ": the model takes rows of " + std::to_string(shape.features()) +
                       " features, not images; give them with --rows");
    Image img = read_grey_image(file);
    if (img.width != shape.cols || img.height != shape.rows)
      throw InputError(file + ": the image is " + std::to_string(img.width) + "x" + std::to_string(img.height) +
                       "; the model reads " + std::to_string(shape.cols) + "x" + std::to_string(shape.rows) +
                       " images");
    notes.push_back(invert_if_light_ground(img) ? " (dark on light: inverted)" : "");
    files.pixels.insert(files.pixels.end(), img.pixels.begin(), img.pixels.end());
    files.labels.push_back(0);  // unknown; outputs() does not read it
  }
  bool labelled = false;
  Dataset rows;
  if (!o.rows.empty()) {
    rows = read_rows(o, shape, labelled);
    check_data_fits_model(saved, o.model, rows);
  }

  // The test set for --index, loaded and checked before any prediction is printed too.
  LabelledData data;
  if (!o.indices.empty()) {
    data = load_data(data_source(o.data));
    print_notes(data.notes);
    check_data_fits_model(saved, o.model, data.test);
    for (long long index : o.indices)
      if (index < 0 || std::size_t(index) >= data.test.size())
        throw InputError("--index: " + std::to_string(index) + " is not in the test set (0.." +
                         std::to_string(data.test.size() - 1) + ")");
  }

  std::unique_ptr<Backend> backend = backend_for(saved.model, o.model, o.device);
  const std::size_t k = shape.classes;
  if (files.size() > 0) {
    const std::vector<double> out = backend->outputs(files, 0, files.size());
    for (std::size_t i = 0; i < files.size(); ++i) printer.print(o.images[i], &out[i * k], notes[i]);
  }
  if (rows.size() > 0) {
    const std::vector<double> out = backend->outputs(rows, 0, rows.size());
    for (std::size_t i = 0; i < rows.size(); ++i)
      printer.print(rows.name + "[" + std::to_string(i) + "]", &out[i * k], "",
                    labelled ? std::optional<int>(rows.labels[i]) : std::nullopt);
  }
  for (long long index : o.indices) {
    const std::vector<double> out = backend->outputs(data.test, std::size_t(index), 1);
    printer.print("test[" + std::to_string(index) + "]", out.data(), "", data.test.labels[std::size_t(index)]);
  }
  return 0;
}

}  // namespace

void add_predict_command(CLI::App& app, int& status) {
  auto o = std::make_shared<PredictOptions>();
  CLI::App* sub = app.add_subcommand(
      "predict", "The class a saved model sees in PNG or PGM images of its geometry, test records, or CSV/NPZ rows");
  add_path(sub, "--model", o->model, "Model file (from train --save or --checkpoint)")->required();
  sub->add_option("images", o->images, "PNG or PGM images of the model's size (light on dark, as MNIST; the other "
                                       "way round is inverted)");
  add_whole_list(sub, "--index", o->indices, "Records of the data's test set instead of (or as well as) files",
                 0LL, std::numeric_limits<long long>::max(), true);
  add_path(sub, "--rows", o->rows,
           "Records to classify: a CSV file (features only, or a label first or in --label-column, then the "
           "features) or a .npz file (x_test, y_test)");
  sub->add_flag("--json", o->json, "One JSON line a record: its class and the output layer's values");
  add_data_flags(sub, o->data);
  add_choice(sub, "--device", o->device, {{"cpu", Device::cpu}, {"gpu", Device::gpu}, {"auto", Device::automatic}},
             "Where to run: cpu, gpu, or auto");
  sub->callback([o, &status] {
    require_single_process("predict");
    status = run_predict(*o);
  });
}

}  // namespace sigmanet::cli
