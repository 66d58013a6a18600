#include "cpu/thread_pool.hpp"

#include <exception>

#include "cpu/float_mode.hpp"

namespace sigmanet {
namespace {

// Part `index` of `parts` of [0, n): n*index/parts to n*(index+1)/parts.
std::size_t bound(std::size_t n, int index, int parts) { return n * std::size_t(index) / std::size_t(parts); }

}  // namespace

ThreadPool::ThreadPool(int threads) : threads_(threads < 1 ? 1 : threads) {
  workers_.reserve(std::size_t(threads_ - 1));
  for (int i = 0; i + 1 < threads_; ++i) workers_.emplace_back([this, i] { work(i); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  start_.notify_all();
  for (std::thread& t : workers_) t.join();
}

void ThreadPool::split(std::size_t n, const std::function<void(std::size_t, std::size_t)>& part) {
  const int parts = threads();
  if (parts == 1 || n < 2) {
    if (n) part(0, n);
    return;
  }
  {
    std::lock_guard lock(mutex_);
    n_ = n;
    part_ = &part;
    mode_ = float_mode();
    error_ = nullptr;
    pending_ = parts - 1;
    ++generation_;
  }
  start_.notify_all();
  std::exception_ptr mine;
  try {
    if (const std::size_t first = bound(n, parts - 1, parts); first < n) part(first, n);
  } catch (...) {
    mine = std::current_exception();
  }
  std::unique_lock lock(mutex_);
  done_.wait(lock, [&] { return pending_ == 0; });
  part_ = nullptr;
  if (mine) std::rethrow_exception(mine);
  if (error_) std::rethrow_exception(error_);
}

void ThreadPool::work(int index) {
  std::size_t seen = 0;
  for (;;) {
    std::unique_lock lock(mutex_);
    start_.wait(lock, [&] { return stopping_ || generation_ != seen; });
    if (stopping_) return;
    seen = generation_;
    const std::size_t n = n_;
    const auto* part = part_;
    const int parts = threads();
    set_float_mode(mode_);  // the caller's: its part and these compute alike
    lock.unlock();
    std::exception_ptr failed;
    try {
      if (const std::size_t first = bound(n, index, parts), last = bound(n, index + 1, parts); first < last)
        (*part)(first, last);
    } catch (...) {
      failed = std::current_exception();
    }
    lock.lock();
    if (failed && !error_) error_ = failed;
    if (--pending_ == 0) done_.notify_one();
  }
}

}  // namespace sigmanet
