#pragma once
// Ctrl-C and SIGTERM during training: the first asks the run to stop after the current mini-batch (and write
// its checkpoint); a second ends the process at once, printing which checkpoint is still whole.
#include <csignal>
#include <string>

namespace sigmanet::cli {

constexpr int kExitInterrupted = 130;

// Catches SIGINT and SIGTERM while it lives (the previous handlers come back after).
class StopOnSignals {
 public:
  StopOnSignals();
  ~StopOnSignals();
  StopOnSignals(const StopOnSignals&) = delete;
  StopOnSignals& operator=(const StopOnSignals&) = delete;
  static bool requested();
  static const char* name();  // "SIGINT" or "SIGTERM"

 private:
  struct sigaction old_int_ {
  }, old_term_{};
};

// What a second signal will print. The handler may not allocate, so the text is kept ready in advance.
void set_second_signal_message(const std::string& text);
// That text: which checkpoint is whole. written_epoch > 0: this run last wrote `file` after that epoch;
// resumed: the checkpoint this run started from, if any.
std::string second_signal_message(const std::string& file, int written_epoch, const std::string& resumed);

}  // namespace sigmanet::cli
