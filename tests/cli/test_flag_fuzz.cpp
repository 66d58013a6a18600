// Property: whatever string is given to whichever flag of whichever command, sigmanet exits 0 or 2 with at
// most one line on stderr, and that line names the flag (or, for a file flag, the file). Values that parse
// run into a sentinel that fails fast: an empty data folder, a model file that does not exist. Nothing is
// trained and no file is written: a refused run leaves the file system alone, and the runs happen in a
// scratch folder in case one did not.
//
// The strings are drawn from a fixed seed: fragments that have broken parsers before (signs, huge numbers,
// separators, escapes, names of devices) joined at random, and random bytes.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <set>

#include "test_support.hpp"

namespace sigmanet {
namespace {

namespace fs = std::filesystem;
using Args = std::vector<std::string>;

// splitmix64: the same strings on every platform (std's distributions are not specified bit for bit).
struct Draw {
  std::uint64_t state;
  std::uint64_t next() {
    std::uint64_t z = (state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  std::size_t below(std::size_t n) { return std::size_t(next() % n); }
};

const std::vector<std::string> kFragments = {
    "",      "-",          "+",          "0",     "1",     "-1",     "010",  "0x1f", "1e3",    "1.5",   ".",
    "9999999999999999999999", "18446744073709551616", "2147483648", "-9223372036854775809", ",", ",,", "784",
    "30",    "10",         "cpu",        "gpu",   "auto",  "float",  "double", "test", "scaled", "nan", "inf",
    " ",     "\t",         "\n",         "x",     "\xc3\xa9", "\x1b[31m", "/", "..", "/dev/null", "/dev/zero",
    "%s%n",  "'",          "\"",         ";",     "$(id)", "[784]",  "=",    "--",   "-h",    "\xff\xfe",
    "halve:", "constant",  "cross-entropy", "log-likelihood", "quadratic"};

std::string random_value(Draw& d) {
  if (d.below(4) == 0) {  // raw bytes, NUL excepted (argv cannot hold one)
    std::string s(d.below(12), ' ');
    for (char& c : s) c = char(1 + d.below(255));
    return s;
  }
  std::string s;
  for (std::size_t parts = 1 + d.below(4); parts > 0; --parts) s += kFragments[d.below(kFragments.size())];
  return s;
}

// The message as sigmanet prints it: control bytes escaped.
std::string printable(const std::string& text) {
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned char c : text) {
    if (c >= 0x20 && c != 0x7f) {
      out += char(c);
    } else {
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

struct Command {
  std::string name;
  Args sentinel;                     // arguments that make an accepted value fail fast
  std::vector<std::string> flags;    // every flag with a value (and the boolean ones)
  std::set<std::string> file_flags;  // flags whose message may name the file instead of the flag
};

class FlagFuzz : public ::testing::Test {
 protected:
  test::TempDir scratch;
  fs::path empty_data() const { return scratch / "empty"; }
  fs::path absent_model() const { return scratch / "absent.safetensors"; }

  std::vector<Command> commands() const {
    const std::string data = empty_data().string(), model = absent_model().string();
    // The flags that say where the data comes from (cli/data_flags.hpp), on every command that reads data.
    const auto with_data_flags = [](std::vector<std::string> flags) {
      for (const char* f : {"--test-data", "--train-images", "--train-labels", "--test-images", "--test-labels",
                            "--emnist", "--label-column", "--header", "--features", "--classes"})
        flags.push_back(f);
      return flags;
    };
    const std::set<std::string> data_files{"--data", "--test-data", "--train-images", "--train-labels",
                                           "--test-images", "--test-labels"};
    const auto and_data_files = [&](std::set<std::string> flags) {
      flags.insert(data_files.begin(), data_files.end());
      return flags;
    };
    return {
        {"train",
         {"--device", "cpu", "--data", data},
         with_data_flags({"--sizes", "--epochs", "--batch", "--eta", "--cost", "--lambda", "--early-stopping",
                          "--eta-schedule", "--seed", "--threads", "--init", "--device", "--precision", "--gpu-kernel",
                          "--gpu-cluster", "--data", "--train-size", "--validation-size", "--test-size", "--metrics",
                          "--save", "--checkpoint", "--checkpoint-every", "--resume"}),
         and_data_files({"--resume"})},
        {"evaluate",
         {"--model", model, "--data", data},
         with_data_flags({"--model", "--data", "--set", "--device", "--mistakes", "--mistakes-count", "--scale",
                          "--threads"}),
         and_data_files({"--model"})},
        {"predict",
         {"--model", model, "--data", data, "--index", "0"},
         with_data_flags({"--model", "--index", "--data", "--device", "--rows", "--json"}),
         and_data_files({"--model", "--rows"})},
        {"show-weights",
         {"--model", model, "--out", (scratch / "w.png").string()},
         {"--model", "--out", "--scale"},
         {"--model"}},
        {"export",
         {"--model", model, "--onnx", (scratch / "m.onnx").string()},
         {"--model", "--onnx"},
         {"--model"}},
        {"verify", {"--data", data}, with_data_flags({"--data", "--seed", "--samples"}), and_data_files({})},
        {"sweep",
         {"--device", "cpu", "--data", data, "--out", (scratch / "sweep").string()},
         with_data_flags({"--sizes", "--epochs", "--batch", "--eta", "--lambda", "--cost", "--init", "--seed",
                          "--early-stopping", "--eta-schedule", "--device", "--precision", "--gpu-kernel",
                          "--gpu-cluster", "--data", "--train-size", "--validation-size", "--test-size", "--out",
                          "--save", "--plot", "--threads", "--resume"}),
         and_data_files({"--out", "--resume"})},
        {"bench",
         {"--data", data, "--backends", "cpu-float"},
         with_data_flags({"--quick", "--all", "--sizes", "--batches", "--backends", "--gpu-kernel", "--gpu-cluster",
                          "--repetitions", "--warmup", "--eta", "--seed", "--threads", "--data", "--synthetic",
                          "--json"}),
         and_data_files({})},
    };
  }

  void SetUp() override { fs::create_directory(empty_data()); }
};

// The list above is every flag the tool has: a new flag must join the property.
TEST_F(FlagFuzz, CoversEveryFlagOfEveryCommand) {
  for (const Command& c : commands()) {
    const test::CliRun help = test::run_cli_argv({c.name, "--help"});
    ASSERT_EQ(help.status, 0) << c.name;
    std::set<std::string> listed;
    std::size_t at = 0;
    while ((at = help.out.find("\n  --", at)) != std::string::npos) {
      at += 3;
      const std::size_t end = help.out.find_first_of(" \n", at);
      listed.insert(help.out.substr(at, end - at));
    }
    const std::set<std::string> ours(c.flags.begin(), c.flags.end());
    EXPECT_EQ(listed, ours) << c.name;
  }
}

TEST_F(FlagFuzz, RandomValuesGiveExit0Or2AndOneLineNamingTheFlag) {
  Draw draw{20261129};
#ifdef SIGMANET_TEST_SANITIZED
  constexpr int kPerFlag = 8;  // each run starts a sanitized process: a third of the values, still every flag
#else
  constexpr int kPerFlag = 24;
#endif
  int runs = 0, accepted = 0;
  for (const Command& c : commands()) {
    for (const std::string& flag : c.flags) {
      for (int i = 0; i < kPerFlag; ++i) {
        const std::string value = random_value(draw);
        Args args{c.name};
        // The sentinel first, the flag under test last: a repeated flag is its own error, named.
        for (std::size_t k = 0; k < c.sentinel.size(); k += 2)
          if (c.sentinel[k] != flag) args.insert(args.end(), {c.sentinel[k], c.sentinel[k + 1]});
        args.push_back(flag + "=" + value);
        const test::CliRun run = test::run_cli_argv(args, 20, {{"SIGMANET_DATA", empty_data().string()}},
                                                    scratch.path());
        ++runs;
        const std::string context = c.name + " " + flag + "=" + printable(value);
        ASSERT_FALSE(run.timed_out) << context;
        EXPECT_TRUE(run.status == 0 || run.status == 2) << context << " exit " << run.status << "\n" << run.err;
        const auto lines = std::count(run.err.begin(), run.err.end(), '\n');
        EXPECT_LE(lines, 1) << context << "\n" << run.err;
        if (run.status != 2) continue;
        EXPECT_EQ(lines, 1) << context;
        EXPECT_EQ(run.err.rfind("sigmanet: ", 0), 0u) << context << "\n" << run.err;
        const bool names_flag = run.err.find(flag) != std::string::npos;
        const bool names_file = c.file_flags.count(flag) && !value.empty() &&
                                run.err.find(printable(value)) != std::string::npos;
        // Accepted by the parser, the run stops at the sentinel, which is named instead.
        const bool sentinel = run.err.find(scratch.path().string()) != std::string::npos;
        accepted += sentinel && !names_flag;
        EXPECT_TRUE(names_flag || names_file || sentinel) << context << "\n" << run.err;
      }
    }
  }
  // The property would hold vacuously if every value were refused, or every one accepted.
  EXPECT_GT(accepted, 10);
  EXPECT_LT(accepted, runs / 2);
  // Nothing was written: no run got as far as an output.
  std::size_t entries = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(scratch.path())) ++entries;
  EXPECT_EQ(entries, 1u) << "a file was created in the scratch folder";
}

}  // namespace
}  // namespace sigmanet
