#pragma once
// DIR/sweep-checkpoint: what a sweep keeps while it works, so that a stop (Ctrl-C, SIGTERM, a killed rank) loses no
// finished run and `sigmanet sweep --resume DIR` can finish the grid. It holds sweep.json (the flags the sweep was
// started with), and per run NAME.json (its record: the runs.jsonl lines so far, best validation, seconds) with
// either NAME.safetensors (the finished run's model, as `train --save` writes it) or NAME.checkpoint.safetensors
// (a stopped run's checkpoint, formats/checkpoint.hpp). Every file is written atomically, by whichever thread or
// rank trained the run; under MPI the folder must be one every rank sees. The finished sweep removes it.
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sigmanet/formats/checkpoint.hpp"

namespace sigmanet::cli {

// A run's account so far.
struct RunRecord {
  std::string name;
  std::vector<std::string> lines;  // its runs.jsonl lines, one per epoch trained
  int epochs_done = 0;
  int best_epoch = 0;        // the epoch of the best score; 0 before the first
  double best_score = -1;    // validation accuracy (test accuracy without a validation set)
  double test_at_best = 0;   // test accuracy at best_epoch
  double last_test = 0;      // test accuracy after the last epoch (the model file's "accuracy")
  double seconds = 0;        // wall time spent on it, training and evaluation
  // Empty while it has epochs to go; else why it ended: "completed", "early stopping", "eta floor" or
  // "diverged: " and the reason (no model then).
  std::string ended;
};

class SweepStore {
 public:
  explicit SweepStore(const std::filesystem::path& out) : folder_(out / "sweep-checkpoint") {}
  const std::filesystem::path& folder() const { return folder_; }
  bool exists() const { return std::filesystem::exists(folder_); }
  void create() const { std::filesystem::create_directories(folder_); }

  void write_flags(const nlohmann::json& flags) const;
  // InputError naming the file when it is missing or unreadable.
  nlohmann::json read_flags() const;

  // A finished run: its record, then its model (NAME.safetensors, saved by the caller before) is the run's.
  void write_record(const RunRecord& record) const;
  // Every record in the folder, by name.
  std::map<std::string, RunRecord> read_records() const;

  std::filesystem::path model_file(const std::string& name) const { return folder_ / (name + ".safetensors"); }
  std::filesystem::path checkpoint_file(const std::string& name) const {
    return folder_ / (name + ".checkpoint.safetensors");
  }
  // The stopped run's checkpoint, if it has one.
  std::optional<Checkpoint> read_checkpoint(const std::string& name) const;

 private:
  std::filesystem::path folder_;
};

nlohmann::json to_json(const RunRecord& r);
RunRecord record_from_json(const nlohmann::json& j);

}  // namespace sigmanet::cli
