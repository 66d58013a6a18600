#include "cli/sweep_runner.hpp"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <exception>
#include <memory>
#include <mutex>
#include <thread>

#include "cli/flags.hpp"
#include "cli/run_flags.hpp"
#include "cli/metrics_log.hpp"
#include "cli/stop_signals.hpp"
#include "sigmanet/backends/factory.hpp"
#include "sigmanet/error.hpp"
#include "sigmanet/formats/model_file.hpp"
#include "sigmanet/trainer.hpp"

namespace sigmanet::cli {
namespace {

// One run, from its start or its checkpoint, as train's epoch loop runs it (commands/train_command.cpp): train the
// epoch, evaluate the test set (and the validation set), feed the chapter 3 rules. Returns false when `go_on` stopped
// it mid-epoch; its checkpoint is then in the store.
class OneRun {
 public:
  OneRun(const SweepRun& run, const LabelledData& data, const CudaOptions& gpu, const SweepStore& store, RunRecord record,
         std::string* notice)
      : run_(run), c_(run.config), data_(data), store_(store), record_(std::move(record)) {
    record_.name = run.name;
    backend_ = make_backend(c_.device, c_.precision, notice, gpu);
    backend_->set_threads(1);
    trainer_ = std::make_unique<Trainer>(c_, *backend_, data_.train);
    if (const std::optional<Checkpoint> ck = store_.read_checkpoint(run.name))
      trainer_->resume(ck->parameters, ck->state);
  }

  bool train(const std::function<bool()>& go_on) {
    const auto start = std::chrono::steady_clock::now();
    const auto add_time = [&] {
      record_.seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    };
    try {
      for (int epoch = trainer_->epochs_done() + 1; epoch <= c_.epochs && record_.ended.empty(); ++epoch)
        if (!train_one(epoch, go_on)) {
          add_time();
          save_checkpoint(store_.checkpoint_file(run_.name), Checkpoint{c_, backend_->parameters(), trainer_->state()});
          store_.write_record(record_);
          return false;
        }
      if (record_.ended.empty()) record_.ended = "completed";
      add_time();
      save_model(store_.model_file(run_.name), backend_->parameters(),
                 trained_model_metadata(c_, trainer_->epochs_done(), record_.last_test, data_.test.size(), shape_of(data_)));
    } catch (const DivergenceError& e) {
      add_time();
      record_.ended = "diverged: " + message_of(e);
    }
    store_.write_record(record_);
    std::filesystem::remove(store_.checkpoint_file(run_.name));
    return true;
  }

  const RunRecord& record() const { return record_; }

 private:
  bool train_one(int epoch, const std::function<bool()>& go_on) {
    const std::size_t first_sample = trainer_->state().position;
    bool finished = false;
    const double seconds = backend_->time_seconds([&] {
      finished = go_on() && trainer_->train_epoch([&](std::size_t) { return go_on(); });
    });
    if (!finished && !go_on()) return false;
    if (!finished)
      throw Error(run_.name + ": epoch " + std::to_string(epoch) + ": training stopped for no known reason");
    const Evaluation test = backend_->evaluate(data_.test);
    std::optional<Evaluation> validation;
    if (data_.validation.size() > 0) validation = backend_->evaluate(data_.validation);
    const double eta = trainer_->eta();  // the rate this epoch trained with
    const double rate = double(data_.train.size() - first_sample) / seconds;
    nlohmann::json line = {{"run", run_.name}, {"settings", settings_json(run_)}};
    line.update(epoch_metrics(epoch, test, validation, *backend_, data_, c_, eta, seconds, rate));
    record_.lines.push_back(line.dump());
    record_.epochs_done = epoch;
    record_.last_test = test.accuracy();
    const double score = validation ? validation->accuracy() : test.accuracy();
    if (score > record_.best_score)
      record_.best_score = score, record_.best_epoch = epoch, record_.test_at_best = test.accuracy();
    // The chapter 3 rules, fed as train feeds them: only when one is on (validate_config made sure there is a
    // validation set then).
    if (c_.early_stopping > 0 || c_.halve_eta_after > 0) {
      const EpochVerdict verdict = trainer_->end_epoch(validation->accuracy());
      if (verdict == EpochVerdict::stop_early) record_.ended = "early stopping";
      if (verdict == EpochVerdict::stop_eta_floor) record_.ended = "eta floor";
    }
    return true;
  }

  const SweepRun& run_;
  const TrainConfig& c_;
  const LabelledData& data_;
  const SweepStore& store_;
  RunRecord record_;
  std::unique_ptr<Backend> backend_;
  std::unique_ptr<Trainer> trainer_;
};

// "sweep: 3 done, 2 running, 5 left" on stderr, redrawn in place, only when stderr is a terminal.
class SweepProgress {
 public:
  explicit SweepProgress(std::size_t total) : left_(total), enabled_(isatty(STDERR_FILENO) == 1) {}
  void started() { --left_, ++running_, draw(); }
  void ended() { --running_, ++done_, draw(); }
  void clear() {
    if (enabled_ && drawn_) std::fprintf(stderr, "\r\033[K"), std::fflush(stderr);
  }

 private:
  void draw() {
    if (!enabled_) return;
    std::fprintf(stderr, "\r\033[Ksweep: %zu done, %zu running, %zu left", done_, running_, left_);
    std::fflush(stderr);
    drawn_ = true;
  }
  std::size_t done_ = 0, running_ = 0, left_;
  bool enabled_, drawn_ = false;
};

}  // namespace

bool SweepRunner::run(const std::vector<const SweepRun*>& queue, int threads,
                      const std::map<std::string, RunRecord>& stopped_before) {
  std::mutex mutex;  // guards what follows, the progress line and on_finished_
  std::size_t next = 0;
  bool stopped = false;
  std::exception_ptr failure;
  std::atomic<bool> abort{false};
  bool notice_said = false;
  SweepProgress progress(queue.size());
  const auto go_on = [&] { return !abort.load() && !StopOnSignals::requested(); };
  const auto worker = [&] {
    for (;;) {
      const SweepRun* run = nullptr;
      {
        const std::lock_guard<std::mutex> lock(mutex);
        if (next == queue.size() || !go_on()) return;
        run = queue[next++];
        progress.started();
      }
      try {
        const auto earlier = stopped_before.find(run->name);
        std::string my_notice;
        OneRun one(*run, data_, gpu_, store_, earlier == stopped_before.end() ? RunRecord{} : earlier->second,
                   &my_notice);
        if (!my_notice.empty()) {
          const std::lock_guard<std::mutex> lock(mutex);
          if (!notice_said) progress.clear(), std::fprintf(stderr, "sigmanet: %s\n", my_notice.c_str());
          notice_said = true;
        }
        const bool finished = one.train(go_on);
        const std::lock_guard<std::mutex> lock(mutex);
        if (!finished) {
          stopped = true;
          return;
        }
        progress.clear();
        on_finished_(one.record());
        progress.ended();
      } catch (...) {
        const std::lock_guard<std::mutex> lock(mutex);
        if (!failure) failure = std::current_exception();
        abort = true;
        return;
      }
    }
  };
  const int count = std::max(1, std::min<int>(threads, int(queue.size())));
  std::vector<std::thread> pool;
  for (int t = 1; t < count; ++t) pool.emplace_back(worker);
  worker();
  for (std::thread& t : pool) t.join();
  progress.clear();
  if (failure) std::rethrow_exception(failure);
  return next == queue.size() && !stopped;
}

}  // namespace sigmanet::cli
