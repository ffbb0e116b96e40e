// Where a try's log lives, and names of this process for leases and logs.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "engine/store/store.h"

namespace dagctl {

/// The path of a try's log: LOGS/dag_id=X/run_id=Y/task_id=Z/[map_index=M/]attempt=N.log
/// (Airflow's layout; map_index only for a mapped task's instances).
std::string TryLogPath(const std::string& logs_dir, const std::string& dag_id,
                       const std::string& run_id, const std::string& task_id, int try_number,
                       int map_index = -1);
inline std::string TryLogPath(const std::string& logs_dir, const TiKey& k, int try_number) {
  return TryLogPath(logs_dir, k.dag_id, k.run_id, k.task_id, try_number, k.map_index);
}

/// A try's log from byte `offset` on: the copy in the store when its worker
/// shipped one (another machine's), else the file under `logs_dir`; at most
/// its last `max_bytes`, after a line that says so (as ReadLogTail).
/// InvalidArgument when the path would leave `logs_dir`.
Result<std::string> ReadTryLogText(Store& store, const std::string& logs_dir, const TiKey& key,
                                   int try_number, int64_t offset,
                                   size_t max_bytes = static_cast<size_t>(-1));

/// A piece of a try's log and where it ends.
struct LogChunk {
  std::string text;
  int64_t end = 0;    ///< The log's byte offset just past `text` (where to continue).
  bool more = false;  ///< A forward chunk stopped at `max_bytes` with more to read.
};

/// Whether try `try_number` of `ti` may still add to its log: it is the
/// instance's current try and queued, running, or a sensor between pokes.
/// (A reader checks this before reading, then reads: what it read last is
/// the whole log once this said no.)
inline bool TryIsLive(const TaskInstanceRecord& ti, int try_number) {
  return try_number == ti.try_number &&
         (ti.state == TaskState::kQueued || ti.state == TaskState::kRunning ||
          ti.state == TaskState::kUpForReschedule);
}

/// A try's log from byte `offset` on (the store's copy when there is one,
/// else the file under `logs_dir`), at most `max_bytes` of it: with `forward`
/// the first ones, cut after a whole line; else its last ones, after a line
/// that says so (as ReadTryLogText). `end` is where a reader continues.
/// InvalidArgument when the path would leave `logs_dir`.
Result<LogChunk> ReadTryLogChunk(Store& store, const std::string& logs_dir, const TiKey& key,
                                 int try_number, int64_t offset, size_t max_bytes, bool forward);

/// Where and how a try ran: the opening lines of its log.
struct TryHeader {
  TiKey key;
  int try_number = 0;
  int max_tries = 0;
  std::string host;
  std::string worker;
  std::string operator_name;
  std::vector<std::string> argv;  ///< The program and its arguments; empty for in-process code.
  int pid = 0;                    ///< 0: no process (nothing to run, or it did not start).
  Timestamp start;
};

/// `try 2 of 4: dag_id=etl run_id=R task_id=load map_index=-1`, then host,
/// worker, operator and pid, the command (a shell's `bash -c` script as is)
/// and the start time; one string per log line.
std::vector<std::string> TryHeaderLines(const TryHeader& h);

/// How a try ended: the closing line of its log.
struct TryFooter {
  std::optional<int> exit_code;
  int term_signal = 0;
  std::optional<Duration> timed_out_after;  ///< Set when its timeout stopped it.
  std::string sensor_timeout;  ///< A sensor that ran out of time: what it says (else "").
  Duration duration{};         ///< From the try's start.
  TaskState state = TaskState::kNone;  ///< The task instance's new state.
  int try_number = 0;
  int max_tries = 0;
  std::optional<Timestamp> retry_at;  ///< With state up_for_retry.
  bool no_retry_by_rule = false;      ///< Failed with tries left, but not to be retried.
};

/// `end: exit code 1, duration 0.512s, state up_for_retry: try 2 of 4 at
/// TIME`; signals by name (`signal SIGTERM (timed out after 2s)`).
std::string TryFooterLine(const TryFooter& f);

/// `SIGTERM` for 15; `signal 77` for a number with no name.
std::string SignalName(int sig);

/// This machine's host name.
std::string HostName();

/// "host:pid" of the calling process: its name as a run owner and a worker.
std::string ThisProcessOwner();

}  // namespace dagctl
