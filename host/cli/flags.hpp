#pragma once
// Flags parsed strictly. CLI11's own conversions wrap a negative value into an unsigned one, read "010" as
// octal, drop empty list entries ("784,,10" is 784,10) and print their internal maps on an unknown name: each
// a silent change to the run. Every flag of the tool goes through these instead. A bad value throws
// CLI::ValidationError while the command line is parsed, before any work, as "--flag: what is wrong (got X)".
#include <CLI/CLI.hpp>

#include <cstdint>
#include <exception>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "sigmanet/error.hpp"

namespace sigmanet::cli {

// The flag that sets a library setting: Setting::gpu_kernel is "--gpu-kernel".
std::string flag_for(Setting s);
// An exception's one-line message in the tool's words: the settings a SettingError or DivergenceError
// mentions are named by their flags, and control bytes are escaped (printable).
std::string message_of(const std::exception& e);

// A whole number in [min, max], decimal digits only, '-' only where min < 0: no '+', spaces, exponent,
// base prefix or trailing text. The message says the range that is accepted.
std::int64_t parse_whole(const std::string& flag, const std::string& text, std::int64_t min, std::int64_t max);
std::uint64_t parse_unsigned(const std::string& flag, const std::string& text, std::uint64_t min, std::uint64_t max);
// A finite decimal number (no nan, inf or hex float) above `above` when strictly positive is asked.
double parse_real(const std::string& flag, const std::string& text);
// A comma-separated list of whole numbers in [min, max]; an empty list or an empty entry is refused.
std::vector<std::int64_t> parse_whole_list(const std::string& flag, const std::string& text, std::int64_t min,
                                           std::int64_t max);
// A comma-separated list of non-empty names.
std::vector<std::string> parse_name_list(const std::string& flag, const std::string& text);

// Text made safe for a one-line message: control bytes become \xHH.
std::string printable(const std::string& text);

// "cpu, gpu or auto".
std::string names_text(const std::vector<std::string>& names);

template <class T>
CLI::Option* add_whole(CLI::App* sub, const std::string& flag, T& target, const std::string& help,
                       T min = std::numeric_limits<T>::min(), T max = std::numeric_limits<T>::max()) {
  CLI::Option* option = sub->add_option(
      flag,
      [flag, &target, min, max](const CLI::results_t& r) {
        if constexpr (std::is_signed_v<T>)
          target = static_cast<T>(parse_whole(flag, r.back(), std::int64_t(min), std::int64_t(max)));
        else
          target = static_cast<T>(parse_unsigned(flag, r.back(), std::uint64_t(min), std::uint64_t(max)));
        return true;
      },
      help);
  return option->type_name(std::is_signed_v<T> ? "INT" : "UINT")->default_str(std::to_string(target))->expected(1);
}

CLI::Option* add_real(CLI::App* sub, const std::string& flag, double& target, const std::string& help);

// A list of whole numbers in one argument: --sizes 784,30,10.
template <class T>
CLI::Option* add_whole_list(CLI::App* sub, const std::string& flag, std::vector<T>& target, const std::string& help,
                            T min, T max, bool append = false) {
  std::string shown;
  for (const T& v : target) shown += (shown.empty() ? "" : ",") + std::to_string(v);
  CLI::Option* option = sub->add_option(
      flag,
      [flag, &target, min, max, append](const CLI::results_t& r) {
        if (!append) target.clear();
        for (const std::string& text : r)
          for (std::int64_t v : parse_whole_list(flag, text, std::int64_t(min), std::int64_t(max)))
            target.push_back(static_cast<T>(v));
        return true;
      },
      help);
  option->type_name("N[,N...]")->expected(1);
  if (append) option->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  if (!shown.empty()) option->default_str(shown);
  return option;
}

CLI::Option* add_name_list(CLI::App* sub, const std::string& flag, std::vector<std::string>& target,
                           const std::string& help);

// A path; an empty one is refused (it would silently mean "not given").
CLI::Option* add_path(CLI::App* sub, const std::string& flag, std::string& target, const std::string& help);

// Notes the library left for the user (how data files were found), one "sigmanet: " line each on stderr.
void print_notes(const std::vector<std::string>& notes);

// One of a fixed set of names, exactly as spelled: "--device: expected cpu, gpu or auto (got tpu)".
template <class E>
CLI::Option* add_choice(CLI::App* sub, const std::string& flag, E& target,
                        std::vector<std::pair<std::string, E>> choices, const std::string& help) {
  std::vector<std::string> names;
  std::string shown;
  for (const auto& [name, value] : choices) {
    names.push_back(name);
    if (value == target) shown = name;
  }
  CLI::Option* option = sub->add_option(
      flag,
      [flag, &target, choices, names](const CLI::results_t& r) {
        for (const auto& [name, value] : choices)
          if (name == r.back()) {
            target = value;
            return true;
          }
        throw CLI::ValidationError(flag, "expected " + names_text(names) + " (got '" + r.back() + "')");
      },
      help);
  std::string type;
  for (const std::string& n : names) type += (type.empty() ? "" : "|") + n;
  return option->type_name(type)->default_str(shown)->expected(1);
}

}  // namespace sigmanet::cli
