#include "cli/sweep_runner.hpp"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <exception>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <tuple>

#include "cli/flags.hpp"
#include "cli/run_flags.hpp"
#include "cli/metrics_log.hpp"
#include "cli/stop_signals.hpp"
#include "sigmanet/backends/factory.hpp"
#include "sigmanet/backends/train_together.hpp"
#include "sigmanet/error.hpp"
#include "sigmanet/formats/model_file.hpp"
#include "sigmanet/trainer.hpp"

namespace sigmanet::cli {
namespace {

using Clock = std::chrono::steady_clock;

// One run, from its start or its checkpoint, as train's epoch loop runs it (commands/train_command.cpp): train the
// epoch, evaluate the test set (and the validation set), feed the chapter 3 rules. Alone (train) or with others in
// shared launches (train_side_by_side below), which train its epochs through its trainer and hand it the rest.
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

  // Trains it alone to its end. Returns false when `go_on` stopped it mid-epoch; its checkpoint is then in the store.
  bool train(const std::function<bool()>& go_on) {
    const auto start = Clock::now();
    try {
      while (training()) {
        const std::size_t first_sample = trainer_->state().position;
        bool finished = false;
        const double seconds = backend_->time_seconds([&] {
          finished = go_on() && trainer_->train_epoch([&](std::size_t) { return go_on(); });
        });
        if (!epoch_trained(finished, first_sample, seconds, go_on)) {
          stop(start);
          return false;
        }
      }
      end(start);
    } catch (const DivergenceError& e) {
      end(start, &e);
    }
    return true;
  }

  // Whether it has epochs to train: not at its last, not ended by a rule or divergence.
  bool training() const { return trainer_->epochs_done() < c_.epochs && record_.ended.empty(); }

  // After an epoch's training (finished: to the epoch's end; first_sample: where in the epoch it started), in
  // `seconds`: the epoch's evaluations, metrics and rules. False when `go_on` stopped it mid-epoch.
  bool epoch_trained(bool finished, std::size_t first_sample, double seconds, const std::function<bool()>& go_on) {
    const int epoch = trainer_->epochs_done() + (finished ? 0 : 1);
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

  // Stopped mid-epoch: its checkpoint and record into the store, the time since `start` counted.
  void stop(Clock::time_point start) {
    add_time(start);
    save_checkpoint(store_.checkpoint_file(run_.name), Checkpoint{c_, backend_->parameters(), trainer_->state()});
    store_.write_record(record_);
  }

  // Ended: by `diverged`, else (its epochs done or a rule) its model, and its record, into the store.
  void end(Clock::time_point start, const DivergenceError* diverged = nullptr) {
    add_time(start);
    if (diverged) {
      record_.ended = "diverged: " + message_of(*diverged);
    } else {
      if (record_.ended.empty()) record_.ended = "completed";
      save_model(store_.model_file(run_.name), backend_->parameters(),
                 trained_model_metadata(c_, trainer_->epochs_done(), record_.last_test, data_.test.size(), shape_of(data_)));
    }
    store_.write_record(record_);
    std::filesystem::remove(store_.checkpoint_file(run_.name));
  }

  const RunRecord& record() const { return record_; }
  const std::string& name() const { return run_.name; }
  Backend& backend() { return *backend_; }
  Trainer& trainer() { return *trainer_; }

 private:
  void add_time(Clock::time_point start) {
    record_.seconds += std::chrono::duration<double>(Clock::now() - start).count();
  }

  const SweepRun& run_;
  const TrainConfig& c_;
  const LabelledData& data_;
  const SweepStore& store_;
  RunRecord record_;
  std::unique_ptr<Backend> backend_;
  std::unique_ptr<Trainer> trainer_;
};

// Runs of one network and batch trained together to their ends, epoch by epoch: each run's epoch begun by its
// trainer, the runs whose epochs have equally much left trained in shared launches (train_together), each run's
// epoch then finished, evaluated and ruled on as OneRun::train does it alone, so each run's bits are its own. A run
// that ends (its epochs, a rule, divergence) leaves the group; `ended` is told of it. Returns false when `go_on`
// stopped them (every run still training at the same batch, its checkpoint in the store).
bool train_side_by_side(const std::vector<OneRun*>& runs, const std::function<bool()>& go_on,
                        const std::function<void(const OneRun&)>& ended) {
  const auto start = Clock::now();
  std::vector<OneRun*> left;
  for (OneRun* run : runs) {
    if (run->training()) left.push_back(run);
    else run->end(start), ended(*run);
  }
  while (!left.empty()) {
    const auto epoch_start = Clock::now();
    const bool train = go_on();
    std::vector<std::size_t> first_sample(left.size()), trained(left.size());
    std::map<std::size_t, std::vector<std::size_t>> by_rest;  // runs by the samples their epochs have left
    std::vector<std::span<const std::uint32_t>> rest(left.size());
    for (std::size_t i = 0; train && i < left.size(); ++i) {
      first_sample[i] = left[i]->trainer().state().position;
      rest[i] = left[i]->trainer().begin_training();
      by_rest[rest[i].size()].push_back(i);
    }
    const AfterBatch after_batch = [&](std::size_t) { return go_on(); };
    for (const auto& [size, members] : by_rest) {
      std::vector<RunTogether> together;
      for (std::size_t i : members) together.push_back({&left[i]->backend(), rest[i], left[i]->trainer().eta()});
      const std::size_t batch = left[members[0]]->trainer().config().batch;
      if (members.size() == 1) {
        trained[members[0]] = together[0].backend->train(rest[members[0]], batch, together[0].eta, after_batch);
        continue;
      }
      const std::vector<std::size_t> samples = train_together(together, batch, after_batch).samples;
      for (std::size_t k = 0; k < members.size(); ++k) trained[members[k]] = samples[k];
    }
    const double seconds = std::chrono::duration<double>(Clock::now() - epoch_start).count();
    bool stopped = false;
    std::vector<OneRun*> still;
    for (std::size_t i = 0; i < left.size(); ++i) {
      OneRun& run = *left[i];
      try {
        const bool finished = train && run.trainer().finish_training(trained[i]);
        if (!run.epoch_trained(finished, first_sample[i], seconds, go_on)) {
          stopped = true;
          still.push_back(&run);
          continue;
        }
      } catch (const DivergenceError& e) {
        run.end(start, &e);
        ended(run);
        continue;
      }
      if (run.training()) {
        still.push_back(&run);
      } else {
        run.end(start);
        ended(run);
      }
    }
    left = std::move(still);
    if (stopped) {
      for (OneRun* run : left) run->stop(start);
      return false;
    }
  }
  return true;
}

// The sweep's queue in the pieces a worker takes: on a GPU, runs that may share launches (one network, batch, cost
// and precision; up to kMaxRunsTogether, gathered at the place of the first in the queue); every other run alone.
std::vector<std::vector<const SweepRun*>> pieces_of(const std::vector<const SweepRun*>& queue) {
  const auto key = [](const TrainConfig& c) { return std::tuple(c.sizes, c.batch, c.cost, c.precision, c.device); };
  std::vector<std::vector<const SweepRun*>> pieces;
  std::vector<bool> taken(queue.size());
  const bool gpu = gpu_available();
  for (std::size_t i = 0; i < queue.size(); ++i) {
    if (taken[i]) continue;
    pieces.push_back({queue[i]});
    const TrainConfig& c = queue[i]->config;
    if (!gpu || c.device == Device::cpu) continue;
    for (std::size_t j = i + 1; j < queue.size() && pieces.back().size() < kMaxRunsTogether; ++j)
      if (!taken[j] && key(queue[j]->config) == key(c)) pieces.back().push_back(queue[j]), taken[j] = true;
  }
  return pieces;
}

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
  std::mutex mutex;  // guards what follows, the progress line and the callbacks
  const std::vector<std::vector<const SweepRun*>> pieces = pieces_of(queue);
  std::size_t next = 0;
  bool stopped = false;
  std::exception_ptr failure;
  std::atomic<bool> abort{false};
  bool notice_said = false;
  SweepProgress progress(queue.size());
  const auto go_on = [&] { return !abort.load() && !StopOnSignals::requested(); };
  const auto make_run = [&](const SweepRun& run) {
    const auto earlier = stopped_before.find(run.name);
    std::string my_notice;
    auto one = std::make_unique<OneRun>(run, data_, gpu_, store_,
                                        earlier == stopped_before.end() ? RunRecord{} : earlier->second, &my_notice);
    if (!my_notice.empty()) {
      const std::lock_guard<std::mutex> lock(mutex);
      if (!notice_said) progress.clear(), std::fprintf(stderr, "sigmanet: %s\n", my_notice.c_str());
      notice_said = true;
    }
    return one;
  };
  const auto ended = [&](const OneRun& one) {
    const std::lock_guard<std::mutex> lock(mutex);
    progress.clear();
    on_finished_(one.record());
    progress.ended();
  };
  // A piece's runs together when their backends can share launches, else one after another. False when stopped.
  const auto train_piece = [&](const std::vector<const SweepRun*>& piece) {
    std::vector<std::unique_ptr<OneRun>> runs;
    std::vector<Backend*> backends;
    const auto add = [&](std::size_t i) {
      runs.push_back(make_run(*piece[i]));
      backends.push_back(&runs.back()->backend());
    };
    // The first two say whether the backends share launches (the GPU's persistent path) before the rest are made.
    const std::size_t batch = piece[0]->config.batch;
    for (std::size_t i = 0; i < std::min<std::size_t>(2, piece.size()); ++i) add(i);
    if (can_train_together(backends, batch))
      for (std::size_t i = 2; i < piece.size(); ++i) add(i);
    if (runs.size() == piece.size() && can_train_together(backends, batch)) {
      std::vector<OneRun*> group;
      std::vector<std::string> names;
      for (const auto& run : runs) group.push_back(run.get()), names.push_back(run->name());
      if (on_shared_launches_) {
        const std::lock_guard<std::mutex> lock(mutex);
        progress.clear();
        on_shared_launches_(names);
      }
      return train_side_by_side(group, go_on, ended);
    }
    for (std::size_t i = 0; i < piece.size(); ++i) {
      std::unique_ptr<OneRun> one = i < runs.size() ? std::move(runs[i]) : make_run(*piece[i]);
      if (!one->train(go_on)) return false;
      ended(*one);
    }
    return true;
  };
  const auto worker = [&] {
    for (;;) {
      const std::vector<const SweepRun*>* piece = nullptr;
      {
        const std::lock_guard<std::mutex> lock(mutex);
        if (next == pieces.size() || !go_on()) return;
        piece = &pieces[next++];
        for (std::size_t i = 0; i < piece->size(); ++i) progress.started();
      }
      try {
        if (!train_piece(*piece)) {
          const std::lock_guard<std::mutex> lock(mutex);
          stopped = true;
          return;
        }
      } catch (...) {
        const std::lock_guard<std::mutex> lock(mutex);
        if (!failure) failure = std::current_exception();
        abort = true;
        return;
      }
    }
  };
  const int count = std::max(1, std::min<int>(threads, int(pieces.size())));
  std::vector<std::thread> pool;
  for (int t = 1; t < count; ++t) pool.emplace_back(worker);
  worker();
  for (std::thread& t : pool) t.join();
  progress.clear();
  if (failure) std::rethrow_exception(failure);
  return next == pieces.size() && !stopped;
}

}  // namespace sigmanet::cli
