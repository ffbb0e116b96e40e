// The fuzz targets' entry functions: one per parser of outside input, each
// taking raw bytes. Plain C++, built into a small library that both the
// libFuzzer binaries (tests/fuzz/fuzz_target.cc, DAGCTL_FUZZ=ON) and the
// normal unit tests (tests/unit/fuzz_regression_test.cc) call, so every
// input that ever crashed is replayed on every CI run.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace dagctl::fuzz {

/// What one input did.
struct Outcome {
  /// What a user would see: diagnostics, an HTTP status and body, an error
  /// message or the parsed result. Regression tests look for text in it.
  std::string text;
  /// A broken invariant (a 5xx answer, a load that failed without saying
  /// why, a round trip that changed a value); "" when all held. The fuzz
  /// binaries abort on it so libFuzzer records the input.
  std::string violation;
};

/// One fuzz target: its name (also its corpus and regressions folder under
/// tests/fuzz/) and its entry function.
struct Target {
  const char* name;
  Outcome (*run)(std::string_view input);
};

/// Every target, in a fixed order.
const std::vector<Target>& Targets();

/// The target called `name`, or nullptr.
const Target* FindTarget(std::string_view name);

/// Entry functions. Inputs are raw bytes; formats are described in entries.cc.
Outcome DagLoader(std::string_view input);
Outcome Cron(std::string_view input);
Outcome DurationText(std::string_view input);
Outcome Template(std::string_view input);
Outcome Connection(std::string_view input);
Outcome Api(std::string_view input);
Outcome RedisCommands(std::string_view input);
Outcome Conf(std::string_view input);
Outcome TryOutcomeText(std::string_view input);

}  // namespace dagctl::fuzz
