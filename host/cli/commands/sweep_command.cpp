// sigmanet sweep: a grid of training runs (train's flags, several of them as lists), each the run `train` would
// make, trained several at a time: one run per thread on the CPU, groups sharing launches on a GPU, runs handed to ranks
// under mpirun. Outputs in --out DIR (sweep_outputs.hpp); a stop keeps DIR/sweep-checkpoint (sweep_store.hpp), which
// `sweep --resume DIR` finishes.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cli/commands.hpp"
#include "cli/flags.hpp"
#include "cli/job_agreement.hpp"
#include "cli/run_flags.hpp"
#include "cli/stop_signals.hpp"
#include "cli/sweep_grid.hpp"
#include "cli/sweep_outputs.hpp"
#include "cli/sweep_plot.hpp"
#include "cli/sweep_runner.hpp"
#include "cli/sweep_store.hpp"
#include "sigmanet/backends/factory.hpp"
#include "sigmanet/backends/train_together.hpp"
#include "sigmanet/collective.hpp"
#include "sigmanet/error.hpp"
#include "sigmanet/version.hpp"

namespace sigmanet::cli {
namespace {

namespace fs = std::filesystem;

// The ranks of a job that did not reach the sweep's end, as rank 0 sees them (none on the other ranks). Each rank
// comes once its runs are over: finished, or stopped by a signal with their checkpoints in the store. A rank that
// died (killed, say) never comes; mpirun then sends the others SIGTERM, and its SIGKILL follows about a second later.
// So rank 0 waits for every rank as long as no signal came, and half a second past one: enough for a rank that was
// signalled too to end its mini-batch and write its checkpoint, short of the SIGKILL, so that rank 0 still says
// which rank is gone.
std::vector<int> ranks_missing_at_end(Collective& job) {
  std::optional<std::chrono::steady_clock::time_point> signalled;
  const std::vector<bool> arrived = job.arrivals_at_rank_0([&] {
    if (!StopOnSignals::requested()) return false;
    const auto now = std::chrono::steady_clock::now();
    if (!signalled) signalled = now;
    return now - *signalled > std::chrono::milliseconds(500);
  });
  std::vector<int> missing;
  for (std::size_t r = 0; r < arrived.size(); ++r)
    if (!arrived[r]) missing.push_back(int(r));
  return missing;
}

std::string ranks_text(const std::vector<int>& ranks) {
  std::string text = ranks.size() == 1 ? "rank " : "ranks ";
  for (std::size_t i = 0; i < ranks.size(); ++i) text += (i ? ", " : "") + std::to_string(ranks[i]);
  return text;
}

struct SweepOptions {
  SweepLists lists;
  TrainConfig base;  // the settings that are not lists
  CudaOptions gpu;
  std::string eta_schedule = "constant";
  DataFlags data;
  std::string out;
  std::string save = "best";
  bool plot = false;
  std::string resume;
  int threads = 0;  // 0: default_threads()
  // From the command line the sweep started with: whether --sizes was given (else the network follows the data),
  // and the split sizes given (the rest follow the data).
  bool sizes_given = false;
  SplitRequest split;
};

void note_given(const CLI::App& app, SweepOptions& o) {
  o.sizes_given = app.count("--sizes") > 0;
  o.split = split_request(app, o.base.split, false);
}

// The flags a sweep is started with and keeps when resumed: all but --resume and --threads.
void add_grid_flags(CLI::App* sub, SweepOptions& o) {
  add_sweep_list_flags(sub, o.lists);
  add_rule_flags(sub, o.base, o.eta_schedule);
  add_device_flags(sub, o.base, o.gpu);
  add_data_flags(sub, o.data);
  add_split_flags(sub, o.base.split);
  add_path(sub, "--out", o.out,
           "Folder for the outputs (required): runs.jsonl, summary.jsonl, best.safetensors, models/, sweep.png");
  add_choice<std::string>(sub, "--save", o.save, {{"best", "best"}, {"all", "all"}},
                          "Models kept: best (best.safetensors) or all (also models/NAME.safetensors for every run)");
  sub->add_flag("--plot", o.plot, "Draw DIR/sweep.png: validation accuracy per epoch of every run, and a heat map "
                                  "when two settings vary");
}

// The flags given, as (flag, value) for a resume to parse again; --resume and --threads are not the sweep's.
nlohmann::json given_flags(const CLI::App& sub) {
  nlohmann::json args = nlohmann::json::array();
  for (const CLI::Option* option : sub.get_options()) {
    if (!option->count() || option->get_lnames().empty()) continue;
    const std::string flag = "--" + option->get_lnames().front();
    if (flag == "--resume" || flag == "--threads" || flag == "--help") continue;
    args.push_back(flag);
    if (option->get_expected_max() > 0) args.push_back(option->results().back());
  }
  return args;
}

// --resume DIR: the flags the sweep was started with, from its store; any flag given beside --resume is refused.
SweepOptions resumed_options(const CLI::App& sub, const SweepOptions& given) {
  for (const CLI::Option* option : sub.get_options()) {
    if (!option->count() || option->get_lnames().empty()) continue;
    const std::string flag = "--" + option->get_lnames().front();
    if (flag != "--resume" && flag != "--threads")
      throw InputError(flag + ": a resumed sweep keeps the flags it was started with (" +
                       (SweepStore(given.resume).folder() / "sweep.json").string() + "); leave it out");
  }
  const nlohmann::json stored = SweepStore(given.resume).read_flags();
  SweepOptions o;
  CLI::App again;
  add_grid_flags(&again, o);
  std::vector<std::string> args;
  try {
    if (stored.at("version").get<std::string>() != version())
      throw InputError("--resume: the sweep in " + given.resume + " was started by sigmanet " +
                       stored.at("version").get<std::string>() + ", this is " + version() +
                       "; a resumed run is bit-identical only within one version");
    args = stored.at("flags").get<std::vector<std::string>>();
  } catch (const nlohmann::json::exception& e) {
    throw InputError("--resume: " + given.resume + ": not a sweep's sweep.json (" + e.what() + ")");
  }
  std::reverse(args.begin(), args.end());  // CLI11 takes them last first
  try {
    again.parse(args);
  } catch (const CLI::ParseError& e) {
    throw InputError("--resume: " + given.resume + ": its stored flags do not parse: " + e.what());
  }
  note_given(again, o);
  o.out = given.resume;
  o.resume = given.resume;
  o.threads = given.threads;
  return o;
}

// The runs' settings checked before any work, each run's refusal naming its setting's flag and the run.
void check_runs(const std::vector<SweepRun>& runs, const CudaOptions& gpu) {
  for (const SweepRun& run : runs) try {
      check_run_settings(run.config, gpu);
    } catch (const SettingError& e) {
      throw InputError(message_of(e) + (runs.size() > 1 ? " (run " + run.name + ")" : std::string()));
    }
}

// A fresh sweep's --out: a folder that holds no sweep's outputs nor an unfinished sweep.
void check_out(const SweepOptions& o, const SweepStore& store) {
  if (o.out.empty())
    throw InputError("--out: required: the folder that receives the sweep's runs.jsonl, summary.jsonl and models");
  if (!o.resume.empty()) return;
  if (store.exists())
    throw InputError("--out: " + o.out + " holds an unfinished sweep (" + store.folder().string() +
                     "); finish it with: sigmanet sweep --resume " + o.out);
  if (fs::exists(fs::path(o.out) / "runs.jsonl"))
    throw InputError("--out: " + o.out + " already holds a sweep's runs.jsonl; choose another folder");
  if (fs::exists(o.out) && !fs::is_directory(o.out)) throw InputError("--out: " + o.out + " is not a folder");
}

// The queue: the runs not yet finished, longest first (then in the grid's order); under MPI this rank's share, every
// size-th of them.
std::vector<const SweepRun*> queue_of(const std::vector<SweepRun>& runs, const std::map<std::string, RunRecord>& done,
                                      const Collective* job) {
  std::vector<const SweepRun*> queue;
  for (const SweepRun& run : runs)
    if (const auto r = done.find(run.name); r == done.end() || r->second.ended.empty()) queue.push_back(&run);
  std::stable_sort(queue.begin(), queue.end(), [](const SweepRun* a, const SweepRun* b) {
    return run_work(a->config) > run_work(b->config);
  });
  if (!job) return queue;
  std::vector<const SweepRun*> mine;
  for (std::size_t i = 0; i < queue.size(); ++i)
    if (int(i % std::size_t(job->size())) == job->rank()) mine.push_back(queue[i]);
  return mine;
}

int run_sweep(const CLI::App& sub, SweepOptions& given) {
  if (!have_mpi()) job();  // refuses at once to run as one of several processes without MPI
  const StopOnSignals signals;
  if (given.resume.empty()) note_given(sub, given);
  SweepOptions o = given.resume.empty() ? given : resumed_options(sub, given);
  const nlohmann::json flags = given.resume.empty() ? given_flags(sub) : nlohmann::json();
  const SweepStore store(o.out.empty() ? fs::path() : fs::path(o.out));
  check_out(o, store);
  parse_eta_schedule(o.eta_schedule, o.base);
  check_settings_before_data(o.base, o.gpu);
  const LabelledData data = load_run_data(o.data, o.split);
  print_notes(data.notes);
  o.base.split = {data.train.size(), data.validation.size(), data.test.size()};
  if (!o.sizes_given) o.lists.sizes = {sizes_for(data)};
  const std::vector<SweepRun> runs = expand_grid(o.lists, o.base);
  check_runs(runs, o.gpu);
  for (const auto& sizes : o.lists.sizes) check_sizes_fit_data(sizes, data);

  Collective* const collective = job();
  if (collective) {
    const std::string flags_text = o.resume.empty() ? flags.dump() : store.read_flags().dump();
    agree_with_job(*collective, {{"the command", "sweep"},
                                 {"the version", std::string("sigmanet ") + version()},
                                 {"the flags", flags_text},
                                 {"--out", o.out},
                                 {"--data", data_identity(data)}});
  }
  const bool writer = !collective || collective->rank() == 0;
  try {
    if (writer) store.create();
    if (writer && o.resume.empty()) store.write_flags({{"version", version()}, {"flags", flags}});
  } catch (const fs::filesystem_error& e) {
    throw InputError("--out: cannot create " + store.folder().string() + ": " + e.code().message());
  }
  if (collective) collective->gather("");  // the folder exists before any rank writes into it
  set_second_signal_message("sigmanet: second signal: stopped at once; the runs finished before are in " +
                            store.folder().string() + " (finish them with: sigmanet sweep --resume " + o.out + ")\n");

  std::map<std::string, RunRecord> records;
  if (!o.resume.empty()) records = store.read_records();
  std::map<std::string, RunRecord> stopped;
  for (const auto& [name, record] : records)
    if (record.ended.empty()) stopped[name] = record;
  const std::vector<const SweepRun*> queue = queue_of(runs, records, collective);
  // A GPU's runs go to one thread, which makes every CUDA call: runs of one network and batch in groups sharing the
  // persistent kernel's launches (sweep_runner.hpp), others one after another; the CPU one run per thread.
  const bool on_gpu = o.base.device == Device::gpu || (o.base.device == Device::automatic && gpu_available());
  if (collective && on_gpu) use_gpu_of_rank(*collective);
  const int threads = on_gpu ? 1 : o.threads ? o.threads : default_threads();
  const std::size_t finished_before = runs.size() - queue_of(runs, records, nullptr).size();
  std::printf("Sweeping %zu runs (%zu finished before) on %s, ", runs.size(), finished_before,
              on_gpu ? "the GPU" : "the CPU");
  if (on_gpu)
    std::printf("up to %zu at a time (runs of one network and batch share the persistent kernel's launches)",
                kMaxRunsTogether);
  else
    std::printf("%d at a time", threads);
  if (collective) std::printf(" on each of %d processes", collective->size());
  std::printf("\n");
  std::fflush(stdout);

  const fs::path out(o.out);
  // Counted among the grid's runs alone, among rank 0's share in a job (the others' come at the end).
  std::size_t finished = collective ? 0 : finished_before;
  const std::size_t of = collective ? queue.size() : runs.size();
  const std::string where = collective ? " on rank 0" : "";
  SweepRunner runner(data, o.gpu, store, [&](const RunRecord& record) {
    ++finished;
    if (!writer) return;
    records[record.name] = record;
    write_runs_log(out, runs, records);
    std::printf("Run %s finished%s (%zu/%zu): %s, best %s %.2f%% at epoch %d\n", record.name.c_str(), where.c_str(),
                finished, of, record.ended.c_str(), o.base.split.validation ? "validation" : "test",
                100.0 * std::max(0.0, record.best_score), record.best_epoch);
    std::fflush(stdout);
  });
  runner.on_shared_launches([&](const std::vector<std::string>& names) {
    if (!writer) return;
    std::string list;
    for (const std::string& name : names) list += (list.empty() ? "" : ", ") + name;
    std::printf("Training %zu runs together in shared launches: %s\n", names.size(), list.c_str());
    std::fflush(stdout);
  });
  bool complete = runner.run(queue, threads, stopped);
  std::vector<int> missing;
  if (collective) missing = ranks_missing_at_end(*collective);
  if (collective && missing.empty()) {  // every rank came (rank 0 knows; the others learn it here)
    const std::vector<std::string> all = collective->gather(complete ? "complete" : "stopped");
    complete = std::count(all.begin(), all.end(), "complete") == std::ptrdiff_t(all.size());
  }
  if (!writer) return complete ? 0 : StopOnSignals::exit_status();
  records = store.read_records();
  write_runs_log(out, runs, records);
  if (!complete || !missing.empty()) {
    std::size_t done = 0;
    for (const auto& [name, record] : records) done += !record.ended.empty();
    const std::string why = missing.empty() ? StopOnSignals::name() : ranks_text(missing) + " of the job ended without finishing its runs";
    std::fprintf(stderr,
                 "sigmanet: %s: sweep stopped with %zu of %zu runs finished; they and the running runs' checkpoints "
                 "are in %s (continue with: sigmanet sweep --resume %s)\n",
                 why.c_str(), done, runs.size(), store.folder().c_str(), o.out.c_str());
    std::fflush(stderr);
    if (missing.empty()) return StopOnSignals::exit_status();
    leave_job(false);  // MPI_Finalize would wait for the missing ranks
    return StopOnSignals::requested() ? StopOnSignals::exit_status() : 1;
  }
  const bool on_validation = o.base.split.validation > 0;
  write_sweep_outputs(out, runs, records, store, o.save == "all", on_validation);
  if (o.plot) {
    plot_sweep(out / "sweep.png", runs, records, varying_settings(o.lists), on_validation);
    std::printf("Plot in %s\n", (out / "sweep.png").c_str());
  }
  fs::remove_all(store.folder());
  return 0;
}

}  // namespace

void add_sweep_command(CLI::App& app, int& status) {
  auto o = std::make_shared<SweepOptions>();
  CLI::App* sub = app.add_subcommand(
      "sweep",
      "Train a grid of runs (--eta 0.025,0.25,2.5 --seed 1-3 ...), each as train would, several at a time");
  add_grid_flags(sub, *o);
  add_whole(sub, "--threads", o->threads,
            "Runs trained at once on the CPU, one thread each (default: this machine's cores, shared among the "
            "processes of an mpirun job)",
            1, 1024)
      ->default_str("cores");
  add_path(sub, "--resume", o->resume, "Finish the sweep stopped in folder DIR, with the flags it was started with");
  sub->callback([o, sub, &status] { status = run_sweep(*sub, *o); });
}

}  // namespace sigmanet::cli
