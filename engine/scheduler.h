// The scheduler: keeps the DAGs folder loaded (and every version of it in the
// store), creates scheduled runs when their data interval ends, takes runs on
// a lease (queued ones within max_active_runs, and runs whose owner stopped
// renewing), decides what is ready in each, and queues ready tries within
// pools and max_active_tasks for workers. Any number of schedulers work on
// one store at once: runs and DAGs are taken with row locks and leases, never
// by electing a leader. Without a DAGs folder it drives only the runs given
// to it (`dagctl run`, `dagctl backfill`).
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "engine/clock.h"
#include "engine/dag_cache.h"
#include "engine/dag_loader.h"
#include "engine/run_driver.h"
#include "engine/store/store.h"

namespace dagctl {

class OperatorRegistry;

struct SchedulerOptions {
  std::string dags_dir;  ///< The DAGs folder; "" = only the runs given to AddRun().
  std::string owner;     ///< This process as a run owner (unique: "host:pid").
  Duration lease = std::chrono::seconds(30);
  /// How often the folder, the store's queued runs and leases are looked at
  /// when nothing wakes the scheduler sooner.
  Duration poll_interval = std::chrono::milliseconds(500);
  std::string logs_dir;
  bool ship_logs = false;
  /// Queue only what this process's own worker takes in the same pass, and
  /// only from its own runs (`dagctl run`, `backfill`).
  bool local_only = false;
  /// Print one line per problem with a run or a DAG (stderr).
  bool verbose = true;
};

/// A run that reached its end in a pass.
struct FinishedRun {
  std::string dag_id;
  std::string run_id;
  RunState state;
};

/// The worker in this process, which takes what the pass queues.
struct LocalWorkerSlots {
  int free = 0;
};

/// Not thread-safe: one thread runs a scheduler.
class Scheduler {
 public:
  /// Everything must outlive the scheduler; `observer` may be null.
  Scheduler(Store& store, const Clock& clock, const OperatorRegistry& ops, DagCache& dags,
            SchedulerOptions opts, RunObserver* observer = nullptr);
  ~Scheduler();

  /// Takes on run `run_id` of `dag`, already in the store: held by this
  /// process since its creation, or claimed now (AlreadyExists when another
  /// process holds it). Finished tasks keep their state.
  Status AddRun(std::shared_ptr<const Dag> dag, const std::string& run_id);

  /// One pass, inside the caller's transaction: reload the folder if it
  /// changed, create due runs, take runs, follow what workers reported, end
  /// lost tries, promote retries, finish runs, queue ready tries. `notes`
  /// are the store's notifications; `reported` what this process's worker
  /// reported in the same transaction. Returns the tries queued; when local_only, the tries chosen
  /// for the local worker, still scheduled: it takes exactly those at once.
  Result<std::vector<TiKey>> Pass(const std::set<std::string>& notes, const RunReports& reported,
                                  LocalWorkerSlots local);
  /// The pass committed / failed (drivers are then read again from the store).
  void Committed();
  void Aborted();
  /// Runs that ended in committed passes since the last call.
  std::vector<FinishedRun> TakeFinished();

  /// How many callbacks this process's runs queued so far (a hint for its worker).
  int callbacks_added() const { return env_.callbacks_added; }
  /// How many running tries this process's runs stopped so far (a hint for
  /// its worker to check its leases now).
  int tries_stopped() const { return env_.tries_stopped; }
  /// When the next scheduled run of a DAG is due (nullopt: none known).
  std::optional<Timestamp> NextRunDue() const;
  /// When the next pass is due without anything happening.
  std::optional<Timestamp> NextWake() const;
  /// Gives up every run (they stay running for another scheduler), or with
  /// `fail_runs` ends them failed. Inside the caller's transaction.
  Status Stop(bool fail_runs);

  size_t active_runs() const { return drivers_.size(); }
  size_t ActiveRunsOf(const std::string& dag_id) const;
  bool HasRun(const std::string& dag_id, const std::string& run_id) const;
  const DagBag& bag() const { return bag_; }

 private:
  bool folder_mode() const { return !opts_.dags_dir.empty(); }
  Status ReloadIfChanged(Timestamp now);
  Status CreateDueRuns(const Dag& dag, Timestamp now, std::optional<Timestamp>* next_due);
  Status CreateRuns(Timestamp now, const std::set<std::string>& paused);
  Status CreateAssetTriggeredRuns(Timestamp now, const std::set<std::string>& paused);
  Status CreateAssetTriggeredRun(const Dag& dag, Timestamp now);
  Status FollowHeldRuns(bool renew);
  Status ClaimRuns();
  Status TakeRun(const DagRunRecord& run);
  std::shared_ptr<const Dag> DagFor(const DagRunRecord& run);
  Status SyncDrivers(const RunReports& reported);
  Status Rebuild(size_t i);
  Status ReapLostTries();
  Status FinishRuns();
  Result<std::vector<TiKey>> QueueReady(LocalWorkerSlots local);
  Result<std::vector<TaskInstanceRecord>> LocalReady(size_t limit) const;
  void WarnStuck(const TaskInstanceRecord& ti);
  RunDriver* Find(const std::string& dag_id, const std::string& run_id);

  Store& store_;
  const Clock& clock_;
  const OperatorRegistry& ops_;
  DagCache& dags_;
  SchedulerOptions opts_;
  RunObserver* observer_;
  DriverEnv env_;
  std::vector<std::unique_ptr<RunDriver>> drivers_;  // oldest first
  std::map<std::pair<std::string, std::string>, int64_t> held_versions_;  // from the store
  DagBag bag_;
  DagFolderStamp stamps_;
  bool loaded_ = false;
  // When each DAG next needs a look: its next run_after, or nullopt while it
  // waits for a run to finish. Absent = look now.
  std::map<std::string, std::optional<Timestamp>> due_;
  std::vector<FinishedRun> finished_, finished_now_;
  std::map<std::string, int> pool_slots_;
  std::optional<Timestamp> pools_read_;
  std::optional<Timestamp> next_poll_, next_renewal_, next_reap_, last_heartbeat_;
  bool resync_ = false;
  bool created_ = false;  // this pass created runs
  bool starved_ = true;   // the last queueing left tries waiting (limits, pools)
  bool resync_queue_ = true;  // queue at the next pass whatever happened
  std::set<std::pair<std::string, std::string>> added_;  // runs given to AddRun
  std::set<std::string> warned_;  // problems already printed once
};

}  // namespace dagctl
