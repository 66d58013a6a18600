#include "training/physical_memory.hpp"

#include <unistd.h>

#include <cstdio>

namespace sigmanet {

std::size_t physical_memory_bytes() {
  const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGE_SIZE);
  return pages > 0 && page > 0 ? std::size_t(pages) * std::size_t(page) : 0;
}

std::string gib_text(double bytes) {
  char text[64];
  std::snprintf(text, sizeof text, "%.1f GiB", bytes / double(std::size_t{1} << 30));
  return text;
}

}  // namespace sigmanet
