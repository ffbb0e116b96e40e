// Starting and watching the processes that carry out tries. An interface so the
// executor can be tested with a recording fake (after ninja's CommandRunner).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "engine/duration.h"
#include "engine/error.h"
#include "engine/timeutil.h"
#include "operators/operator.h"

namespace dagctl {

struct TryRequest {
  uint64_t id = 0;  ///< Chosen by the caller; echoed in the result.
  Launch launch;
  std::vector<std::string> env;  ///< The whole environment, as NAME=value.
  std::string cwd;
  std::string log_path;  ///< stdout and stderr are appended here; created on first output.
  std::optional<Duration> timeout;
  std::vector<std::string> secrets;  ///< Masked as *** in the log (passwords, tokens).
  /// When set, a keeper process watches the try and writes how it ended to
  /// this file (see try_outcome.h), tagged with `outcome_tag`, before the
  /// engine learns of it; the file survives the engine's death.
  std::string outcome_path;
  std::string outcome_tag;
};

struct TryResult {
  uint64_t id = 0;
  int exit_code = -1;   ///< The process's exit status, or -1 when a signal ended it.
  int term_signal = 0;  ///< The signal that ended it, if any.
  bool timed_out = false;
  std::string return_value;                               ///< The last non-empty stdout line.
  std::vector<std::pair<std::string, std::string>> xcom;  ///< Pushed through TryChannel.
};

/// The values a body pushed, from the bytes its TryChannel carried (each
/// `key\tlength\n<value>`); a cut-off last one is left out.
std::vector<std::pair<std::string, std::string>> ParseTryChannel(const std::string& data);

/// Not thread-safe: one executor drives one runner.
class TryRunner {
 public:
  virtual ~TryRunner() = default;
  /// Starts a try in its own process group; returns its pid. An error means
  /// nothing was started.
  virtual Result<int> Start(const TryRequest& req) = 0;
  /// Blocks until at least one try ends, `deadline` passes, a stop is
  /// requested, or `wake_fd` (if not -1) is readable; returns the tries that
  /// ended (possibly none).
  virtual std::vector<TryResult> Wait(std::optional<Timestamp> deadline, int wake_fd = -1) = 0;
  /// Stops one try: SIGTERM to its group, SIGKILL after the grace period.
  /// Its result comes back through Wait as usual.
  virtual void Kill(uint64_t id) = 0;
  /// Ends every running try (SIGTERM to its group, SIGKILL after the grace
  /// period) and returns their results.
  virtual std::vector<TryResult> TerminateAll() = 0;
  /// Tries started and not yet returned by Wait.
  virtual size_t running() const = 0;
  /// True once SIGINT or SIGTERM asked the process to stop.
  virtual bool StopRequested() const = 0;
};

}  // namespace dagctl
