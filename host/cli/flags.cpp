#include "cli/flags.hpp"

#include <charconv>
#include <cmath>
#include <cstdio>

#include "sigmanet/error.hpp"

namespace sigmanet::cli {

std::string flag_for(Setting s) {
  std::string flag = "--" + setting_name(s);
  for (char& c : flag)
    if (c == '_') c = '-';
  return flag;
}

std::string message_of(const std::exception& e) {
  if (const auto* setting = dynamic_cast<const SettingError*>(&e)) return printable(setting->message().render(flag_for));
  if (const auto* diverged = dynamic_cast<const DivergenceError*>(&e))
    return printable(diverged->message().render(flag_for));
  return printable(e.what());
}
namespace {

// The value as the message shows it: one line, and not a page long.
std::string shown(const std::string& text) {
  std::string out = "'" + printable(text.size() > 60 ? text.substr(0, 60) : text) + "'";
  if (text.size() > 60) out += "...";
  return out;
}

[[noreturn]] void refuse(const std::string& flag, const std::string& what, const std::string& text) {
  throw CLI::ValidationError(flag, what + " (got " + shown(text) + ")");
}

bool all_digits(const std::string& s, std::size_t from) {
  if (from >= s.size()) return false;
  for (std::size_t i = from; i < s.size(); ++i)
    if (s[i] < '0' || s[i] > '9') return false;
  return true;
}

// The magnitude of a string of digits; false when it does not fit 64 bits.
bool magnitude(const std::string& s, std::size_t from, std::uint64_t& out) {
  const auto [end, ec] = std::from_chars(s.data() + from, s.data() + s.size(), out, 10);
  return ec == std::errc() && end == s.data() + s.size();
}

// What is wrong with text as a whole number in [min, max], or "" with the value in *out. Worked in 128 bits so
// that neither bound nor the value wraps.
std::string whole_problem(const std::string& text, __int128 min, __int128 max, __int128* out) {
  auto str = [](__int128 v) {
    return v < 0 ? "-" + std::to_string(std::uint64_t(-v)) : std::to_string(std::uint64_t(v));
  };
  const bool negative = !text.empty() && text[0] == '-';
  const std::size_t from = negative ? 1 : 0;
  if (!all_digits(text, from)) return "expected a whole number from " + str(min) + " to " + str(max);
  std::uint64_t m = 0;
  const bool fits = magnitude(text, from, m);
  if (negative && (!fits || -static_cast<__int128>(m) < min))
    return min == 0 ? "must not be negative" : "must be at least " + str(min);
  if (!negative && (!fits || static_cast<__int128>(m) > max)) return "must be at most " + str(max);
  const __int128 v = negative ? -static_cast<__int128>(m) : static_cast<__int128>(m);
  if (v < min) return "must be at least " + str(min);
  *out = v;
  return "";
}

}  // namespace

std::string printable(const std::string& text) {
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned char c : text) {
    if (c >= 0x20 && c != 0x7f) {
      out += char(c);
    } else {
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

std::int64_t parse_whole(const std::string& flag, const std::string& text, std::int64_t min, std::int64_t max) {
  __int128 v = 0;
  if (const std::string problem = whole_problem(text, min, max, &v); !problem.empty()) refuse(flag, problem, text);
  return static_cast<std::int64_t>(v);
}

std::uint64_t parse_unsigned(const std::string& flag, const std::string& text, std::uint64_t min, std::uint64_t max) {
  __int128 v = 0;
  if (const std::string problem = whole_problem(text, min, max, &v); !problem.empty()) refuse(flag, problem, text);
  return static_cast<std::uint64_t>(v);
}

double parse_real(const std::string& flag, const std::string& text) {
  // from_chars alone would take "inf", "nan" and hex digits; none of them is a learning rate anyone means.
  double v = 0;
  const char* first = text.data();
  const bool plain = !text.empty() && text.find_first_not_of("0123456789.eE-+") == std::string::npos;
  const auto [end, ec] = std::from_chars(first, first + text.size(), v, std::chars_format::general);
  if (!plain || ec == std::errc::invalid_argument || end != first + text.size())
    refuse(flag, "expected a decimal number such as 0.5 or 3e-2", text);
  if (ec == std::errc::result_out_of_range || !std::isfinite(v)) refuse(flag, "out of the range of a double", text);
  return v;
}

std::vector<std::int64_t> parse_whole_list(const std::string& flag, const std::string& text, std::int64_t min,
                                           std::int64_t max) {
  std::vector<std::int64_t> out;
  std::size_t start = 0;
  for (;;) {
    const std::size_t comma = text.find(',', start);
    const std::string item = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    const std::string entry = "entry " + std::to_string(out.size() + 1);
    if (item.empty()) refuse(flag, entry + " of the list is empty", text);
    __int128 v = 0;
    if (const std::string problem = whole_problem(item, min, max, &v); !problem.empty())
      refuse(flag, entry + " (" + shown(item) + "): " + problem, text);
    out.push_back(static_cast<std::int64_t>(v));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

std::vector<std::string> parse_name_list(const std::string& flag, const std::string& text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (;;) {
    const std::size_t comma = text.find(',', start);
    std::string item = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (item.empty()) refuse(flag, "entry " + std::to_string(out.size() + 1) + " of the list is empty", text);
    out.push_back(std::move(item));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

std::string names_text(const std::vector<std::string>& names) {
  std::string out;
  for (std::size_t i = 0; i < names.size(); ++i)
    out += (i == 0 ? "" : i + 1 == names.size() ? " or " : ", ") + names[i];
  return out;
}

CLI::Option* add_real(CLI::App* sub, const std::string& flag, double& target, const std::string& help) {
  char text[32];
  std::snprintf(text, sizeof text, "%g", target);
  return sub
      ->add_option(
          flag,
          [flag, &target](const CLI::results_t& r) {
            target = parse_real(flag, r.back());
            return true;
          },
          help)
      ->type_name("FLOAT")
      ->default_str(text)
      ->expected(1);
}

CLI::Option* add_name_list(CLI::App* sub, const std::string& flag, std::vector<std::string>& target,
                           const std::string& help) {
  return sub
      ->add_option(
          flag,
          [flag, &target](const CLI::results_t& r) {
            target.clear();
            for (const std::string& text : r)
              for (std::string& name : parse_name_list(flag, text)) target.push_back(std::move(name));
            return true;
          },
          help)
      ->type_name("NAME[,NAME...]")
      ->expected(1);
}

CLI::Option* add_path(CLI::App* sub, const std::string& flag, std::string& target, const std::string& help) {
  return sub
      ->add_option(
          flag,
          [flag, &target](const CLI::results_t& r) {
            if (r.back().empty()) throw CLI::ValidationError(flag, "expected a file or folder name (got '')");
            if (r.back().find('\0') != std::string::npos) refuse(flag, "a path cannot hold a NUL byte", r.back());
            target = r.back();
            return true;
          },
          help)
      ->type_name("PATH")
      ->expected(1);
}

void print_notes(const std::vector<std::string>& notes) {
  for (const std::string& note : notes) std::fprintf(stderr, "sigmanet: %s\n", note.c_str());
}

}  // namespace sigmanet::cli
