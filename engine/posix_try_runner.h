// TryRunner on POSIX processes: fork + exec (or a forked body), one process
// group per try, stdout through a pipe, timeouts with SIGTERM then SIGKILL.
#pragma once

#include <memory>

#include "engine/try_runner.h"

namespace dagctl {

struct PosixTryRunnerOptions {
  Duration kill_grace = std::chrono::seconds(5);  ///< SIGTERM -> SIGKILL delay.
  bool handle_stop_signals = true;                ///< Turn SIGINT/SIGTERM into StopRequested().
};

/// One per process is enough; it installs SIGCHLD (and stop-signal) handlers.
std::unique_ptr<TryRunner> MakePosixTryRunner(PosixTryRunnerOptions opts = {});

/// Blocks until SIGINT or SIGTERM arrives (for processes with no runner, such
/// as the web server alone).
void WaitForStopSignal();

/// Installs the SIGINT/SIGTERM handlers (if not yet) and says whether one
/// of those signals has arrived.
bool StopSignalled();

}  // namespace dagctl
