#pragma once
// --metrics: one JSON line per epoch, for plotting the curves. The file is only ever replaced whole: after each
// epoch the lines so far are written to a temporary file and renamed over it (atomic_file.hpp), so a run refused
// before its first epoch ends leaves the file as it was, a full disk or a signal never leaves it truncated, and a
// failed write names the file and the system's reason. A resumed run continues the file of the run it resumes.
#include <nlohmann/json.hpp>

#include <optional>
#include <string>

#include "sigmanet/backend.hpp"
#include "sigmanet/formats/data_source.hpp"
#include "sigmanet/trainer.hpp"

namespace sigmanet::cli {

// One epoch's line as MetricsLog::write writes it (below), for a caller that keeps its lines itself.
nlohmann::json epoch_metrics(int epoch, const Evaluation& test, const std::optional<Evaluation>& validated,
                             Backend& backend, const LabelledData& data, const TrainConfig& c, double eta, double seconds,
                             double rate);

class MetricsLog {
 public:
  MetricsLog() = default;
  // No file: nothing is written. `append`: the lines go after what the file holds now (read here, at most
  // 64 MiB; InputError naming the flag otherwise).
  MetricsLog(const std::string& file, bool append);
  bool enabled() const { return !file_.empty(); }
  // One epoch's line, outside the timed part of the epoch: the cost on the training and validation sets is for the
  // curves only. Costs are the run's cost plus, with L2, network2.py's lambda/(2n) sum w^2 over each set's own
  // size n. Throws Error naming the file when it cannot be written.
  void write(int epoch, const Evaluation& test, const std::optional<Evaluation>& validated, Backend& backend,
             const LabelledData& data, const TrainConfig& c, double eta, double seconds, double rate);

 private:
  std::string file_;
  std::string text_;  // what the file is to hold: the earlier run's lines, then this run's
};

}  // namespace sigmanet::cli
