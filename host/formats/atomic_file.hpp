#pragma once
// Whole files in and out. Writing is done so that a crash, a full disk or a kill never leaves a half-written file where a good one
// was: the bytes go to a temporary file in the same folder, which is flushed to disk and then renamed over
// the target (rename is atomic within a file system); finally the folder itself is flushed so the rename
// survives a power cut.
//
// Only regular files are replaced. A symbolic link is followed: the file it points to is replaced and the
// link stays a link (as cp and editors do). A device, FIFO, socket or folder at the target is refused,
// never replaced: renaming over /dev/null would replace the system's null device with a file.
#include <cstdint>
#include <filesystem>
#include <limits>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace sigmanet {

// Throws Error naming the file and the failing system call; the target is then untouched and the
// temporary file removed. Temporary files that a killed writer left beside the same target are removed
// first. Throws InputError when the target exists and is not a regular file (or a link to one).
void write_file_atomically(const std::filesystem::path& file, std::span<const std::uint8_t> bytes);

// The name of write_file_atomically's temporary files for `file` start with this (hidden, beside it, short
// enough for the file-name limit whatever the target's name); the process id and a random suffix follow.
std::string temporary_prefix(const std::filesystem::path& file);

// Checks, before any work, that `file` can be written as the output of `flag`: its folder exists and takes
// new files, and it is absent, a regular file, or a symbolic link to a regular file. Returns the file that
// will be replaced (links followed). Throws InputError "FLAG: ..." otherwise.
std::filesystem::path check_output_file(const std::string& flag, const std::filesystem::path& file);

// True when both paths name one file: the same inode when both exist, else the same absolute path once
// links are followed.
bool same_file(const std::filesystem::path& a, const std::filesystem::path& b);

// Throws InputError when two of the named files (flag, path; empty paths skipped) are one file.
void check_distinct_files(const std::vector<std::pair<std::string, std::filesystem::path>>& files);

// Throws InputError when an output (flag, path; empty paths skipped) is one of the files the run reads, which
// writing it would destroy: "--save: DIR/t10k-labels-idx1-ubyte is one of the data files this run reads; ...".
void check_outputs_are_not_inputs(const std::vector<std::pair<std::string, std::filesystem::path>>& outputs,
                                  const std::vector<std::filesystem::path>& inputs);

// Reads a whole regular file, at most max_bytes. Anything else (folder, FIFO, socket, device) is refused
// without being opened for a blocking read, so a FIFO cannot hang the process. Throws InputError naming the
// file: "cannot open: No such file or directory", "permission denied", "is a FIFO, not a regular file", ...
std::vector<std::uint8_t> read_file_bytes(const std::filesystem::path& file,
                                          std::size_t max_bytes = std::numeric_limits<std::size_t>::max());

// A regular file open for reading in pieces, checked as read_file_bytes checks it: a folder, FIFO, socket or device
// is refused without a blocking open. What is read is told by the file's size first, so that nothing is read (or
// allocated) for a file whose first bytes already say it is not what it should be. Throws InputError naming it.
class InputFile {
 public:
  explicit InputFile(const std::filesystem::path& file);
  ~InputFile();
  InputFile(const InputFile&) = delete;
  InputFile& operator=(const InputFile&) = delete;
  std::uint64_t size() const { return size_; }
  // `count` bytes from `offset`; InputError when the file ends before them (it shrank since it was opened).
  std::vector<std::uint8_t> read(std::uint64_t offset, std::size_t count) const;

 private:
  std::string name_;
  int fd_ = -1;
  std::uint64_t size_ = 0;
};

// "a folder", "a FIFO", "a socket", "a character device", "a block device" or "a regular file".
std::string file_kind(unsigned mode);

}  // namespace sigmanet
