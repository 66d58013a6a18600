#include "test_support.hpp"

#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <optional>
#include <random>
#include <stdexcept>

#include "oracle/equivalence.hpp"
#include "sigmanet/error.hpp"

// PNG reading for decode_png_rgb, a copy of its own (the library's is static to it).
#define STB_IMAGE_STATIC
#define STB_IMAGE_IMPLEMENTATION
#define STBI_ONLY_PNG
#define STBI_NO_STDIO
#include <stb_image.h>

namespace sigmanet::test {

namespace {

// The folder of the running test program. The build compiles in paths relative to it, not absolute ones, so that
// a build folder, or a copy of its executables laid out the same way, runs wherever it lands.
const std::filesystem::path& program_dir() {
  static const std::filesystem::path dir = std::filesystem::read_symlink("/proc/self/exe").parent_path();
  return dir;
}

// $name when set and not empty, else the path relative to the test program's folder.
std::filesystem::path from_env_or_program(const char* name, const char* relative) {
  if (const char* env = std::getenv(name); env && *env) return env;
  return (program_dir() / relative).lexically_normal();
}

}  // namespace

std::filesystem::path mnist_dir() { return from_env_or_program("SIGMANET_DATA", SIGMANET_TEST_MNIST_FROM_TESTS); }

const std::string& cli_path() {
  static const std::string path = [] {
    if (const char* env = std::getenv("SIGMANET_CLI"); env && *env) return std::string(env);
    const std::filesystem::path beside = program_dir() / "sigmanet";
    if (std::filesystem::exists(beside)) return beside.string();
    return (program_dir() / SIGMANET_TEST_CLI_FROM_TESTS).lexically_normal().string();
  }();
  return path;
}

std::string source_path(const std::string& relative) {
  return (from_env_or_program("SIGMANET_SOURCE_DIR", SIGMANET_TEST_SOURCE_FROM_TESTS) / relative).string();
}

const Mnist* find_mnist() {
  static const std::optional<Mnist> m = []() -> std::optional<Mnist> {
    const char* env = std::getenv("SIGMANET_DATA");
    std::error_code ec;
    if (!(env && *env) && !std::filesystem::exists(mnist_dir(), ec)) return std::nullopt;
    return load_mnist(mnist_dir());  // configured: a folder that cannot be read fails the test, naming it
  }();
  return m ? &*m : nullptr;
}

const Mnist& mnist() {
  if (const Mnist* m = find_mnist()) return *m;
  load_mnist(mnist_dir());  // not there: throws the loader's own message, naming the folder
  throw Error("MNIST in " + mnist_dir().string() + " could not be read twice the same way");
}

const Mnist& small_mnist() {
  static const Mnist m = load_mnist(mnist_dir(), {200, 100, 100});
  return m;
}

std::string Geometry::text() const {
  return std::to_string(rows) + "x" + std::to_string(cols) + (values ? " float" : " pixel") + " x " +
         std::to_string(classes) + " classes";
}

Dataset Geometry::records(const char* name, std::size_t count, std::uint64_t seed) const {
  Dataset d = synthetic_records(name, count, rows * cols, classes, values, seed);
  d.rows = rows;
  d.cols = cols;
  return d;
}

TempDir::TempDir() {
  std::random_device rd;
  const auto base = std::filesystem::temp_directory_path();
  for (int tries = 0; tries < 100; ++tries) {
    path_ = base / ("sigmanet-test-" + std::to_string(rd()));
    if (std::filesystem::create_directory(path_)) return;
  }
  throw std::runtime_error("TempDir: could not create a folder in " + base.string());
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

void write_bytes(const std::filesystem::path& file, const std::vector<std::uint8_t>& bytes) {
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  if (!out) throw std::runtime_error("write_bytes: cannot write " + file.string());
}

void put_u32(std::vector<std::uint8_t>& out, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<std::uint8_t>(v >> shift));
}

std::vector<std::uint8_t> idx_images(std::uint32_t count, std::uint32_t rows, std::uint32_t cols,
                                     std::uint32_t magic) {
  std::vector<std::uint8_t> b;
  for (std::uint32_t v : {magic, count, rows, cols}) put_u32(b, v);
  for (std::uint32_t i = 0; i < count * rows * cols; ++i) b.push_back(static_cast<std::uint8_t>(i * 7));
  return b;
}

std::vector<std::uint8_t> idx_labels(const std::vector<std::uint8_t>& labels, std::uint32_t magic) {
  std::vector<std::uint8_t> b;
  put_u32(b, magic);
  put_u32(b, static_cast<std::uint32_t>(labels.size()));
  b.insert(b.end(), labels.begin(), labels.end());
  return b;
}

std::vector<std::uint8_t> gzip_bytes(const std::vector<std::uint8_t>& raw) {
  z_stream z{};
  if (deflateInit2(&z, Z_BEST_SPEED, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    throw std::runtime_error("gzip_bytes: deflateInit2 failed");
  std::vector<std::uint8_t> out(deflateBound(&z, static_cast<uLong>(raw.size())) + 64);
  z.next_in = const_cast<Bytef*>(raw.data());
  z.avail_in = static_cast<uInt>(raw.size());
  z.next_out = out.data();
  z.avail_out = static_cast<uInt>(out.size());
  if (deflate(&z, Z_FINISH) != Z_STREAM_END) throw std::runtime_error("gzip_bytes: deflate failed");
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

Image decode_png_rgb(const std::vector<std::uint8_t>& png) {
  int width = 0, height = 0, channels = 0;
  stbi_uc* rgb = stbi_load_from_memory(png.data(), int(png.size()), &width, &height, &channels, 3);
  if (!rgb) throw std::runtime_error(std::string("decode_png_rgb: ") + stbi_failure_reason());
  Image img(std::size_t(width), std::size_t(height), 3);
  std::copy(rgb, rgb + img.pixels.size(), img.pixels.begin());
  stbi_image_free(rgb);
  return img;
}

std::filesystem::path write_tiny_mnist(const std::filesystem::path& folder) {
  std::filesystem::create_directories(folder);
  std::vector<std::uint8_t> train_labels(2100), test_labels(200);
  for (std::size_t i = 0; i < train_labels.size(); ++i) train_labels[i] = std::uint8_t(i % 10);
  for (std::size_t i = 0; i < test_labels.size(); ++i) test_labels[i] = std::uint8_t(i * 3 % 10);
  write_bytes(folder / "train-images-idx3-ubyte", idx_images(2100, 28, 28));
  write_bytes(folder / "train-labels-idx1-ubyte", idx_labels(train_labels));
  write_bytes(folder / "t10k-images-idx3-ubyte", idx_images(200, 28, 28));
  write_bytes(folder / "t10k-labels-idx1-ubyte", idx_labels(test_labels));
  return folder;
}

int run_cli(const std::string& args, std::string* output) {
  const std::string command = "'" + cli_path() + "' " + args + " 2>&1";
  FILE* pipe = popen(command.c_str(), "r");
  if (!pipe) throw std::runtime_error("run_cli: popen failed");
  std::string text;
  std::array<char, 4096> buf;
  while (std::size_t n = std::fread(buf.data(), 1, buf.size(), pipe)) text.append(buf.data(), n);
  const int status = pclose(pipe);
  if (output) *output = text;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

namespace {

// The tool, where another user can run it: the build folder may sit below a folder closed to others (a
// fresh clone in a private temporary folder, as CI makes), so a copy goes to a folder open to all.
struct SharedCliCopy {
  std::filesystem::path folder, copy;
  SharedCliCopy() {
    namespace fs = std::filesystem;
    std::string name = (fs::temp_directory_path() / "sigmanet-cli-XXXXXX").string();
    if (!mkdtemp(name.data())) throw std::runtime_error("run_cli_argv: mkdtemp failed");
    folder = name;
    copy = folder / "sigmanet";
    fs::copy_file(cli_path(), copy);
    const auto open_to_all = fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                             fs::perms::others_read | fs::perms::others_exec;
    fs::permissions(folder, open_to_all);
    fs::permissions(copy, open_to_all);
  }
  ~SharedCliCopy() {
    std::error_code ec;
    std::filesystem::remove_all(folder, ec);
  }
};

std::string cli_for_any_user() {
  static const SharedCliCopy shared;
  return shared.copy.string();
}

}  // namespace

CliRun run_cli_argv(const std::vector<std::string>& args, double timeout_seconds,
                    const std::vector<std::pair<std::string, std::string>>& env,
                    const std::filesystem::path& working_dir, int as_user) {
  return run_program(as_user >= 0 ? cli_for_any_user() : cli_path(), args, timeout_seconds, env,
                     working_dir, as_user);
}

namespace {

// Runs the program; watch (when set) is called each time its output grows.
CliRun run_watched(const std::string& program, const std::vector<std::string>& args, double timeout_seconds,
                   const std::vector<std::pair<std::string, std::string>>& env,
                   const std::filesystem::path& working_dir, int as_user, const Watch& watch) {
  int out_pipe[2], err_pipe[2];
  if (pipe2(out_pipe, O_CLOEXEC) != 0 || pipe2(err_pipe, O_CLOEXEC) != 0)
    throw std::runtime_error("run_watched: pipe failed");
  std::vector<std::string> argv_text{program};
  argv_text.insert(argv_text.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& a : argv_text) argv.push_back(a.data());
  argv.push_back(nullptr);
  const pid_t child = fork();
  if (child < 0) throw std::runtime_error("run_watched: fork failed");
  if (child == 0) {
    setpgid(0, 0);  // its own process group, so a timeout ends what it started too (mpirun's ranks)
    dup2(out_pipe[1], 1);
    dup2(err_pipe[1], 2);
    const int null = open("/dev/null", O_RDONLY);
    if (null >= 0) dup2(null, 0);
    for (const auto& [name, value] : env) setenv(name.c_str(), value.c_str(), 1);
    if (!working_dir.empty() && chdir(working_dir.c_str()) != 0) _exit(126);
    if (as_user >= 0 && (setgroups(0, nullptr) != 0 || setgid(gid_t(as_user)) != 0 || setuid(uid_t(as_user)) != 0))
      _exit(125);
    execvp(argv[0], argv.data());
    _exit(127);
  }
  close(out_pipe[1]);
  close(err_pipe[1]);
  CliRun run;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_seconds);
  pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
  std::string* sinks[2] = {&run.out, &run.err};
  int open_pipes = 2;
  while (open_pipes > 0) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      run.timed_out = true;
      kill(-child, SIGKILL);
      break;
    }
    if (poll(fds, 2, int(left.count())) < 0 && errno != EINTR) break;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      char buf[4096];
      const ssize_t n = read(fds[i].fd, buf, sizeof buf);
      if (n > 0) {
        sinks[i]->append(buf, std::size_t(n));
        if (watch) watch(child, run);
      } else {
        close(fds[i].fd);
        fds[i].fd = -1;
        --open_pipes;
      }
    }
  }
  for (pollfd& f : fds)
    if (f.fd >= 0) close(f.fd);
  int status = 0;
  waitpid(child, &status, 0);
  run.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return run;
}

}  // namespace

CliRun run_program(const std::string& program, const std::vector<std::string>& args, double timeout_seconds,
                   const std::vector<std::pair<std::string, std::string>>& env,
                   const std::filesystem::path& working_dir, int as_user) {
  return run_watched(program, args, timeout_seconds, env, working_dir, as_user, {});
}

CliRun run_program_watched(const std::string& program, const std::vector<std::string>& args, double timeout_seconds,
                           const std::vector<std::pair<std::string, std::string>>& env, const Watch& watch) {
  return run_watched(program, args, timeout_seconds, env, {}, -1, watch);
}

bool signal_pending(int pid, int signal) {
  // SigPnd (this thread's) and ShdPnd (the process's): hexadecimal masks, bit signal - 1.
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(status, line);)
    if (line.rfind("SigPnd:", 0) == 0 || line.rfind("ShdPnd:", 0) == 0)
      if ((std::stoull(line.substr(7), nullptr, 16) >> (signal - 1)) & 1) return true;
  return false;
}

CliRun run_cli_signalled(const std::vector<std::string>& args, const std::string& marker, int signal,
                         double timeout_seconds, const std::vector<std::pair<std::string, std::string>>& env,
                         const std::filesystem::path& working_dir) {
  bool sent = false;
  return run_watched(cli_path(), args, timeout_seconds, env, working_dir, -1, [&](int pid, const CliRun& run) {
    if (!sent && (run.out.find(marker) != std::string::npos || run.err.find(marker) != std::string::npos)) {
      kill(pid, signal);
      sent = true;
    }
  });
}

CliRun run_cli_with_file_limit(int blocks, const std::vector<std::string>& args, double timeout_seconds) {
  std::vector<std::string> a = {"-c", "ulimit -f \"$1\"; shift; exec \"$@\"", "sh", std::to_string(blocks),
                                cli_path()};
  a.insert(a.end(), args.begin(), args.end());
  return run_program("sh", a, timeout_seconds);
}

namespace {

// mpirun's arguments (`--oversubscribe` before `args`: 3 ranks on the 2-core CI machine), with what its
// environment needs added to env: what root needs to run mpirun (the CI container runs as root), and in the
// sanitizer build no LeakSanitizer in the ranks (Open MPI keeps its start-up memory to the end by design, and the
// fast unwinder cannot name its frames, no frame pointers, for suppressions to match; the slow one made the jobs
// 25% slower). The same backend code runs leak-checked in one process (the gpu_backend tests). ASan's other
// checks stay.
std::vector<std::string> mpirun_args(const std::vector<std::string>& args,
                                     std::vector<std::pair<std::string, std::string>>& env) {
  env.insert(env.begin(), {{"OMPI_ALLOW_RUN_AS_ROOT", "1"}, {"OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1"}});
#ifdef SIGMANET_TEST_SANITIZED
  env.emplace_back("LSAN_OPTIONS", "detect_leaks=0");
#endif
  std::vector<std::string> a = {"--oversubscribe"};
  a.insert(a.end(), args.begin(), args.end());
  return a;
}

// `-np ranks sigmanet args...`
std::vector<std::string> ranks_of_cli(int ranks, const std::vector<std::string>& args) {
  std::vector<std::string> a = {"-np", std::to_string(ranks), cli_path()};
  a.insert(a.end(), args.begin(), args.end());
  return a;
}

CliRun mpirun(const std::vector<std::string>& args, double timeout_seconds,
              std::vector<std::pair<std::string, std::string>> env) {
  const std::vector<std::string> a = mpirun_args(args, env);
  return run_program("mpirun", a, timeout_seconds, env);
}

}  // namespace

CliRun run_mpirun(int ranks, const std::vector<std::string>& args, double timeout_seconds,
                  std::vector<std::pair<std::string, std::string>> env) {
  return mpirun(ranks_of_cli(ranks, args), timeout_seconds, std::move(env));
}

CliRun run_mpirun_apps(const std::vector<std::vector<std::string>>& apps, double timeout_seconds,
                       std::vector<std::pair<std::string, std::string>> env) {
  std::vector<std::string> a;
  for (const std::vector<std::string>& app : apps) {
    if (!a.empty()) a.push_back(":");
    a.insert(a.end(), {"-np", "1", cli_path()});
    a.insert(a.end(), app.begin(), app.end());
  }
  return mpirun(a, timeout_seconds, std::move(env));
}

std::vector<std::string> command_with_flags(const std::string& command,
                                            std::vector<std::pair<std::string, std::string>> flags,
                                            const std::vector<std::string>& more) {
  for (std::size_t i = 0; i + 1 < more.size(); i += 2) {
    auto it = std::find_if(flags.begin(), flags.end(), [&](const auto& f) { return f.first == more[i]; });
    if (it != flags.end())
      it->second = more[i + 1];
    else
      flags.emplace_back(more[i], more[i + 1]);
  }
  std::vector<std::string> args = {command};
  for (const auto& [flag, value] : flags) args.insert(args.end(), {flag, value});
  return args;
}

InterruptedJob run_interrupted_mpirun(int ranks, const std::vector<std::string>& args, double timeout_seconds,
                                      std::vector<std::pair<std::string, std::string>> env,
                                      const std::string& after_line,
                                      const std::function<void(const std::string& tag)>& interrupt) {
  static int jobs = 0;
  const std::string tag = std::to_string(getpid()) + "-" + std::to_string(++jobs);
  env.emplace_back("SIGMANET_TEST_TAG", tag);
  const std::vector<std::string> a = mpirun_args(ranks_of_cli(ranks, args), env);
  InterruptedJob job;
  job.run = run_program_watched("mpirun", a, timeout_seconds, env, [&](int, const CliRun& so_far) {
    if (job.started || so_far.out.find(after_line) == std::string::npos) return;
    job.started = true;
    interrupt(tag);
  });
  return job;
}

namespace {

// The first process whose environment holds SIGMANET_TEST_TAG=tag and `also`, and whose command is `command`
// (any when empty).
int find_tagged(const std::string& tag, const std::string& also, const std::vector<std::string>& commands) {
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    std::ifstream in(entry.path() / "environ", std::ios::binary), cmd(entry.path() / "comm");
    const std::string env((std::istreambuf_iterator<char>(in)), {});
    std::string name;
    std::getline(cmd, name);
    if (env.find("SIGMANET_TEST_TAG=" + tag + '\0') != std::string::npos && env.find(also) != std::string::npos &&
        (commands.empty() || std::find(commands.begin(), commands.end(), name) != commands.end()))
      return std::stoi(entry.path().filename().string());
  }
  return 0;
}

}  // namespace

int find_job_rank(const std::string& tag, int rank) {
  return find_tagged(tag, std::string("OMPI_COMM_WORLD_RANK=") + std::to_string(rank) + '\0', {});
}

int find_job_mpirun(const std::string& tag) { return find_tagged(tag, "", {"mpirun", "orterun"}); }

bool have_mpirun() { return std::system("command -v mpirun >/dev/null 2>&1") == 0; }

}  // namespace sigmanet::test
