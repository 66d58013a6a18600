#pragma once
// The flags of one training run that `train` and `sweep` declare alike (the settings a sweep does not vary), their
// checks, and the data a run reads: one place, so that the two commands cannot drift apart.
#include <CLI/CLI.hpp>

#include <string>
#include <utility>
#include <vector>

#include "cli/data_flags.hpp"
#include "sigmanet/cuda/cuda_options.hpp"
#include "sigmanet/formats/data_source.hpp"
#include "sigmanet/formats/model_file.hpp"
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

// --train-size, --validation-size and --test-size, each defaulting to what the data gives (SplitRequest).
void add_split_flags(CLI::App* sub, MnistSplitSizes& split);
// The split asked for: each size given on sub's command line (or, resumed, all of them: a checkpoint's); the
// rest follow the data.
SplitRequest split_request(const CLI::App& sub, const MnistSplitSizes& split, bool resumed);

// The run's settings, alone and together: the trainer's own checks, the GPU options and the memory the run needs.
// SettingError names the setting.
void check_run_settings(const TrainConfig& c, const CudaOptions& gpu);
// All of them but the sizes and memory, for a run whose sizes follow the data: checked before the data is read.
void check_settings_before_data(const TrainConfig& c, const CudaOptions& gpu);

// The data a run trains on, from the data flags, split as asked.
LabelledData load_run_data(const DataFlags& flags, const SplitRequest& split);

// The network a run takes when no --sizes is given: the data's features, 30 hidden neurons, its classes.
std::vector<int> sizes_for(const LabelledData& data);
// SettingError on sizes unless the first layer takes the data's features and the last gives its classes.
void check_sizes_fit_data(const std::vector<int>& sizes, const LabelledData& data);
// What a model trained on this data takes and gives, for its metadata.
ModelShape shape_of(const LabelledData& data);

}  // namespace sigmanet::cli
