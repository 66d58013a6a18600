#include "cli/one_voice.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>

#include "sigmanet/collective.hpp"
#include "sigmanet/error.hpp"

namespace sigmanet::cli {
namespace {

int terminal_stderr = STDERR_FILENO;  // a copy of the original stderr on a silenced rank

}  // namespace

void speak_only_on_rank_0() {
  if (!maybe_one_of_several() || launched_rank() == 0) return;
  terminal_stderr = dup(STDERR_FILENO);
  std::fflush(stdout);
  std::fflush(stderr);
  const int null = open("/dev/null", O_WRONLY);
  if (null < 0) return;
  dup2(null, STDOUT_FILENO);
  dup2(null, STDERR_FILENO);
  close(null);
}

void report_fault(const std::string& message) {
  std::string line = "sigmanet: ";
  if (maybe_one_of_several()) line += "rank " + std::to_string(launched_rank()) + ": ";
  line += "error: " + message + "\n";
  std::fflush(stderr);
  [[maybe_unused]] const ssize_t written = write(terminal_stderr, line.data(), line.size());
}

void require_single_process(const std::string& command) {
  if (const int n = launched_processes(); n > 1)
    throw InputError("sigmanet " + command + " runs in one process, but was started as one of " + std::to_string(n) +
                     " (mpirun or srun); only train and bench run across processes");
}

}  // namespace sigmanet::cli
