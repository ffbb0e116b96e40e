// The metadata store: DAG runs, task instances, tries and XCom. An interface so
// the engine never sees SQL (SQLite today; other backends can follow).
#pragma once

#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "engine/error.h"
#include "engine/task_state.h"
#include "engine/timeutil.h"

namespace dagctl {

enum class RunType { kManual, kScheduled, kBackfill };
const char* RunTypeName(RunType t);
std::optional<RunType> ParseRunType(const std::string& name);

struct DagRunRecord {
  std::string dag_id;
  std::string run_id;
  RunType run_type = RunType::kManual;
  RunState state = RunState::kQueued;
  Timestamp logical_date;
  Timestamp data_interval_start;
  Timestamp data_interval_end;
  Timestamp queued_at;
  std::optional<Timestamp> start_date;
  std::optional<Timestamp> end_date;
  std::string conf = "{}";  ///< JSON object.
  std::string dag_hash;     ///< Hash of the DAG file the run was created from.
  /// The process executing the run ("host:pid"), empty when none. A run is
  /// executed only by the process that claimed it (Store::ClaimRun).
  std::string owner;
};

struct TaskInstanceRecord {
  std::string dag_id;
  std::string run_id;
  std::string task_id;
  TaskState state = TaskState::kNone;
  int try_number = 0;  ///< The latest try started; 0 before the first.
  int max_tries = 1;
  std::optional<Timestamp> start_date;
  std::optional<Timestamp> end_date;
  std::optional<Timestamp> next_try_at;  ///< When an up_for_retry task may go again.
  std::string operator_name;
  int priority_weight = 1;
  std::string pool = "default_pool";
  int pid = 0;  ///< Process of the running try, 0 when none.
  std::optional<Timestamp> first_poke_at;  ///< A sensor's first poke of this try.
};

/// One try of a task instance.
struct TryRecord {
  std::string dag_id;
  std::string run_id;
  std::string task_id;
  int try_number = 1;
  TaskState state = TaskState::kRunning;
  Timestamp start_date;
  std::optional<Timestamp> end_date;
  std::optional<int> exit_code;
  std::string error;  ///< Why the try failed, for people; empty on success.
  std::string hostname;
  int pid = 0;
};

struct XComRecord {
  std::string task_id;
  std::string key;
  std::string value;
};

/// Filters and paging for run lists; newest logical date first.
struct RunQuery {
  std::string dag_id;            ///< Empty = every DAG.
  std::vector<RunState> states;  ///< Empty = any state.
  std::vector<RunType> types;    ///< Empty = any type.
  int limit = 100;
  int offset = 0;
  bool oldest_first = false;  ///< Ascending logical date instead of descending.
  /// Overrides the order: a field (`id` = creation order, `logical_date`,
  /// `execution_date`, `start_date`, `end_date`, `state`, `dag_run_id`,
  /// `run_type`), `-` in front for descending. Unknown fields are InvalidArgument.
  std::string order_by;
  std::optional<Timestamp> logical_date_gte;
  std::optional<Timestamp> logical_date_lte;
};

/// A file of the DAGs folder that failed to load, as the API reports it.
struct ImportErrorRecord {
  std::string filename;
  std::string stack_trace;  ///< Every diagnostic, one per line.
  Timestamp timestamp;
};

/// Thread-compatible: one Store per thread, or external locking. Every call
/// commits before it returns unless inside Transaction().
class Store {
 public:
  virtual ~Store() = default;

  /// Runs `fn` in one transaction: all its writes land, or none do.
  virtual Status Transaction(const std::function<Status()>& fn) = 0;

  /// Creates a run and its task instances. AlreadyExists when the run id is
  /// taken, or (scheduled and backfill runs) the logical date already has one.
  virtual Status CreateDagRun(const DagRunRecord& run,
                              const std::vector<TaskInstanceRecord>& tasks) = 0;
  /// Sets the run's owner to `new_owner` if it is `expected_owner` now;
  /// false (and no change) otherwise. How executors take runs without racing.
  virtual Result<bool> ClaimRun(const std::string& dag_id, const std::string& run_id,
                                const std::string& expected_owner,
                                const std::string& new_owner) = 0;
  /// Writes state, start_date, end_date, dag_hash and owner of an existing run.
  virtual Status UpdateDagRun(const DagRunRecord& run) = 0;
  virtual Result<DagRunRecord> GetDagRun(const std::string& dag_id, const std::string& run_id) = 0;
  virtual Result<std::vector<DagRunRecord>> ListDagRuns(const RunQuery& q) = 0;
  virtual Result<int> CountDagRuns(const RunQuery& q) = 0;

  /// Writes every mutable field of an existing task instance.
  virtual Status UpdateTaskInstance(const TaskInstanceRecord& ti) = 0;
  /// The run's task instances, in task-id order.
  virtual Result<std::vector<TaskInstanceRecord>> ListTaskInstances(const std::string& dag_id,
                                                                    const std::string& run_id) = 0;

  /// The task instances of several runs of one DAG, in one query (the grid).
  virtual Result<std::vector<TaskInstanceRecord>> ListTaskInstancesOfRuns(
      const std::string& dag_id, const std::vector<std::string>& run_ids) = 0;

  /// Inserts or replaces a try.
  virtual Status PutTry(const TryRecord& t) = 0;
  virtual Result<std::vector<TryRecord>> ListTries(const std::string& dag_id,
                                                   const std::string& run_id,
                                                   const std::string& task_id) = 0;

  virtual Status PutXCom(const std::string& dag_id, const std::string& run_id,
                         const XComRecord& x) = 0;
  /// NotFound when the task pushed nothing under `key` in that run.
  virtual Result<std::string> GetXCom(const std::string& dag_id, const std::string& run_id,
                                      const std::string& task_id, const std::string& key) = 0;
  /// Drops a task's XComs (before it runs again).
  virtual Status ClearXCom(const std::string& dag_id, const std::string& run_id,
                           const std::string& task_id) = 0;

  /// The scheduled or backfill run with the latest logical date; nullopt if none.
  virtual Result<std::optional<DagRunRecord>> LatestScheduledRun(const std::string& dag_id) = 0;

  /// Replaces the recorded import errors with `errors` (the scheduler's latest load).
  virtual Status ReplaceImportErrors(const std::vector<ImportErrorRecord>& errors) = 0;
  virtual Result<std::vector<ImportErrorRecord>> ListImportErrors() = 0;

  /// Whether scheduling of `dag_id` is paused (false for unknown DAGs).
  virtual Result<bool> IsPaused(const std::string& dag_id) = 0;
  virtual Status SetPaused(const std::string& dag_id, bool paused) = 0;
  /// Records that a `job_type` process (the scheduler) is alive at `at`.
  virtual Status Heartbeat(const std::string& job_type, const std::string& owner, Timestamp at) = 0;
  /// The latest heartbeat of a `job_type` process; nullopt if none ever.
  virtual Result<std::optional<Timestamp>> LatestHeartbeat(const std::string& job_type) = 0;

  /// Variables (Airflow's): named strings for templates (`{{ var.NAME }}`).
  virtual Status SetVariable(const std::string& key, const std::string& value) = 0;
  /// NotFound when unset.
  virtual Result<std::string> GetVariable(const std::string& key) = 0;
  /// Every variable, by key.
  virtual Result<std::vector<std::pair<std::string, std::string>>> ListVariables() = 0;
  /// NotFound when unset.
  virtual Status DeleteVariable(const std::string& key) = 0;

  /// Every paused dag_id.
  virtual Result<std::set<std::string>> PausedDags() = 0;
};

}  // namespace dagctl
