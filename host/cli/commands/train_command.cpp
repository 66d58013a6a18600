// sigmanet train: Nielsen's chapter 1 run by default; --save keeps the model, --checkpoint/--resume let a
// run stop (also by Ctrl-C or SIGTERM) and continue bit for bit.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>

#include "cli/commands.hpp"
#include "cli/data_flags.hpp"
#include "cli/flags.hpp"
#include "cli/gpu_flags.hpp"
#include "cli/job_agreement.hpp"
#include "cli/metrics_log.hpp"
#include "cli/one_voice.hpp"
#include "cli/progress.hpp"
#include "cli/run_flags.hpp"
#include "cli/stop_signals.hpp"
#include "formats/atomic_file.hpp"
#include "sigmanet/backends/factory.hpp"
#include "sigmanet/collective.hpp"
#include "sigmanet/error.hpp"
#include "sigmanet/formats/checkpoint.hpp"
#include "sigmanet/formats/mnist.hpp"
#include "sigmanet/formats/model_file.hpp"
#include "sigmanet/trainer.hpp"
#include "sigmanet/version.hpp"
#include "training/number_text.hpp"

namespace sigmanet::cli {
namespace {

// Where an interrupted run leaves its checkpoint when --checkpoint was not given.
constexpr const char* kDefaultCheckpoint = "sigmanet-checkpoint.safetensors";

struct TrainOptions {
  TrainConfig config;
  CudaOptions gpu;  // --gpu-kernel, --gpu-cluster
  DataFlags data;
  std::string metrics;
  std::string save;
  std::string checkpoint;
  int checkpoint_every = 1;
  std::string resume;
  std::string eta_schedule = "constant";
  int threads = 0;  // 0: default_threads()
};

// A setting whose value came from the checkpoint, not the command line, is blamed on the checkpoint: "--sizes:
// the output layer has 9 neurons" would send the user looking for a flag they never typed.
[[noreturn]] void rethrow_from_checkpoint(const CLI::App& sub, const std::string& checkpoint, const SettingError& e) {
  for (Setting s : e.message().mentions())
    if (sub.count(flag_for(s))) throw e;  // the user gave this flag: the message is right
  throw InputError(checkpoint + ": the checkpoint's " + e.message().text());
}

// Settings a resumed run takes from its checkpoint; giving a different value is a mistake worth a word.
template <class T>
void keep_from_checkpoint(const CLI::App& sub, const std::string& flag, T& value, const T& saved,
                          const std::string& saved_text) {
  if (sub.count(flag) && value != saved)
    throw InputError(flag + ": the checkpoint was made with " + saved_text +
                     "; a resumed run keeps its settings (leave the flag out)");
  value = saved;
}

// Applies --resume: the checkpoint's settings replace the defaults; --epochs, --validation-size and
// --test-size may be changed, the rest must agree.
Checkpoint load_resume(const CLI::App& sub, TrainOptions& o) {
  Checkpoint ck = load_checkpoint(o.resume);
  TrainConfig& c = o.config;
  const TrainConfig& s = ck.config;
  keep_from_checkpoint(sub, "--sizes", c.sizes, s.sizes, sizes_text(s.sizes));
  keep_from_checkpoint(sub, "--batch", c.batch, s.batch, std::to_string(s.batch));
  keep_from_checkpoint(sub, "--eta", c.eta, s.eta, exact_text(s.eta));
  keep_from_checkpoint(sub, "--cost", c.cost, s.cost, to_string(s.cost));
  keep_from_checkpoint(sub, "--lambda", c.lambda, s.lambda, "lambda " + exact_text(s.lambda));
  keep_from_checkpoint(sub, "--early-stopping", c.early_stopping, s.early_stopping,
                       s.early_stopping ? "early stopping after " + std::to_string(s.early_stopping) + " epochs"
                                        : std::string("no early stopping"));
  keep_from_checkpoint(sub, "--eta-schedule", c.halve_eta_after, s.halve_eta_after,
                       "eta schedule " + eta_schedule_text(s.halve_eta_after));
  keep_from_checkpoint(sub, "--seed", c.seed, s.seed, std::to_string(s.seed));
  keep_from_checkpoint(sub, "--init", c.init, s.init, to_string(s.init));
  keep_from_checkpoint(sub, "--precision", c.precision, s.precision, to_string(s.precision));
  keep_from_checkpoint(sub, "--train-size", c.split.train, s.split.train, std::to_string(s.split.train));
  if (!sub.count("--epochs")) c.epochs = s.epochs;
  if (!sub.count("--validation-size")) c.split.validation = s.split.validation;
  if (!sub.count("--test-size")) c.split.test = s.split.test;
  if (const auto rule = stopped_by_rule(c, ck.state))
    throw InputError("--resume: the run in " + o.resume + " was stopped by " + *rule + " after epoch " +
                     std::to_string(ck.state.epochs_done) + "; there is nothing to continue");
  if (ck.state.epochs_done >= c.epochs)
    throw InputError("--epochs: the checkpoint " + o.resume + " has already done " +
                     std::to_string(ck.state.epochs_done) + " of " + std::to_string(c.epochs) +
                     " epochs; ask for more with --epochs");
  return ck;
}

// Every output is checked before any work: better to hear it now than after training.
void check_outputs(const CLI::App& sub, const TrainOptions& o) {
  if (sub.count("--checkpoint-every") && o.checkpoint.empty())
    throw InputError("--checkpoint-every: needs --checkpoint FILE to say where");
  if (!o.save.empty()) check_output_file("--save", o.save);
  if (!o.checkpoint.empty()) check_output_file("--checkpoint", o.checkpoint);
  if (!o.metrics.empty()) check_output_file("--metrics", o.metrics);
  // Without --checkpoint, Ctrl-C saves to the default file: what already sits there must be replaceable too.
  // (A folder that takes no new files is left to the stop itself: most runs never need it.)
  std::error_code status_error;
  namespace fs = std::filesystem;
  if (o.checkpoint.empty() && fs::symlink_status(kDefaultCheckpoint, status_error).type() != fs::file_type::not_found)
    check_output_file(std::string("--checkpoint (default ") + kDefaultCheckpoint + ", where Ctrl-C saves)",
                      kDefaultCheckpoint);
  // Ctrl-C writes its checkpoint to the default file when --checkpoint is not given: that file is an output too.
  const std::string stop_flag = o.checkpoint.empty()
                                    ? std::string("--checkpoint (default ") + kDefaultCheckpoint + ", where Ctrl-C saves)"
                                    : std::string("--checkpoint");
  const std::string stop_file = o.checkpoint.empty() ? kDefaultCheckpoint : o.checkpoint;
  check_distinct_files({{stop_flag, stop_file}, {"--save", o.save}, {"--metrics", o.metrics}});
  // Continuing a checkpoint into the same file is what --checkpoint is for; the other outputs would
  // destroy it.
  check_distinct_files({{"--resume", o.resume}, {"--save", o.save}});
  check_distinct_files({{"--resume", o.resume}, {"--metrics", o.metrics}});
  check_outputs_are_not_inputs({{stop_flag, stop_file}, {"--save", o.save}, {"--metrics", o.metrics}},
                               data_source_files(data_source(o.data)));
}

// The settings checked and the data loaded, a checkpoint's settings blamed on the checkpoint. Without --sizes the
// network follows the data: its features, 30 hidden neurons, its classes.
LabelledData check_settings_and_load(const CLI::App& sub, TrainOptions& o) {
  TrainConfig& c = o.config;
  const bool sizes_given = sub.count("--sizes") || !o.resume.empty();
  const auto blamed = [&](const auto& step) {
    if (o.resume.empty()) return step();
    try {
      return step();
    } catch (const SettingError& e) {
      rethrow_from_checkpoint(sub, o.resume, e);
    }
  };
  if (sizes_given)
    blamed([&] { check_run_settings(c, o.gpu); });
  else
    check_settings_before_data(c, o.gpu);
  LabelledData data =
      blamed([&] { return load_run_data(o.data, split_request(sub, c.split, !o.resume.empty())); });
  print_notes(data.notes);
  c.split = {data.train.size(), data.validation.size(), data.test.size()};
  if (!sizes_given) {
    c.sizes = sizes_for(data);
    check_run_settings(c, o.gpu);
  }
  blamed([&] { check_sizes_fit_data(c.sizes, data); });
  return data;
}

void save_trained_model(const std::string& file, const TrainConfig& c, const Trainer& trainer, Backend& backend,
                        double accuracy, const LabelledData& data) {
  save_model(file, backend.parameters(),
             trained_model_metadata(c, trainer.epochs_done(), accuracy, data.test.size(), shape_of(data)));
  std::printf("Model saved to %s\n", file.c_str());
}

// The epochs, each timed, evaluated, logged and checkpointed; a signal stops them with a checkpoint.
class EpochLoop {
 public:
  // In a job of several processes (job not null) every rank runs the loop and decides with the others; only
  // rank 0 writes files.
  EpochLoop(const TrainOptions& o, Trainer& trainer, Backend& backend, const LabelledData& data, MetricsLog& metrics,
            Collective* job)
      : job_(job),
        writer_(!job || job->rank() == 0),
        o_(o),
        c_(o.config),
        trainer_(trainer),
        backend_(backend),
        data_(data),
        metrics_(metrics),
        stop_file_(o.checkpoint.empty() ? kDefaultCheckpoint : o.checkpoint) {}

  // The exit status: 0, or StopOnSignals::exit_status() after a signal (the checkpoint written and said where).
  int run() {
    using clock = std::chrono::steady_clock;
    const auto run_start = clock::now();
    int epoch = trainer_.epochs_done() + 1;
    for (; epoch <= c_.epochs && !stopped_by_rule_; ++epoch)
      if (!train_one(epoch)) return StopOnSignals::exit_status();
    const double total = std::chrono::duration<double>(clock::now() - run_start).count();
    std::printf("Best test accuracy %.2f%% at epoch %d; %d epochs in %.1f s\n", 100.0 * best_, best_epoch_,
                epoch - 1, total);
    if (last_checkpoint_epoch_ > 0) std::printf("Checkpoint written to %s\n", o_.checkpoint.c_str());
    std::fflush(stdout);
    if (stop_requested()) return stop_after_training();
    return 0;
  }

  // Whether a signal asks the run to stop: any rank's, in a job (mpirun passes SIGINT on as SIGTERM to every rank,
  // not all at the same instant), decided by every rank together.
  bool stop_requested() { return job_ ? job_->any(StopOnSignals::requested()) : StopOnSignals::requested(); }

  double last_accuracy() const { return last_accuracy_; }

 private:
  // False when a signal stopped the epoch (its checkpoint written).
  bool train_one(int epoch) {
    const std::string label = "Epoch " + std::to_string(epoch) + "/" + std::to_string(c_.epochs);
    const std::size_t first_sample = trainer_.state().position;
    // The epoch's time is the training alone, on the backend's clock (CUDA events on a GPU, which include
    // finishing the queued work); evaluation is not part of it.
    bool finished = false;
    // Within an epoch the backend decides on a job's stop together, after each batch.
    const double seconds = backend_.time_seconds([&] {
      finished = !stop_requested() && trainer_.train_epoch([&](std::size_t done) {
        bar_.update(label, done, data_.train.size());
        return !StopOnSignals::requested();
      });
    });
    if (!finished && stop_requested()) {
      bar_.clear();
      checkpoint(stop_file_);
      std::fprintf(stderr,
                   "sigmanet: %s: stopped in epoch %d after %zu/%zu samples; checkpoint written to %s "
                   "(continue with: sigmanet train --resume %s)\n",
                   StopOnSignals::name(), epoch, trainer_.state().position, data_.train.size(), stop_file_.c_str(),
                   stop_file_.c_str());
      return false;
    }
    // The Trainer throws DivergenceError itself; a stop without a signal would be a backend's bug.
    if (!finished) throw Error("epoch " + std::to_string(epoch) + ": training stopped early for no known reason");
    const Evaluation test = backend_.evaluate(data_.test);
    // The chapter 3 rules watch the validation accuracy (validate_config made sure there is a validation set).
    const bool rules = c_.early_stopping > 0 || c_.halve_eta_after > 0;
    std::optional<Evaluation> validation;
    if (rules) validation = backend_.evaluate(data_.validation);
    bar_.clear();
    const double rate = double(data_.train.size() - first_sample) / seconds;
    const double eta = trainer_.eta();  // the rate this epoch trained with
    std::printf("%s: test %zu/%zu (%.2f%%)", label.c_str(), test.correct, test.total, 100.0 * test.accuracy());
    if (validation) std::printf(", validation %.2f%%", 100.0 * validation->accuracy());
    std::printf(", %.2f s, %.0f samples/s\n", seconds, rate);
    last_accuracy_ = test.accuracy();
    if (test.accuracy() > best_) best_ = test.accuracy(), best_epoch_ = epoch;
    if (validation) report(trainer_.end_epoch(validation->accuracy()), epoch);
    std::fflush(stdout);
    if (metrics_.enabled()) metrics_.write(epoch, test, validation, backend_, data_, c_, eta, seconds, rate);
    if (!o_.checkpoint.empty() && (epoch % o_.checkpoint_every == 0 || epoch == c_.epochs || stopped_by_rule_)) {
      checkpoint(o_.checkpoint);
      last_checkpoint_epoch_ = epoch;
    }
    return true;
  }

  // A signal once the last epoch was trained (during its evaluation, metrics or checkpoint): the run ends before
  // --save, with its final state in a checkpoint, and says so.
  int stop_after_training() {
    if (last_checkpoint_epoch_ != trainer_.epochs_done()) checkpoint(stop_file_);
    std::string kept = "checkpoint " + stop_file_ + " holds the network";
    if (!o_.save.empty())
      kept += "; the model was not saved to " + o_.save + " (the checkpoint is a model too: sigmanet evaluate --model " +
              stop_file_ + ")";
    std::fprintf(stderr, "sigmanet: %s after the last epoch, %d: training is complete and %s\n", StopOnSignals::name(),
                 trainer_.epochs_done(), kept.c_str());
    return StopOnSignals::exit_status();
  }

  void report(EpochVerdict verdict, int epoch) {
    const TrainerState& s = trainer_.state();
    switch (verdict) {
      case EpochVerdict::go_on:
        return;
      case EpochVerdict::eta_halved:
        std::printf("Validation accuracy has not improved for %d epochs (best %.2f%%): eta halved to %s\n",
                    c_.halve_eta_after, 100.0 * s.best_validation, exact_text(trainer_.eta()).c_str());
        return;
      case EpochVerdict::stop_early:
        std::printf("Stopping early after epoch %d: validation accuracy has not improved for %d epochs (best %.2f%%)\n",
                    epoch, c_.early_stopping, 100.0 * s.best_validation);
        break;
      case EpochVerdict::stop_eta_floor:
        std::printf("Stopping after epoch %d: eta has come down to %s, 1/128 of its start (best validation %.2f%%)\n",
                    epoch, exact_text(trainer_.eta()).c_str(), 100.0 * s.best_validation);
        break;
    }
    stopped_by_rule_ = true;
  }

  void checkpoint(const std::string& file) {
    if (!writer_) return;
    save_checkpoint(file, Checkpoint{c_, backend_.parameters(), trainer_.state(), job_ ? job_->size() : 1});
    if (file == stop_file_) set_second_signal_message(second_signal_message(file, trainer_.epochs_done(), o_.resume));
  }

  Collective* job_;
  const bool writer_;
  const TrainOptions& o_;
  const TrainConfig& c_;
  Trainer& trainer_;
  Backend& backend_;
  const LabelledData& data_;
  MetricsLog& metrics_;
  const std::string stop_file_;
  ProgressBar bar_;
  double best_ = -1, last_accuracy_ = 0;
  int best_epoch_ = 0, last_checkpoint_epoch_ = -1;
  bool stopped_by_rule_ = false;
};

// Where a job's ranks train: on GPUs when every rank can have one and NCCL (--device auto or gpu), else on
// the CPU (auto). Decided together, so that no rank waits on a GPU for ranks that train on the CPU.
void choose_job_device(TrainConfig& c, const CudaOptions& gpu, Collective& job) {
  if (c.device == Device::cpu) return;
  std::string reason;
  const bool mine = gpu_available_for_job(&reason);
  if (!job.any(!mine)) {
    use_gpu_of_rank(job);
    c.device = Device::gpu;
    return;
  }
  if (!mine) reason = "rank " + std::to_string(job.rank()) + " on " + job.host() + ": " + reason;
  else reason = "another rank has no GPU or NCCL";
  if (c.device == Device::gpu)
    throw SettingError(Setting::device, {Setting::device, " gpu: the job cannot train on GPUs: " + reason}, "gpu");
  refuse_gpu_options_on_cpu(gpu, {"the job trains on the CPU (" + reason + "), which has no GPU kernel to choose"});
  std::fprintf(stderr, "sigmanet: no GPU for every rank, using the CPU: %s\n", reason.c_str());
  c.device = Device::cpu;
}

// What every rank of a training job must have alike (job_agreement.hpp).
Fingerprint train_fingerprint(const TrainOptions& o, const Checkpoint& resumed, const LabelledData& data) {
  const TrainConfig& c = o.config;
  const auto flag = [](Setting s) { return flag_for(s); };
  return {{"the command", "train"},
          {"the version", std::string("sigmanet ") + version()},
          {flag(Setting::sizes), sizes_text(c.sizes)},
          {flag(Setting::epochs), std::to_string(c.epochs)},
          {flag(Setting::batch), std::to_string(c.batch)},
          {flag(Setting::eta), exact_text(c.eta)},
          {flag(Setting::cost), to_string(c.cost)},
          {flag(Setting::lambda), exact_text(c.lambda)},
          {flag(Setting::early_stopping), std::to_string(c.early_stopping)},
          {flag(Setting::eta_schedule), eta_schedule_text(c.halve_eta_after)},
          {flag(Setting::seed), std::to_string(c.seed)},
          {flag(Setting::init), to_string(c.init)},
          {flag(Setting::precision), to_string(c.precision)},
          {flag(Setting::device), to_string(c.device)},
          {flag(Setting::gpu_kernel), to_string(o.gpu.kernel)},
          {flag(Setting::gpu_cluster), std::to_string(o.gpu.persistent_blocks)},
          {flag(Setting::train_size), std::to_string(c.split.train)},
          {flag(Setting::validation_size), std::to_string(c.split.validation)},
          {flag(Setting::test_size), std::to_string(c.split.test)},
          {flag(Setting::data), data_identity(data)},
          {flag(Setting::resume), o.resume.empty() ? std::string("none") : checkpoint_identity(resumed)}};
}

// The job this run is a rank of (null alone), joined once every check that could refuse the run has passed and
// its ranks agree on what they train.
Collective* join_job(TrainOptions& o, const Checkpoint& resumed, const LabelledData& data) {
  Collective* const collective = job();
  if (collective) agree_with_job(*collective, train_fingerprint(o, resumed, data));
  const int processes = collective ? collective->size() : 1;
  if (!o.resume.empty() && resumed.ranks != processes)
    throw InputError("--resume: " + o.resume + " was made by a job of " + std::to_string(resumed.ranks) +
                     " process" + (resumed.ranks == 1 ? "" : "es") + ", this one has " + std::to_string(processes) +
                     "; resume it with as many (each rank's share of a batch, and so the sums' rounding, depend on "
                     "it)");
  if (collective) choose_job_device(o.config, o.gpu, *collective);
  return collective;
}

int run_train(const CLI::App& sub, TrainOptions& o) {
  if (!have_mpi()) job();  // refuses at once to run as one of several processes without MPI
  // From here to the end a signal stops the run at the next safe point and says what was kept: before the first
  // mini-batch, that is the start's checkpoint; after the last epoch, the final one.
  const StopOnSignals signals;
  set_second_signal_message(
      second_signal_message(o.checkpoint.empty() ? kDefaultCheckpoint : o.checkpoint, 0, o.resume));
  parse_eta_schedule(o.eta_schedule, o.config);
  check_outputs(sub, o);
  Checkpoint resumed;
  if (!o.resume.empty()) resumed = load_resume(sub, o);
  const LabelledData data = check_settings_and_load(sub, o);
  MetricsLog metrics(o.metrics, !o.resume.empty());  // before the job agrees: it may refuse
  Collective* const collective = join_job(o, resumed, data);
  const TrainConfig& c = o.config;
  const bool writer = !collective || collective->rank() == 0;
  if (!writer) metrics = MetricsLog();

  std::string notice;
  std::unique_ptr<Backend> backend = make_backend(c.device, c.precision, &notice, o.gpu);
  if (!notice.empty()) std::fprintf(stderr, "sigmanet: %s\n", notice.c_str());
  backend->set_collective(collective);
  backend->set_threads(o.threads ? o.threads : default_threads());
  Trainer trainer(c, *backend, data.train);
  if (!o.resume.empty()) {
    trainer.resume(resumed.parameters, resumed.state);
    std::printf("Resuming %s at epoch %d, sample %zu\n", o.resume.c_str(), trainer.epochs_done() + 1,
                trainer.state().position);
  }
  std::printf("Training %s on %s: %zu samples, batch %zu, eta %s, %d epochs, seed %llu",
              sizes_text(c.sizes, '-').c_str(), backend->describe().c_str(), data.train.size(), c.batch,
              exact_text(trainer.eta()).c_str(), c.epochs, static_cast<unsigned long long>(c.seed));
  if (collective) std::printf(", %d processes", collective->size());
  if (c.cost != Cost::quadratic) std::printf(", %s cost", to_string(c.cost).c_str());
  if (c.lambda > 0) std::printf(", L2 lambda %s", exact_text(c.lambda).c_str());
  if (c.early_stopping > 0) std::printf(", early stopping after %d", c.early_stopping);
  if (c.halve_eta_after > 0) std::printf(", eta halved after %d", c.halve_eta_after);
  std::printf("\n");
  std::fflush(stdout);

  EpochLoop epochs(o, trainer, *backend, data, metrics, collective);
  if (const int status = epochs.run(); status != 0) return status;
  if (o.save.empty()) return 0;
  if (writer) save_trained_model(o.save, c, trainer, *backend, epochs.last_accuracy(), data);
  if (epochs.stop_requested()) {
    std::fprintf(stderr, "sigmanet: %s while the model was saved: %s is whole; training is complete\n",
                 StopOnSignals::name(), o.save.c_str());
    return StopOnSignals::exit_status();
  }
  return 0;
}

}  // namespace

void add_train_command(CLI::App& app, int& status) {
  auto o = std::make_shared<TrainOptions>();
  CLI::App* sub = app.add_subcommand("train", "Train a network on labelled data (MNIST by default) and report test accuracy after each epoch");
  TrainConfig& c = o->config;
  add_whole_list(sub, "--sizes", c.sizes, "Neurons per layer, input first", 1, std::numeric_limits<int>::max())
      ->type_name("INT")
      ->default_str("features,30,classes");
  add_whole(sub, "--epochs", c.epochs, "Passes over the training set (with --resume: the total to reach)", 1);
  add_whole(sub, "--batch", c.batch, "Mini-batch size", std::size_t{1})->type_name("INT");
  add_real(sub, "--eta", c.eta, "Learning rate");
  add_choice(sub, "--cost", c.cost, cost_choices(),
             "Cost: quadratic (chapter 1), cross-entropy, or log-likelihood (with a softmax output layer)");
  add_real(sub, "--lambda", c.lambda, "L2 regularisation: w <- (1 - eta*lambda/n) w - ..., n the training set's size");
  add_rule_flags(sub, c, o->eta_schedule);
  add_whole(sub, "--seed", c.seed, "Seed for initial weights and the shuffles");
  add_whole(sub, "--threads", o->threads,
            "CPU threads for large batches and evaluation (default: this machine's cores, shared among the processes "
            "of an mpirun job; the same number gives the same bits, another the same bits on sigmanet's own "
            "kernels and the same values to rounding on OpenBLAS)",
            1, 1024)
      ->default_str("cores");
  add_choice(sub, "--init", c.init, init_choices(),
             "Weight initialisation: standard N(0,1) or scaled N(0,1/n_in)");
  add_device_flags(sub, c, o->gpu);
  add_data_flags(sub, o->data);
  add_split_flags(sub, c.split);
  add_path(sub, "--metrics", o->metrics,
           "Write one JSON line per epoch to FILE: test accuracy and cost, training and validation cost");
  add_path(sub, "--save", o->save, "Write the trained model to FILE (safetensors, F32, as torch.nn.Linear layers)");
  add_path(sub, "--checkpoint", o->checkpoint,
           "Write a checkpoint to FILE every --checkpoint-every epochs, at the end, and on Ctrl-C/SIGTERM");
  add_whole(sub, "--checkpoint-every", o->checkpoint_every, "Epochs between checkpoints", 1);
  add_path(sub, "--resume", o->resume, "Continue the run saved in checkpoint FILE, bit for bit");
  sub->callback([o, sub, &status] { status = run_train(*sub, *o); });
}

}  // namespace sigmanet::cli
