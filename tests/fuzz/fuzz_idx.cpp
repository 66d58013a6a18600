// Fuzzes the IDX readers (raw and gzip, images and labels) on arbitrary bytes. A bad input must end in
// InputError; anything else (a crash, a sanitizer report, another exception, a leak) is a finding.
#include <cstddef>
#include <cstdint>
#include <span>

#include "formats/idx_parse.hpp"
#include "sigmanet/error.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::uint8_t> bytes(data, size);
  try {
    const sigmanet::IdxImages images = sigmanet::detail::parse_idx_images(bytes, "fuzz");
    // What the parser promises for an accepted file.
    if (images.rows == 0 || images.cols == 0 || images.pixels.size() != images.count * images.rows * images.cols)
      __builtin_trap();
  } catch (const sigmanet::InputError&) {
  }
  try {
    // Labels are bytes, any value (the class count is load_data's to judge): what comes back is the file's tail.
    const std::vector<std::uint8_t> labels = sigmanet::detail::parse_idx_labels(bytes, "fuzz");
    if (size < 8 + labels.size()) __builtin_trap();
  } catch (const sigmanet::InputError&) {
  }
  return 0;
}
