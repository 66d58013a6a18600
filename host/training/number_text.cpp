#include "training/number_text.hpp"

#include <charconv>

namespace sigmanet {

std::string exact_text(double value) {
  char text[32];  // the longest shortest form, -2.2250738585072014e-308, is 24 characters
  const auto [end, ec] = std::to_chars(text, text + sizeof text, value);
  return ec == std::errc() ? std::string(text, end) : std::string("?");
}

}  // namespace sigmanet
