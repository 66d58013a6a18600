// Regression cases for the IDX parsers found while fuzzing and hardening them (tests/fuzz/fuzz_idx.cpp).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "formats/idx_parse.hpp"
#include "sigmanet/dataset.hpp"
#include "sigmanet/error.hpp"
#include "test_support.hpp"

namespace sigmanet {
namespace {

using Bytes = std::vector<std::uint8_t>;

using test::put_u32;

Bytes labels_file(std::uint32_t count) {
  Bytes labels;
  for (std::uint32_t i = 0; i < count; ++i) labels.push_back(static_cast<std::uint8_t>(i % 10));
  return test::idx_labels(labels);
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const InputError& e) {
    return e.what();
  }
  return "(no InputError)";
}

// The bytes this process has read so far (read(2) and the like, /proc/self/io's rchar).
std::uint64_t bytes_read() {
  std::ifstream io("/proc/self/io");
  for (std::string key; io >> key;) {
    std::uint64_t value = 0;
    io >> value;
    if (key == "rchar:") return value;
  }
  ADD_FAILURE() << "/proc/self/io has no rchar";
  return 0;
}

TEST(IdxParsing, RefusesAFileOver2GiBWithoutReadingIt) {
  // A sparse 3 GiB file: before the fix the reader pulled all of it into memory before checking the size. The
  // size is checked before reading: the refusal reads almost nothing (measured: 0 bytes; /proc/self/io counts).
  test::TempDir dir;
  const auto file = dir / "huge-idx1-ubyte";
  test::write_bytes(file, labels_file(1));
  std::filesystem::resize_file(file, std::uintmax_t{3} << 30);
  const std::uint64_t before = bytes_read();
  const std::string message = error_of([&] { read_idx_labels(file); });
  const std::uint64_t read = bytes_read() - before;
  EXPECT_EQ(message, file.string() + ": larger than 2 GiB; not an IDX file");
  EXPECT_LT(read, 4096u) << "the size must be checked before reading";
}

TEST(IdxParsing, ParsesConcatenatedGzipMembersFromBytes) {
  const Bytes raw = labels_file(5);
  const Bytes half1(raw.begin(), raw.begin() + 6), half2(raw.begin() + 6, raw.end());
  Bytes packed = test::gzip_bytes(half1);
  const Bytes second = test::gzip_bytes(half2);
  packed.insert(packed.end(), second.begin(), second.end());
  EXPECT_EQ(detail::parse_idx_labels(packed, "two.gz"), (Bytes{0, 1, 2, 3, 4}));
}

TEST(IdxParsing, GarbageAfterAGzipMemberIsCorruptNotACrash) {
  Bytes packed = test::gzip_bytes(labels_file(3));
  packed.insert(packed.end(), {0x00, 0x01, 0x02, 0x03});
  EXPECT_EQ(error_of([&] { detail::parse_idx_labels(packed, "x.gz"); }).rfind("x.gz: corrupt gzip data (", 0), 0u);
}

TEST(IdxParsing, ImageCountThatWouldOverflowIsRefusedByTheHeader) {
  Bytes b;
  for (std::uint32_t v : {2051u, 0xffffffffu, 0xffffffffu, 0xffffffffu}) put_u32(b, v);
  EXPECT_EQ(error_of([&] { detail::parse_idx_images(b, "big"); }),
            "big: header claims 4294967295 images of 18446744065119617025 bytes, more than 2 GiB");
}

TEST(IdxParsing, TruncatedGzipIsReportedAsTruncated) {
  const Bytes packed = test::gzip_bytes(labels_file(100));
  const Bytes cut(packed.begin(), packed.end() - 10);
  EXPECT_EQ(error_of([&] { detail::parse_idx_labels(cut, "cut.gz"); }),
            "cut.gz: truncated gzip data (the download may be incomplete)");
}

TEST(IdxParsing, EveryPrefixOfAValidFileIsRefusedCleanly) {
  const Bytes raw = labels_file(12);
  for (std::size_t n = 0; n < raw.size(); ++n) {
    const Bytes prefix(raw.begin(), raw.begin() + static_cast<std::ptrdiff_t>(n));
    EXPECT_NE(error_of([&] { detail::parse_idx_labels(prefix, "p"); }), "(no InputError)") << n << " bytes";
  }
  EXPECT_EQ(detail::parse_idx_labels(raw, "p").size(), 12u);
}

}  // namespace
}  // namespace sigmanet
