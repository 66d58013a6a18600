#pragma once
// Signals during a training run. SIGINT (Ctrl-C), SIGTERM and SIGHUP (the terminal closed) ask the run to stop at
// the next safe point (after the current mini-batch, or, once training is over, before --save) and say what was
// kept; a second one ends the process at once, printing which checkpoint is still whole. SIGPIPE (standard output
// closed, as by `| head -1`) asks for the same stop as the first signal, and never counts as a second: every later
// write to the closed output raises it again. The run exits 128 + the signal: 130 after SIGINT, 143 after SIGTERM,
// 129 after SIGHUP, 141 after SIGPIPE. A SIGINT or SIGHUP the caller ignores (nohup, a background command of a
// script) stays ignored.
//
// Under a launcher (mpirun, srun), a SIGCONT from the process that started this one asks for the same stop as
// SIGTERM, and the SIGTERM that follows it is not a second signal. Ending a job, Open MPI's daemon sends each rank
// SIGCONT, then SIGTERM a second later (odls_base_sigkill_timeout), and, when a rank has died, SIGKILL right after
// the SIGTERM (Slurm also starts with SIGCONT). That second is when the ranks still alive can stop, write their
// checkpoints and say what was kept.
#include <csignal>
#include <string>

namespace sigmanet::cli {

// Catches the signals while it lives (the previous handlers come back after).
class StopOnSignals {
 public:
  StopOnSignals();
  ~StopOnSignals();
  StopOnSignals(const StopOnSignals&) = delete;
  StopOnSignals& operator=(const StopOnSignals&) = delete;
  static bool requested();
  // "SIGINT", "SIGTERM", "SIGHUP (the terminal was closed)" or "SIGPIPE (standard output was closed)".
  static const char* name();
  // 128 + the signal that asked to stop.
  static int exit_status();

 private:
  struct sigaction old_[4] {};  // SIGINT, SIGTERM, SIGHUP, SIGPIPE's before
  struct sigaction old_continue_ {};
  bool continue_caught_ = false;
};

// What a second signal will print. The handler may not allocate, so the text is kept ready in advance.
void set_second_signal_message(const std::string& text);
// That text: which checkpoint is whole. written_epoch > 0: this run last wrote `file` after that epoch;
// resumed: the checkpoint this run started from, if any.
std::string second_signal_message(const std::string& file, int written_epoch, const std::string& resumed);

}  // namespace sigmanet::cli
