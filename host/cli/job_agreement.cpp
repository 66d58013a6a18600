#include "cli/job_agreement.hpp"

#include <algorithm>
#include <cstdio>

#include "cli/flags.hpp"
#include "formats/safetensors.hpp"
#include "sigmanet/error.hpp"

namespace sigmanet::cli {
namespace {

bool agreed = false;

// A rank's message: 'F' and the fingerprint's entries, one a line, what and value split by a tab (both made
// printable, so neither holds a tab or a newline); or 'R' and the reason it refused.
std::string encode(const Fingerprint& f) {
  std::string text = "F";
  for (const auto& [what, value] : f) text += printable(what) + "\t" + printable(value) + "\n";
  return text;
}

Fingerprint decode(const std::string& text) {
  Fingerprint f;
  for (std::size_t at = 1; at < text.size();) {
    const std::size_t end = text.find('\n', at), tab = text.find('\t', at);
    if (end == std::string::npos || tab == std::string::npos || tab > end) break;
    f.emplace_back(text.substr(at, tab - at), text.substr(tab + 1, end - tab - 1));
    at = end + 1;
  }
  return f;
}

// "rank 2" or "ranks 0, 3".
std::string ranks_text(const std::vector<int>& ranks) {
  std::string text = ranks.size() == 1 ? "rank " : "ranks ";
  for (std::size_t i = 0; i < ranks.size(); ++i) text += (i ? ", " : "") + std::to_string(ranks[i]);
  return text;
}

// The first refusal among the messages, as the job reports it; empty when no rank refused.
std::string first_refusal(const std::vector<std::string>& texts) {
  if (!texts.empty() && texts[0].starts_with('R')) return texts[0].substr(1);
  for (std::size_t r = 1; r < texts.size(); ++r) {
    if (!texts[r].starts_with('R')) continue;
    std::vector<int> ranks;
    for (std::size_t s = r; s < texts.size(); ++s)
      if (texts[s] == texts[r]) ranks.push_back(int(s));
    return ranks_text(ranks) + ": " + texts[r].substr(1);
  }
  return "";
}

// The first entry on which a rank differs from rank 0, with each value and the ranks that hold it; empty when
// every rank agrees.
std::string first_difference(const std::vector<std::string>& texts) {
  std::vector<Fingerprint> all;
  std::size_t entries = 0;
  for (const std::string& text : texts) {
    all.push_back(decode(text));
    entries = std::max(entries, all.back().size());
  }
  const std::pair<std::string, std::string> none{"", "(nothing)"};
  for (std::size_t i = 0; i < entries; ++i) {
    const auto entry = [&](std::size_t r) { return i < all[r].size() ? all[r][i] : none; };
    bool differs = false;
    for (std::size_t r = 1; r < all.size(); ++r) differs = differs || entry(r) != entry(0);
    if (!differs) continue;
    // What differs, as rank 0 calls it (or the first rank that has the entry), then each value once, in the order
    // of the ranks that first hold it; a value under another name (another version's entries) carries its name.
    std::string what = entry(0).first;
    for (std::size_t r = 1; what.empty() && r < all.size(); ++r) what = entry(r).first;
    std::vector<std::pair<std::string, std::vector<int>>> values;
    for (std::size_t r = 0; r < all.size(); ++r) {
      const auto& [name, value] = entry(r);
      const std::string shown = name == what || name.empty() ? value : name + " " + value;
      auto it = std::find_if(values.begin(), values.end(), [&](const auto& v) { return v.first == shown; });
      if (it == values.end()) values.push_back({shown, {int(r)}});
      else it->second.push_back(int(r));
    }
    std::string text = "the ranks of this job disagree on " + what + ": ";
    for (std::size_t v = 0; v < values.size(); ++v)
      text += (v ? ", " : "") + values[v].first + " on " + ranks_text(values[v].second);
    return text + "; start every rank with the same command, settings and data";
  }
  return "";
}

}  // namespace

std::string data_identity(const LabelledData& data) {
  std::uint32_t crc = 0;
  for (const Dataset* set : {&data.train, &data.validation, &data.test}) {
    crc = crc32_of(set->pixels, crc);
    crc = crc32_of(std::span(reinterpret_cast<const std::uint8_t*>(set->values.data()), set->values.size() * 4), crc);
    crc = crc32_of(set->labels, crc);
  }
  char text[160];
  std::snprintf(text, sizeof text, "%zu + %zu + %zu records of %zux%zu, CRC32 %08x", data.train.size(),
                data.validation.size(), data.test.size(), data.train.rows, data.train.cols, unsigned(crc));
  return text;
}

// "epoch 3, sample 1200, CRC32 0a1b2c3d": a checkpoint told apart by its parameters and trainer state.
std::string checkpoint_identity(const Checkpoint& ck) {
  const auto bytes = [](const auto& values) {
    return std::span(reinterpret_cast<const std::uint8_t*>(values.data()), values.size() * sizeof(values[0]));
  };
  std::uint32_t crc = 0;
  for (std::size_t l = 0; l < ck.parameters.layers(); ++l)
    crc = crc32_of(bytes(ck.parameters.biases[l]), crc32_of(bytes(ck.parameters.weights[l]), crc));
  crc = crc32_of(bytes(ck.state.order), crc32_of(bytes(ck.state.rng.state), crc));
  char text[96];
  std::snprintf(text, sizeof text, "epoch %d, sample %zu, CRC32 %08x", ck.state.epochs_done + 1, ck.state.position,
                unsigned(crc));
  return text;
}

void agree_with_job(Collective& job, const Fingerprint& mine) {
  const std::vector<std::string> texts = job.gather(encode(mine));
  agreed = true;
  if (std::string refused = first_refusal(texts); !refused.empty()) throw InputError(refused);
  if (std::string differs = first_difference(texts); !differs.empty()) throw InputError(differs);
}

std::string refuse_with_job(Collective& job, const std::string& reason) {
  const std::vector<std::string> texts = job.gather("R" + printable(reason));
  agreed = true;
  return first_refusal(texts);
}

bool job_agreed() { return agreed; }

}  // namespace sigmanet::cli
