#pragma once
// The subcommands of the sigmanet tool. Each add_*_command registers its flags on the app; when the
// subcommand is chosen its callback runs it and stores the exit status in `status`. Exceptions leave the
// callback: main() turns InputError into exit 2 and any other error into exit 1.
#include <CLI/CLI.hpp>

namespace sigmanet::cli {

void add_train_command(CLI::App& app, int& status);
void add_verify_command(CLI::App& app, int& status);
void add_bench_command(CLI::App& app, int& status);
void add_evaluate_command(CLI::App& app, int& status);
void add_predict_command(CLI::App& app, int& status);
void add_show_weights_command(CLI::App& app, int& status);
void add_export_command(CLI::App& app, int& status);
void add_sweep_command(CLI::App& app, int& status);

}  // namespace sigmanet::cli
