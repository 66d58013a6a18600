// Fuzzes the model/checkpoint reader: the safetensors decoder on arbitrary bytes, then, for what it
// accepts, the layer and checkpoint readers on top of it (load_checkpoint and load_model read files, so the
// bytes go through a per-process temporary file). A bad input must end in InputError; a crash, a sanitizer
// report, another exception or a leak is a finding.
#include <unistd.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <span>
#include <string>

#include "formats/layer_tensors.hpp"
#include "formats/safetensors.hpp"
#include "sigmanet/error.hpp"
#include "sigmanet/formats/checkpoint.hpp"
#include "sigmanet/formats/model_file.hpp"

namespace {

const std::filesystem::path& scratch_file() {
  static const std::filesystem::path file =
      std::filesystem::temp_directory_path() / ("sigmanet-fuzz-" + std::to_string(::getpid()) + ".safetensors");
  return file;
}

void write(const std::uint8_t* data, std::size_t size) {
  std::ofstream out(scratch_file(), std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  if (!out) __builtin_trap();  // the fuzzer's own scratch file must be writable
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace sigmanet;
  SafeTensors decoded;
  try {
    decoded = decode_safetensors(std::span<const std::uint8_t>(data, size), "fuzz");
  } catch (const InputError&) {
    return 0;  // the other readers start with this decoder; a file it refuses goes no further
  }
  // What the decoder promises for an accepted file.
  for (const auto& [name, t] : decoded.tensors)
    if (t.data.size() != t.elements() * dtype_bytes(t.dtype)) __builtin_trap();
  // Written again, it reads back the same: the checksums were checked and taken out of the metadata, and
  // the writer puts them back (or leaves them out, as the file did).
  const SafeTensors again = decode_safetensors(encode_safetensors(decoded), "fuzz again");
  if (again.metadata != decoded.metadata || again.checksums != decoded.checksums ||
      again.tensors.size() != decoded.tensors.size())
    __builtin_trap();
  for (const auto& [name, t] : decoded.tensors) {
    const auto it = again.tensors.find(name);
    if (it == again.tensors.end() || it->second.dtype != t.dtype || it->second.shape != t.shape ||
        it->second.data != t.data)
      __builtin_trap();
  }
  try {
    const Parameters p = layer_parameters(decoded, "fuzz");
    validate_parameters(p, "fuzz");  // layer_parameters promises shapes that chain and finite values
  } catch (const InputError&) {
  }
  write(data, size);
  try {
    const Checkpoint c = load_checkpoint(scratch_file());
    validate_parameters(c.parameters, "fuzz");
    if (!c.state.order.empty() && c.state.position > c.state.order.size()) __builtin_trap();
  } catch (const InputError&) {
  }
  try {
    load_model(scratch_file());
  } catch (const InputError&) {
  }
  return 0;
}
