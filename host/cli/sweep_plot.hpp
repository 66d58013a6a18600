#pragma once
// sweep --plot: DIR/sweep.png. On the left the accuracy per epoch of every run (validation accuracy, or test
// accuracy without a validation set), each line coloured by its value of the setting that varies most, with a key;
// on the right, when exactly two settings vary, a heat map of the best accuracy over those two settings. Drawn with
// the project's own PNG writer and 3x5 font (reports/drawings.hpp), so no plotting library is needed at run time.
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "cli/sweep_grid.hpp"
#include "cli/sweep_store.hpp"

namespace sigmanet::cli {

void plot_sweep(const std::filesystem::path& file, const std::vector<SweepRun>& runs,
                const std::map<std::string, RunRecord>& records, const std::vector<std::string>& varying,
                bool on_validation);

}  // namespace sigmanet::cli
