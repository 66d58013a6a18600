#pragma once
// Numbers as text that reads back to the same bits: the shortest decimal form that does (std::to_chars), so
// 1e-07 stays 1e-07 and 0.1 stays 0.1, where std::to_string's six decimals would write 0.000000 and %g's six
// digits would round 0.1234567 to 0.123457. Metadata, checkpoints and messages that quote a value use it.
#include <string>

namespace sigmanet {

std::string exact_text(double value);

}  // namespace sigmanet
