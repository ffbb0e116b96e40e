// How a try's process ended, as written next to its log by the keeper that
// watched it (see keeper.h). The file outlives the engine: when
// the engine dies between a try's end and the store write, the process that
// takes the try over records the real outcome from it instead of running
// the try again.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "engine/error.h"
#include "engine/store/store.h"

namespace dagctl {

struct TryOutcomeFile {
  std::string tag;  ///< Which claim of the try it belongs to (TryOutcomeTag).
  int exit_code = -1;   ///< -1 when a signal ended the process.
  int term_signal = 0;
  std::string return_value;  ///< The last non-empty stdout line.
  /// What an operator's body pushed through its channel (ParseTryChannel).
  std::vector<std::pair<std::string, std::string>> xcom;
};

/// LOGS/.../attempt=N.log -> LOGS/.../attempt=N.outcome
std::string TryOutcomePath(const std::string& log_path);

/// Names one claim of a try: its worker, fence and start, so a file left by
/// another claim of the same try number (a rescheduled sensor, an older
/// store, a reused pid in the worker's name) never passes for this one.
std::string TryOutcomeTag(const TaskInstanceRecord& ti);

/// Reads an outcome file: NotFound when there is none (the process did not
/// end by itself, or its keeper died first), InvalidArgument when it is not
/// whole (it is written to a temporary name, fsync'ed and renamed, so a
/// partial one means a foreign file).
Result<TryOutcomeFile> ReadTryOutcome(const std::string& path);

/// The same for a file's bytes; `path` only names it in the error.
Result<TryOutcomeFile> ParseTryOutcome(const std::string& data, const std::string& path);

}  // namespace dagctl
