#include "cli/sweep_grid.hpp"

#include <algorithm>
#include <functional>
#include <limits>

#include "cli/flags.hpp"
#include "cli/run_flags.hpp"
#include "sigmanet/error.hpp"
#include "training/number_text.hpp"

namespace sigmanet::cli {

namespace {

[[noreturn]] void refuse(const std::string& flag, const std::string& what, const std::string& text) {
  throw CLI::ValidationError(flag, what + " (got '" + printable(text) + "')");
}

// The entries of a list separated by `separator`, none of them empty.
std::vector<std::string> entries(const std::string& flag, const std::string& text, char separator) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (;;) {
    const std::size_t end = text.find(separator, start);
    out.push_back(text.substr(start, end == std::string::npos ? std::string::npos : end - start));
    if (out.back().empty()) refuse(flag, "entry " + std::to_string(out.size()) + " of the list is empty", text);
    if (end == std::string::npos) return out;
    start = end + 1;
  }
}

template <class T>
void refuse_duplicates(const std::string& flag, const std::vector<T>& values, const std::vector<std::string>& shown,
                       const std::string& text) {
  for (std::size_t i = 0; i < values.size(); ++i)
    for (std::size_t j = 0; j < i; ++j)
      if (values[i] == values[j])
        refuse(flag, "entries " + std::to_string(j + 1) + " and " + std::to_string(i + 1) + " (" + shown[j] + ", " +
                         shown[i] + ") are the same value; each run would be trained twice",
               text);
}

// A list flag: `split` turns one argument into its entries, `value` reads each; the values must differ.
template <class T, class Split, class Value>
CLI::Option* add_list(CLI::App* sub, const std::string& flag, std::vector<T>& target, const std::string& type,
                      const std::string& help, Split split, Value value) {
  return sub
      ->add_option(
          flag,
          [flag, &target, split, value](const CLI::results_t& r) {
            const std::string& text = r.back();
            std::vector<T> values;
            std::vector<std::string> shown;
            for (const std::string& entry : split(text)) {
              shown.push_back(entry);
              values.push_back(value(flag, entry));
            }
            refuse_duplicates(flag, values, shown, text);
            target = std::move(values);
            return true;
          },
          help)
      ->type_name(type)
      ->expected(1);
}

template <class E>
E choice_value(const std::string& flag, const std::string& entry, const std::vector<std::pair<std::string, E>>& all) {
  std::vector<std::string> names;
  for (const auto& [name, value] : all) {
    if (name == entry) return value;
    names.push_back(name);
  }
  throw CLI::ValidationError(flag, "expected " + names_text(names) + " (got '" + printable(entry) + "')");
}

double real_value(const std::string& flag, const std::string& entry) { return parse_real(flag, entry); }
int epochs_value(const std::string& flag, const std::string& entry) {
  return int(parse_whole(flag, entry, 1, std::numeric_limits<int>::max()));
}
std::size_t batch_value(const std::string& flag, const std::string& entry) {
  return std::size_t(parse_unsigned(flag, entry, 1, std::numeric_limits<std::uint32_t>::max()));
}
std::uint64_t seed_value(const std::string& flag, const std::string& entry) {
  return parse_unsigned(flag, entry, 0, std::numeric_limits<std::uint64_t>::max());
}
Cost cost_value(const std::string& flag, const std::string& entry) { return choice_value(flag, entry, cost_choices()); }
Init init_value(const std::string& flag, const std::string& entry) { return choice_value(flag, entry, init_choices()); }
std::vector<int> sizes_value(const std::string& flag, const std::string& entry) {
  std::vector<int> sizes;
  for (std::int64_t v : parse_whole_list(flag, entry, 1, std::numeric_limits<int>::max())) sizes.push_back(int(v));
  return sizes;
}

}  // namespace

void add_sweep_list_flags(CLI::App* sub, SweepLists& lists) {
  const auto commas = [](const std::string& flag) {
    return [flag](const std::string& text) { return entries(flag, text, ','); };
  };
  add_list(sub, "--sizes", lists.sizes, "N,N,...[/N,N,...]",
           "Networks, '/' between them, each its neurons per layer, input first", [](const std::string& text) {
             return entries("--sizes", text, '/');
           }, sizes_value)
      ->default_str("784,30,10");
  add_list(sub, "--epochs", lists.epochs, "N[,N...]", "Passes over the training set", commas("--epochs"), epochs_value)
      ->default_str("30");
  add_list(sub, "--batch", lists.batch, "N[,N...]", "Mini-batch sizes", commas("--batch"), batch_value)
      ->default_str("10");
  add_list(sub, "--eta", lists.eta, "X[,X...]", "Learning rates", commas("--eta"), real_value)->default_str("3");
  add_list(sub, "--lambda", lists.lambda, "X[,X...]", "L2 regularisation strengths (train's --lambda)",
           commas("--lambda"), real_value)
      ->default_str("0");
  add_list(sub, "--cost", lists.cost, "NAME[,NAME...]", "Costs: quadratic, cross-entropy, log-likelihood",
           commas("--cost"), cost_value)
      ->default_str("quadratic");
  add_list(sub, "--init", lists.init, "NAME[,NAME...]", "Weight initialisations: standard, scaled", commas("--init"),
           init_value)
      ->default_str("standard");
  // Seeds: a list whose entries may be ranges, "1-5" for 1,2,3,4,5.
  add_list(sub, "--seed", lists.seed, "N[-M][,...]", "Seeds, or ranges of them (1-5)", [](const std::string& text) {
    std::vector<std::string> out;
    for (const std::string& entry : entries("--seed", text, ',')) {
      const std::size_t dash = entry.find('-');
      if (dash == std::string::npos) {
        out.push_back(entry);
        continue;
      }
      const std::uint64_t first = parse_unsigned("--seed", entry.substr(0, dash), 0, UINT64_MAX);
      const std::uint64_t last = parse_unsigned("--seed", entry.substr(dash + 1), 0, UINT64_MAX);
      if (last < first) refuse("--seed", "the range " + entry + " runs backwards; write it " +
                                             std::to_string(last) + "-" + std::to_string(first), text);
      if (last - first >= kMaxSweepRuns)
        refuse("--seed", "the range " + entry + " holds more than " + std::to_string(kMaxSweepRuns) +
                             " seeds, the most a sweep trains", text);
      for (std::uint64_t s = first;; ++s) {
        out.push_back(std::to_string(s));
        if (s == last) break;
      }
    }
    return out;
  }, seed_value)->default_str("1");
}

std::vector<std::string> varying_settings(const SweepLists& l) {
  std::vector<std::string> out;
  if (l.sizes.size() > 1) out.push_back("sizes");
  if (l.epochs.size() > 1) out.push_back("epochs");
  if (l.batch.size() > 1) out.push_back("batch");
  if (l.eta.size() > 1) out.push_back("eta");
  if (l.lambda.size() > 1) out.push_back("lambda");
  if (l.cost.size() > 1) out.push_back("cost");
  if (l.init.size() > 1) out.push_back("init");
  if (l.seed.size() > 1) out.push_back("seed");
  return out;
}

std::vector<SweepRun> expand_grid(const SweepLists& l, const TrainConfig& base) {
  const double runs = double(l.sizes.size()) * double(l.epochs.size()) * double(l.batch.size()) *
                      double(l.eta.size()) * double(l.lambda.size()) * double(l.cost.size()) *
                      double(l.init.size()) * double(l.seed.size());
  const std::vector<std::string> varying = varying_settings(l);
  if (runs > double(kMaxSweepRuns)) {
    std::string flags;
    for (const std::string& v : varying) flags += (flags.empty() ? "--" : ", --") + v;
    throw InputError(flags + ": the grid has " + std::to_string(std::uint64_t(runs)) +
                     " runs; a sweep trains at most " + std::to_string(kMaxSweepRuns));
  }
  std::vector<SweepRun> out;
  for (const auto& sizes : l.sizes)
    for (int epochs : l.epochs)
      for (std::size_t batch : l.batch)
        for (double eta : l.eta)
          for (double lambda : l.lambda)
            for (Cost cost : l.cost)
              for (Init init : l.init)
                for (std::uint64_t seed : l.seed) {
                  SweepRun run;
                  run.index = out.size();
                  TrainConfig& c = run.config;
                  c = base;
                  c.sizes = sizes, c.epochs = epochs, c.batch = batch, c.eta = eta, c.lambda = lambda;
                  c.cost = cost, c.init = init, c.seed = seed;
                  run.settings = {{"sizes", sizes_text(sizes, '-')},  {"epochs", std::to_string(epochs)},
                                  {"batch", std::to_string(batch)},   {"eta", exact_text(eta)},
                                  {"lambda", exact_text(lambda)},     {"cost", to_string(cost)},
                                  {"init", to_string(init)},          {"seed", std::to_string(seed)}};
                  for (const auto& [key, value] : run.settings)
                    if (std::find(varying.begin(), varying.end(), key) != varying.end())
                      run.name += (run.name.empty() ? "" : "_") + key + "=" + value;
                  if (run.name.empty()) run.name = "run";
                  out.push_back(std::move(run));
                }
  return out;
}

nlohmann::json settings_json(const SweepRun& run) {
  const TrainConfig& c = run.config;
  return {{"sizes", c.sizes}, {"epochs", c.epochs},         {"batch", c.batch}, {"eta", c.eta},
          {"lambda", c.lambda}, {"cost", to_string(c.cost)}, {"init", to_string(c.init)}, {"seed", c.seed}};
}

double run_work(const TrainConfig& c) {
  double parameters = 0;
  for (std::size_t l = 1; l < c.sizes.size(); ++l) parameters += double(c.sizes[l - 1] + 1) * double(c.sizes[l]);
  return double(c.epochs) * double(c.split.train) * parameters;
}

}  // namespace sigmanet::cli
