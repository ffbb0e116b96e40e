// Command-line parsing for dagctl's subcommands, with clear errors and hints.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "engine/error.h"

namespace dagctl::cli {

/// What a subcommand accepts.
struct CommandSpec {
  std::string name;
  std::string usage;                 ///< e.g. "DAG [--date D] [--param K=V]..."
  std::vector<std::string> options;  ///< take a value: "--date"
  std::vector<std::string> flags;    ///< no value: "--json"
  size_t min_positional = 0;
  size_t max_positional = 0;
};

struct Args {
  std::vector<std::string> positional;
  std::map<std::string, std::vector<std::string>> options;
  std::vector<std::string> flags;

  bool Flag(const std::string& name) const;
  std::optional<std::string> Option(const std::string& name) const;
  std::vector<std::string> All(const std::string& name) const;
};

/// Parses `argv` (after the subcommand) against `spec`. `--opt=value` and
/// `--opt value` both work; `-n` short forms must be listed in the spec.
/// InvalidArgument names the bad argument and suggests the closest option.
Result<Args> ParseArgs(const CommandSpec& spec, const std::vector<std::string>& argv);

/// ParseArgs, printing the error (with usage) to stderr when there is one.
std::optional<Args> ParseOrReport(const CommandSpec& spec, const std::vector<std::string>& argv);

}  // namespace dagctl::cli
