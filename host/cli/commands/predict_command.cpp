// sigmanet predict: the digit a saved model sees in each image, with its ten output activations.
#include <cstdio>
#include <map>
#include <memory>

#include "cli/commands.hpp"
#include "cli/flags.hpp"
#include "cli/mnist_model.hpp"
#include "cli/one_voice.hpp"
#include "formats/image_file.hpp"
#include "sigmanet/error.hpp"
#include "sigmanet/formats/mnist.hpp"

namespace sigmanet::cli {
namespace {

struct PredictOptions {
  std::string model;
  std::vector<std::string> images;
  std::vector<long long> indices;  // signed so that a negative index gets our message
  std::string data;
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

void print_prediction(const std::string& name, const double* out, const std::string& note) {
  std::printf("%s: %d%s; outputs", name.c_str(), argmax(out, 10), note.c_str());
  for (int d = 0; d < 10; ++d) std::printf(" %.4f", out[d]);
  std::printf("\n");
}

int run_predict(PredictOptions& o) {
  if (o.images.empty() && o.indices.empty())
    throw InputError("predict: give IMAGE files (28x28 PNG or PGM) or --index N into the test set");
  const Model model = load_mnist_model(o.model);

  // Every image is read and checked before any prediction is printed.
  Dataset files;
  files.name = "images";
  files.rows = files.cols = 28;
  std::vector<std::string> notes;
  for (const std::string& file : o.images) {
    Image img = read_grey_image(file);
    if (img.width != 28 || img.height != 28)
      throw InputError(file + ": the image is " + std::to_string(img.width) + "x" + std::to_string(img.height) +
                       "; the model reads 28x28 images");
    notes.push_back(invert_if_light_ground(img) ? " (dark on light: inverted)" : "");
    files.pixels.insert(files.pixels.end(), img.pixels.begin(), img.pixels.end());
    files.labels.push_back(0);  // unknown; outputs() does not read it
  }

  std::unique_ptr<Backend> backend = backend_for(model, o.model, o.device);
  if (files.size() > 0) {
    const std::vector<double> out = backend->outputs(files, 0, files.size());
    for (std::size_t i = 0; i < files.size(); ++i) print_prediction(o.images[i], &out[i * 10], notes[i]);
  }
  if (!o.indices.empty()) {
    const Mnist mnist = load_mnist(resolve_data_dir(o.data));
    print_notes(mnist.notes);
    for (long long index : o.indices) {
      if (index < 0 || std::size_t(index) >= mnist.test.size())
        throw InputError("--index: " + std::to_string(index) + " is not in the test set (0.." +
                         std::to_string(mnist.test.size() - 1) + ")");
      const std::vector<double> out = backend->outputs(mnist.test, std::size_t(index), 1);
      print_prediction("test[" + std::to_string(index) + "]", out.data(),
                       " (true " + std::to_string(mnist.test.labels[std::size_t(index)]) + ")");
    }
  }
  return 0;
}

}  // namespace

void add_predict_command(CLI::App& app, int& status) {
  auto o = std::make_shared<PredictOptions>();
  CLI::App* sub = app.add_subcommand("predict", "The digit a saved model sees in 28x28 PNG or PGM images");
  add_path(sub, "--model", o->model, "Model file (from train --save or --checkpoint)")->required();
  sub->add_option("images", o->images, "28x28 PNG or PGM images (light digit on dark, as MNIST; the other way "
                                       "round is inverted)");
  add_whole_list(sub, "--index", o->indices, "Records of the MNIST test set instead of (or as well as) files",
                 0LL, std::numeric_limits<long long>::max(), true);
  add_path(sub, "--data", o->data, "MNIST folder for --index (default: $SIGMANET_DATA, else ./data/mnist)");
  add_choice(sub, "--device", o->device, {{"cpu", Device::cpu}, {"gpu", Device::gpu}, {"auto", Device::automatic}},
             "Where to run: cpu, gpu, or auto");
  sub->callback([o, &status] {
    require_single_process("predict");
    status = run_predict(*o);
  });
}

}  // namespace sigmanet::cli
