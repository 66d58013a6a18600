#include "sigint_watch.hpp"

#include <atomic>

namespace sigmanet::python {
namespace {

// Lock-free, so the handler may set it on whichever thread the signal lands (OpenBLAS's, the thread pool's).
std::atomic<bool> g_raised{false};
static_assert(std::atomic<bool>::is_always_lock_free);
// The handler SIGINT had before the outermost watch (Python's); a nested watch (a train() called from on_epoch)
// finds the watch's own handler and leaves it.
struct sigaction g_python_handler {};

extern "C" void note_sigint(int signal) {
  g_raised = true;
  g_python_handler.sa_handler(signal);  // a plain handler: the watch is only installed over one
}

}  // namespace

SigintWatch::SigintWatch(bool active) {
  if (!active) return;
  struct sigaction current {};
  sigaction(SIGINT, nullptr, &current);
  if (current.sa_handler == note_sigint) return;  // an outer watch is in place
  if ((current.sa_flags & SA_SIGINFO) || current.sa_handler == SIG_IGN || current.sa_handler == SIG_DFL) return;
  g_python_handler = current;
  struct sigaction mine = current;
  mine.sa_handler = note_sigint;
  previous_ = current;
  g_raised = false;
  installed_ = sigaction(SIGINT, &mine, nullptr) == 0;
}

SigintWatch::~SigintWatch() {
  if (!installed_) return;
  // Python code run meanwhile (on_epoch) may have set another handler: that one stays.
  struct sigaction current {};
  sigaction(SIGINT, nullptr, &current);
  if (current.sa_handler == note_sigint) sigaction(SIGINT, &previous_, nullptr);
}

bool SigintWatch::raised() { return g_raised; }

void SigintWatch::clear() { g_raised = false; }

}  // namespace sigmanet::python
