#pragma once
// The flags of one training run that `train` and `sweep` declare alike (the settings a sweep does not vary), their
// checks, and the data a run reads: one place, so that the two commands cannot drift apart.
#include <CLI/CLI.hpp>

#include <string>
#include <utility>
#include <vector>

#include "sigmanet/cuda/cuda_options.hpp"
#include "sigmanet/formats/mnist.hpp"
#include "sigmanet/trainer.hpp"

namespace sigmanet::cli {

// --cost's and --init's names.
std::vector<std::pair<std::string, Cost>> cost_choices();
std::vector<std::pair<std::string, Init>> init_choices();

// --early-stopping N and --eta-schedule halve:N|constant (its text into eta_schedule; parse_eta_schedule reads it).
void add_rule_flags(CLI::App* sub, TrainConfig& c, std::string& eta_schedule);
// --eta-schedule's text into c; InputError naming the flag for any other form.
void parse_eta_schedule(const std::string& text, TrainConfig& c);

// --device, --precision, --gpu-kernel and --gpu-cluster.
void add_device_flags(CLI::App* sub, TrainConfig& c, CudaOptions& gpu);

// --train-size, --validation-size and --test-size.
void add_split_flags(CLI::App* sub, MnistSplitSizes& split);

// The run's settings, alone and together, before any data is read: the trainer's own checks, the GPU options, the
// memory the run needs, and MNIST's ten outputs. SettingError names the setting.
void check_run_settings(const TrainConfig& c, const CudaOptions& gpu);

// The data a run trains on: MNIST from --data's folder (or its default), split as asked.
Mnist load_run_data(const std::string& data_flag, const MnistSplitSizes& split);

}  // namespace sigmanet::cli
