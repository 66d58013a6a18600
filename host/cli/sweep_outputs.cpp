#include "cli/sweep_outputs.hpp"

#include <algorithm>
#include <cstdio>

#include <nlohmann/json.hpp>

#include "formats/atomic_file.hpp"

namespace sigmanet::cli {
namespace {

void write_text(const std::filesystem::path& file, const std::string& text) {
  write_file_atomically(file, std::span(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()));
}

void copy_atomically(const std::filesystem::path& from, const std::filesystem::path& to) {
  write_file_atomically(to, read_file_bytes(from, std::size_t{1} << 40));
}

bool has_model(const RunRecord& r) { return r.ended.rfind("diverged", 0) != 0; }

}  // namespace

void write_runs_log(const std::filesystem::path& out, const std::vector<SweepRun>& runs,
                    const std::map<std::string, RunRecord>& records) {
  std::string text;
  for (const SweepRun& run : runs)
    if (const auto r = records.find(run.name); r != records.end() && !r->second.ended.empty())
      for (const std::string& line : r->second.lines) text += line + '\n';
  write_text(out / "runs.jsonl", text);
}

void write_sweep_outputs(const std::filesystem::path& out, const std::vector<SweepRun>& runs,
                         const std::map<std::string, RunRecord>& records, const SweepStore& store, bool save_all,
                         bool scored_on_validation) {
  // Ranked by the best score, ties by the grid's order; diverged runs last.
  std::vector<const SweepRun*> ranked;
  for (const SweepRun& run : runs) ranked.push_back(&run);
  const auto score = [&](const SweepRun* run) {
    const RunRecord& r = records.at(run->name);
    return has_model(r) ? r.best_score : -2.0;
  };
  std::stable_sort(ranked.begin(), ranked.end(),
                   [&](const SweepRun* a, const SweepRun* b) { return score(a) > score(b); });

  if (save_all) std::filesystem::create_directories(out / "models");
  std::string summary;
  for (const SweepRun& run : runs) {
    const RunRecord& r = records.at(run.name);
    nlohmann::json line = {{"run", run.name}, {"settings", settings_json(run)}};
    line[scored_on_validation ? "best_validation_accuracy" : "best_test_accuracy"] =
        r.best_epoch ? nlohmann::json(r.best_score) : nlohmann::json(nullptr);
    line["best_epoch"] = r.best_epoch;
    line["test_accuracy_at_best"] = r.best_epoch ? nlohmann::json(r.test_at_best) : nlohmann::json(nullptr);
    line["epochs"] = r.epochs_done;
    line["ended"] = r.ended;
    line["seconds"] = r.seconds;
    line["model"] = nullptr;
    if (save_all && has_model(r)) {
      const std::string file = "models/" + run.name + ".safetensors";
      copy_atomically(store.model_file(run.name), out / file);
      line["model"] = file;
    }
    summary += line.dump() + '\n';
  }
  write_text(out / "summary.jsonl", summary);
  const bool have_best = !ranked.empty() && has_model(records.at(ranked.front()->name));
  if (have_best) copy_atomically(store.model_file(ranked.front()->name), out / "best.safetensors");

  std::size_t width = 3;
  for (const SweepRun* run : ranked) width = std::max(width, run->name.size());
  std::printf("%4s  %-*s  %10s  %5s  %8s  %8s  %s\n", "rank", int(width), "run",
              scored_on_validation ? "validation" : "test", "epoch", "test", "seconds", "ended");
  for (std::size_t i = 0; i < ranked.size(); ++i) {
    const RunRecord& r = records.at(ranked[i]->name);
    std::printf("%4zu  %-*s  %9.2f%%  %5d  %7.2f%%  %8.1f  %s\n", i + 1, int(width), ranked[i]->name.c_str(),
                100.0 * std::max(0.0, r.best_score), r.best_epoch, 100.0 * r.test_at_best, r.seconds, r.ended.c_str());
  }
  if (have_best)
    std::printf("Best run %s: model in %s\n", ranked.front()->name.c_str(), (out / "best.safetensors").c_str());
  std::printf("Runs in %s, summary in %s\n", (out / "runs.jsonl").c_str(), (out / "summary.jsonl").c_str());
  std::fflush(stdout);
}

}  // namespace sigmanet::cli
