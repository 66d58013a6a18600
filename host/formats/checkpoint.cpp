#include "sigmanet/formats/checkpoint.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>

#include "formats/layer_tensors.hpp"
#include "formats/safetensors.hpp"
#include "sigmanet/error.hpp"
#include "training/number_text.hpp"

namespace sigmanet {
namespace {

constexpr const char* kFormat = "sigmanet-checkpoint";
// Of the checkpoint format, not of the library. Version 2 added chapter 3's settings and the rules' state;
// a version 1 file is a chapter 1 run (quadratic cost, no L2, no rules) and loads as one.
constexpr const char* kVersion = "2";

class MetadataReader {
 public:
  MetadataReader(const std::map<std::string, std::string>& m, std::string what) : m_(m), what_(std::move(what)) {}

  bool has(const std::string& key) const { return m_.count(key) != 0; }

  const std::string& text(const std::string& key) const {
    const auto it = m_.find(key);
    if (it == m_.end()) throw InputError(what_ + ": checkpoint metadata has no \"" + key + "\"");
    return it->second;
  }

  template <class T>
  T number(const std::string& key) const {
    const std::string& s = text(key);
    T v{};
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || end != s.data() + s.size())
      throw InputError(what_ + ": checkpoint metadata \"" + key + "\" is not a number: \"" + s + "\"");
    return v;
  }

  double real(const std::string& key) const {
    const std::string& s = text(key);
    char* end = nullptr;
    const double v = std::strtod(s.c_str(), &end);
    if (s.empty() || end != s.c_str() + s.size() || !std::isfinite(v))
      throw InputError(what_ + ": checkpoint metadata \"" + key + "\" is not a finite number: \"" + s + "\"");
    return v;
  }

 private:
  const std::map<std::string, std::string>& m_;
  std::string what_;
};

const Tensor& tensor(const SafeTensors& file, const std::string& name, const std::string& what) {
  const auto it = file.tensors.find(name);
  if (it == file.tensors.end()) throw InputError(what + ": checkpoint has no tensor '" + name + "'");
  return it->second;
}

}  // namespace

void save_checkpoint(const std::filesystem::path& file, const Checkpoint& c) {
  validate_parameters(c.parameters, "save_checkpoint");
  SafeTensors content;
  auto& m = content.metadata;
  m["format"] = kFormat;
  m["version"] = kVersion;
  m["sizes"] = sizes_text(c.config.sizes);
  m["epochs"] = std::to_string(c.config.epochs);
  m["batch"] = std::to_string(c.config.batch);
  m["eta"] = exact_text(c.config.eta);
  m["cost"] = to_string(c.config.cost);
  m["lambda"] = exact_text(c.config.lambda);
  m["early_stopping"] = std::to_string(c.config.early_stopping);
  m["eta_schedule"] = eta_schedule_text(c.config.halve_eta_after);
  m["eta_halvings"] = std::to_string(c.state.eta_halvings);
  m["best_validation"] = exact_text(c.state.best_validation);
  m["epochs_since_best"] = std::to_string(c.state.epochs_since_best);
  m["epochs_since_eta_change"] = std::to_string(c.state.epochs_since_eta_change);
  m["seed"] = std::to_string(c.config.seed);
  m["init"] = to_string(c.config.init);
  m["precision"] = to_string(c.config.precision);
  m["train_size"] = std::to_string(c.config.split.train);
  m["validation_size"] = std::to_string(c.config.split.validation);
  m["test_size"] = std::to_string(c.config.split.test);
  m["ranks"] = std::to_string(c.ranks);
  m["epochs_done"] = std::to_string(c.state.epochs_done);
  m["position"] = std::to_string(c.state.position);
  m["has_spare_normal"] = c.state.rng.has_spare_normal ? "1" : "0";

  add_layer_tensors(content, c.parameters, c.config.precision == Precision::f64 ? Dtype::f64 : Dtype::f32);
  content.tensors["trainer.order"] = Tensor::from_u32(c.state.order, {c.state.order.size()});
  content.tensors["trainer.rng"] = Tensor::from_u64(c.state.rng.state, {c.state.rng.state.size()});
  const double spare = c.state.rng.spare_normal;
  content.tensors["trainer.spare_normal"] = Tensor::from_doubles(std::span(&spare, 1), {1}, Dtype::f64);
  write_safetensors(file, content);
}

Checkpoint load_checkpoint(const std::filesystem::path& file) {
  const std::string what = file.string();
  const SafeTensors content = read_safetensors(file);
  const MetadataReader m(content.metadata, what);
  if (m.text("format") != kFormat)
    throw SettingError(Setting::resume,
                       {what + ": not a checkpoint (format \"" + m.text("format") + "\"); ", Setting::resume,
                        " needs a file written by ", Setting::checkpoint},
                       what);
  const std::string& version = m.text("version");
  if (version != kVersion && version != "1")
    throw InputError(what + ": checkpoint version " + version + " is not supported (expected 1 or " + kVersion +
                     ")");
  const bool chapter_3 = version != "1";
  if (!chapter_3) {
    // Version 1 has none of chapter 3's settings: a file that names one other than chapter 1's contradicts its
    // version, and loading it as chapter 1 would continue another run than the file describes.
    const auto refuse = [&](const std::string& key) {
      throw InputError(what + ": checkpoint version 1 is a chapter 1 run (quadratic cost, no L2, no rules), but its "
                              "metadata says " + key + " \"" + m.text(key) + "\"; refused rather than resumed as "
                              "chapter 1");
    };
    const std::pair<const char*, const char*> chapter_1[] = {
        {"cost", "quadratic"}, {"early_stopping", "0"}, {"eta_schedule", "constant"}, {"eta_halvings", "0"}};
    for (const auto& [key, value] : chapter_1)
      if (m.has(key) && m.text(key) != value) refuse(key);
    if (m.has("lambda") && m.real("lambda") != 0) refuse("lambda");
  }

  Checkpoint c;
  c.parameters = layer_parameters(content, what);
  TrainConfig& config = c.config;
  config.sizes = c.parameters.sizes;
  config.epochs = m.number<int>("epochs");
  config.batch = m.number<std::size_t>("batch");
  config.eta = m.real("eta");
  config.seed = m.number<std::uint64_t>("seed");
  const std::optional<Init> init = init_from_text(m.text("init"));
  if (!init)
    throw InputError(what + ": checkpoint metadata \"init\" is \"" + m.text("init") + "\", expected standard or scaled");
  config.init = *init;
  const std::optional<Precision> precision = precision_from_text(m.text("precision"));
  if (!precision)
    throw InputError(what + ": checkpoint metadata \"precision\" is \"" + m.text("precision") +
                     "\", expected float or double");
  config.precision = *precision;
  config.split.train = m.number<std::size_t>("train_size");
  config.split.validation = m.number<std::size_t>("validation_size");
  config.split.test = m.number<std::size_t>("test_size");
  if (chapter_3) {
    const std::optional<Cost> cost = cost_from_text(m.text("cost"));
    if (!cost)
      throw InputError(what + ": checkpoint metadata \"cost\" is \"" + m.text("cost") +
                       "\", expected quadratic, cross-entropy or log-likelihood");
    config.cost = *cost;
    config.lambda = m.real("lambda");
    config.early_stopping = m.number<int>("early_stopping");
    const std::optional<int> schedule = eta_schedule_from_text(m.text("eta_schedule"));
    if (!schedule)
      throw InputError(what + ": checkpoint metadata \"eta_schedule\" is \"" + m.text("eta_schedule") +
                       "\", expected constant or halve:N");
    config.halve_eta_after = *schedule;
  }
  if (output_activation(config.cost) != c.parameters.output)
    throw InputError(what + ": the checkpoint's " + to_string(config.cost) + " cost does not go with its " +
                     to_string(c.parameters.output) + " output layer");
  try {
    // Its memory estimated as a CPU run's: the device is not the file's to say, and asking whether a GPU is usable
    // would open the CUDA libraries for every resume.
    TrainConfig as_stored = config;
    as_stored.device = Device::cpu;
    validate_config(as_stored);
    check_memory(as_stored, std::nullopt);
  } catch (const SettingError& e) {
    // The values came from this file, not from flags: the setting keeps the library's name (what()), so the
    // tool does not send the user to a flag they never typed.
    throw InputError(what + ": checkpoint settings are unusable: " + e.what());
  }

  // Files from before jobs of several processes were trained by one.
  if (m.has("ranks")) {
    c.ranks = m.number<int>("ranks");
    if (c.ranks < 1) throw InputError(what + ": checkpoint metadata \"ranks\" must be at least 1");
  }
  TrainerState& s = c.state;
  s.epochs_done = m.number<int>("epochs_done");
  s.position = m.number<std::size_t>("position");
  if (s.epochs_done < 0) throw InputError(what + ": checkpoint metadata \"epochs_done\" is negative");
  if (chapter_3) {
    s.eta_halvings = m.number<int>("eta_halvings");
    s.best_validation = m.real("best_validation");
    s.epochs_since_best = m.number<int>("epochs_since_best");
    s.epochs_since_eta_change = m.number<int>("epochs_since_eta_change");
    if (s.eta_halvings < 0 || s.eta_halvings > kMaxEtaHalvings)
      throw InputError(what + ": checkpoint metadata \"eta_halvings\" must lie in 0.." +
                       std::to_string(kMaxEtaHalvings));
    if (s.best_validation < -1 || s.best_validation > 1 || s.epochs_since_best < 0 || s.epochs_since_eta_change < 0)
      throw InputError(what + ": checkpoint metadata on the validation accuracy is out of range");
  }
  s.order = tensor(content, "trainer.order", what).as_u32(what + ": trainer.order");
  if (!s.order.empty() && s.order.size() != config.split.train)
    throw InputError(what + ": trainer.order holds " + std::to_string(s.order.size()) + " indices for " +
                     std::to_string(config.split.train) + " training records");
  if (s.position > s.order.size())
    throw InputError(what + ": position " + std::to_string(s.position) + " is past the epoch's " +
                     std::to_string(s.order.size()) + " records");
  std::vector<bool> seen(s.order.size());
  for (std::uint32_t i : s.order) {
    if (i >= s.order.size() || seen[i]) throw InputError(what + ": trainer.order is not a permutation");
    seen[i] = true;
  }
  const std::vector<std::uint64_t> rng = tensor(content, "trainer.rng", what).as_u64(what + ": trainer.rng");
  if (rng.size() != s.rng.state.size())
    throw InputError(what + ": trainer.rng holds " + std::to_string(rng.size()) + " words, expected 4");
  std::copy(rng.begin(), rng.end(), s.rng.state.begin());
  if (rng == std::vector<std::uint64_t>(4, 0))
    throw InputError(what + ": trainer.rng is all zeros, which is no xoshiro256** state");
  const Tensor& spare = tensor(content, "trainer.spare_normal", what);
  if (spare.dtype != Dtype::f64 || spare.elements() != 1)
    throw InputError(what + ": trainer.spare_normal is not one F64 value");
  s.rng.spare_normal = spare.as_doubles(what)[0];
  const std::string& has_spare = m.text("has_spare_normal");
  if (has_spare != "0" && has_spare != "1")
    throw InputError(what + ": checkpoint metadata \"has_spare_normal\" must be 0 or 1");
  s.rng.has_spare_normal = has_spare == "1";
  if (s.rng.has_spare_normal && !std::isfinite(s.rng.spare_normal))
    throw InputError(what + ": trainer.spare_normal is not finite");
  return c;
}

}  // namespace sigmanet
