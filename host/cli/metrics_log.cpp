#include "cli/metrics_log.hpp"

#include <nlohmann/json.hpp>

#include "formats/atomic_file.hpp"
#include "sigmanet/error.hpp"

namespace sigmanet::cli {

MetricsLog::MetricsLog(const std::string& file, bool append) : file_(file) {
  if (file.empty() || !append || !std::filesystem::exists(file)) return;
  try {
    const std::vector<std::uint8_t> bytes = read_file_bytes(file, std::size_t{64} << 20);
    text_.assign(bytes.begin(), bytes.end());
  } catch (const InputError& e) {
    throw InputError(std::string("--metrics: ") + e.what());
  }
  if (!text_.empty() && text_.back() != '\n') text_ += '\n';  // a line cut short before: ours start on their own
}

nlohmann::json epoch_metrics(int epoch, const Evaluation& test, const std::optional<Evaluation>& validated,
                             Backend& backend, const LabelledData& data, const TrainConfig& c, double eta, double seconds,
                             double rate) {
  const Evaluation train = backend.evaluate(data.train);
  const Evaluation validation = validated ? *validated : backend.evaluate(data.validation);
  const Parameters p = c.lambda > 0 ? backend.parameters() : Parameters{};
  const auto cost = [&](const Evaluation& e) { return e.cost + weight_penalty(p, c.lambda, e.total); };
  nlohmann::json line = {{"epoch", epoch},
                         {"cost_function", to_string(c.cost)},
                         {"lambda", c.lambda},
                         {"eta", eta},
                         {"test_correct", test.correct},
                         {"test_total", test.total},
                         {"test_accuracy", test.accuracy()},
                         {"test_cost", cost(test)},
                         {"train_accuracy", train.accuracy()},
                         {"train_cost", cost(train)},
                         {"validation_accuracy", validation.accuracy()},
                         {"validation_cost", cost(validation)},
                         {"seconds", seconds},
                         {"samples_per_second", rate}};
  if (validation.total == 0) line["validation_accuracy"] = line["validation_cost"] = nullptr;
  return line;
}

void MetricsLog::write(int epoch, const Evaluation& test, const std::optional<Evaluation>& validated,
                       Backend& backend, const LabelledData& data, const TrainConfig& c, double eta, double seconds,
                       double rate) {
  text_ += epoch_metrics(epoch, test, validated, backend, data, c, eta, seconds, rate).dump() + '\n';
  write_file_atomically(file_, std::span(reinterpret_cast<const std::uint8_t*>(text_.data()), text_.size()));
}

}  // namespace sigmanet::cli
