// sigmanet: train, evaluate, predict and benchmark sigmoid networks on MNIST.
#include <algorithm>
#include <csignal>
#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include "cli/commands.hpp"
#include "cli/flags.hpp"
#include "cli/job_agreement.hpp"
#include "cli/one_voice.hpp"
#include "sigmanet/collective.hpp"
#include "sigmanet/error.hpp"
#include "sigmanet/trainer.hpp"
#include "sigmanet/version.hpp"

namespace {

// Messages quote what the user typed, file names included; a newline or escape sequence in there must not
// break the promise of one line (nor reach the terminal raw).
std::string one_line(const char* message) { return sigmanet::cli::printable(message); }

// Bad input: one line and exit 2. In a job whose ranks have not yet agreed (job_agreement.hpp), the refusal goes
// to every rank first, so that one rank's refusal reaches the terminal (rank 0 prints the job's line) and the
// other ranks stop with it instead of waiting for it.
int refuse(const std::string& reason) {
  std::string line = reason;
  if (sigmanet::maybe_one_of_several() && sigmanet::have_mpi() && !sigmanet::cli::job_agreed()) {
    try {
      if (sigmanet::Collective* job = sigmanet::job()) line = sigmanet::cli::refuse_with_job(*job, reason);
    } catch (const std::exception&) {
      // MPI could not start: this rank says it alone, and the launcher ends the job when it exits.
    }
  }
  std::fprintf(stderr, "sigmanet: %s\n", line.c_str());
  sigmanet::leave_job(true);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  // Past a file-size limit (ulimit -f) the kernel would kill us with SIGXFSZ mid-write, leaving a temporary
  // file behind and no message; ignored, the write fails with EFBIG and is reported like a full disk.
  std::signal(SIGXFSZ, SIG_IGN);
  sigmanet::cli::speak_only_on_rank_0();
  CLI::App app{"sigmanet: Nielsen's sigmoid network (chapter 1) trained on MNIST, on the CPU or an NVIDIA GPU"};
  app.name("sigmanet");
  app.require_subcommand(1, 1);
  app.set_version_flag("--version", std::string("sigmanet ") + sigmanet::version());
  int status = 0;
  sigmanet::cli::add_train_command(app, status);
  sigmanet::cli::add_verify_command(app, status);
  sigmanet::cli::add_bench_command(app, status);
  sigmanet::cli::add_evaluate_command(app, status);
  sigmanet::cli::add_predict_command(app, status);
  sigmanet::cli::add_show_weights_command(app, status);
  sigmanet::cli::add_export_command(app, status);
  sigmanet::cli::add_sweep_command(app, status);
  // CLI11 answers a word it does not know with "A subcommand is required", naming neither the word nor the commands.
  if (argc > 1 && argv[1][0] != '-') {
    std::vector<std::string> commands;
    for (const CLI::App* sub : app.get_subcommands({})) commands.push_back(sub->get_name());
    if (std::find(commands.begin(), commands.end(), argv[1]) == commands.end())
      return refuse(one_line(argv[1]) + ": not a sigmanet command; the commands are " +
                    sigmanet::cli::names_text(commands) + " (see sigmanet --help)");
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    return refuse(one_line(e.what()) + " (see sigmanet --help)");
  } catch (const sigmanet::DivergenceError& e) {
    // Seen by every rank of a job alike (the ranks decide divergence together), so they all leave cleanly.
    std::fprintf(stderr, "sigmanet: %s\n", sigmanet::cli::message_of(e).c_str());
    sigmanet::leave_job(true);
    return 3;  // training diverged (NaN/Inf) or stalled; see DivergenceError
  } catch (const sigmanet::InputError& e) {
    return refuse(sigmanet::cli::message_of(e));
  } catch (const std::exception& e) {
    // Perhaps this rank's alone: it leaves without waiting for the others, whom the launcher then ends.
    sigmanet::cli::report_fault(one_line(e.what()));
    sigmanet::leave_job(false);
    return 1;
  }
  sigmanet::leave_job(true);
  return status;
}
