#include "cli/stop_signals.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>

namespace sigmanet::cli {
namespace {

// The signal that asked training to stop, or 0. The handler only sets it; the training loop reads it
// after every mini-batch.
volatile std::sig_atomic_t g_stop_signal = 0;

// The second signal's text, kept ready in one of two buffers; the other is rewritten, then made current.
char g_second_message[2][2048];
volatile std::sig_atomic_t g_second_length[2] = {0, 0};
volatile std::sig_atomic_t g_second_current = 0;

extern "C" void request_stop(int signal) {
  if (g_stop_signal != 0) {
    // The second Ctrl-C: the user will not wait for the current mini-batch or checkpoint. Only
    // async-signal-safe calls here; a temporary file left by an interrupted write is removed by the next one.
    const int i = g_second_current;
    const ssize_t ignored = ::write(STDERR_FILENO, g_second_message[i], std::size_t(g_second_length[i]));
    (void)ignored;
    ::_exit(kExitInterrupted);
  }
  g_stop_signal = signal;
}

}  // namespace

StopOnSignals::StopOnSignals() {
  g_stop_signal = 0;
  struct sigaction action {};
  action.sa_handler = request_stop;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, &old_int_);
  sigaction(SIGTERM, &action, &old_term_);
}

StopOnSignals::~StopOnSignals() {
  sigaction(SIGINT, &old_int_, nullptr);
  sigaction(SIGTERM, &old_term_, nullptr);
}

bool StopOnSignals::requested() { return g_stop_signal != 0; }

const char* StopOnSignals::name() { return g_stop_signal == SIGTERM ? "SIGTERM" : "SIGINT"; }

void set_second_signal_message(const std::string& text) {
  const int next = 1 - g_second_current;
  const std::size_t n = std::min(text.size(), sizeof g_second_message[next] - 1);
  std::memcpy(g_second_message[next], text.data(), n);
  g_second_length[next] = static_cast<std::sig_atomic_t>(n);
  g_second_current = next;
}

std::string second_signal_message(const std::string& file, int written_epoch, const std::string& resumed) {
  std::string whole;
  std::error_code ec;
  if (written_epoch > 0)
    whole = file + " is whole, as written after epoch " + std::to_string(written_epoch);
  else if (std::filesystem::exists(file, ec))
    whole = file + " is whole, as it was before this run";
  else if (!resumed.empty())
    whole = "the checkpoint this run resumed from, " + resumed + ", is whole";
  else
    whole = "no checkpoint had been written yet";
  return "sigmanet: second signal: stopped at once; the checkpoint was not updated; " + whole + "\n";
}

}  // namespace sigmanet::cli
