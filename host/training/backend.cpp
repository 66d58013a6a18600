// The backend interface's shared pieces: names of the choices, the default clock, and the checks every backend makes.
#include "sigmanet/backend.hpp"

#include <algorithm>
#include <chrono>

#include "sigmanet/error.hpp"

namespace sigmanet {

std::string to_string(Precision p) { return p == Precision::f32 ? "float" : "double"; }

std::optional<Precision> precision_from_text(const std::string& text) {
  for (Precision p : {Precision::f32, Precision::f64})
    if (text == to_string(p)) return p;
  return std::nullopt;
}

std::string to_string(Device d) {
  switch (d) {
    case Device::cpu: return "cpu";
    case Device::gpu: return "gpu";
    case Device::automatic: return "auto";
  }
  return "?";
}

double Backend::time_seconds(const std::function<void()>& work) {
  const auto start = std::chrono::steady_clock::now();
  work();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

void Backend::set_collective(Collective* collective) {
  if (collective) throw Error(describe() + ": cannot train across processes");
}

void check_output_layer(const Objective& objective, Activation output, const std::string& who) {
  if (output_activation(objective.cost) != output)
    throw Error(who + ": the " + to_string(objective.cost) + " cost needs a " +
                to_string(output_activation(objective.cost)) + " output layer, but the network's is " +
                to_string(output));
}

void check_input_width(const std::vector<int>& sizes, const Dataset& data) {
  if (!sizes.empty() && std::size_t(sizes.front()) != data.features())
    throw SettingError(Setting::sizes,
                       "the input layer has " + std::to_string(sizes.front()) + " neurons but " + data.name +
                           " records have " + std::to_string(data.features()) + " features",
                       sizes_text(sizes));
}

void check_data_fits(const std::vector<int>& sizes, const Dataset& data) {
  check_input_width(sizes, data);
  if (sizes.empty()) return;
  const std::size_t classes = std::size_t(sizes.back());
  // One pass for the common case, a second only to name the first label that is too large.
  if (data.labels.empty() || *std::max_element(data.labels.begin(), data.labels.end()) < classes) return;
  const auto bad = std::find_if(data.labels.begin(), data.labels.end(), [&](std::uint8_t y) { return y >= classes; });
  throw SettingError(Setting::sizes,
                     data.name + ": label " + std::to_string(*bad) + " at record " +
                         std::to_string(bad - data.labels.begin()) + " is not below the output layer's " +
                         std::to_string(classes) + " neurons",
                     sizes_text(sizes));
}

}  // namespace sigmanet
