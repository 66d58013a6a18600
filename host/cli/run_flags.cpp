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
  add_whole(sub, "--train-size", split.train, "Training records: the first N of the training file", std::size_t{1},
            kMaxRecords);
  add_whole(sub, "--validation-size", split.validation, "Validation records: the last N of the training file",
            std::size_t{0}, kMaxRecords);
  add_whole(sub, "--test-size", split.test, "Test records: the first N of the t10k file", std::size_t{1},
            kMaxRecords);
}

void check_run_settings(const TrainConfig& c, const CudaOptions& gpu) {
  validate_config(c);
  check_gpu_options(c.device, gpu);
  check_memory(c, gpu_info(c.device));
  if (c.sizes.back() != 10)
    throw SettingError(
        Setting::sizes,
        "the output layer has " + std::to_string(c.sizes.back()) + " neurons; MNIST needs 10, one per digit",
        sizes_text(c.sizes));
}

Mnist load_run_data(const std::string& data_flag, const MnistSplitSizes& split) {
  return load_mnist(resolve_data_dir(data_flag), split);
}

}  // namespace sigmanet::cli
