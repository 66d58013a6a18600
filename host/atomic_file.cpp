#include "sigmanet/atomic_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <utility>

#include "sigmanet/error.hpp"

namespace sigmanet {
namespace {

std::string system_error(const std::string& what, const std::filesystem::path& file) {
  return file.string() + ": " + what + " failed: " + std::strerror(errno);
}

// Closes a descriptor and removes the temporary file unless told the rename went through.
class TempFile {
 public:
  TempFile(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  ~TempFile() {
    if (fd_ >= 0) ::close(fd_);
    if (!renamed_) ::unlink(path_.c_str());
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

}  // namespace

void write_file_atomically(const std::filesystem::path& file, std::span<const std::uint8_t> bytes) {
  const std::filesystem::path folder = file.has_parent_path() ? file.parent_path() : std::filesystem::path(".");
  // A hidden name beside the target, so the rename stays within one file system.
  std::string name = file.filename().string();
  name.insert(0, 1, '.');
  name.append(".tmp-XXXXXX");
  std::string pattern = (folder / name).string();
  const int fd = ::mkstemp(pattern.data());
  if (fd < 0) throw Error(system_error("creating a temporary file in " + folder.string(), file));
  TempFile temp(fd, pattern);
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
  if (::close(temp.release_fd()) != 0) throw Error(system_error("close", file));
  if (::rename(temp.path().c_str(), file.c_str()) != 0) throw Error(system_error("rename", file));
  temp.mark_renamed();

  const int dir = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY);
  if (dir < 0) throw Error(system_error("opening the folder to flush it", file));
  const int synced = ::fsync(dir);
  const int saved_errno = errno;
  ::close(dir);
  errno = saved_errno;
  if (synced != 0) throw Error(system_error("fsync of the folder", file));
}

std::vector<std::uint8_t> read_file_bytes(const std::filesystem::path& file) {
  std::error_code ec;
  if (std::filesystem::is_directory(file, ec)) throw InputError(file.string() + ": is a folder, not a file");
  std::ifstream in(file, std::ios::binary);
  if (!in) throw InputError(file.string() + ": cannot open: " + std::strerror(errno));
  std::vector<std::uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) throw InputError(file.string() + ": read failed");
  return bytes;
}

}  // namespace sigmanet
