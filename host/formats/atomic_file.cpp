#include "formats/atomic_file.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <utility>

#include "sigmanet/error.hpp"

namespace sigmanet {
namespace {

namespace fs = std::filesystem;

std::string system_error(const std::string& what, const fs::path& file) {
  return file.string() + ": " + what + " failed: " + std::strerror(errno);
}

// Closes a descriptor and removes the temporary file unless told the rename went through.
class TempFile {
 public:
  TempFile(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  ~TempFile() {
    if (!renamed_) ::unlink(path_.c_str());
    if (fd_ >= 0) ::close(fd_);
  }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  int fd() const { return fd_; }
  const std::string& path() const { return path_; }
  int release_fd() { return std::exchange(fd_, -1); }
  void mark_renamed() { renamed_ = true; }

 private:
  int fd_;
  std::string path_;
  bool renamed_ = false;
};

fs::path folder_of(const fs::path& file) { return file.has_parent_path() ? file.parent_path() : fs::path("."); }

// The file a write to `file` replaces: links followed to the end. A dangling link is refused, as cp
// refuses to write through one: the file it would create may be anywhere, and the user may not mean it.
fs::path resolve_target(const fs::path& file) {
  struct stat st {};
  if (::lstat(file.c_str(), &st) != 0 || !S_ISLNK(st.st_mode)) return file;
  std::error_code ec;
  const fs::path target = fs::canonical(file, ec);
  if (ec) {
    std::error_code ignored;
    const fs::path points_to = fs::read_symlink(file, ignored);
    throw InputError(file.string() + ": is a symbolic link to " + points_to.string() + ", which " +
                     (ec == std::errc::too_many_symbolic_link_levels ? "loops" : "does not exist") +
                     "; name the file itself");
  }
  return target;
}

// Refuses an existing target that is not a regular file.
void refuse_unless_regular(const fs::path& shown, const fs::path& target) {
  struct stat st {};
  if (::stat(target.c_str(), &st) != 0 || S_ISREG(st.st_mode)) return;
  if (S_ISDIR(st.st_mode)) throw InputError(shown.string() + ": is a folder; name a file in it");
  const std::string kind = file_kind(st.st_mode);
  throw InputError(shown.string() + (shown == target ? "" : " (" + target.string() + ")") + ": is " + kind +
                   ", not a regular file; sigmanet writes a whole file and renames it into place, and will neither "
                   "replace " + kind + " nor write into it");
}

// A small, stable hash of a file name, for the temporary names of targets too long to repeat in full.
std::string name_hash(const std::string& name) {
  std::uint64_t h = 14695981039346656037ull;
  for (unsigned char c : name) h = (h ^ c) * 1099511628211ull;
  char text[17];
  std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(h));
  return text;
}

// Removes temporary files a killed writer left beside `target`. One is removed only when the process its
// name records is gone and no one holds its lock (a live writer locks its temporary file from the start,
// which also covers a writer in another PID namespace).
void remove_leftovers(const fs::path& target) {
  const fs::path folder = folder_of(target);
  const std::string prefix = temporary_prefix(target);
  DIR* dir = ::opendir(folder.c_str());
  if (!dir) return;  // the write itself will report what is wrong with the folder
  std::vector<std::string> stale;
  while (const dirent* entry = ::readdir(dir)) {
    const std::string name = entry->d_name;
    if (name.compare(0, prefix.size(), prefix) != 0) continue;
    const std::string rest = name.substr(prefix.size());  // PID-XXXXXX
    const std::size_t dash = rest.find('-');
    if (dash == std::string::npos || dash == 0 || dash > 10 || rest.size() != dash + 7) continue;
    if (rest.find_first_not_of("0123456789") != dash) continue;
    const long pid = std::strtol(rest.substr(0, dash).c_str(), nullptr, 10);
    if (pid <= 0 || pid == long(::getpid())) continue;
    if (::kill(pid_t(pid), 0) == 0 || errno != ESRCH) continue;  // alive, or not ours to tell
    stale.push_back(name);
  }
  ::closedir(dir);
  for (const std::string& name : stale) {
    const fs::path path = folder / name;
    const int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) continue;
    struct stat st {};
    if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && ::flock(fd, LOCK_EX | LOCK_NB) == 0)
      ::unlink(path.c_str());
    ::close(fd);
  }
}

}  // namespace

std::string file_kind(unsigned mode) {
  if (S_ISDIR(mode)) return "a folder";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISSOCK(mode)) return "a socket";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISLNK(mode)) return "a symbolic link";
  return "a regular file";
}

std::string temporary_prefix(const fs::path& file) {
  // "." + name + ".tmp-" + pid (up to 10 digits) + "-" + 6 random characters must fit NAME_MAX (255) for
  // any legal name: a name over 232 bytes keeps its first 215 and a hash of the whole.
  std::string name = file.filename().string();
  constexpr std::size_t kKept = 232;
  if (name.size() > kKept) name = name.substr(0, kKept - 17) + "~" + name_hash(name);
  return "." + name + ".tmp-";
}

fs::path check_output_file(const std::string& flag, const fs::path& file) {
  try {
    if (file.empty() || !file.has_filename() || file.filename() == "." || file.filename() == "..")
      throw InputError(file.string() + ": names a folder; name a file in it");
    const fs::path target = resolve_target(file);
    refuse_unless_regular(file, target);
    const fs::path folder = folder_of(target);
    struct stat st {};
    if (::stat(folder.c_str(), &st) != 0) {
      if (errno == EACCES) throw InputError("folder " + folder.string() + ": permission denied");
      throw InputError("folder " + folder.string() + " does not exist");
    }
    if (!S_ISDIR(st.st_mode)) throw InputError("folder " + folder.string() + " does not exist");
    if (::access(folder.c_str(), W_OK | X_OK) != 0)
      throw InputError("cannot create files in folder " + folder.string() + ": " +
                       (errno == EACCES ? std::string("permission denied") : std::string(std::strerror(errno))));
    const long name_max = ::pathconf(folder.c_str(), _PC_NAME_MAX);
    const std::size_t length = target.filename().string().size();
    if (name_max > 0 && length > std::size_t(name_max))
      throw InputError(file.string() + ": the file name is " + std::to_string(length) +
                       " bytes long; this file system allows " + std::to_string(name_max));
    return target;
  } catch (const InputError& e) {
    throw InputError(flag + ": " + e.what());
  }
}

bool same_file(const fs::path& a, const fs::path& b) {
  struct stat sa {}, sb {};
  if (::stat(a.c_str(), &sa) == 0 && ::stat(b.c_str(), &sb) == 0)
    return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
  std::error_code ea, eb;
  const fs::path ca = fs::weakly_canonical(fs::absolute(a, ea), ea);
  const fs::path cb = fs::weakly_canonical(fs::absolute(b, eb), eb);
  return !ea && !eb && ca == cb;
}

void check_distinct_files(const std::vector<std::pair<std::string, fs::path>>& files) {
  for (std::size_t i = 0; i < files.size(); ++i)
    for (std::size_t j = i + 1; j < files.size(); ++j) {
      if (files[i].second.empty() || files[j].second.empty()) continue;
      if (same_file(files[i].second, files[j].second))
        throw InputError(files[j].first + ": " + files[j].second.string() + " is the same file as " +
                         files[i].first + " " + files[i].second.string() + "; give each its own file");
    }
}

void check_outputs_are_not_inputs(const std::vector<std::pair<std::string, fs::path>>& outputs,
                                  const std::vector<fs::path>& inputs) {
  for (const auto& [flag, output] : outputs)
    for (const fs::path& input : inputs)
      if (!output.empty() && same_file(output, input))
        throw InputError(flag + ": " + output.string() + " is the data file " + input.string() +
                         " this run reads; writing it would destroy the data, so name another file");
}

void write_file_atomically(const fs::path& file, std::span<const std::uint8_t> bytes) {
  const fs::path target = resolve_target(file);
  refuse_unless_regular(file, target);
  const fs::path folder = folder_of(target);
  remove_leftovers(target);
  // A hidden name beside the target, so the rename stays within one file system; the process id lets a
  // later write tell a dead writer's leftover from a live writer's file.
  std::string pattern = (folder / (temporary_prefix(target) + std::to_string(::getpid()) + "-XXXXXX")).string();
  const int fd = ::mkostemp(pattern.data(), O_CLOEXEC);
  if (fd < 0) throw Error(system_error("creating a temporary file in " + folder.string(), file));
  TempFile temp(fd, pattern);
  if (::flock(temp.fd(), LOCK_EX | LOCK_NB) != 0) throw Error(system_error("locking the temporary file", file));
  // mkstemp makes the file private (0600); a saved model should get the usual permissions.
  const mode_t mask = ::umask(0);
  ::umask(mask);
  if (::fchmod(temp.fd(), 0666 & ~mask) != 0) throw Error(system_error("fchmod", file));

  std::size_t written = 0;
  while (written < bytes.size()) {
    const ssize_t n = ::write(temp.fd(), bytes.data() + written, bytes.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw Error(system_error("write", file));
    written += static_cast<std::size_t>(n);
  }
  if (::fsync(temp.fd()) != 0) throw Error(system_error("fsync", file));
  // Renamed while still open and locked, so that no cleaner takes it for a leftover in between.
  if (::rename(temp.path().c_str(), target.c_str()) != 0) throw Error(system_error("rename", file));
  temp.mark_renamed();
  if (::close(temp.release_fd()) != 0) throw Error(system_error("close", file));

  const int dir = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0) throw Error(system_error("opening the folder to flush it", file));
  const int synced = ::fsync(dir);
  const int saved_errno = errno;
  ::close(dir);
  errno = saved_errno;
  if (synced != 0) throw Error(system_error("fsync of the folder", file));
}

namespace {

// The file opened for reading, after checks that need no blocking open: anything but a regular file is refused
// (a FIFO would hang the read). *st is its status; InputError naming the file otherwise.
int open_regular_file(const fs::path& file, struct stat* st) {
  const std::string name = file.string();
  auto cannot = [&](int error) {
    return InputError(name + ": cannot open: " +
                      (error == EACCES ? std::string("permission denied") : std::string(std::strerror(error))));
  };
  if (::stat(file.c_str(), st) != 0) throw cannot(errno);
  if (S_ISDIR(st->st_mode)) throw InputError(name + ": is a folder, not a file");
  if (!S_ISREG(st->st_mode)) throw InputError(name + ": is " + file_kind(st->st_mode) + ", not a regular file");
  // O_NONBLOCK: should the path have become a FIFO since the stat, opening it still returns at once.
  const int fd = ::open(file.c_str(), O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  if (fd < 0) throw cannot(errno);
  if (::fstat(fd, st) != 0) {
    const int error = errno;
    ::close(fd);
    throw cannot(error);
  }
  if (!S_ISREG(st->st_mode)) {
    ::close(fd);
    throw InputError(name + ": is " + file_kind(st->st_mode) + ", not a regular file");
  }
  return fd;
}

}  // namespace

InputFile::InputFile(const fs::path& file) : name_(file.string()) {
  struct stat st {};
  fd_ = open_regular_file(file, &st);
  size_ = std::uint64_t(st.st_size);
}

InputFile::~InputFile() { ::close(fd_); }

std::vector<std::uint8_t> InputFile::read(std::uint64_t offset, std::size_t count) const {
  std::vector<std::uint8_t> bytes(count);
  std::size_t have = 0;
  while (have < count) {
    const ssize_t n = ::pread(fd_, bytes.data() + have, count - have, off_t(offset + have));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw InputError(name_ + ": read failed: " + std::strerror(errno));
    if (n == 0)
      throw InputError(name_ + ": ends after " + std::to_string(offset + have) + " bytes, where " +
                       std::to_string(offset + count) + " were expected (did it change while being read?)");
    have += std::size_t(n);
  }
  return bytes;
}

std::vector<std::uint8_t> read_file_bytes(const fs::path& file, std::size_t max_bytes) {
  const std::string name = file.string();
  struct stat st {};
  const int fd = open_regular_file(file, &st);
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  const std::string too_large = name + ": larger than the " + std::to_string(max_bytes) + " bytes this file may have";
  if (std::uint64_t(st.st_size) > max_bytes) throw InputError(too_large);
  std::vector<std::uint8_t> bytes(static_cast<std::size_t>(st.st_size));
  std::size_t have = 0;
  for (;;) {
    if (have == bytes.size()) {
      // The file may have grown since the fstat (or, like files in /proc, report size 0): read on, bounded.
      if (bytes.size() >= max_bytes) {
        std::uint8_t probe;
        const ssize_t n = ::read(fd, &probe, 1);
        if (n < 0 && errno == EINTR) continue;
        if (n > 0) throw InputError(too_large);
        if (n < 0) throw InputError(name + ": read failed: " + std::strerror(errno));
        break;
      }
      bytes.resize(std::min(max_bytes, std::max<std::size_t>(4096, bytes.size() * 2)));
    }
    const ssize_t n = ::read(fd, bytes.data() + have, bytes.size() - have);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw InputError(name + ": read failed: " + std::strerror(errno));
    if (n == 0) break;
    have += static_cast<std::size_t>(n);
  }
  bytes.resize(have);
  return bytes;
}

}  // namespace sigmanet
