// Bad input beyond the flag parsers: values that could change a run silently, outputs that could replace what
// they should not, inputs that could hang, and messages that blamed the wrong thing. Each class is tried through the
// real tool (or the library call behind it) and must give exit 2 and one line naming the flag or the file,
// before any work, and leave every file as it was.
//
// CI runs as root, which ignores permission bits: the "permission denied" tests skip there and say so.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <pty.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <fstream>
#include <iterator>
#include <thread>

#include "formats/atomic_file.hpp"
#include "formats/image_file.hpp"
#include "sigmanet/dataset.hpp"
#include "sigmanet/formats/checkpoint.hpp"
#include "sigmanet/formats/mnist.hpp"
#include "sigmanet/formats/model_file.hpp"
#include "sigmanet/trainer.hpp"
#include "test_support.hpp"

namespace sigmanet {
namespace {

namespace fs = std::filesystem;
using test::CliRun;
using test::run_cli_argv;
using Bytes = std::vector<std::uint8_t>;
using Args = std::vector<std::string>;

const Args kSmall = {"--device", "cpu", "--train-size", "200", "--validation-size", "100", "--test-size", "100"};

Args data_args() { return {"--data", test::mnist_dir().string()}; }

Args join(std::initializer_list<Args> parts) {
  Args all;
  for (const Args& p : parts) all.insert(all.end(), p.begin(), p.end());
  return all;
}

Bytes read_all(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  return Bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

int lines(const std::string& s) { return int(std::count(s.begin(), s.end(), '\n')); }

// Exit 2, nothing on stdout, one line on stderr that holds `names`.
void expect_refused(const CliRun& run, const std::string& names, const std::string& context) {
  EXPECT_FALSE(run.timed_out) << context << ": hung";
  EXPECT_EQ(run.status, 2) << context << "\n" << run.err;
  EXPECT_EQ(lines(run.err), 1) << context << "\n" << run.err;
  EXPECT_NE(run.err.find(names), std::string::npos) << context << ": should name " << names << "\n" << run.err;
  EXPECT_EQ(run.out, "") << context;
}

// A small model file, trained once for the tests that read one.
const fs::path& small_model() {
  static test::TempDir dir;
  static const fs::path file = dir / "model.safetensors";
  if (!fs::exists(file)) {
    const CliRun run = run_cli_argv(join({{"train", "--epochs", "1", "--save", file.string()}, kSmall, data_args()}));
    EXPECT_EQ(run.status, 0) << run.err;
  }
  return file;
}

// --- 1. Numbers, lists and names are parsed strictly -------------------------------------------------------

TEST(StrictFlags, SignsRangesTrailingTextAndEmptyEntriesAreRefusedNamingTheFlag) {
  const std::string seed_digits = "--seed: expected a whole number from 0 to 18446744073709551615 ";
  const auto not_decimal = [](const std::string& flag, const std::string& value) {
    return flag + ": expected a decimal number such as 0.5 or 3e-2 (got '" + value + "')";
  };
  const std::vector<std::pair<Args, std::string>> cases = {
      {{"train", "--sizes", "784,,10"}, "--sizes: entry 2 of the list is empty (got '784,,10')"},
      {{"train", "--sizes", "784,30,10,"}, "--sizes: entry 4 of the list is empty"},
      {{"train", "--sizes", ",784,30,10"}, "--sizes: entry 1 of the list is empty"},
      {{"train", "--sizes", ""}, "--sizes: entry 1 of the list is empty (got '')"},
      {{"train", "--sizes", "784,3000000000,10"}, "--sizes: entry 2 ('3000000000'): must be at most 2147483647"},
      {{"train", "--sizes", "784,-30,10"}, "--sizes: entry 2 ('-30'): must be at least 1"},
      {{"train", "--sizes", "[784,30,10]"}, "--sizes: entry 1 ('[784'): expected a whole number from 1 to 2147483647"},
      {{"train", "--seed", "-1"}, "--seed: must not be negative (got '-1')"},
      {{"train", "--seed", "18446744073709551616"}, "--seed: must be at most 18446744073709551615"},
      {{"train", "--seed", "1e3"}, seed_digits + "(got '1e3')"},
      {{"train", "--seed", " 5"}, seed_digits + "(got ' 5')"},
      {{"train", "--seed", "+5"}, seed_digits + "(got '+5')"},
      {{"train", "--seed", "0x10"}, seed_digits + "(got '0x10')"},
      {{"train", "--batch", "10abc"}, "--batch: expected a whole number from 1 to 18446744073709551615 (got '10abc')"},
      {{"train", "--batch", "-3"}, "--batch: must be at least 1 (got '-3')"},
      {{"train", "--epochs", "2147483648"}, "--epochs: must be at most 2147483647"},
      {{"train", "--train-size", "-5"}, "--train-size: must be at least 1 (got '-5')"},
      {{"train", "--validation-size", "18446744073709551611"}, "--validation-size: must be at most 4294967295"},
      {{"train", "--test-size", "-1"}, "--test-size: must be at least 1 (got '-1')"},
      {{"train", "--checkpoint-every", "0"}, "--checkpoint-every: must be at least 1 (got '0')"},
      {{"train", "--eta", "inf"}, not_decimal("--eta", "inf")},
      {{"train", "--eta", "1e999"}, "--eta: out of the range of a double (got '1e999')"},
      // Out of range, a number must not become 0 or the largest double in silence (from_chars leaves it 0).
      {{"train", "--lambda", "1e999"}, "--lambda: out of the range of a double (got '1e999')"},
      {{"train", "--lambda", "1e-999"}, "--lambda: out of the range of a double (got '1e-999')"},
      {{"train", "--eta", "0x1p3"}, not_decimal("--eta", "0x1p3")},
      {{"train", "--eta", "3,5"}, not_decimal("--eta", "3,5")},
      {{"train", "--precision", "1"}, "--precision: expected float or double (got '1')"},
      {{"train", "--device", "0"}, "--device: expected cpu, gpu or auto (got '0')"},
      {{"train", "--device", "tpu"}, "--device: expected cpu, gpu or auto (got 'tpu')"},
      {{"train", "--device", "CPU"}, "--device: expected cpu, gpu or auto (got 'CPU')"},
      {{"train", "--init", "1"}, "--init: expected standard or scaled"},
      {{"evaluate", "--model", "m", "--set", "train"}, "--set: expected test or validation (got 'train')"},
      {{"evaluate", "--model", "m", "--scale", "-1"}, "--scale: must be at least 1 (got '-1')"},
      {{"evaluate", "--model", "m", "--mistakes-count", "18446744073709551616"},
       "--mistakes-count: must be at most 18446744073709551615"},
      {{"predict", "--model", "m", "--index", "1,,2"}, "--index: entry 2 of the list is empty"},
      {{"predict", "--model", "m", "--index", "-1"}, "--index: entry 1 ('-1'): must not be negative"},
      {{"show-weights", "--model", "m", "--out", "w.png", "--scale", "33"}, "--scale: must be at most 32"},
      {{"verify", "--seed", "-2"}, "--seed: must not be negative (got '-2')"},
      {{"bench", "--repetitions", "0"}, "--repetitions: must be at least 1 (got '0')"},
      {{"bench", "--warmup", "-1"}, "--warmup: must not be negative (got '-1')"},
      {{"bench", "--backends", "cpu-float,"}, "--backends: entry 2 of the list is empty"},
      {{"bench", "--seed", "99999999999999999999"}, "--seed: must be at most 18446744073709551615"},
  };
  for (const auto& [args, names] : cases) {
    std::string context;
    for (const std::string& a : args) context += "[" + a + "] ";
    expect_refused(run_cli_argv(args, 30), names, context);
  }
}

// A value the user typed reaches the run as typed: "010" is ten (CLI11 alone reads it as octal eight), and
// the largest seed is the largest seed.
TEST(StrictFlags, AcceptedValuesReachTheRunUnchanged) {
  const CliRun run = run_cli_argv(
      join({{"train", "--epochs", "1", "--batch", "010", "--seed", "18446744073709551615"}, kSmall, data_args()}));
  ASSERT_EQ(run.status, 0) << run.err;
  EXPECT_NE(run.out.find("batch 10, eta 3, 1 epochs, seed 18446744073709551615"), std::string::npos) << run.out;
}

// A word that is no command used to get CLI11's "A subcommand is required", naming neither it nor the commands.
TEST(StrictFlags, AWordThatIsNoCommandIsNamedWithTheCommands) {
  expect_refused(run_cli_argv({"fit", "--epochs", "3"}),
                 "sigmanet: fit: not a sigmanet command; the commands are train, verify, bench, evaluate, predict, "
                 "show-weights, export or sweep (see sigmanet --help)",
                 "fit");
}

// Values that would wrap a sum of sizes are refused by the library too, naming the flags.
TEST(StrictFlags, SplitSizesAreComparedWithoutWrapping) {
  MnistSplitSizes sizes;
  sizes.train = 50000;
  sizes.validation = std::numeric_limits<std::size_t>::max() - 49000;  // train + validation wraps to 999
  try {
    load_mnist(test::mnist_dir(), sizes);
    ADD_FAILURE() << "accepted";
  } catch (const SettingError& e) {
    EXPECT_EQ(e.setting(), Setting::train_size);
    EXPECT_NE(std::string(e.what()).find("train_size + validation_size"), std::string::npos) << e.what();
  }
}

// A huge batch is blamed on --batch, not on the sizes that are fine.
TEST(StrictFlags, MemoryForAHugeBatchIsBlamedOnTheBatch) {
  const CliRun run = run_cli_argv(join({{"train", "--batch", "1000000000000"}, kSmall, data_args()}));
  expect_refused(run, "--batch 1000000000000 (with --sizes 784,30,10): training would need about", "huge batch");
  const CliRun sizes = run_cli_argv(join({{"train", "--sizes", "784,100000000,10"}, kSmall, data_args()}));
  expect_refused(sizes, "--sizes 784,100000000,10: training would need", "huge layer");
}

// Settings stored in a checkpoint are blamed on the checkpoint, not on flags the user never typed.
TEST(StrictFlags, ACheckpointsStoredSettingsAreBlamedOnTheCheckpoint) {
  test::TempDir dir;
  auto write = [&](const std::string& name, std::vector<int> sizes, std::size_t train) {
    Checkpoint ck;
    ck.config.sizes = sizes;
    ck.config.epochs = 3;
    ck.config.split.train = train;
    ck.config.split.validation = 10000;
    Rng rng(1);
    ck.parameters = init_parameters(sizes, Init::standard, rng);
    ck.state.rng = rng.snapshot();
    save_checkpoint(dir / name, ck);
    return (dir / name).string();
  };
  const std::string nine = write("nine.ck", {784, 30, 9}, 200);
  expect_refused(run_cli_argv(join({{"train", "--device", "cpu", "--resume", nine}, data_args()})),
                 nine + ": the checkpoint's sizes: the network takes 784 inputs and gives 9 outputs", "stored sizes");
  const std::string big = write("big.ck", {784, 30, 10}, 55000);
  expect_refused(run_cli_argv(join({{"train", "--device", "cpu", "--resume", big}, data_args()})),
                 big + ": the checkpoint's train_size + validation_size: 55000 + 10000 exceeds", "stored split");
  // Given on the command line, the flag is the one to blame.
  expect_refused(
      run_cli_argv(join({{"train", "--device", "cpu", "--resume", big, "--validation-size", "9000"}, data_args()})),
      "--train-size + --validation-size: 55000 + 9000 exceeds", "typed split");
}

// --- 2. Output paths are checked before any work ---------------------------------------------------------

TEST(OutputPaths, DevicesFifosAndFoldersAreRefusedAndLeftAsTheyWere) {
  test::TempDir dir;
  ASSERT_EQ(mkfifo((dir / "fifo").c_str(), 0600), 0);
  fs::create_directory(dir / "folder");
  for (const std::string flag : {"--save", "--checkpoint", "--metrics"}) {
    for (const auto& [target, names] :
         std::vector<std::pair<std::string, std::string>>{{"/dev/null", "is a character device, not a regular file"},
                                                          {"/dev/full", "is a character device, not a regular file"},
                                                          {(dir / "fifo").string(), "is a FIFO, not a regular file"},
                                                          {(dir / "folder").string(), "is a folder"},
                                                          {(dir / "folder").string() + "/", "names a folder"}}) {
      const CliRun run = run_cli_argv(join({{"train", flag, target}, kSmall, data_args()}), 30);
      expect_refused(run, flag + ": " + target, flag + " " + target);
      EXPECT_NE(run.err.find(names), std::string::npos) << run.err;
    }
  }
  struct stat st {};
  ASSERT_EQ(stat("/dev/null", &st), 0);
  EXPECT_TRUE(S_ISCHR(st.st_mode)) << "/dev/null was replaced";
  ASSERT_EQ(stat((dir / "fifo").c_str(), &st), 0);
  EXPECT_TRUE(S_ISFIFO(st.st_mode));
  expect_refused(run_cli_argv({"evaluate", "--model", "m", "--mistakes", "/dev/null"}), "--mistakes: /dev/null",
                 "mistakes");
  expect_refused(run_cli_argv({"show-weights", "--model", "m", "--out", (dir / "fifo").string()}), "--out: ", "out");
  expect_refused(run_cli_argv({"bench", "--synthetic", "--json", (dir / "folder").string()}), "--json: ", "json");
}

// Missing folders and folders named as files are exit 2 naming the flag, before the model or data is read
// (the model here does not exist: had it been read first, the message would name it).
TEST(OutputPaths, MissingFoldersAreFoundBeforeAnyWork) {
  test::TempDir dir;
  const std::string missing = (dir / "nodir" / "x.png").string();
  const std::string folder = "folder " + (dir / "nodir").string() + " does not exist";
  expect_refused(run_cli_argv({"evaluate", "--model", "absent", "--mistakes", missing}), "--mistakes: " + folder,
                 "mistakes");
  expect_refused(run_cli_argv({"show-weights", "--model", "absent", "--out", missing}), "--out: " + folder, "out");
  expect_refused(run_cli_argv({"show-weights", "--model", "absent", "--out", dir.path().string()}),
                 "--out: " + dir.path().string() + ": is a folder", "out folder");
  expect_refused(run_cli_argv(join({{"train", "--metrics", missing}, kSmall, data_args()})), "--metrics: " + folder,
                 "metrics");
  expect_refused(run_cli_argv({"bench", "--synthetic", "--json", missing}), "--json: " + folder, "json");
}

TEST(OutputPaths, TwoOutputsOfOneRunMayNotBeOneFile) {
  test::TempDir dir;
  const std::string x = (dir / "x").string();
  test::write_bytes(dir / "x", {1, 2, 3});
  fs::create_hard_link(dir / "x", dir / "hard");
  fs::create_symlink(dir / "x", dir / "soft");
  const std::string same = "is the same file as";
  for (const Args& pair : std::vector<Args>{{"--save", x, "--checkpoint", x},
                                            {"--save", x, "--metrics", (dir / "." / "x").string()},
                                            {"--checkpoint", x, "--metrics", (dir / "hard").string()},
                                            {"--save", (dir / "soft").string(), "--checkpoint", x},
                                            {"--resume", x, "--save", x}}) {
    const CliRun run = run_cli_argv(join({{"train"}, pair, kSmall, data_args()}));
    expect_refused(run, same, pair[0] + " " + pair[2]);
  }
  // Not yet existing, the same path spelled twice is still one file.
  const std::string y = (dir / "y").string();
  fs::create_directory(dir / "sub");
  expect_refused(
      run_cli_argv(
          join({{"train", "--save", y, "--checkpoint", (dir / "sub" / ".." / "y").string()}, kSmall, data_args()})),
      same, "absent");
  EXPECT_EQ(read_all(dir / "x"), (Bytes{1, 2, 3}));
  expect_refused(run_cli_argv({"show-weights", "--model", x, "--out", (dir / "hard").string()}), same, "show-weights");
  expect_refused(run_cli_argv({"evaluate", "--model", x, "--mistakes", x}), same, "evaluate");
}

// A symbolic link is followed, as cp and editors do: the file it points to is replaced atomically and the
// link stays a link. A dangling link is refused (as cp refuses), not written through.
TEST(OutputPaths, LinksAreFollowedAndDanglingLinksRefused) {
  test::TempDir dir;
  fs::create_directory(dir / "real");
  test::write_bytes(dir / "real" / "model", {9});
  fs::create_symlink(dir / "real" / "model", dir / "link");
  write_file_atomically(dir / "link", Bytes{1, 2});
  EXPECT_TRUE(fs::is_symlink(dir / "link"));
  EXPECT_EQ(read_all(dir / "real" / "model"), (Bytes{1, 2}));
  std::size_t entries = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir / "real")) ++entries;
  EXPECT_EQ(entries, 1u) << "the temporary file belongs beside the target, and must be gone";

  fs::create_symlink(dir / "nowhere", dir / "dangling");
  const CliRun run = run_cli_argv(join({{"train", "--save", (dir / "dangling").string()}, kSmall, data_args()}));
  expect_refused(run, "--save: " + (dir / "dangling").string() + ": is a symbolic link to", "dangling");
  EXPECT_FALSE(fs::exists(dir / "nowhere"));
  EXPECT_THROW(write_file_atomically(dir / "dangling", Bytes{1}), InputError);
  EXPECT_THROW(write_file_atomically("/dev/null", Bytes{1}), InputError);
}

// An output that is one of the data files the run reads (through --data or $SIGMANET_DATA) used to be overwritten,
// exit 0, as an output equal to --model or --resume is not: refused, naming the flag and the file, which is left
// as it was.
TEST(OutputPaths, AnOutputThatIsADataFileIsRefused) {
  test::TempDir dir;
  const fs::path data = test::write_tiny_mnist(dir / "data");
  const std::string labels = (data / "t10k-labels-idx1-ubyte").string();
  const Bytes before = read_all(labels);
  const Args tiny = {"--device", "cpu", "--train-size", "200", "--validation-size", "100", "--test-size", "100"};
  const std::vector<std::pair<std::pair<std::string, Args>, bool>> cases = {
      {{"--save", join({{"train", "--save", labels, "--data", data.string()}, tiny})}, false},
      {{"--metrics", join({{"train", "--metrics", labels}, tiny})}, true},  // the folder from $SIGMANET_DATA
      {{"--checkpoint", join({{"train", "--checkpoint", labels, "--data", data.string()}, tiny})}, false},
      {{"--mistakes", {"evaluate", "--model", small_model().string(), "--mistakes", labels, "--data", data.string()}},
       false},
      {{"--json", {"bench", "--quick", "--json", labels, "--data", data.string()}}, false}};
  for (const auto& [flag_args, from_environment] : cases) {
    const auto& [flag, args] = flag_args;
    const CliRun run =
        run_cli_argv(args, 60, from_environment ? std::vector<std::pair<std::string, std::string>>{{"SIGMANET_DATA",
                                                                                                     data.string()}}
                                                : std::vector<std::pair<std::string, std::string>>{});
    expect_refused(run, flag + ": " + labels + " is the data file " + labels +
                            " this run reads; writing it would destroy the data, so name another file",
                   flag);
    EXPECT_EQ(read_all(labels), before) << flag;
  }
}

// Any legal name works: the temporary name beside it must fit the file-name limit too.
TEST(OutputPaths, TheLongestLegalNameCanBeWritten) {
  test::TempDir dir;
  const long name_max = pathconf(dir.path().c_str(), _PC_NAME_MAX);
  ASSERT_GT(name_max, 20);
  for (const long length : {name_max - 12, name_max - 1, name_max}) {
    const fs::path file = dir / std::string(std::size_t(length), 'm');
    write_file_atomically(file, Bytes{std::uint8_t(length)});
    EXPECT_EQ(read_all(file), (Bytes{std::uint8_t(length)})) << length;
    EXPECT_LE(temporary_prefix(file).size() + 17, std::size_t(name_max));
  }
  // Two long names that differ only at the end get different temporary names.
  EXPECT_NE(temporary_prefix(std::string(250, 'a') + "1"), temporary_prefix(std::string(250, 'a') + "2"));
  const fs::path model = dir / (std::string(240, 'n') + ".safetensors");
  const CliRun run = run_cli_argv(join({{"train", "--epochs", "1", "--save", model.string()}, kSmall, data_args()}));
  EXPECT_EQ(run.status, 0) << run.err;
  EXPECT_TRUE(fs::is_regular_file(model));
  const CliRun too_long = run_cli_argv(
      join({{"train", "--save", (dir / std::string(std::size_t(name_max) + 1, 'x')).string()}, kSmall, data_args()}));
  expect_refused(too_long, "bytes long; this file system allows", "too long");
}

// --- 3. Inputs are opened without hanging --------------------------------------------------------------

TEST(Inputs, FifosSocketsDevicesAndFoldersAreRefusedAtOnce) {
  test::TempDir dir;
  const std::string fifo = (dir / "fifo").string();
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  const std::string is_fifo = fifo + ": is a FIFO, not a regular file";
  // Ten seconds is far more than any of these needs; a blocking open would take forever.
  expect_refused(run_cli_argv({"evaluate", "--model", fifo}, 10), is_fifo, "--model");
  expect_refused(run_cli_argv({"show-weights", "--model", fifo, "--out", (dir / "w.png").string()}, 10), is_fifo,
                 "show-weights");
  expect_refused(run_cli_argv(join({{"train", "--resume", fifo}, data_args()}), 10), is_fifo, "--resume");
  expect_refused(run_cli_argv({"predict", "--model", small_model().string(), fifo}, 10), is_fifo, "image");
  expect_refused(run_cli_argv({"predict", "--model", small_model().string(), "/dev/zero"}, 10),
                 "/dev/zero: is a character device, not a regular file", "device");
  expect_refused(run_cli_argv({"predict", "--model", dir.path().string(), "x.png"}, 10), "is a folder", "folder");
  // A data file that is a FIFO.
  fs::create_directory(dir / "data");
  for (const char* name :
       {"train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"})
    ASSERT_EQ(mkfifo((dir / "data" / name).c_str(), 0600), 0);
  expect_refused(run_cli_argv(join({{"train", "--data", (dir / "data").string()}, kSmall}), 10),
                 "train-images-idx3-ubyte: is a FIFO, not a regular file", "data FIFO");
}

// A 64 GB sparse file as --model, --resume or predict's model was read whole before its 8-byte header was looked
// at (std::bad_alloc, exit 1, or 64 GB read where memory allows): the header is read first and refuses it.
TEST(Inputs, AHugeFileThatIsNoModelIsRefusedByItsHeaderAtOnce) {
  test::TempDir dir;
  const std::string big = (dir / "big.safetensors").string();
  test::write_bytes(big, {});
  if (truncate(big.c_str(), off_t(64) << 30) != 0) GTEST_SKIP() << "no 64 GiB sparse files here";
  const std::string line = big + ": header length 0 is not plausible; is this a safetensors file?";
  expect_refused(run_cli_argv({"evaluate", "--model", big}, 10), line, "evaluate");
  expect_refused(run_cli_argv({"predict", "--model", big, "--index", "0"}, 10), line, "predict");
  expect_refused(run_cli_argv(join({{"train", "--resume", big}, data_args()}), 10), line, "resume");
}

TEST(Inputs, ADataFolderThatIsAFileIsNamedAsSuch) {
  test::TempDir dir;
  test::write_bytes(dir / "file", {1});
  expect_refused(run_cli_argv(join({{"train", "--data", (dir / "file").string()}, kSmall})),
                 (dir / "file").string() + ": is a regular file, not a folder of MNIST files", "file");
}

// Root reads files whatever their permission bits, so as root the tool is run as nobody (65534).
TEST(Inputs, UnreadableFilesAndFoldersSayPermissionDenied) {
  const int user = geteuid() == 0 ? 65534 : -1;
  test::TempDir dir;
  fs::permissions(dir.path(), fs::perms::owner_all | fs::perms::others_read | fs::perms::others_exec);
  test::write_bytes(dir / "model", {1, 2, 3});
  fs::permissions(dir / "model", fs::perms::none);
  fs::create_directory(dir / "data");
  fs::permissions(dir / "data", fs::perms::none);
  const CliRun probe = run_cli_argv({"--version"}, 10, {}, {}, user);
  if (probe.status == 125) GTEST_SKIP() << "cannot switch to user " << user << " here";
  ASSERT_EQ(probe.status, 0) << "the tool cannot run as user " << user << ": " << probe.err;
  expect_refused(run_cli_argv({"evaluate", "--model", (dir / "model").string()}, 30, {}, {}, user),
                 (dir / "model").string() + ": cannot open: permission denied", "model");
  expect_refused(run_cli_argv(join({{"train", "--data", (dir / "data").string()}, kSmall}), 30, {}, {}, user),
                 (dir / "data").string() + ": permission denied", "data folder");
  expect_refused(
      run_cli_argv(join({{"train", "--save", (dir / "data" / "m").string()}, kSmall, data_args()}), 30, {}, {}, user),
      "--save: cannot create files in folder " + (dir / "data").string() + ": permission denied", "output folder");
  fs::permissions(dir / "data", fs::perms::owner_all);
}

// Without --checkpoint, Ctrl-C saves to ./sigmanet-checkpoint.safetensors: a folder (or a FIFO) sitting there is
// refused before any work, not found at the stop.
TEST(OutputPaths, TheDefaultCtrlCCheckpointIsCheckedBeforeTheWork) {
  test::TempDir cwd;
  fs::create_directory(cwd / "sigmanet-checkpoint.safetensors");
  const CliRun run = run_cli_argv(join({{"train", "--epochs", "1"}, kSmall, data_args()}), 30, {}, cwd.path());
  expect_refused(run, "--checkpoint (default sigmanet-checkpoint.safetensors, where Ctrl-C saves)",
                 "default checkpoint");
  fs::remove(cwd / "sigmanet-checkpoint.safetensors");
  const CliRun fine = run_cli_argv(join({{"train", "--epochs", "1"}, kSmall, data_args()}), 60, {}, cwd.path());
  EXPECT_EQ(fine.status, 0) << fine.err;
}

// Both NAME and NAME.gz: the same records are fine (NAME is read, and a note says so); different ones are refused.
TEST(Inputs, RawAndGzipCopiesOfOneFileMustAgree) {
  test::TempDir dir;
  const Bytes images = test::idx_images(6, 28, 28), labels = test::idx_labels({1, 2, 3, 4, 5, 6});
  for (const char* kind : {"train", "t10k"}) {
    test::write_bytes(dir / (std::string(kind) + "-images-idx3-ubyte.gz"), test::gzip_bytes(images));
    test::write_bytes(dir / (std::string(kind) + "-labels-idx1-ubyte.gz"), test::gzip_bytes(labels));
  }
  test::write_bytes(dir / "train-labels-idx1-ubyte", labels);
  MnistSplitSizes sizes{4, 2, 3};
  const Mnist same = load_mnist(dir.path(), sizes);
  EXPECT_EQ(same.train.labels, (std::vector<std::uint8_t>{1, 2, 3, 4}));
  ASSERT_EQ(same.notes.size(), 1u) << "it says which copy it read";
  EXPECT_EQ(same.notes[0], dir.path().string() +
                               " holds both train-labels-idx1-ubyte and train-labels-idx1-ubyte.gz with the same "
                               "records: read train-labels-idx1-ubyte");
  test::write_bytes(dir / "train-labels-idx1-ubyte", test::idx_labels({1, 2, 3, 4, 5, 7}));
  try {
    load_mnist(dir.path(), sizes);
    ADD_FAILURE() << "two different copies were accepted";
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()), dir.path().string() +
                                         ": holds both train-labels-idx1-ubyte and train-labels-idx1-ubyte.gz, and "
                                         "they differ; remove the one you do not mean");
  }
}

// A digit drawn on a transparent ground: composited on the ground it was drawn for, never read as black.
TEST(Inputs, TransparentPngsAreCompositedOnTheirGround) {
  auto grey_alpha = [](std::uint8_t ink, std::uint8_t ink_alpha, std::uint8_t ground, std::uint8_t ground_alpha) {
    Image img(28, 28, 2);
    for (std::size_t y = 0; y < 28; ++y)
      for (std::size_t x = 0; x < 28; ++x) {
        const bool stroke = x >= 12 && x < 16 && y >= 4 && y < 24;
        img.at(x, y)[0] = stroke ? ink : ground;
        img.at(x, y)[1] = stroke ? ink_alpha : ground_alpha;
      }
    return encode_png(img);
  };
  // Black ink on transparent black: a white ground.
  Image dark = decode_png_grey(grey_alpha(0, 255, 0, 0), "dark");
  EXPECT_EQ(*dark.at(0, 0), 255);
  EXPECT_EQ(*dark.at(13, 10), 0);
  // White ink on transparent white: a black ground.
  Image light = decode_png_grey(grey_alpha(255, 255, 255, 0), "light");
  EXPECT_EQ(*light.at(0, 0), 0);
  EXPECT_EQ(*light.at(13, 10), 255);
  // Half-transparent ink is blended: 50% black over white.
  Image half = decode_png_grey(grey_alpha(0, 128, 0, 0), "half");
  EXPECT_EQ(*half.at(13, 10), 127);
  // Opaque images are unchanged.
  Image opaque = decode_png_grey(grey_alpha(200, 255, 30, 255), "opaque");
  EXPECT_EQ(*opaque.at(0, 0), 30);
  EXPECT_EQ(*opaque.at(13, 10), 200);
  try {
    decode_png_grey(grey_alpha(0, 0, 0, 0), "clear.png");
    ADD_FAILURE() << "a fully transparent image was read";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("clear.png: the image is fully transparent"), std::string::npos);
  }
}

// Through predict: MNIST's test digit 0 drawn as black ink whose opacity is the pixel value on a transparent
// ground gives exactly the outputs of --index 0.
TEST(Inputs, PredictReadsATransparentDigitAsTheDigit) {
  test::TempDir dir;
  const Mnist mnist = load_mnist(test::mnist_dir(), {200, 100, 100});
  Image img(28, 28, 2);
  for (std::size_t i = 0; i < 784; ++i) img.pixels[2 * i + 1] = mnist.test.image(0)[i];
  write_png(dir / "seven.png", img);
  const CliRun file =
      run_cli_argv({"predict", "--device", "cpu", "--model", small_model().string(), (dir / "seven.png").string()});
  const CliRun index = run_cli_argv(
      join({{"predict", "--device", "cpu", "--model", small_model().string(), "--index", "0"}, data_args()}));
  ASSERT_EQ(file.status, 0) << file.err;
  ASSERT_EQ(index.status, 0) << index.err;
  const std::string outputs = index.out.substr(index.out.find("; outputs"));
  EXPECT_NE(file.out.find(outputs), std::string::npos) << file.out << index.out;
  EXPECT_NE(file.out.find("(dark on light: inverted)"), std::string::npos) << file.out;
}

// --- 4. Leftovers and the second Ctrl-C ----------------------------------------------------------------

pid_t dead_pid() {
  const pid_t child = fork();
  if (child == 0) _exit(0);
  int status = 0;
  waitpid(child, &status, 0);
  return child;
}

TEST(Leftovers, AKilledWritersTemporaryFileIsRemovedByTheNextWrite) {
  test::TempDir dir;
  const fs::path target = dir / "model.safetensors";
  const std::string prefix = temporary_prefix(target);
  const fs::path dead = dir / (prefix + std::to_string(dead_pid()) + "-a1b2c3");
  const fs::path alive = dir / (prefix + std::to_string(getppid()) + "-d4e5f6");
  const fs::path other = dir / (temporary_prefix(dir / "other") + std::to_string(dead_pid()) + "-g7h8i9");
  for (const fs::path& f : {dead, alive, other}) test::write_bytes(f, {1});
  write_file_atomically(target, Bytes{4, 2});
  EXPECT_FALSE(fs::exists(dead)) << "a dead writer's leftover stays";
  EXPECT_TRUE(fs::exists(alive)) << "a live writer's file was removed";
  EXPECT_TRUE(fs::exists(other)) << "another target's file was removed";
  EXPECT_EQ(read_all(target), (Bytes{4, 2}));
}

// A writer killed mid-write really leaves its file, and the next write cleans it. The kill is the kernel's:
// past RLIMIT_FSIZE a write raises SIGXFSZ, whose default action ends the process on the spot.
TEST(Leftovers, AWriterKilledMidWriteIsCleanedUpAfter) {
  test::TempDir dir;
  const fs::path target = dir / "big";
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    std::signal(SIGXFSZ, SIG_DFL);
    rlimit limit{4096, 4096};
    setrlimit(RLIMIT_FSIZE, &limit);
    write_file_atomically(target, Bytes(100000, 1));
    _exit(0);
  }
  int status = 0;
  waitpid(child, &status, 0);
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGXFSZ) << status;
  std::size_t leftovers = 0;
  for (const auto& e : fs::directory_iterator(dir.path()))
    leftovers += e.path().filename().string().rfind(".big.tmp-", 0) == 0;
  ASSERT_EQ(leftovers, 1u) << "the killed writer left no temporary file";
  write_file_atomically(target, Bytes{7});
  std::size_t entries = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir.path())) ++entries;
  EXPECT_EQ(entries, 1u);
  EXPECT_EQ(read_all(target), (Bytes{7}));
}

// The first Ctrl-C finishes the mini-batch; a second one during it ends the process at once and says which
// checkpoint is whole. Ordered by what the process shows, not by time: stderr is a terminal, so the run draws its
// progress bar after each batch; the first signal goes once the bar shows batch 1 done (batch 2 has begun: a batch
// of 1,000 through two layers of 1,000 neurons, measured 0.3 s), the second once the kernel says the first was
// delivered (not pending), so that the two cannot merge into one.
TEST(SecondSignal, SaysTheCheckpointWasNotUpdatedAndWhichIsWhole) {
  test::TempDir dir;
  const fs::path ck = dir / "ck.safetensors";
  test::write_bytes(ck, {5, 5, 5});
  const std::string cli = test::cli_path(), data = test::mnist_dir().string();  // before fork: the child only execs
  int terminal = -1, side = -1;
  termios raw{};
  cfmakeraw(&raw);  // no "\r\n" for "\n"
  ASSERT_EQ(openpty(&terminal, &side, nullptr, &raw, nullptr), 0);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    const int null = open("/dev/null", O_WRONLY);
    dup2(null, 1);
    dup2(side, 2);
    close(terminal);
    execl(cli.c_str(), cli.c_str(), "train", "--device", "cpu", "--sizes", "784,1000,1000,10", "--batch", "1000",
          "--train-size", "10000", "--validation-size", "0", "--test-size", "100", "--epochs", "1", "--checkpoint",
          ck.c_str(), "--data", data.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  close(side);
  std::string err;
  char buf[512];
  const auto read_some = [&] {
    const ssize_t n = read(terminal, buf, sizeof buf);  // EIO once the process and its terminal are gone
    if (n > 0) err.append(buf, std::size_t(n));
    return n > 0;
  };
  while (err.find("%") == std::string::npos && read_some()) {
  }
  ASSERT_NE(err.find("\rEpoch 1/1 [####."), std::string::npos) << err;  // 4 of 40: batch 1 of 10 done
  ASSERT_NE(err.find("]  10%"), std::string::npos) << err;
  kill(child, SIGINT);
  while (test::signal_pending(child, SIGINT)) std::this_thread::yield();
  kill(child, SIGINT);
  while (read_some()) {
  }
  close(terminal);
  int status = 0;
  waitpid(child, &status, 0);
  ASSERT_TRUE(WIFEXITED(status)) << err;
  EXPECT_EQ(WEXITSTATUS(status), 130) << err;
  const std::string said = "sigmanet: second signal: stopped at once; the checkpoint was not updated; " +
                           ck.string() + " is whole, as it was before this run\n";
  ASSERT_GE(err.size(), said.size()) << err;
  EXPECT_EQ(err.substr(err.size() - said.size()), said) << err;
  EXPECT_EQ(err.find("sigmanet: "), err.size() - said.size()) << "one message:\n" << err;
  EXPECT_EQ(read_all(ck), (Bytes{5, 5, 5}));
}

}  // namespace
}  // namespace sigmanet
