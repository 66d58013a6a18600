#pragma once
// Exceptions thrown by the library. Messages are one line and say what and where.
//
// The library never names a command-line flag: a bad setting is a SettingError that says which setting, what
// is wrong and the value, in a Message whose mentions of settings the reader renders in its own words (what()
// uses the library's names, "eta"; the sigmanet tool its flags, "--eta").
#include <cstddef>
#include <functional>
#include <initializer_list>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace sigmanet {

// Something went wrong at run time (I/O, a device, a library call).
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The user's input is unusable: a setting, a data file, a model file.
// The command-line tool maps it to exit status 2.
class InputError : public Error {
 public:
  using Error::Error;
};

// What a caller of the library chooses: TrainConfig's fields, the GPU's options (make_backend's), the data's
// location and split, a checkpoint to resume, the drawings' scale and number of mistakes. A program's own options
// (the tool's benchmark grid, its repetitions) are the program's to name.
enum class Setting {
  sizes,
  epochs,
  batch,
  eta,
  cost,
  lambda,
  early_stopping,
  eta_schedule,
  seed,
  init,
  device,
  gpu_kernel,
  gpu_cluster,
  precision,
  data,
  train_size,
  validation_size,
  test_size,
  resume,
  checkpoint,
  scale,
  mistakes_count,
};

// The library's name for a setting: the TrainConfig field's, or the option's ("train_size", "gpu_kernel").
std::string setting_name(Setting s);

// A one-line message made of text and mentions of settings, rendered by whoever shows it.
class Message {
 public:
  struct Part {
    Part(std::string t) : text(std::move(t)) {}
    Part(const char* t) : text(t) {}
    Part(Setting s) : setting(s) {}
    std::string text;
    std::optional<Setting> setting;
  };
  Message(std::initializer_list<Part> parts) : parts_(parts) {}
  Message& operator+=(const Message& more);
  // The text, each setting shown as name(setting).
  std::string render(const std::function<std::string(Setting)>& name) const;
  // The text in the library's words (setting_name).
  std::string text() const;
  // The settings it mentions, in order.
  std::vector<Setting> mentions() const;

 private:
  std::vector<Part> parts_;
};

// A setting's value is unusable. The message starts with the setting it blames ("sizes: needs at least two
// layers"); value() is the value as given, where there is one to show.
class SettingError : public InputError {
 public:
  // "<setting>: <problem>"
  SettingError(Setting setting, const std::string& problem, std::string value = {});
  SettingError(Setting setting, Message message, std::string value = {});
  Setting setting() const { return setting_; }
  const std::string& value() const { return value_; }
  const Message& message() const { return message_; }

 private:
  Setting setting_;
  Message message_;
  std::string value_;
};

// Training went numerically wrong: NaN or Inf in the cost or the parameters, or a whole epoch in which
// no weight or bias moved (every sigmoid saturated). what() is the full one-line message, naming the epoch,
// the batch and the likely cause. The command-line tool exits with status 3.
class DivergenceError : public Error {
 public:
  DivergenceError(Message message, int epoch, std::size_t batch)
      : Error(message.text()), message_(std::move(message)), epoch_(epoch), batch_(batch) {}
  const Message& message() const { return message_; }  // names the setting to change (eta)
  int epoch() const { return epoch_; }                 // 1-based
  std::size_t batch() const { return batch_; }         // 1-based within the epoch

 private:
  Message message_;
  int epoch_;
  std::size_t batch_;
};

}  // namespace sigmanet
