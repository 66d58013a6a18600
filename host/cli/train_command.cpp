// sigmanet train: Nielsen's chapter 1 run by default.
#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <memory>

#include <nlohmann/json.hpp>

#include "cli/commands.hpp"
#include "cli/progress.hpp"
#include "sigmanet/error.hpp"
#include "sigmanet/trainer.hpp"

namespace sigmanet::cli {
namespace {

struct TrainOptions {
  TrainConfig config;
  long long batch = 10;  // parsed signed so that a negative value gets our message, not a wrap-around
  std::string data;
  std::string metrics;
};

std::string join_sizes(const std::vector<int>& sizes) {
  std::string s;
  for (int n : sizes) s += (s.empty() ? "" : "-") + std::to_string(n);
  return s;
}

int run_train(TrainOptions& o) {
  TrainConfig& c = o.config;
  if (o.batch < 1) throw InputError("--batch: must be at least 1 (got " + std::to_string(o.batch) + ")");
  c.batch = static_cast<std::size_t>(o.batch);
  validate_config(c);
  if (c.sizes.back() != 10)
    throw InputError("--sizes: the output layer has " + std::to_string(c.sizes.back()) +
                     " neurons; MNIST needs 10, one per digit");

  std::ofstream metrics;
  if (!o.metrics.empty()) {
    metrics.open(o.metrics, std::ios::trunc);
    if (!metrics) throw InputError("--metrics: cannot open " + o.metrics + " for writing");
  }

  const Mnist data = load_mnist(resolve_data_dir(o.data), c.split);
  std::string notice;
  std::unique_ptr<Backend> backend = make_backend(c.device, c.precision, &notice);
  if (!notice.empty()) std::fprintf(stderr, "sigmanet: %s\n", notice.c_str());
  Trainer trainer(c, *backend, data.train);

  std::printf("Training %s on %s: %zu samples, batch %zu, eta %g, %d epochs, seed %llu\n",
              join_sizes(c.sizes).c_str(), backend->describe().c_str(), data.train.size(), c.batch, c.eta, c.epochs,
              static_cast<unsigned long long>(c.seed));
  std::fflush(stdout);

  ProgressBar bar;
  double best = -1;
  int best_epoch = 0;
  using clock = std::chrono::steady_clock;
  const auto run_start = clock::now();
  for (int epoch = 1; epoch <= c.epochs; ++epoch) {
    const std::string label = "Epoch " + std::to_string(epoch) + "/" + std::to_string(c.epochs);
    const auto start = clock::now();
    trainer.train_epoch([&](std::size_t done) {
      bar.update(label, done, data.train.size());
      return true;
    });
    const Evaluation test = backend->evaluate(data.test);  // also waits for the device to finish the epoch
    const double seconds = std::chrono::duration<double>(clock::now() - start).count();
    bar.clear();
    const double rate = double(data.train.size()) / seconds;
    std::printf("%s: test %zu/%zu (%.2f%%), %.2f s, %.0f samples/s\n", label.c_str(), test.correct, test.total,
                100.0 * test.accuracy(), seconds, rate);
    std::fflush(stdout);
    if (test.accuracy() > best) best = test.accuracy(), best_epoch = epoch;
    if (metrics.is_open()) {
      nlohmann::json line = {{"epoch", epoch},
                             {"test_correct", test.correct},
                             {"test_total", test.total},
                             {"test_accuracy", test.accuracy()},
                             {"test_cost", test.cost},
                             {"seconds", seconds},
                             {"samples_per_second", rate}};
      metrics << line.dump() << '\n' << std::flush;
      if (!metrics) throw Error("--metrics: writing " + o.metrics + " failed");
    }
  }
  const double total = std::chrono::duration<double>(clock::now() - run_start).count();
  std::printf("Best test accuracy %.2f%% at epoch %d; %d epochs in %.1f s\n", 100.0 * best, best_epoch, c.epochs,
              total);
  return 0;
}

}  // namespace

void add_train_command(CLI::App& app, int& status) {
  auto o = std::make_shared<TrainOptions>();
  CLI::App* sub = app.add_subcommand("train", "Train a network on MNIST and report test accuracy after each epoch");
  TrainConfig& c = o->config;
  sub->add_option("--sizes", c.sizes, "Neurons per layer, input first")->delimiter(',')->capture_default_str();
  sub->add_option("--epochs", c.epochs, "Passes over the training set")->capture_default_str();
  sub->add_option("--batch", o->batch, "Mini-batch size")->capture_default_str();
  sub->add_option("--eta", c.eta, "Learning rate")->capture_default_str();
  sub->add_option("--seed", c.seed, "Seed for initial weights and the shuffles")->capture_default_str();
  sub->add_option("--init", c.init, "Weight initialisation: standard N(0,1) or scaled N(0,1/n_in)")
      ->transform(CLI::CheckedTransformer(std::map<std::string, Init>{{"standard", Init::standard},
                                                                      {"scaled", Init::scaled}}))
      ->option_text("standard|scaled=standard");
  sub->add_option("--device", c.device, "Where to train: cpu, gpu, or auto (the GPU when one is usable)")
      ->transform(CLI::CheckedTransformer(std::map<std::string, Device>{
          {"cpu", Device::cpu}, {"gpu", Device::gpu}, {"auto", Device::automatic}}))
      ->option_text("cpu|gpu|auto=auto");
  sub->add_option("--precision", c.precision, "Arithmetic: float or double")
      ->transform(CLI::CheckedTransformer(std::map<std::string, Precision>{{"float", Precision::f32},
                                                                           {"double", Precision::f64}}))
      ->option_text("float|double=float");
  sub->add_option("--data", o->data, "MNIST folder (default: $SIGMANET_DATA, else ./data/mnist)");
  sub->add_option("--train-size", c.split.train, "Training records: the first N of the training file")
      ->capture_default_str();
  sub->add_option("--validation-size", c.split.validation, "Validation records: the last N of the training file")
      ->capture_default_str();
  sub->add_option("--test-size", c.split.test, "Test records: the first N of the t10k file")->capture_default_str();
  sub->add_option("--metrics", o->metrics, "Write one JSON line per epoch to FILE");
  sub->callback([o, &status] { status = run_train(*o); });
}

}  // namespace sigmanet::cli
