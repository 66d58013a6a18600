#pragma once
// Ctrl-C while C++ trains with the GIL released. Python's SIGINT handler only notes the signal for the main thread's
// next bytecode, which does not come until training returns; while a SigintWatch lives, SIGINT also raises a flag that
// the training loop reads after every mini-batch, and then goes on to Python's handler as before. Once the loop has
// stopped and holds the GIL again, PyErr_CheckSignals() runs the Python handler: KeyboardInterrupt by default.
#include <csignal>

namespace sigmanet::python {

class SigintWatch {
 public:
  // Watches only where Python's own handler is installed (a handler that is a function: not SIG_IGN, not SIG_DFL),
  // and only when `active` (the caller trains on Python's main thread, where Python runs its signal handlers).
  explicit SigintWatch(bool active);
  ~SigintWatch();
  SigintWatch(const SigintWatch&) = delete;
  SigintWatch& operator=(const SigintWatch&) = delete;

  // Whether SIGINT came since the flag was last cleared.
  static bool raised();
  static void clear();

 private:
  bool installed_ = false;
  struct sigaction previous_ {};
};

}  // namespace sigmanet::python
