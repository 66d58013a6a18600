// Network::train: the epochs of one train() call, as the CLI's EpochLoop runs them (host/cli/commands/
// train_command.cpp), so the same settings give the same bits; with Python's callbacks, Ctrl-C and exceptions.
#include <chrono>

#include <nanobind/stl/string.h>

#include "network.hpp"
#include "sigint_watch.hpp"

namespace nb = nanobind;

namespace sigmanet::python {
namespace {

// A dict of its own for each reader (the call's result, history, on_epoch), so that changing one changes no other.
nb::dict copy(const nb::dict& d) { return nb::steal<nb::dict>(PyDict_Copy(d.ptr())); }

}  // namespace

class Network::TrainingRun {
 public:
  TrainingRun(Network& net, Trainer& trainer, const TrainCallbacks& callbacks, int target_epochs)
      : net_(net),
        trainer_(trainer),
        data_(*net.data_),
        callbacks_(callbacks),
        reports_progress_(callbacks.on_batch.is_valid() && !callbacks.on_batch.is_none()),
        target_(target_epochs) {}

  nb::list run() {
    nb::list reports;
    while (trainer_.epochs_done() < target_) {
      if (!train_epoch()) continue;  // stopped at a batch, and Python's SIGINT handler chose to go on
      const nb::dict report = end_epoch();
      reports.append(report);
      if (callbacks_.watch_sigint && SigintWatch::raised()) resolve_stop();  // Ctrl-C during the evaluation
      const bool stop = report.contains("stopped_by");
      if (callbacks_.on_epoch.is_valid() && !callbacks_.on_epoch.is_none()) {
        if (callbacks_.on_epoch(copy(report)).ptr() == Py_False) break;
      }
      if (stop) break;
    }
    return reports;
  }

 private:
  using Clock = std::chrono::steady_clock;

  // False when the epoch stopped at a batch and training goes on (Python's handler did not raise).
  bool train_epoch() {
    Backend& backend = *net_.backend_;
    const std::size_t first = trainer_.state().position;
    label_ = "Epoch " + std::to_string(trainer_.epochs_done() + 1) + "/" + std::to_string(target_);
    drawn_ = false;
    bool finished = false;
    {
      nb::gil_scoped_release released;
      // The epoch's time is the training alone, on the backend's clock (CUDA events on a GPU), as the CLI's.
      seconds_ = backend.time_seconds([&] {
        finished = trainer_.train_epoch([this](std::size_t done) { return after_batch(done); });
      });
    }
    rate_ = double(data_.train.size() - first) / seconds_;
    if (finished) return true;
    net_.keep(trainer_);  // the last whole batch: what a later call continues from
    resolve_stop();
    return false;
  }

  // After each batch, without the GIL: whether to go on. Progress is drawn at most every 100 ms.
  bool after_batch(std::size_t done) {
    if (callbacks_.watch_sigint && SigintWatch::raised()) return false;
    if (!reports_progress_) return true;
    const std::size_t total = data_.train.size();
    const Clock::time_point now = Clock::now();
    if (drawn_ && done < total && now - last_drawn_ < std::chrono::milliseconds(100)) return true;
    drawn_ = true;
    last_drawn_ = now;
    nb::gil_scoped_acquire gil;
    try {
      callbacks_.on_batch(label_, done, total);
    } catch (nb::python_error& e) {
      raised_.emplace(std::move(e));  // thrown once the backend has stopped
      return false;
    }
    return true;
  }

  // With the GIL, once the backend stopped at a batch: raises what stopped it, or returns to go on.
  void resolve_stop() {
    if (raised_) {
      nb::python_error e = std::move(*raised_);
      raised_.reset();
      throw e;
    }
    if (callbacks_.watch_sigint && SigintWatch::raised()) {
      SigintWatch::clear();
      if (PyErr_CheckSignals() != 0) throw nb::python_error();  // KeyboardInterrupt, unless the handler says otherwise
      return;
    }
    // The Trainer throws DivergenceError itself; a stop without a reason would be a backend's bug.
    throw Error("epoch " + std::to_string(trainer_.epochs_done() + 1) + ": training stopped early for no known reason");
  }

  nb::dict end_epoch() {
    const TrainConfig& c = trainer_.config();
    Backend& backend = *net_.backend_;
    std::optional<Evaluation> test, validation;
    {
      nb::gil_scoped_release released;
      if (data_.test.size()) test = backend.evaluate(data_.test);
      if (data_.validation.size()) validation = backend.evaluate(data_.validation);
    }
    const double eta = trainer_.eta();  // the rate this epoch trained with
    std::optional<std::string> stopped_by;
    if (validation && (c.early_stopping > 0 || c.halve_eta_after > 0)) {
      trainer_.end_epoch(validation->accuracy());
      stopped_by = stopped_by_rule(c, trainer_.state());
    }
    net_.keep(trainer_);
    net_.record_epoch(c, test);

    nb::dict report;
    report["epoch"] = trainer_.epochs_done();
    report["eta"] = eta;
    report["seconds"] = seconds_;
    report["samples_per_second"] = rate_;
    add_evaluation(report, "test", test);
    add_evaluation(report, "validation", validation);
    if (stopped_by) report["stopped_by"] = *stopped_by;
    net_.history_.append(copy(report));
    return report;
  }

  // test_correct, test_total, test_accuracy and test_cost (with L2's term over the set's size, as the CLI's
  // --metrics), for a set that was given.
  void add_evaluation(nb::dict& report, const std::string& set, const std::optional<Evaluation>& e) const {
    if (!e) return;
    report[(set + "_correct").c_str()] = e->correct;
    report[(set + "_total").c_str()] = e->total;
    report[(set + "_accuracy").c_str()] = e->accuracy();
    report[(set + "_cost").c_str()] =
        e->cost + weight_penalty(net_.params_, net_.objective_.lambda, e->total);
  }

  Network& net_;
  Trainer& trainer_;
  const TrainData& data_;
  const TrainCallbacks& callbacks_;
  const bool reports_progress_;
  const int target_;
  std::string label_;
  bool drawn_ = false;
  Clock::time_point last_drawn_;
  double seconds_ = 0, rate_ = 0;
  std::optional<nb::python_error> raised_;  // what a progress callback raised, to raise again once stopped
};

nb::list Network::train(std::unique_ptr<TrainData> data, const TrainRequest& r, const TrainCallbacks& callbacks) {
  const auto lock = [this] {
    nb::gil_scoped_release released;
    return std::unique_lock<std::recursive_mutex>(busy_);
  }();
  if (training_)
    throw Error("train: called while this network trains (from its on_epoch); return from on_epoch first");
  TrainConfig c;
  c.sizes = params_.sizes;
  c.epochs = r.epochs;
  c.batch = r.batch;
  c.eta = r.eta;
  c.cost = r.cost;
  c.lambda = r.lambda;
  c.early_stopping = r.early_stopping;
  c.halve_eta_after = r.halve_eta_after;
  c.seed = seed_;
  c.init = init_;
  c.device = r.device;
  c.precision = precision_;
  c.split = {data->train.size(), data->validation.size(), data->test.size()};
  validate_config(c);
  for (const Dataset* set : {&data->train, &data->validation, &data->test})
    if (set->size()) check_input_width(c.sizes, *set);

  // The call a signal or an exception interrupted goes on when asked again with the same arguments and data.
  const bool continues = pending_ && pending_->request == r && data_ && *data_ == *data;
  try {
    if (!continues) {
      start_new_run(r);
      data_ = std::move(data);
      pending_ = Pending{r, state_.epochs_done + r.epochs};
    }
    Backend& backend = backend_for(r.device, r.threads);
    Trainer trainer(c, backend, data_->train);
    trainer.resume(params_, state_);
    struct Training {
      bool& flag;
      explicit Training(bool& f) : flag(f) { flag = true; }
      ~Training() { flag = false; }
    } training(training_);
    const SigintWatch watch(callbacks.watch_sigint);
    nb::list reports = TrainingRun(*this, trainer, callbacks, pending_->target_epochs).run();
    pending_.reset();
    return reports;
  } catch (const nb::python_error&) {
    throw;  // KeyboardInterrupt, or on_epoch's own: the network is at its last whole batch, the run pending
  } catch (...) {
    // A library error (divergence, a device): the network keeps the parameters it had at the last epoch's end (or
    // stop), and the backend that failed goes.
    pending_.reset();
    backend_.reset();
    throw;
  }
}

}  // namespace sigmanet::python
