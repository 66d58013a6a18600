#pragma once
// A one-line progress bar on stderr, drawn only when stderr is a terminal (logs and pipes stay clean).
#include <chrono>
#include <cstddef>
#include <string>

namespace sigmanet::cli {

class ProgressBar {
 public:
  ProgressBar();
  // Redraws at most ten times a second.
  void update(const std::string& label, std::size_t done, std::size_t total);
  // Erases the bar so the next line prints over it.
  void clear();
  bool enabled() const { return enabled_; }

 private:
  bool enabled_;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point last_{};
};

}  // namespace sigmanet::cli
