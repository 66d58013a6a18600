#include "sigmanet/error.hpp"

namespace sigmanet {

std::string setting_name(Setting s) {
  switch (s) {
    case Setting::sizes:
      return "sizes";
    case Setting::epochs:
      return "epochs";
    case Setting::batch:
      return "batch";
    case Setting::eta:
      return "eta";
    case Setting::cost:
      return "cost";
    case Setting::lambda:
      return "lambda";
    case Setting::early_stopping:
      return "early_stopping";
    case Setting::eta_schedule:
      return "eta_schedule";
    case Setting::seed:
      return "seed";
    case Setting::init:
      return "init";
    case Setting::device:
      return "device";
    case Setting::gpu_kernel:
      return "gpu_kernel";
    case Setting::gpu_cluster:
      return "gpu_cluster";
    case Setting::precision:
      return "precision";
    case Setting::data:
      return "data";
    case Setting::train_size:
      return "train_size";
    case Setting::validation_size:
      return "validation_size";
    case Setting::test_size:
      return "test_size";
    case Setting::resume:
      return "resume";
    case Setting::checkpoint:
      return "checkpoint";
    case Setting::scale:
      return "scale";
    case Setting::mistakes_count:
      return "mistakes_count";
  }
  return "setting";
}

Message& Message::operator+=(const Message& more) {
  parts_.insert(parts_.end(), more.parts_.begin(), more.parts_.end());
  return *this;
}

std::string Message::render(const std::function<std::string(Setting)>& name) const {
  std::string out;
  for (const Part& p : parts_) out += p.setting ? name(*p.setting) : p.text;
  return out;
}

std::string Message::text() const { return render(setting_name); }

std::vector<Setting> Message::mentions() const {
  std::vector<Setting> settings;
  for (const Part& p : parts_)
    if (p.setting) settings.push_back(*p.setting);
  return settings;
}

SettingError::SettingError(Setting setting, const std::string& problem, std::string value)
    : SettingError(setting, Message{setting, ": " + problem}, std::move(value)) {}

SettingError::SettingError(Setting setting, Message message, std::string value)
    : InputError(message.text()), setting_(setting), message_(std::move(message)), value_(std::move(value)) {}

}  // namespace sigmanet
