// What a benchmark ran on: CPU, GPU and the build, for the record next to the numbers.
#include <fstream>
#include <string>
#include <thread>

#include "reports/benchmark.hpp"
#include "sigmanet/backends/factory.hpp"

// The commit and the build settings, captured when CMake configured the build (cmake/build_info.cmake writes this
// header).
#include <sigmanet_build_info.hpp>

namespace sigmanet {
namespace {

std::string trim(const std::string& s) {
  const auto first = s.find_first_not_of(" \t");
  if (first == std::string::npos) return "";
  return s.substr(first, s.find_last_not_of(" \t") - first + 1);
}

// The first "model name" line of /proc/cpuinfo (Linux x86; other systems report "unknown").
std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  for (std::string line; std::getline(in, line);) {
    const auto colon = line.find(':');
    if (colon != std::string::npos && trim(line.substr(0, colon)) == "model name") {
      const std::string model = trim(line.substr(colon + 1));
      if (!model.empty()) return model;
    }
  }
  return "unknown";
}

std::string compiler() {
#if defined(__clang__)
  return "Clang " __clang_version__;
#elif defined(__GNUC__)
  return "GCC " __VERSION__;
#else
  return "unknown";
#endif
}

}  // namespace

MachineInfo machine_info() {
  MachineInfo m;
  m.cpu_model = cpu_model();
  m.logical_cpus = std::thread::hardware_concurrency();
  if (gpu_available(&m.gpu_absent_reason)) {
    m.gpu = gpu_info(Device::gpu);
    m.gpu_absent_reason.clear();
  }
  m.git_commit = SIGMANET_GIT_COMMIT;
  m.compiler = compiler();
  m.build_type = SIGMANET_BUILD_TYPE;
  m.native = SIGMANET_BUILD_NATIVE;
  return m;
}

}  // namespace sigmanet
