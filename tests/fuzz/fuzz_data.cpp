// Fuzzes the CSV and NPZ readers (and the .npy header parser behind the latter) on arbitrary bytes. The first byte
// chooses the reader and a CSV's options; the rest is the file. A bad input must end in InputError; anything else
// (a crash, a sanitizer report, another exception, a leak) is a finding.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "formats/data_parse.hpp"
#include "sigmanet/error.hpp"

namespace {

// What the readers promise for an accepted file: records, and features of one kind filling rows x cols each.
void check(const sigmanet::Dataset& d) {
  const std::size_t want = d.size() * d.features();
  if (d.size() == 0 || d.features() == 0) __builtin_trap();
  if (d.has_values() ? d.values.size() != want || !d.pixels.empty() : d.pixels.size() != want) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::uint8_t choice = data[0];
  const std::span<const std::uint8_t> bytes(data + 1, size - 1);
  try {
    if (choice & 1) {
      check(sigmanet::detail::parse_npz(bytes, "fuzz.npz", "x_train", "y_train"));
    } else {
      sigmanet::CsvOptions o;
      o.header = static_cast<sigmanet::HeaderRow>((choice >> 1) % 3);
      o.features = static_cast<sigmanet::FeatureKind>((choice >> 3) % 3);
      o.labelled = (choice & 0x20) == 0;
      if (choice & 0x40) o.label_column = "2";
      check(sigmanet::detail::parse_csv(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()),
                                        "fuzz.csv", o));
    }
  } catch (const sigmanet::InputError&) {
  }
  return 0;
}
