// TryRunner on POSIX processes: fork + exec (or a forked body), one process
// group per try, stdout through a pipe, timeouts with SIGTERM then SIGKILL.
#pragma once

#include <memory>

#include "engine/try_runner.h"

namespace dagctl {

/// True when DAGCTL_SYNC_OUTCOMES=1 is set.
bool SyncOutcomesByDefault();

struct PosixTryRunnerOptions {
  Duration kill_grace = std::chrono::seconds(5);  ///< SIGTERM -> SIGKILL delay.
  bool handle_stop_signals = true;                ///< Turn SIGINT/SIGTERM into StopRequested().
  /// fsync each try's outcome file and its folder, so it also survives a
  /// power loss (two fsyncs per try); default: DAGCTL_SYNC_OUTCOMES=1 in the
  /// environment. Without, it survives the engine's death, not the machine's.
  bool sync_outcomes = SyncOutcomesByDefault();
};

/// One per process is enough; it installs SIGCHLD (and stop-signal) handlers.
std::unique_ptr<TryRunner> MakePosixTryRunner(PosixTryRunnerOptions opts = {});

/// Blocks until SIGINT or SIGTERM arrives (for processes with no runner, such
/// as the web server alone).
void WaitForStopSignal();

/// Installs the SIGINT/SIGTERM handlers (if not yet) and says whether one
/// of those signals has arrived. A long-running command calls it first, so
/// a stop asked for while it starts (before its runner exists, while it
/// starts a redis-server) ends it gracefully instead of by the signal.
bool StopSignalled();

}  // namespace dagctl
