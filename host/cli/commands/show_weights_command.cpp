// sigmanet show-weights: the first layer's weights of a saved model as a picture, one tile per neuron.
#include <cstdio>
#include <memory>

#include "cli/commands.hpp"
#include "cli/flags.hpp"
#include "cli/one_voice.hpp"
#include "formats/atomic_file.hpp"
#include "formats/image_file.hpp"
#include "reports/drawings.hpp"
#include "sigmanet/error.hpp"
#include "sigmanet/formats/model_file.hpp"

namespace sigmanet::cli {
namespace {

struct ShowWeightsOptions {
  std::string model;
  std::string out;
  std::size_t scale = 4;
};

int run_show_weights(const ShowWeightsOptions& o) {
  if (o.scale < 1 || o.scale > 32) throw InputError("--scale: must be 1..32");
  check_output_file("--out", o.out);
  check_distinct_files({{"--model", o.model}, {"--out", o.out}});
  const Model model = load_model(o.model);
  const ModelShape shape = model_shape(model, o.model);
  if (shape.rows == 1)
    throw InputError(o.model + ": the model takes rows of " + std::to_string(shape.cols) +
                     " features, not images: its weights have no picture");
  const Image picture = weight_tiles(model.parameters, o.scale);
  write_png(o.out, picture);
  std::printf("%d first-layer neurons drawn in %s (%zux%zu; red positive, blue negative, each tile scaled to its "
              "largest weight)\n",
              model.parameters.sizes[1], o.out.c_str(), picture.width, picture.height);
  return 0;
}

}  // namespace

void add_show_weights_command(CLI::App& app, int& status) {
  auto o = std::make_shared<ShowWeightsOptions>();
  CLI::App* sub = app.add_subcommand("show-weights", "Draw a saved model's first-layer weights as a PNG of tiles");
  add_path(sub, "--model", o->model, "Model file (from train --save or --checkpoint)")->required();
  add_path(sub, "--out", o->out, "PNG file to write")->required();
  add_whole(sub, "--scale", o->scale, "Screen pixels per weight", std::size_t{1}, std::size_t{32});
  sub->callback([o, &status] {
    require_single_process("show-weights");
    status = run_show_weights(*o);
  });
}

}  // namespace sigmanet::cli
