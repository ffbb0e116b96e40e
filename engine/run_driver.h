// One DAG run as the process that holds it sees it: its plan, what is ready,
// retry and reschedule timers, and tries whose worker stopped renewing their
// lease. Starts no process: ready tasks become `scheduled` in the store and
// the Scheduler queues them for workers; what workers report comes back
// through Sync(). Every write is guarded by the run's lease (owner, fence).
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "engine/clock.h"
#include "engine/dag.h"
#include "engine/plan.h"
#include "engine/run_observer.h"
#include "engine/store/store.h"

namespace dagctl {

/// What drivers of one process share.
struct DriverEnv {
  Store& store;
  const Clock& clock;
  RunObserver* observer = nullptr;
  std::string logs_dir;
  bool ship_logs = false;  ///< Lines about lost tries go to the store's copy of the log.
  int callbacks_added = 0;  ///< Grows with every callback a driver queues.
  /// Grows with every running try a driver stops (its worker ends the
  /// process when it next renews the try's lease).
  int tries_stopped = 0;
};

/// Not thread-safe.
class RunDriver {
 public:
  /// A driver for `run`, held by this process (owner, fence), with its task
  /// instances read from the store. NotFound when one of the DAG's tasks has
  /// no task instance in the run (the DAG changed under a run of an unknown version).
  static Result<std::unique_ptr<RunDriver>> Load(DriverEnv& env,
                                                 std::shared_ptr<const Dag> dag,
                                                 DagRunRecord run);

  /// Marks the run running and decides what is ready. Tries queued or running
  /// stay with their workers; an up_for_retry task waits out its retry time.
  Status Begin();
  /// Applies task instances others changed (read by ti_version). False when
  /// the driver cannot follow (a clear moved tasks back): rebuild it.
  Result<bool> Sync(const std::vector<TaskInstanceRecord>& changed);
  /// Applies what this process's worker reported, when those reports are
  /// all that changed the run since the version the driver knows (their
  /// versions follow it without a gap). False (nothing applied) otherwise:
  /// read the changes from the store.
  Result<bool> SyncReported(const std::vector<TryReported>& reports);
  /// Up to `limit` of its task instances decided scheduled and not yet
  /// handed to this process's worker, best first.
  void AppendReady(std::vector<TaskInstanceRecord>& out, size_t limit) const;
  /// True when a task instance waits to be queued.
  bool HasReady() const { return !ready_.empty(); }
  /// A ready task instance was handed to this process's worker.
  void HandedOff(const TiKey& key);
  /// Ends tries whose worker stopped renewing its lease: failed, and the
  /// retry rule applies.
  Status Reap(const std::vector<TaskInstanceRecord>& expired);
  /// Tasks whose retry or reschedule time has come become scheduled again.
  Status PromoteDue();
  /// A new pass: the lease is checked again before the next write.
  void NewPass() { checked_ = false; }
  /// This pass found the run held under `fence` (and locked its row).
  void Checked(int64_t fence) {
    checked_ = true;
    lost_ = fence != run_.fence;
  }

  /// Every task finished.
  bool Done() const { return plan_.Done(); }
  /// The run has been going for its DAG's dagrun_timeout since it started.
  bool TimedOut() const;
  /// Records the run's end (its outcome, or failed with `failed`), queues the
  /// run's callback and gives the run up.
  Result<RunState> Finish(bool failed = false);
  /// Ends a run that TimedOut(), as Airflow's scheduler does: every
  /// unfinished task instance becomes skipped (a running try is stopped by
  /// its worker, which loses the try's lease), the run fails and its
  /// on_failure runs with reason `timed_out`. When a task instance changed
  /// under it, nothing is ended and stale() says to rebuild the driver.
  Result<RunState> TimeOut();
  /// Gives the unfinished run up for another process to resume.
  Status Release();

  std::optional<Timestamp> NextWake() const;
  /// The run was taken over by another process: drop this driver.
  bool lost() const { return lost_; }
  /// A write found the store other than the driver thought: rebuild it.
  bool stale() const { return stale_; }
  int64_t known_version() const { return known_version_; }
  void set_known_version(int64_t v) { known_version_ = std::max(known_version_, v); }
  const Dag& dag() const { return *dag_; }
  std::shared_ptr<const Dag> shared_dag() const { return dag_; }
  const DagRunRecord& run() const { return run_; }

 private:
  RunDriver(DriverEnv& env, std::shared_ptr<const Dag> dag, DagRunRecord run,
            std::vector<TaskInstanceRecord> tis,
            std::vector<std::vector<TaskInstanceRecord>> mapped);
  std::vector<TaskState> InitialStates() const;
  std::vector<std::vector<TaskState>> InitialInstances() const;
  /// True while this process still holds the run (checked once a pass).
  Result<bool> Held();
  Status Apply(const std::vector<Decision>& decisions);
  Status Finished(size_t task, TaskState state);
  Status FinishedInstance(size_t task, int map_index, TaskState state);
  // Dynamic task mapping: a mapped task's decision, its expansion, and its
  // end when its lists cannot be made.
  Status DecideMapped(const Decision& d);
  Status Expand(size_t task);
  Status FailMapped(size_t task, const std::string& why);
  Result<bool> Replace(size_t task, const std::vector<TaskInstanceRecord>& rows);
  Result<bool> SyncInstance(size_t task, const TaskInstanceRecord& c, std::vector<size_t>& skipped,
                            std::vector<std::tuple<size_t, int, TaskState>>& ended);
  void QueueAfterDownstream(size_t succeeded);
  Status AddCallback(size_t task, int map_index, const std::string& event,
                     const std::string& error, const std::string& reason = "");
  Result<RunState> End(RunState state, const std::string& reason, const std::string& why);
  Status SkipUnfinished(const TaskInstanceRecord& ti, const std::string& why);
  Result<TryRecord> EndedTry(const TaskInstanceRecord& ti, TaskState state, const std::string& why);
  std::optional<Timestamp> Deadline() const;
  void Track(size_t task, int map_index);
  void Log(const TaskInstanceRecord& ti, const std::string& line);
  Timestamp Now() const { return env_.clock.Now(); }
  /// Task `task`'s row (map_index -1), or one of its mapped instances.
  TaskInstanceRecord& Ti(size_t task, int map_index) {
    return map_index < 0 ? tis_[task] : mapped_[task][map_index];
  }
  const TaskInstanceRecord& Ti(size_t task, int map_index) const {
    return map_index < 0 ? tis_[task] : mapped_[task][map_index];
  }

  DriverEnv& env_;
  std::shared_ptr<const Dag> dag_;
  DagRunRecord run_;
  // By task position: the task's row; for a mapped task whose instances
  // exist, a copy of the first with map_index -1.
  std::vector<TaskInstanceRecord> tis_;
  // By task position: a mapped task's instances, in map index order; else empty.
  std::vector<std::vector<TaskInstanceRecord>> mapped_;
  Plan plan_;
  // (next_try_at, task, map_index): retries, reschedules.
  std::set<std::tuple<Timestamp, size_t, int>> timers_;
  // Scheduled, not yet handed off (dagctl run's queueing reads them): by
  // priority_weight (highest first), then file order, then map index.
  std::set<std::tuple<int, size_t, int>> ready_;
  void Ready(size_t task, int map_index) {
    ready_.insert({-Ti(task, map_index).priority_weight, task, map_index});
  }
  void NotReady(size_t task, int map_index) {
    ready_.erase({-Ti(task, map_index).priority_weight, task, map_index});
  }
  std::optional<std::map<std::string, std::string>> params_;  // the run's, once resolved
  std::set<size_t> after_downstream_done_;
  int64_t known_version_ = 0;
  bool checked_ = false;
  bool lost_ = false;
  bool stale_ = false;
};

}  // namespace dagctl
