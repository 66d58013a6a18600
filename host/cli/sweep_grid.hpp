#pragma once
// A sweep's grid: the settings `sweep` takes as lists (--sizes, --epochs, --batch, --eta, --lambda, --cost,
// --init, --seed) and every combination of them, one training run each. Lists are parsed strictly, as every flag
// of the tool: an empty entry, a value given twice or a range backwards is refused while the command line is
// parsed, naming the flag (CLI::ValidationError).
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "sigmanet/trainer.hpp"

namespace sigmanet::cli {

// The largest grid a sweep trains: far above any study of the book (chapter 3's biggest is a few dozen runs), and
// low enough that a mistyped range (--seed 1-100000) is refused at once rather than queued for days.
constexpr std::size_t kMaxSweepRuns = 1000;

struct SweepLists {
  std::vector<std::vector<int>> sizes{{784, 30, 10}};
  std::vector<int> epochs{30};
  std::vector<std::size_t> batch{10};
  std::vector<double> eta{3.0};
  std::vector<double> lambda{0.0};
  std::vector<Cost> cost{Cost::quadratic};
  std::vector<Init> init{Init::standard};
  std::vector<std::uint64_t> seed{1};
};

// One run of the grid: its name (the settings that vary across the grid, "eta=0.25_seed=2"; "run" when none
// does), its settings, and those settings as (flag without dashes, value) text.
struct SweepRun {
  std::size_t index = 0;  // place in the grid
  std::string name;
  TrainConfig config;
  std::vector<std::pair<std::string, std::string>> settings;  // every listed setting, in the lists' order
};

// Declares the list flags on sub, writing into lists.
void add_sweep_list_flags(CLI::App* sub, SweepLists& lists);

// Every combination, `base` giving the settings that are not lists; sizes vary slowest, seed fastest. Throws
// InputError naming the lists' flags when there are more than kMaxSweepRuns.
std::vector<SweepRun> expand_grid(const SweepLists& lists, const TrainConfig& base);

// The flags whose lists hold more than one value, in the lists' order ("eta", "seed").
std::vector<std::string> varying_settings(const SweepLists& lists);

// The run's listed settings as JSON, numbers as numbers: {"sizes": [784, 30, 10], "eta": 0.25, ...}.
nlohmann::json settings_json(const SweepRun& run);

// The work a run is, to start the longest first: epochs x training records x parameters.
double run_work(const TrainConfig& c);

}  // namespace sigmanet::cli
