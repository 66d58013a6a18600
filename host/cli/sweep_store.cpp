#include "cli/sweep_store.hpp"

#include "formats/atomic_file.hpp"
#include "sigmanet/error.hpp"

namespace sigmanet::cli {
namespace {

void write_json(const std::filesystem::path& file, const nlohmann::json& j) {
  const std::string text = j.dump() + '\n';
  write_file_atomically(file, std::span(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()));
}

nlohmann::json read_json(const std::filesystem::path& file) {
  const std::vector<std::uint8_t> bytes = read_file_bytes(file, std::size_t{256} << 20);
  try {
    return nlohmann::json::parse(bytes.begin(), bytes.end());
  } catch (const nlohmann::json::exception& e) {
    throw InputError(file.string() + ": not a sweep's file (" + e.what() + ")");
  }
}

}  // namespace

nlohmann::json to_json(const RunRecord& r) {
  return {{"name", r.name},         {"lines", r.lines},           {"epochs_done", r.epochs_done},
          {"best_epoch", r.best_epoch}, {"best_score", r.best_score}, {"test_at_best", r.test_at_best},
          {"last_test", r.last_test}, {"seconds", r.seconds},       {"ended", r.ended}};
}

RunRecord record_from_json(const nlohmann::json& j) {
  RunRecord r;
  r.name = j.at("name").get<std::string>();
  r.lines = j.at("lines").get<std::vector<std::string>>();
  r.epochs_done = j.at("epochs_done").get<int>();
  r.best_epoch = j.at("best_epoch").get<int>();
  r.best_score = j.at("best_score").get<double>();
  r.test_at_best = j.at("test_at_best").get<double>();
  r.last_test = j.at("last_test").get<double>();
  r.seconds = j.at("seconds").get<double>();
  r.ended = j.at("ended").get<std::string>();
  return r;
}

void SweepStore::write_flags(const nlohmann::json& flags) const { write_json(folder_ / "sweep.json", flags); }

nlohmann::json SweepStore::read_flags() const {
  const std::filesystem::path file = folder_ / "sweep.json";
  if (!std::filesystem::exists(file))
    throw InputError("--resume: " + folder_.parent_path().string() + " holds no unfinished sweep (no " +
                     file.string() + ")");
  return read_json(file);
}

void SweepStore::write_record(const RunRecord& record) const {
  write_json(folder_ / (record.name + ".json"), to_json(record));
}

std::map<std::string, RunRecord> SweepStore::read_records() const {
  std::map<std::string, RunRecord> out;
  for (const auto& entry : std::filesystem::directory_iterator(folder_)) {
    const std::filesystem::path& file = entry.path();
    if (file.extension() != ".json" || file.filename() == "sweep.json") continue;
    try {
      RunRecord r = record_from_json(read_json(file));
      out[r.name] = std::move(r);
    } catch (const nlohmann::json::exception& e) {
      throw InputError(file.string() + ": not a sweep's run record (" + e.what() + ")");
    }
  }
  return out;
}

std::optional<Checkpoint> SweepStore::read_checkpoint(const std::string& name) const {
  const std::filesystem::path file = checkpoint_file(name);
  if (!std::filesystem::exists(file)) return std::nullopt;
  return load_checkpoint(file);
}

}  // namespace sigmanet::cli
