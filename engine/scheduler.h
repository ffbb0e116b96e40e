// The scheduler: keeps the DAGs folder loaded, creates scheduled runs when
// their data interval ends, starts queued runs (scheduled, triggered,
// cleared) within max_active_runs, and runs them all on one Executor.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>

#include "engine/clock.h"
#include "engine/dag_loader.h"
#include "engine/executor.h"
#include "engine/store/store.h"

namespace dagctl {

class OperatorRegistry;

struct SchedulerOptions {
  std::string dags_dir;
  ExecutorOptions executor;
  /// How often the DAGs folder is checked for changes and the store for
  /// triggered runs, at most; fire times and task ends wake it sooner.
  Duration poll_interval = std::chrono::milliseconds(500);
};

/// Not thread-safe: one thread runs a scheduler.
class Scheduler {
 public:
  Scheduler(Store& store, TryRunner& runner, const Clock& clock, const OperatorRegistry& ops,
            SchedulerOptions opts, RunObserver* observer = nullptr);

  /// Schedules and runs until a stop is requested (SIGINT, SIGTERM); then
  /// terminates running tries and records them, leaving their runs for the
  /// next start to finish.
  Status Run();

  /// One round of decisions: reload the DAGs folder if it changed, create the
  /// scheduled runs that are due, start queued runs (and runs left running by
  /// a previous scheduler). Returns when the next scheduled run is due.
  Result<std::optional<Timestamp>> Tick();

  /// One executor pass, waiting at most until `deadline`.
  Result<std::vector<FinishedRun>> Step(std::optional<Timestamp> deadline) {
    return executor_.Step(deadline);
  }

  const DagBag& bag() const { return bag_; }

  /// Tells the scheduler a run of `dag_id` ended (Run() does this itself).
  void RunFinished(const std::string& dag_id);

 private:
  bool ReloadIfChanged();
  Status RecordImportErrors();
  Status CreateDueRuns(const Dag& dag, Timestamp now, std::optional<Timestamp>* next_due);
  Status StartQueuedRuns();

  Store& store_;
  const Clock& clock_;
  const OperatorRegistry& ops_;
  SchedulerOptions opts_;
  Executor executor_;
  DagBag bag_;
  DagFolderStamp stamps_;
  // When each DAG next needs a look: its next run_after, or nullopt while it
  // waits for a run to finish. Absent = look now.
  std::map<std::string, std::optional<Timestamp>> due_;
  bool loaded_ = false;
  std::optional<Timestamp> last_heartbeat_;
};

}  // namespace dagctl
