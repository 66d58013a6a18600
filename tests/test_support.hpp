#pragma once
// Helpers shared by the test suites.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace sigmanet::test {

// $SIGMANET_DATA when set, else the shared MNIST copy the build was configured with.
std::filesystem::path mnist_dir();

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
std::vector<std::uint8_t> gzip_bytes(const std::vector<std::uint8_t>& raw);

// Runs the sigmanet tool with the arguments (a shell command line, already quoted) and returns its exit
// status; stdout and stderr together land in *output.
int run_cli(const std::string& args, std::string* output = nullptr);

}  // namespace sigmanet::test
