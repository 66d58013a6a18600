#pragma once
// Helpers shared by the test suites.
#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "formats/image_file.hpp"
#include "sigmanet/dataset.hpp"
#include "sigmanet/formats/mnist.hpp"

namespace sigmanet::test {

// The message of the E that f throws. Anything else fails the test: no exception, or one of another type (a base
// class of E included: a test asks for the type that tells the caller what went wrong).
template <class E, class F>
std::string thrown(F&& f) {
  try {
    f();
  } catch (const E& e) {
    return e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "threw another type than expected: " << e.what();
    return "";
  }
  ADD_FAILURE() << "threw nothing";
  return "";
}

// $SIGMANET_DATA when set, else the MNIST folder the build was configured with (the shared copy beside the
// repository), found relative to the test program.
std::filesystem::path mnist_dir();
// MNIST from mnist_dir() with the default split, loaded once per test program; null only when it is not
// configured ($SIGMANET_DATA unset and the configured folder absent), and a suite that can do without it skips
// or uses synthetic data then. Configured but unreadable, it throws the loader's InputError: a test never
// stands in synthetic data for the real data it was given.
const Mnist* find_mnist();
// The same, for suites that cannot do without it: throws InputError naming the folder when it is missing.
const Mnist& mnist();
// A small split, loaded once: 200 training, 100 validation and 100 test records.
const Mnist& small_mnist();

// The geometry of a data set unlike MNIST, for the suites that train one on every backend: rows x cols features
// in `classes` classes, float values or pixel bytes.
struct Geometry {
  std::size_t rows, cols, classes;
  bool values;
  int width() const { return int(rows * cols); }
  std::string text() const;  // "1x13 float x 3 classes"
  // `count` records of this geometry with a learnable pattern (equivalence.hpp's synthetic_records).
  Dataset records(const char* name, std::size_t count, std::uint64_t seed) const;
};

// A fresh, empty folder under the system temp folder, removed when the object dies.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

void write_bytes(const std::filesystem::path& file, const std::vector<std::uint8_t>& bytes);

// IDX files built in memory: a big-endian word; images (pixel i is i * 7 mod 256); labels as given.
void put_u32(std::vector<std::uint8_t>& out, std::uint32_t v);
std::vector<std::uint8_t> idx_images(std::uint32_t count, std::uint32_t rows, std::uint32_t cols,
                                     std::uint32_t magic = 2051);
std::vector<std::uint8_t> idx_labels(const std::vector<std::uint8_t>& labels, std::uint32_t magic = 2049);
std::vector<std::uint8_t> gzip_bytes(const std::vector<std::uint8_t>& raw);

// MNIST's four files in little, raw, written into `folder` (created): 2,100 training records (labels 0..9 in turn)
// and 200 test records, for runs that should spend their time on something other than reading data. Returns folder.
std::filesystem::path write_tiny_mnist(const std::filesystem::path& folder);

// The sigmanet tool: $SIGMANET_CLI when set, else `sigmanet` beside the test program, else where the build puts it
// relative to the test program (../sigmanet), so that a build folder moved elsewhere still finds it.
const std::string& cli_path();
// A file of the source tree, named relative to its root: under $SIGMANET_SOURCE_DIR when set, else under the tree
// the build was configured from, found relative to the test program.
std::string source_path(const std::string& relative);
// A PNG as 8-bit RGB, whatever its colour type (the library's reader gives grey only); throws when it is no PNG.
Image decode_png_rgb(const std::vector<std::uint8_t>& png);

// Runs the sigmanet tool with the arguments (a shell command line, already quoted) and returns its exit
// status; stdout and stderr together land in *output.
int run_cli(const std::string& args, std::string* output = nullptr);

// The tool run without a shell: arguments passed as they are (any bytes), stdout and stderr kept apart,
// extra environment variables set, run in working_dir when given (and as user id as_user, with the same
// group id, when not -1: root ignores permission bits), and the process killed once `timeout_seconds` pass (a hang is a result).
struct CliRun {
  int status = -1;         // exit status, or 128 + the signal that ended it
  bool timed_out = false;  // killed at the deadline
  std::string out, err;
};
CliRun run_cli_argv(const std::vector<std::string>& args, double timeout_seconds = 60,
                    const std::vector<std::pair<std::string, std::string>>& env = {},
                    const std::filesystem::path& working_dir = {}, int as_user = -1);

// The same for any program, found on PATH when the name has no '/' (mpirun, say). It runs in a process group
// of its own, all of which a timeout kills.
CliRun run_program(const std::string& program, const std::vector<std::string>& args, double timeout_seconds = 60,
                   const std::vector<std::pair<std::string, std::string>>& env = {},
                   const std::filesystem::path& working_dir = {}, int as_user = -1);

// What a watched run calls each time the program's output grows: its process id and what it printed so far. A test
// that must act at a point of the run (send a signal mid-batch) waits for a line the program prints, never for
// a time.
using Watch = std::function<void(int pid, const CliRun& so_far)>;
CliRun run_program_watched(const std::string& program, const std::vector<std::string>& args, double timeout_seconds,
                           const std::vector<std::pair<std::string, std::string>>& env, const Watch& watch);

// Whether the process has a signal pending (sent, not yet delivered to a handler): a second signal sent before
// the first is delivered may merge with it, so a test that sends two waits for this to turn false in between.
bool signal_pending(int pid, int signal);
// The tool run as run_cli_argv runs it, sent `signal` as soon as its output (stdout or stderr) holds `marker`.
CliRun run_cli_signalled(const std::vector<std::string>& args, const std::string& marker, int signal,
                         double timeout_seconds = 60, const std::vector<std::pair<std::string, std::string>>& env = {},
                         const std::filesystem::path& working_dir = {});

// The tool run as run_cli_argv runs it, under `ulimit -f blocks` (sh counts 512-byte blocks): a write past the
// limit fails with EFBIG, as on a full disk.
CliRun run_cli_with_file_limit(int blocks, const std::vector<std::string>& args, double timeout_seconds = 60);

// `mpirun --oversubscribe -np ranks sigmanet args...` (--oversubscribe: 3 ranks on the 2-core CI machine), with
// what root needs to run mpirun (the CI container runs as root) and env's variables added. In the sanitizer
// build the ranks run without LeakSanitizer (Open MPI keeps its start-up memory to the end by design).
CliRun run_mpirun(int ranks, const std::vector<std::string>& args, double timeout_seconds = 60,
                  std::vector<std::pair<std::string, std::string>> env = {});

// An MPMD job, `mpirun --oversubscribe -np 1 sigmanet apps[0]... : -np 1 sigmanet apps[1]... : ...`: rank r runs
// apps[r], so that ranks can be started with different flags, data or commands (as run_mpirun otherwise).
CliRun run_mpirun_apps(const std::vector<std::vector<std::string>>& apps, double timeout_seconds = 60,
                       std::vector<std::pair<std::string, std::string>> env = {});

// `command` followed by each of flags (name, value), where `more`'s pairs (name, value, name, value...) replace the
// value of a flag of the same name or come after the others.
std::vector<std::string> command_with_flags(const std::string& command,
                                            std::vector<std::pair<std::string, std::string>> flags,
                                            const std::vector<std::string>& more);

// A job (run_mpirun), tagged (SIGMANET_TEST_TAG=tag in its environment) so that its processes can be found:
// `interrupt` gets the tag once the job has printed `after_line` on stdout (rank 0's "Epoch 1/": every rank is
// training, with its signal handlers in place), and does to the job what it will.
struct InterruptedJob {
  CliRun run;
  bool started = false;  // the line came (else interrupt was never called)
};
InterruptedJob run_interrupted_mpirun(int ranks, const std::vector<std::string>& args, double timeout_seconds,
                                      std::vector<std::pair<std::string, std::string>> env,
                                      const std::string& after_line,
                                      const std::function<void(const std::string& tag)>& interrupt);
// The process of such a job's rank, and its mpirun, by the job's tag; 0 when there is none.
int find_job_rank(const std::string& tag, int rank);
int find_job_mpirun(const std::string& tag);

// Whether Open MPI's mpirun is on PATH.
bool have_mpirun();

}  // namespace sigmanet::test
