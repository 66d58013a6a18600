#pragma once
// The sigmanet library as the Python module uses it: every sigmanet header it includes, here and nowhere else, and
// only what a program that trains, evaluates and saves networks needs.
#include "sigmanet/backend.hpp"             // Backend, Device, Precision, Evaluation
#include "sigmanet/backends/factory.hpp"    // make_backend, gpu_available, gpu_info
#include "sigmanet/collective.hpp"          // default_threads
#include "sigmanet/cost.hpp"                // Cost, Objective, weight_penalty
#include "sigmanet/error.hpp"               // Error, InputError, SettingError, DivergenceError
#include "sigmanet/dataset.hpp"             // Dataset
#include "sigmanet/formats/mnist.hpp"       // load_mnist, load_idx_set, resolve_data_dir
#include "sigmanet/formats/model_file.hpp"  // save_model, load_model, trained_model_metadata
#include "sigmanet/parameters.hpp"          // Parameters, init_parameters, Init
#include "sigmanet/random.hpp"              // Rng, the generator behind the initial weights and the shuffles
#include "sigmanet/trainer.hpp"             // Trainer, TrainConfig
#include "sigmanet/version.hpp"
