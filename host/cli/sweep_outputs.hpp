#pragma once
// What a sweep leaves in --out DIR: runs.jsonl (every finished run's epochs, as `train --metrics` writes them, each
// line with the run's name and settings), summary.jsonl (one line per run), best.safetensors (the run best on
// validation), models/NAME.safetensors for every run with --save all, and the ranked table on stdout. Every file is
// written atomically.
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "cli/sweep_grid.hpp"
#include "cli/sweep_store.hpp"

namespace sigmanet::cli {

// runs.jsonl with the lines of the finished runs among `records`, in the grid's order.
void write_runs_log(const std::filesystem::path& out, const std::vector<SweepRun>& runs,
                    const std::map<std::string, RunRecord>& records);

// The finished sweep's outputs from the store: summary.jsonl, best.safetensors, models/ when save_all, and the
// table. `scored_on_validation`: whether the best score is validation accuracy (else test accuracy).
void write_sweep_outputs(const std::filesystem::path& out, const std::vector<SweepRun>& runs,
                         const std::map<std::string, RunRecord>& records, const SweepStore& store, bool save_all,
                         bool scored_on_validation);

}  // namespace sigmanet::cli
