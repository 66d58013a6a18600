#include "sigmanet/dataset.hpp"

#include "sigmanet/error.hpp"

namespace sigmanet {

Dataset Dataset::slice(std::string slice_name, std::size_t first, std::size_t count) const {
  if (first + count > size())
    throw Error("Dataset::slice: records [" + std::to_string(first) + ", " + std::to_string(first + count) +
                ") of " + std::to_string(size()));
  Dataset out;
  out.name = std::move(slice_name);
  out.rows = rows;
  out.cols = cols;
  if (has_values())
    out.values.assign(row(first), row(first) + count * features());
  else
    out.pixels.assign(image(first), image(first) + count * features());
  out.labels.assign(labels.begin() + static_cast<std::ptrdiff_t>(first),
                    labels.begin() + static_cast<std::ptrdiff_t>(first + count));
  return out;
}

}  // namespace sigmanet
