// sigmanet evaluate: how good a saved model is on its data, class by class, and which records it gets wrong.
#include <algorithm>
#include <array>
#include <cstdio>
#include <map>
#include <memory>

#include "cli/commands.hpp"
#include "cli/data_flags.hpp"
#include "cli/flags.hpp"
#include "cli/saved_model.hpp"
#include "cli/one_voice.hpp"
#include "formats/atomic_file.hpp"
#include "formats/image_file.hpp"
#include "reports/drawings.hpp"
#include "sigmanet/collective.hpp"
#include "sigmanet/error.hpp"
#include "sigmanet/formats/mnist.hpp"
#include "training/number_text.hpp"

namespace sigmanet::cli {
namespace {

struct EvaluateOptions {
  std::string model;
  DataFlags data;
  std::string set = "test";
  Device device = Device::automatic;
  std::string mistakes;
  std::size_t mistakes_count = 100;
  std::size_t scale = 2;
  int threads = 0;  // 0: default_threads()
};

int run_evaluate(EvaluateOptions& o) {
  if (o.mistakes_count < 1) throw InputError("--mistakes-count: must be at least 1");
  if (o.scale < 1 || o.scale > 16) throw InputError("--scale: must be 1..16");
  if (!o.mistakes.empty()) {
    check_output_file("--mistakes", o.mistakes);
    check_distinct_files({{"--model", o.model}, {"--mistakes", o.mistakes}});
    check_outputs_are_not_inputs({{"--mistakes", o.mistakes}}, data_source_files(data_source(o.data)));
  }
  const SavedModel saved = load_saved_model(o.model);  // before the data: a bad model fails fast
  const Model& model = saved.model;
  const std::size_t classes = saved.shape.classes;
  const LabelledData loaded = load_data(data_source(o.data));
  print_notes(loaded.notes);
  const Dataset& data = o.set == "validation" ? loaded.validation : loaded.test;
  check_data_fits_model(saved, o.model, data);
  if (!o.mistakes.empty() && data.has_values())
    throw InputError("--mistakes: the data's features are float values, not images to draw");
  // The picture is sized for as many mistakes as it may have to hold, before the model is evaluated.
  if (!o.mistakes.empty())
    mistakes_grid_size(data.rows, data.cols, std::min(o.mistakes_count, data.size()), 10, o.scale, classes);
  std::unique_ptr<Backend> backend = backend_for(model, o.model, o.device);
  backend->set_threads(o.threads ? o.threads : default_threads());
  const Objective objective = model_objective(model, o.model);

  const Evaluation e = backend->evaluate(data);
  const std::vector<double> out = backend->outputs(data, 0, data.size());
  std::vector<std::vector<std::size_t>> confusion(classes, std::vector<std::size_t>(classes));  // [true][predicted]
  std::vector<Mistake> mistakes;
  std::size_t mistakes_total = 0;
  for (std::size_t i = 0; i < data.size(); ++i) {
    const int predicted = argmax(&out[i * classes], classes);
    const int truth = data.labels[i];
    ++confusion[truth][predicted];
    if (predicted != truth) {
      ++mistakes_total;
      if (mistakes.size() < o.mistakes_count) mistakes.push_back({i, predicted, truth});
    }
  }

  std::printf("Model %s: %s on %s\n", o.model.c_str(), sizes_text(model.parameters.sizes, '-').c_str(),
              backend->describe().c_str());
  std::printf("%s set: %zu/%zu correct (%.2f%%), %s cost %.6f", o.set.c_str(), e.correct, e.total,
              100.0 * e.accuracy(), to_string(objective.cost).c_str(), e.cost);
  if (objective.lambda > 0)  // network2.py's total_cost: the L2 term over this set's size
    std::printf(" + L2 %.6f (lambda %s)", weight_penalty(model.parameters, objective.lambda, e.total),
                exact_text(objective.lambda).c_str());
  std::printf("\n");
  // Columns wide enough for the longest class name.
  int width = 5;
  for (std::size_t k = 0; k < classes; ++k) width = std::max(width, int(class_name(saved.shape, int(k)).size()));
  std::printf("\nPer class:\n  %*s  correct  total  accuracy\n", width, "class");
  for (std::size_t d = 0; d < classes; ++d) {
    std::size_t total = 0;
    for (std::size_t n : confusion[d]) total += n;
    std::printf("  %*s  %7zu  %5zu  %7.2f%%\n", width, class_name(saved.shape, int(d)).c_str(), confusion[d][d], total,
                total ? 100.0 * double(confusion[d][d]) / double(total) : 0.0);
  }
  std::printf("\nConfusion matrix (rows: true class, columns: predicted class):\n  %*s", width, "");
  for (std::size_t p = 0; p < classes; ++p)
    std::printf("%*s", std::max(6, width + 1), class_name(saved.shape, int(p)).c_str());
  std::printf("\n");
  for (std::size_t t = 0; t < classes; ++t) {
    std::printf("  %*s", width, class_name(saved.shape, int(t)).c_str());
    for (std::size_t p = 0; p < classes; ++p) std::printf("%*zu", std::max(6, width + 1), confusion[t][p]);
    std::printf("\n");
  }
  if (!o.mistakes.empty()) {
    if (mistakes.empty()) {
      std::printf("\nNo mistakes to draw: every digit is right; %s not written\n", o.mistakes.c_str());
    } else {
      write_png(o.mistakes, mistakes_grid(data, mistakes, 10, o.scale, classes));
      std::printf("\nMistakes: the first %zu of %zu drawn in %s (P = predicted in red, T = true in green)\n",
                  mistakes.size(), mistakes_total, o.mistakes.c_str());
    }
  }
  return 0;
}

}  // namespace

void add_evaluate_command(CLI::App& app, int& status) {
  auto o = std::make_shared<EvaluateOptions>();
  CLI::App* sub = app.add_subcommand(
      "evaluate", "Accuracy, per-class accuracy and confusion matrix of a saved model on its data's test set");
  add_path(sub, "--model", o->model, "Model file (from train --save or --checkpoint)")->required();
  add_data_flags(sub, o->data);
  add_whole(sub, "--threads", o->threads, "CPU threads (default: this machine's cores)", 1, 1024)
      ->default_str("cores");
  add_choice(sub, "--set", o->set, {{"test", "test"}, {"validation", "validation"}},
             "Which set: test, or validation (the last sixth of the training source, MNIST's last 10,000)");
  add_choice(sub, "--device", o->device, {{"cpu", Device::cpu}, {"gpu", Device::gpu}, {"auto", Device::automatic}},
             "Where to run: cpu, gpu, or auto");
  add_path(sub, "--mistakes", o->mistakes, "Draw misclassified images into this PNG file");
  add_whole(sub, "--mistakes-count", o->mistakes_count, "How many mistakes to draw at most", std::size_t{1});
  add_whole(sub, "--scale", o->scale, "Screen pixels per image pixel in the mistakes picture", std::size_t{1},
            std::size_t{16});
  sub->callback([o, &status] {
    require_single_process("evaluate");
    status = run_evaluate(*o);
  });
}

}  // namespace sigmanet::cli
