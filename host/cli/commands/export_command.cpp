// sigmanet export: a saved model in another format, for runtimes other than sigmanet (ONNX: onnxruntime and others).
#include <cstdio>
#include <memory>

#include "cli/commands.hpp"
#include "cli/flags.hpp"
#include "cli/one_voice.hpp"
#include "formats/atomic_file.hpp"
#include "sigmanet/error.hpp"
#include "sigmanet/formats/model_file.hpp"
#include "sigmanet/formats/onnx_export.hpp"

namespace sigmanet::cli {
namespace {

struct ExportOptions {
  std::string model;
  std::string onnx;
};

int run_export(const ExportOptions& o) {
#ifndef SIGMANET_HAVE_ONNX
  (void)o;
  throw InputError("--onnx: this sigmanet was built without ONNX export (install libonnx-dev and libprotobuf-dev, "
                   "and configure it again with SIGMANET_ONNX=ON)");
#else
  check_output_file("--onnx", o.onnx);
  check_distinct_files({{"--model", o.model}, {"--onnx", o.onnx}});
  const Model model = load_model(o.model);
  write_onnx(o.onnx, model);
  std::printf("%s: %s network with a %s output layer written to %s (ONNX, float32; input: the features as the "
              "network takes them, pixels divided by 255)\n",
              o.model.c_str(), sizes_text(model.parameters.sizes, '-').c_str(),
              to_string(model.parameters.output).c_str(), o.onnx.c_str());
  return 0;
#endif
}

}  // namespace

void add_export_command(CLI::App& app, int& status) {
  auto o = std::make_shared<ExportOptions>();
  CLI::App* sub = app.add_subcommand("export", "Write a saved model as ONNX, for onnxruntime and other runtimes");
  add_path(sub, "--model", o->model, "Model file (from train --save or --checkpoint)")->required();
  add_path(sub, "--onnx", o->onnx,
           "ONNX file to write: input \"input\" [N, inputs] (pixels divided by 255), output \"output\" [N, classes]")
      ->required();
  sub->callback([o, &status] {
    require_single_process("export");
    status = run_export(*o);
  });
}

}  // namespace sigmanet::cli
