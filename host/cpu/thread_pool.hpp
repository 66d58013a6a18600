#pragma once
// A fixed set of worker threads that run the parts of one job at a time: what the fast CPU network splits its
// large matrix products over. Parts are contiguous ranges the caller chooses, so which thread computes a value
// never changes how it is computed: results are the same bits whatever the number of threads.
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace sigmanet {

class ThreadPool {
 public:
  // threads - 1 workers; the calling thread does the last part itself. threads < 1 counts as 1.
  explicit ThreadPool(int threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int threads() const { return threads_; }

  // Calls part(first, last) for `threads()` contiguous ranges that cover [0, n) (empty ones skipped), at the
  // same time, and returns when all are done, each part in the caller's floating-point mode (float_mode.hpp).
  // An exception in a part is rethrown here (the first one).
  void split(std::size_t n, const std::function<void(std::size_t first, std::size_t last)>& part);

 private:
  void work(int index);

  const int threads_;
  std::vector<std::thread> workers_;
  std::mutex mutex_;
  std::condition_variable start_, done_;
  std::size_t generation_ = 0;  // one per split(): a worker runs each generation's part once
  int pending_ = 0;             // workers still running the current generation
  bool stopping_ = false;
  std::size_t n_ = 0;
  const std::function<void(std::size_t, std::size_t)>* part_ = nullptr;
  std::uint32_t mode_ = 0;  // the caller's floating-point mode word

  std::exception_ptr error_;
};

}  // namespace sigmanet
