#pragma once
// The sigmanet library as the Python module uses it: every sigmanet header it includes, here and nowhere else, and
// only what a program that trains, evaluates and saves networks needs.
#include "sigmanet/backend.hpp"             // make_backend, gpu_available, gpu_info, Device, Precision
#include "sigmanet/collective.hpp"          // default_threads
#include "sigmanet/cost.hpp"                // Cost, Objective, weight_penalty
#include "sigmanet/error.hpp"               // Error, InputError, SettingError, DivergenceError
#include "sigmanet/formats/dataset.hpp"     // Dataset, load_mnist, read_idx_*, resolve_data_dir
#include "sigmanet/formats/model_file.hpp"  // save_model, load_model
#include "sigmanet/number_text.hpp"         // exact_text, as model files write numbers
#include "sigmanet/parameters.hpp"          // Parameters, init_parameters, Init
#include "sigmanet/random.hpp"              // Rng, the generator behind the initial weights and the shuffles
#include "sigmanet/trainer.hpp"             // Trainer, TrainConfig
#include "sigmanet/version.hpp"
