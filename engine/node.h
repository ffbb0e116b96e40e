// One process's event loop: waits until a try ends, a notification arrives or
// a timer is due, then runs one pass of its scheduler and/or worker in one
// transaction of the store. `dagctl serve` has both, `dagctl scheduler
// --no-worker` a scheduler, `dagctl worker` a worker, `dagctl run` both on
// its own runs. A store that cannot be reached is waited out, not fatal.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "engine/clock.h"
#include "engine/scheduler.h"
#include "engine/store/store.h"
#include "engine/try_runner.h"
#include "engine/worker.h"

namespace dagctl {

/// Not thread-safe.
class Node {
 public:
  /// `scheduler` and `worker` may be null (not both); all outlive the node.
  /// `name` prefixes messages ("dagctl serve: ...").
  Node(Store& store, TryRunner& runner, const Clock& clock, Scheduler* scheduler, Worker* worker,
       std::string name);

  /// Waits for something to happen (at most until `deadline`), then one
  /// pass. Returns the runs that ended. Store errors are printed and the
  /// pass is tried again later; they are not returned.
  std::vector<FinishedRun> Step(std::optional<Timestamp> deadline);
  /// Steps until SIGINT or SIGTERM, then Stop(false).
  Status Run();
  /// Ends running tries (recorded failed; the retry rule applies unless
  /// `fail_runs`), then gives the runs up, or with `fail_runs` ends them failed.
  Status Stop(bool fail_runs);
  bool StopRequested() const { return runner_.StopRequested(); }
  /// After a store error outside a pass (taking a run on): says it as a
  /// failed pass does and waits as long; false when a stop was requested.
  bool BackOff(const Error& e);

 private:
  bool Pass(const std::set<std::string>& notes);
  void Failed(const Error& e);

  Store& store_;
  TryRunner& runner_;
  const Clock& clock_;
  Scheduler* scheduler_;
  Worker* worker_;
  std::string name_;
  std::optional<Timestamp> retry_at_;  // after a failed pass
  int failures_ = 0;
  int aborted_ = 0;  // passes PostgreSQL rolled back to break a deadlock
  int callbacks_seen_ = 0;  // the scheduler's callbacks_added() at the last pass
  int stopped_seen_ = 0;    // the scheduler's tries_stopped() at the last pass
  std::string last_error_;
};

}  // namespace dagctl
