#include "cli/stop_signals.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <iterator>

#include "sigmanet/collective.hpp"

namespace sigmanet::cli {
namespace {

// The signal that asked training to stop, or 0. The handler only sets it; the training loop reads it
// after every mini-batch.
volatile std::sig_atomic_t g_stop_signal = 0;

// The second signal's text, kept ready in one of two buffers; the other is rewritten, then made current.
char g_second_message[2][2048];
volatile std::sig_atomic_t g_second_length[2] = {0, 0};
volatile std::sig_atomic_t g_second_current = 0;

// 1 once the launcher's SIGCONT has asked for the stop (launcher_ends_job), 2 once its SIGTERM has come too.
volatile std::sig_atomic_t g_launcher_warned = 0;

extern "C" void request_stop(int signal) {
  if (signal == SIGTERM && g_launcher_warned == 1) {
    g_launcher_warned = 2;  // the launcher's SIGTERM after its SIGCONT: the stop it asks for is under way
    return;
  }
  if (signal == SIGPIPE) {
    // Each write to the closed output raises it again: it asks once and is never a second signal.
    if (g_stop_signal == 0) g_stop_signal = signal;
    return;
  }
  if (g_stop_signal != 0) {
    // The second Ctrl-C: the user will not wait for the current mini-batch or checkpoint. Only
    // async-signal-safe calls here; a temporary file left by an interrupted write is removed by the next one.
    const int i = g_second_current;
    const ssize_t ignored = ::write(STDERR_FILENO, g_second_message[i], std::size_t(g_second_length[i]));
    (void)ignored;
    ::_exit(128 + signal);
  }
  g_stop_signal = signal;
}

// SIGCONT from the process that started this one, under a launcher: the first step of the launcher ending the job
// (stop_signals.hpp). Any other SIGCONT (a shell's `fg`) only continues the process, as it always does.
extern "C" void launcher_ends_job(int, siginfo_t* info, void*) {
  if (info == nullptr || info->si_pid != ::getppid()) return;
  if (g_stop_signal == 0) g_stop_signal = SIGTERM;
  if (g_launcher_warned == 0) g_launcher_warned = 1;
}

constexpr int kCaught[] = {SIGINT, SIGTERM, SIGHUP, SIGPIPE};

}  // namespace

StopOnSignals::StopOnSignals() {
  g_stop_signal = 0;
  struct sigaction action {};
  action.sa_handler = request_stop;
  sigemptyset(&action.sa_mask);
  for (std::size_t i = 0; i < std::size(kCaught); ++i) {
    sigaction(kCaught[i], nullptr, &old_[i]);
    // What the caller ignores stays ignored: nohup ignores SIGHUP, and a shell without job control starts a
    // background command with SIGINT ignored, so that the terminal's Ctrl-C is not for it.
    const bool ignored = old_[i].sa_handler == SIG_IGN && (kCaught[i] == SIGINT || kCaught[i] == SIGHUP);
    if (!ignored) sigaction(kCaught[i], &action, nullptr);
  }
  g_launcher_warned = 0;
  if (started_by_launcher()) {
    struct sigaction warning {};
    warning.sa_sigaction = launcher_ends_job;
    warning.sa_flags = SA_SIGINFO;
    sigemptyset(&warning.sa_mask);
    sigaction(SIGCONT, &warning, &old_continue_);
    continue_caught_ = true;
  }
}

StopOnSignals::~StopOnSignals() {
  for (std::size_t i = 0; i < std::size(kCaught); ++i) sigaction(kCaught[i], &old_[i], nullptr);
  if (continue_caught_) sigaction(SIGCONT, &old_continue_, nullptr);
}

bool StopOnSignals::requested() { return g_stop_signal != 0; }

const char* StopOnSignals::name() {
  switch (g_stop_signal) {
    case SIGTERM: return "SIGTERM";
    case SIGHUP: return "SIGHUP (the terminal was closed)";
    case SIGPIPE: return "SIGPIPE (standard output was closed)";
    default: return "SIGINT";
  }
}

int StopOnSignals::exit_status() { return 128 + (g_stop_signal != 0 ? int(g_stop_signal) : SIGINT); }

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
