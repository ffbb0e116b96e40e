// The keeper: the process a try with an outcome file runs under. It starts
// the try (in a process group of its own), relays its stdout to the engine,
// and when the try ends by itself writes how it ended (exit status, last
// stdout line) to the outcome file - atomically, by rename, and with fsync
// when asked - before exiting with the same status. So the outcome is on
// disk before the engine can learn of it, and a try that finished is never
// taken for lost because the engine died before recording it.
//
// For an operator's body the values it pushed (its channel) are kept in the
// outcome too, so a recovered try's XCom is the one the body pushed.
//
// When the engine dies (PDEATHSIG: SIGUSR1) while the try still runs, the
// keeper kills the try's group and writes nothing: the try is lost and
// retried, and never runs beside its retry.
//
// The same code runs in two places: in the small `dagctl-keeper` executable
// (keeper_main.cc), which the engine starts with vfork + exec for a try that
// is a program, and in a keeper forked from the engine for a try that runs an
// operator's body in-process (posix_try_runner.cc). A forked keeper comes
// from a process that may have threads, so everything here is system calls
// only: no allocation, no locks, no stdio. It links with libc alone.
#pragma once

#include <sys/types.h>

#include <cstddef>

namespace dagctl {

/// The longest stdout line the keeper (and the engine) keeps as a try's return value.
constexpr size_t kMaxLine = 64 * 1024;

/// Where and how the keeper writes a try's outcome (see try_outcome.h for the format).
struct KeeperPlan {
  const char* tmp_path;    ///< written first, then renamed to final_path
  const char* final_path;  ///< LOGS/.../attempt=N.outcome
  const char* dir;         ///< final_path's folder (fsync'ed when `sync`)
  const char* tag;         ///< TryOutcomeTag of the claim
  pid_t engine;            ///< the engine's pid: the keeper's parent while it lives
  bool sync;  ///< fsync the file and its folder (survives a power loss, ~2 fsyncs per try)
};

/// First steps of a keeper, in the keeper: its own process group, its signal
/// handling, PDEATHSIG SIGUSR1, and a check that the engine did not die
/// before that was set. System calls only.
void KeeperEnter(const KeeperPlan& p);

/// In the try's process, between fork and exec: only async-signal-safe
/// calls. Puts the try in its own process group with /dev/null as stdin,
/// `out_fd` and `err_fd` as stdout and stderr, default signal handling, and
/// `cwd` (when not empty) as working directory; exits 126 when it cannot
/// change to it. The try gets SIGKILL when its parent (the engine or the
/// keeper) dies: a try never outlives the process that watches it.
void SetUpTryChild(const char* cwd, int out_fd, int err_fd);

/// execve(argv[0], argv, envp) in the try's process; on failure says so on
/// stderr and exits 127.
[[noreturn]] void ExecTry(char** argv, char** envp);

/// The pipes a keeper relays from its try to the engine.
struct KeeperPipes {
  int out_from;  ///< the try's stdout (read end)
  int out_to;    ///< the engine's stdout pipe
  int pid_to;    ///< where the try's pid is reported
  /// An operator's body also pushes XCom on a channel (read end; -1 for a
  /// program); relayed to `channel_to` and kept in `channel_copy`, a file
  /// of the keeper's, which goes into the outcome.
  int channel_from = -1;
  int channel_to = -1;
  int channel_copy = -1;
};

/// The rest of a keeper's life once it started the try `t` (-1: it could
/// not): reports `t`, relays the try's stdout (and channel) to the engine
/// until the try ends, writes the outcome, exits as the try did.
[[noreturn]] void KeeperWatch(const KeeperPlan& p, pid_t t, const KeeperPipes& pipes);

}  // namespace dagctl
