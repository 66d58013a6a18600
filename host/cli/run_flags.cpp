#include "cli/run_flags.hpp"

#include <limits>

#include "cli/flags.hpp"
#include "cli/gpu_flags.hpp"
#include "sigmanet/backends/factory.hpp"
#include "sigmanet/error.hpp"
#include "training/number_text.hpp"

namespace sigmanet::cli {

std::vector<std::pair<std::string, Cost>> cost_choices() {
  return {{to_string(Cost::quadratic), Cost::quadratic},
          {to_string(Cost::cross_entropy), Cost::cross_entropy},
          {to_string(Cost::log_likelihood), Cost::log_likelihood}};
}

std::vector<std::pair<std::string, Init>> init_choices() {
  return {{to_string(Init::standard), Init::standard}, {to_string(Init::scaled), Init::scaled}};
}

void add_rule_flags(CLI::App* sub, TrainConfig& c, std::string& eta_schedule) {
  add_whole(sub, "--early-stopping", c.early_stopping,
            "Stop when validation accuracy has not improved for N epochs", 1)
      ->type_name("N");
  sub->add_option("--eta-schedule", eta_schedule,
                  "halve:N halves eta when validation accuracy has not improved for N epochs, and stops at 1/128 "
                  "of its start; constant keeps it")
      ->type_name("halve:N")
      ->default_str("constant");
}

void parse_eta_schedule(const std::string& text, TrainConfig& c) {
  const std::optional<int> halve_after = eta_schedule_from_text(text);
  if (!halve_after)
    throw InputError("--eta-schedule: expected halve:N (halve eta after N epochs without a better validation "
                     "accuracy, N >= 1) or constant, got '" + printable(text) + "'");
  c.halve_eta_after = *halve_after;
}

void add_device_flags(CLI::App* sub, TrainConfig& c, CudaOptions& gpu) {
  add_choice(sub, "--device", c.device, {{"cpu", Device::cpu}, {"gpu", Device::gpu}, {"auto", Device::automatic}},
             "Where to train: cpu, gpu, or auto (the GPU when one is usable)");
  add_choice(sub, "--precision", c.precision,
             {{to_string(Precision::f32), Precision::f32}, {to_string(Precision::f64), Precision::f64}},
             "Arithmetic: float or double");
  add_gpu_flags(sub, gpu,
                "How the GPU trains: persistent (the network held in shared memory for many batches), "
                "graph (a CUDA graph of kernels per batch), or auto (persistent for batches up to 32 when it fits)",
                "Blocks (SMs) of the persistent kernel's thread-block cluster, which split the first layer's inputs: "
                "auto (up to 8, one block on a GPU without clusters) or a number");
}

void add_split_flags(CLI::App* sub, MnistSplitSizes& split) {
  // Records are counted in 32 bits by the IDX format; a larger count cannot be asked for sensibly, and the
  // bound keeps every sum of sizes far from wrapping.
  constexpr std::size_t kMaxRecords = 0xffffffffu;
  add_whole(sub, "--train-size", split.train,
            "Training records: the first N of the training source (default: all but the validation records)",
            std::size_t{1}, kMaxRecords)
      ->default_str("rest");
  add_whole(sub, "--validation-size", split.validation,
            "Validation records: the last N of the training source (default: its last sixth, MNIST's 10,000)",
            std::size_t{0}, kMaxRecords)
      ->default_str("sixth");
  add_whole(sub, "--test-size", split.test, "Test records: the first N of the test source (default: all)",
            std::size_t{1}, kMaxRecords)
      ->default_str("all");
}

SplitRequest split_request(const CLI::App& sub, const MnistSplitSizes& split, bool resumed) {
  SplitRequest r;
  if (resumed || sub.count("--train-size")) r.train = split.train;
  if (resumed || sub.count("--validation-size")) r.validation = split.validation;
  if (resumed || sub.count("--test-size")) r.test = split.test;
  return r;
}

void check_run_settings(const TrainConfig& c, const CudaOptions& gpu) {
  validate_config(c);
  check_gpu_options(c.device, gpu);
  check_memory(c, gpu_info(c.device));
}

void check_settings_before_data(const TrainConfig& c, const CudaOptions& gpu) {
  TrainConfig without_sizes = c;
  without_sizes.sizes = {1, 1};  // any valid network: the sizes are checked once the data gives them
  validate_config(without_sizes);
  check_gpu_options(c.device, gpu);
}

LabelledData load_run_data(const DataFlags& flags, const SplitRequest& split) {
  return load_data(data_source(flags, split));
}

std::vector<int> sizes_for(const LabelledData& data) {
  return {int(data.train.features()), 30, int(data.classes)};
}

void check_sizes_fit_data(const std::vector<int>& sizes, const LabelledData& data) {
  const std::size_t features = data.train.features();
  if (std::size_t(sizes.front()) != features || std::size_t(sizes.back()) != data.classes)
    throw SettingError(Setting::sizes,
                       "the network takes " + std::to_string(sizes.front()) + " inputs and gives " +
                           std::to_string(sizes.back()) + " outputs, but the data has " + std::to_string(features) +
                           " features and " + std::to_string(data.classes) + " classes (try --sizes " +
                           std::to_string(features) + ",30," + std::to_string(data.classes) + ")",
                       sizes_text(sizes));
}

ModelShape shape_of(const LabelledData& data) {
  return {data.train.rows, data.train.cols, data.classes, data.class_names, data.train.has_values()};
}

}  // namespace sigmanet::cli
