#pragma once
// Whole files in and out. Writing is done so that a crash, a full disk or a kill never leaves a half-written file where a good one
// was: the bytes go to a temporary file in the same folder, which is flushed to disk and then renamed over
// the target (rename is atomic within a file system); finally the folder itself is flushed so the rename
// survives a power cut.
#include <cstdint>
#include <filesystem>
#include <span>
#include <vector>

namespace sigmanet {

// Throws Error naming the file and the failing system call; the target is then untouched and the
// temporary file removed.
void write_file_atomically(const std::filesystem::path& file, std::span<const std::uint8_t> bytes);

// Reads a whole file. Throws InputError naming the file when it cannot be opened or read.
std::vector<std::uint8_t> read_file_bytes(const std::filesystem::path& file);

}  // namespace sigmanet
