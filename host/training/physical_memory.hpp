#pragma once
// This machine's memory, for the estimates made before anything large is allocated: a run, a benchmark case or a
// file that would need more is refused with the figures, instead of failing deep inside (std::bad_alloc) or being
// ended by the kernel's OOM killer.
#include <cstddef>
#include <string>

namespace sigmanet {

// Physical memory (sysconf), or 0 when it cannot be told.
std::size_t physical_memory_bytes();

// "23.5 GiB".
std::string gib_text(double bytes);

}  // namespace sigmanet
