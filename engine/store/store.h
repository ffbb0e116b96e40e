// The metadata store: DAG runs, task instances, tries, XCom, and what several
// processes on several machines need to share work: leases, queues, workers,
// DAG versions and logs. An interface so the engine never sees SQL; one
// implementation over SQLite and PostgreSQL (engine/store/sql_store.*).
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "engine/duration.h"
#include "engine/error.h"
#include "engine/task_state.h"
#include "engine/timeutil.h"

namespace dagctl {

/// kDatasetTriggered: created by asset events (Airflow 2's `dataset_triggered`).
enum class RunType { kManual, kScheduled, kBackfill, kDatasetTriggered };
const char* RunTypeName(RunType t);
std::optional<RunType> ParseRunType(const std::string& name);

/// A task instance's identity. `map_index` is -1 for a task that is not mapped.
struct TiKey {
  std::string dag_id;
  std::string run_id;
  std::string task_id;
  int map_index = -1;

  auto operator<=>(const TiKey&) const = default;
};

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
  std::string dag_hash;     ///< The DAG version the run executes (see DagVersionRecord).
  /// The process deciding the run's tasks (a scheduler, or `dagctl run`), ""
  /// when none. It holds the run on a lease until `lease_until` (store clock)
  /// and renews it; `fence` grows with every claim, so a process that lost
  /// the run cannot write to it any more.
  std::string owner;
  std::optional<Timestamp> lease_until;
  int64_t fence = 0;
  /// Grows with every change to one of the run's task instances made by
  /// someone other than its owner (a worker's result, a clear): the owner
  /// reads what changed since the version it knows.
  int64_t ti_version = 0;
  /// A backfill run's limit on how many of the DAG's backfill runs run at
  /// once (the backfill's max_active_runs); 0 = none beyond the DAG's.
  int max_active_runs = 0;
};

struct TaskInstanceRecord {
  std::string dag_id;
  std::string run_id;
  std::string task_id;
  int map_index = -1;
  TaskState state = TaskState::kNone;
  int try_number = 0;  ///< The latest try queued; 0 before the first.
  int max_tries = 1;
  std::optional<Timestamp> start_date;
  std::optional<Timestamp> end_date;
  std::optional<Timestamp> next_try_at;  ///< When an up_for_retry/up_for_reschedule task may go again.
  std::string operator_name;
  int priority_weight = 1;
  std::string pool = "default_pool";
  int pool_slots = 1;
  std::string queue = "default";
  std::optional<Timestamp> queued_at;
  int pid = 0;  ///< Process (group) of the running try, 0 when none.
  std::optional<Timestamp> first_poke_at;  ///< A sensor's first poke of this try.
  /// The worker running the try, on a lease until `lease_until` (store
  /// clock); `fence` grows with every claim.
  std::string worker;
  std::string hostname;
  std::optional<Timestamp> lease_until;
  int64_t fence = 0;
  int64_t version = 0;  ///< The run's ti_version when this row last changed.
  /// A mapped instance's element of each `expand` name, as a JSON object; ""
  /// when the task is not mapped.
  std::string map_values;

  TiKey key() const { return {dag_id, run_id, task_id, map_index}; }
  /// Drops what its latest try left: dates, process, worker and lease.
  void ForgetTry() {
    start_date.reset();
    end_date.reset();
    next_try_at.reset();
    queued_at.reset();
    first_poke_at.reset();
    lease_until.reset();
    pid = 0;
    worker.clear();
    hostname.clear();
  }
};

/// One try of a task instance.
struct TryRecord {
  std::string dag_id;
  std::string run_id;
  std::string task_id;
  int map_index = -1;
  int try_number = 1;
  TaskState state = TaskState::kRunning;
  Timestamp start_date;
  std::optional<Timestamp> end_date;
  std::optional<int> exit_code;
  std::string error;  ///< Why the try failed, for people; empty on success.
  std::string hostname;
  int pid = 0;
  std::string worker;
};

struct XComRecord {
  std::string task_id;
  std::string key;
  std::string value;
  int map_index = -1;
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
  /// Runs whose start (end) date is within these bounds; a run not yet
  /// started (ended) has none and is left out when a bound is given.
  std::optional<Timestamp> start_date_gte;
  std::optional<Timestamp> start_date_lte;
  std::optional<Timestamp> end_date_gte;
  std::optional<Timestamp> end_date_lte;
};

/// A connection kept in the store (created through the REST API), as
/// Airflow's connection table holds it.
struct ConnectionRecord {
  std::string conn_id;
  std::string conn_type;
  std::string description;
  std::string host;
  std::string schema;
  std::string login;
  std::string password;
  std::optional<int> port;
  std::string extra;  ///< Airflow's extra: JSON text, or "".
};

/// How many runs of a DAG had one state on one UTC day (of their logical date).
struct RunDayCount {
  Timestamp day;  ///< Midnight UTC.
  RunState state = RunState::kQueued;
  int count = 0;
};

/// A file of the DAGs folder that failed to load, as the API reports it.
struct ImportErrorRecord {
  std::string filename;
  std::string stack_trace;  ///< Every diagnostic, one per line.
  Timestamp timestamp;
};

/// A run another process may take: nobody holds it, or its lease ran out.
struct ClaimableRun {
  std::string dag_id;
  std::string run_id;
  RunState state = RunState::kQueued;
  int64_t fence = 0;
  std::string owner;  ///< The previous owner whose lease ran out, or "".
  int max_active_runs = 0;  ///< DagRunRecord::max_active_runs
  RunType run_type = RunType::kManual;
};

/// A run this process still holds after renewing its leases.
struct HeldRun {
  std::string dag_id;
  std::string run_id;
  int64_t fence = 0;
  int64_t ti_version = 0;
};

/// Slots taken by queued and running task instances (Airflow's "occupied").
struct ActiveSlots {
  std::map<std::string, int> pool;                      ///< pool -> pool_slots in use
  std::map<std::string, int> dag;                       ///< dag_id -> task instances
  std::map<std::pair<std::string, std::string>, int> task;  ///< (dag_id, task_id) -> instances
  std::map<TiKey, int> run_task;  ///< (dag_id, run_id, task_id) -> instances (map_index -1)
};

/// What a pass of queueing leaves out of the scheduled tries it reads: full
/// pools, DAGs at max_active_tasks, tasks at max_active_tis_per_dag.
struct QueueExclusions {
  std::set<std::string> pools;
  std::set<std::string> dags;
  std::set<std::pair<std::string, std::string>> tasks;  ///< (dag_id, task_id)

  size_t size() const { return pools.size() + dags.size() + tasks.size(); }
};

struct PoolRecord {
  std::string name;
  int slots = 128;
  std::string description;
};

/// The pool_slots of a pool's task instances, by state (Airflow's pool stats).
struct PoolUsage {
  int running = 0;
  int queued = 0;
  int scheduled = 0;
};

/// Which queued task instances a worker takes.
struct ClaimSpec {
  std::string worker;
  std::string hostname;
  std::vector<std::string> queues;  ///< Empty = every queue.
  int limit = 1;
  Duration lease = std::chrono::seconds(30);
  /// Only these; empty = any queued ones.
  std::vector<TiKey> only;
  /// `only` are still scheduled: the process that chose them under the
  /// queueing lock takes them straight away (queueing them and claiming them
  /// at once: a new try each, unless a sensor goes on after a reschedule).
  bool hand_off = false;
};

/// A try a worker holds: the key and the fence of its claim.
struct HeldTry {
  TiKey key;
  int64_t fence = 0;
};

/// A worker's report of how a try ended, applied only while the worker
/// still holds the try's lease (state running, worker, fence unchanged).
/// What a worker's report wrote (for the scheduler in the same process, which
/// need not read it back): the task instance as written, with the run's new
/// ti_version, and the tasks it skipped if they were undecided.
struct TryReported {
  TaskInstanceRecord ti;
  std::vector<std::string> skipped;
};
/// What a worker's pass reported, by (dag_id, run_id).
using RunReports = std::map<std::pair<std::string, std::string>, std::vector<TryReported>>;

/// A callback (on_failure, on_success, on_retry, after_downstream) for a
/// worker of `queue` to run; `task_id` is "" for the whole run's.
struct CallbackRecord {
  int64_t id = 0;
  std::string dag_id;
  std::string run_id;
  std::string task_id;
  int map_index = -1;
  int try_number = 1;
  std::string event;
  std::string state;  ///< The task's or run's state the callback reports on.
  std::string error;
  std::string queue = "default";
  std::string dag_hash;
  Timestamp created_at;
  /// Why a run's callback runs, in Airflow's words: `success`,
  /// `task_failure`, `timed_out`; "" for a task's callbacks.
  std::string reason;
};

/// An asset (Airflow 2's DatasetModel), with the DAGs scheduled on it and
/// the tasks that have it as an outlet.
struct AssetRecord {
  int64_t id = 0;
  std::string uri;
  std::string extra = "{}";  ///< JSON object.
  Timestamp created_at;
  Timestamp updated_at;
  std::vector<std::string> consuming_dags;  ///< By dag_id.
  std::vector<std::pair<std::string, std::string>> producing_tasks;  ///< (dag_id, task_id)
};

/// One mention of an asset in a DAG: the DAG is scheduled on it (`task_id`
/// ""), or the task has it among its outlets.
struct AssetReference {
  std::string uri;
  std::string dag_id;
  std::string task_id;
};

/// That an asset changed (Airflow 2's DatasetEvent): by a task's success, or
/// from outside (`source_*` empty, `source_map_index` -1).
struct AssetEventRecord {
  int64_t id = 0;
  int64_t asset_id = 0;
  std::string uri;
  std::string extra = "{}";  ///< JSON object.
  std::string source_dag_id;
  std::string source_task_id;
  std::string source_run_id;
  int source_map_index = -1;
  Timestamp timestamp;  ///< Store clock.
};

/// Filters and paging for asset events; oldest first unless `order_by`
/// (`id`, `timestamp`, `source_dag_id`, ..., `-` in front for descending).
struct AssetEventQuery {
  std::vector<std::string> uris;  ///< Empty = every asset.
  std::optional<int64_t> asset_id;
  std::string source_dag_id;
  std::string source_task_id;
  std::string source_run_id;
  std::optional<int> source_map_index;
  std::optional<Timestamp> after;  ///< Only events strictly after.
  std::optional<Timestamp> until;  ///< Only events at or before.
  int limit = 100;
  int offset = 0;
  std::string order_by;
};

/// Which queue entries to list or delete; empty fields match any.
struct AssetQueueQuery {
  std::string dag_id;
  std::string uri;
  std::optional<Timestamp> before;  ///< Only entries created strictly before.
};

/// A consumer DAG waiting on an asset (Airflow 2's DatasetDagRunQueue): one
/// per (asset, DAG) whatever the number of events, since the DAG's last
/// dataset-triggered run.
struct AssetQueueEntry {
  std::string uri;
  std::string dag_id;
  Timestamp created_at;  ///< The first event's time.
};

struct TryReport {
  TaskInstanceRecord ti;     ///< Key, the claim's fence, and the new state and times.
  std::string claim_worker;  ///< The worker that claimed the try (the guard).
  TryRecord try_record;
  std::vector<XComRecord> xcom;
  /// Tasks of the run to skip with this report (branches not taken), if
  /// still undecided.
  std::vector<std::string> skip_task_ids;
  std::vector<CallbackRecord> callbacks;  ///< The task's callbacks to queue.
  /// The task's outlets, recorded with its success (uri and extra; the
  /// source and time are filled in).
  std::vector<AssetEventRecord> asset_events;
};


/// A worker process, as `dagctl workers` shows it.
struct WorkerRecord {
  std::string name;
  std::string hostname;
  std::vector<std::string> queues;
  int slots = 0;
  int slots_used = 0;
  Timestamp started_at;
  Timestamp heartbeat;  ///< Store clock.
};

/// One version of a DAG file: its text, by hash.
struct DagVersionRecord {
  std::string dag_id;
  std::string hash;
  std::string path;  ///< Relative to the DAGs folder, or absolute for a file outside it.
  std::string source;
  Timestamp created_at;
};

/// Thread-compatible: one Store per thread, or external locking. Every call
/// commits before it returns unless inside Transaction(). Errors that say the
/// database could not be reached are Unavailable: the caller may try again.
class Store {
 public:
  virtual ~Store() = default;

  /// Runs `fn` in one transaction: all its writes land, or none do.
  virtual Status Transaction(const std::function<Status()>& fn) = 0;
  /// The store's clock (PostgreSQL's, or this machine's for SQLite): leases
  /// are measured on it.
  virtual Result<Timestamp> Now() = 0;

  // --- Runs -------------------------------------------------------------

  /// Creates a run and its task instances. AlreadyExists when the run id is
  /// taken, or (scheduled and backfill runs) the logical date already has one.
  /// A run with an owner is created held by it, on a lease of `lease`.
  virtual Status CreateDagRun(const DagRunRecord& run,
                              const std::vector<TaskInstanceRecord>& tasks,
                              Duration lease = std::chrono::seconds(30)) = 0;
  /// Writes state, start_date, end_date and dag_hash of a run, whoever holds it.
  virtual Status UpdateDagRun(const DagRunRecord& run) = 0;
  /// Writes state, start_date and end_date of a run set by hand and takes
  /// it from the process holding it (owner and lease dropped, fence + 1):
  /// that process stops deciding its tasks; a queued run is claimed anew.
  virtual Status SetDagRunByHand(const DagRunRecord& run) = 0;
  virtual Result<DagRunRecord> GetDagRun(const std::string& dag_id, const std::string& run_id) = 0;
  virtual Result<std::vector<DagRunRecord>> ListDagRuns(const RunQuery& q) = 0;
  virtual Result<int> CountDagRuns(const RunQuery& q) = 0;
  /// Runs of `dag_id` whose logical date is in [from, to), counted per UTC
  /// day and state (one row per day and state that has runs).
  virtual Result<std::vector<RunDayCount>> CountRunsByDay(const std::string& dag_id,
                                                          Timestamp from, Timestamp to) = 0;
  /// The scheduled or backfill run with the latest logical date; nullopt if none.
  virtual Result<std::optional<DagRunRecord>> LatestScheduledRun(const std::string& dag_id) = 0;

  // --- Run leases (schedulers) ----------------------------------------------

  /// Locks the DAG's row for this transaction, unless another process holds
  /// it (false then): whoever holds it creates the DAG's runs. SQLite's write
  /// lock makes this always true there.
  virtual Result<bool> LockDag(const std::string& dag_id) = 0;
  /// Queued and running runs nobody holds, or whose lease ran out.
  virtual Result<std::vector<ClaimableRun>> ListClaimableRuns(int limit) = 0;
  /// Takes run `dag_id`/`run_id` for `owner` on a lease of `lease`, if its
  /// fence is still `expected_fence` and nobody else holds it; sets `state`
  /// if given. Returns the new fence, or nullopt when another process was first.
  virtual Result<std::optional<int64_t>> ClaimRun(const std::string& dag_id,
                                                  const std::string& run_id,
                                                  int64_t expected_fence, const std::string& owner,
                                                  Duration lease,
                                                  std::optional<RunState> state) = 0;
  /// Extends the lease of every run `owner` holds; returns them.
  virtual Result<std::vector<HeldRun>> RenewRunLeases(const std::string& owner, Duration lease) = 0;
  /// The runs `owner` holds, with their ti_version (no lease change); on
  /// PostgreSQL their rows stay locked until the transaction ends, taken in
  /// (dag_id, run_id) order, the order every process locks runs in.
  virtual Result<std::vector<HeldRun>> ListHeldRuns(const std::string& owner) = 0;
  /// True if `owner` still holds the run under `fence`; on PostgreSQL the
  /// run's row stays locked until the transaction ends, so it cannot be taken
  /// meanwhile.
  virtual Result<bool> HoldsRun(const std::string& dag_id, const std::string& run_id,
                                const std::string& owner, int64_t fence) = 0;
  /// Writes state, start_date, end_date and dag_hash of a run `run.owner`
  /// holds under `run.fence`; with `release` the lease is given up. False
  /// (and no change) when the run is no longer held.
  virtual Result<bool> UpdateHeldRun(const DagRunRecord& run, bool release) = 0;

  // --- Task instances --------------------------------------------------------

  /// The run's task instances, in task-id then map-index order.
  virtual Result<std::vector<TaskInstanceRecord>> ListTaskInstances(const std::string& dag_id,
                                                                    const std::string& run_id) = 0;
  /// The task instances of several runs of one DAG, in one query (the
  /// grid, durations): only their key, state, try_number and dates are read.
  virtual Result<std::vector<TaskInstanceRecord>> ListTaskInstancesOfRuns(
      const std::string& dag_id, const std::vector<std::string>& run_ids) = 0;
  /// Task instances of the run changed since `since` (ti_version).
  virtual Result<std::vector<TaskInstanceRecord>> ChangedTaskInstances(const std::string& dag_id,
                                                                       const std::string& run_id,
                                                                       int64_t since) = 0;
  /// Writes every mutable field of a task instance, whoever holds it, and
  /// tells the run's owner (ti_version). For clearing and marking by hand.
  virtual Status UpdateTaskInstance(const TaskInstanceRecord& ti) = 0;
  /// Inserts task instances into an existing run (a mapped task's instances).
  virtual Status AddTaskInstances(const std::vector<TaskInstanceRecord>& tis) = 0;
  /// The run owner's expansion of a mapped task: replaces every task instance
  /// of `task_id` in the run (each map index) with `rows`, if none of them
  /// has a state yet. False (no change) otherwise.
  virtual Result<bool> ReplaceTaskInstances(const std::string& dag_id, const std::string& run_id,
                                            const std::string& task_id,
                                            const std::vector<TaskInstanceRecord>& rows) = 0;
  /// The run owner's decision: writes `ti` if its state is still `expected`.
  /// False (no change) otherwise.
  virtual Result<bool> DecideTaskInstance(const TaskInstanceRecord& ti, TaskState expected) = 0;

  // --- Queueing (schedulers) --------------------------------------------------

  /// Serializes queueing among processes until the transaction ends (a
  /// PostgreSQL advisory lock; SQLite's write lock already does).
  virtual Status LockQueueing() = 0;
  virtual Result<ActiveSlots> CountActiveSlots() = 0;
  /// Scheduled task instances of running runs, highest priority_weight
  /// first, then oldest logical date, then map_index; leaving out the
  /// excluded; only of `runs` (dag_id, run_id) when given. Only the key,
  /// state, pool, pool_slots, priority_weight and first_poke_at are read.
  virtual Result<std::vector<TaskInstanceRecord>> ListScheduled(
      int limit, const QueueExclusions& excluded,
      const std::vector<std::pair<std::string, std::string>>& runs) = 0;
  /// scheduled -> queued; `new_try` counts a new try. False if no longer scheduled.
  virtual Result<bool> QueueTaskInstance(const TiKey& key, bool new_try) = 0;

  // --- Tries (workers) -------------------------------------------------------

  /// Takes queued task instances for a worker: running, on a lease, fence + 1.
  virtual Result<std::vector<TaskInstanceRecord>> ClaimTaskInstances(const ClaimSpec& spec) = 0;
  /// The tries the store says `worker` holds (running under its name).
  virtual Result<std::vector<TaskInstanceRecord>> ListHeldTries(const std::string& worker) = 0;
  /// Extends the leases of `tries` held by `worker`; returns those still held.
  virtual Result<std::vector<TiKey>> RenewTryLeases(const std::string& worker,
                                                    const std::vector<HeldTry>& tries,
                                                    Duration lease) = 0;
  /// Applies a try's end (or a sensor's wait) if the reporter still holds
  /// it: the task instance, the try, its XCom, and the run's ti_version
  /// (written into `report.ti.version`). False (nothing written) when the
  /// lease was lost.
  virtual Result<bool> ReportTry(TryReport& report) = 0;
  /// Records the process group of a held try (task instance and try).
  virtual Status RecordTryPid(const TiKey& key, int64_t fence, int try_number, int pid) = 0;
  /// Running task instances whose try may have ended unrecorded: held by
  /// `worker` (a process of that name that died) or with their lease run out.
  virtual Result<std::vector<TaskInstanceRecord>> ListUnrecordedTries(const std::string& worker) = 0;
  /// Takes over a running try from its holder `ti.worker` (dead: its lease
  /// ran out, or it had this worker's name) under the same fence, to record
  /// how the try ended. False (no change) when the holder renewed, reported,
  /// or another process took it first.
  virtual Result<bool> AdoptTry(const TaskInstanceRecord& ti, const std::string& worker,
                                const std::string& hostname, Duration lease) = 0;
  /// Running task instances of runs `owner` holds whose lease ran out.
  virtual Result<std::vector<TaskInstanceRecord>> ListExpiredTries(const std::string& owner) = 0;
  /// Ends a try whose lease ran out: writes `ti` (its new state) and `ended`
  /// if the try is still running under `ti.fence` with its lease expired.
  /// False (no change) when its worker renewed or reported meanwhile.
  virtual Result<bool> ExpireTry(const TaskInstanceRecord& ti, const TryRecord& ended) = 0;

  /// Inserts or replaces a try.
  virtual Status PutTry(const TryRecord& t) = 0;
  virtual Result<std::vector<TryRecord>> ListTries(const TiKey& key) = 0;
  /// Every try of a run's task instances, by task, map index and try number.
  virtual Result<std::vector<TryRecord>> ListTriesOfRun(const std::string& dag_id,
                                                        const std::string& run_id) = 0;

  // --- XCom -------------------------------------------------------------------

  virtual Status PutXCom(const std::string& dag_id, const std::string& run_id,
                         const XComRecord& x) = 0;
  /// NotFound when the task pushed nothing under `key` in that run.
  virtual Result<std::string> GetXCom(const std::string& dag_id, const std::string& run_id,
                                      const std::string& task_id, const std::string& key,
                                      int map_index = -1) = 0;
  /// Everything a task pushed in a run (each map index), by map index then key.
  virtual Result<std::vector<XComRecord>> ListXComs(const std::string& dag_id,
                                                    const std::string& run_id,
                                                    const std::string& task_id) = 0;
  /// What the instances of a mapped task pushed under `key`, by map index
  /// (those that pushed nothing are not there).
  virtual Result<std::vector<std::pair<int, std::string>>> ListMappedXCom(
      const std::string& dag_id, const std::string& run_id, const std::string& task_id,
      const std::string& key) = 0;
  /// Drops a task instance's XComs (before it runs again).
  virtual Status ClearXCom(const TiKey& key) = 0;

  // --- Callbacks ----------------------------------------------------------------

  virtual Status AddCallback(const CallbackRecord& c) = 0;
  /// Takes up to `limit` callbacks of `queues` (every queue when empty) for
  /// `worker`; only of `runs` (dag_id, run_id) when given.
  virtual Result<std::vector<CallbackRecord>> ClaimCallbacks(
      const std::string& worker, const std::vector<std::string>& queues, int limit,
      const std::vector<std::pair<std::string, std::string>>& runs) = 0;
  virtual Status FinishCallback(int64_t id) = 0;
  /// Callbacks of a run not yet finished.
  virtual Result<int> CountPendingCallbacks(const std::string& dag_id,
                                            const std::string& run_id) = 0;

  // --- Workers ----------------------------------------------------------------

  /// Registers (or re-registers) a worker and records its heartbeat.
  virtual Status WorkerHeartbeat(const WorkerRecord& w) = 0;
  virtual Status RemoveWorker(const std::string& name) = 0;
  /// Workers whose last heartbeat is within `alive_within`, by name.
  virtual Result<std::vector<WorkerRecord>> ListWorkers(Duration alive_within) = 0;

  // --- DAG versions and logs ----------------------------------------------------

  /// Stores a version of a DAG file; nothing happens if it is known already.
  virtual Status PutDagVersion(const DagVersionRecord& v) = 0;
  virtual Result<DagVersionRecord> GetDagVersion(const std::string& dag_id,
                                                 const std::string& hash) = 0;
  /// Every version of a DAG, oldest first (without their text).
  virtual Result<std::vector<DagVersionRecord>> ListDagVersions(const std::string& dag_id) = 0;
  /// Appends `data` to a try's log at byte `offset` (sending again is harmless).
  virtual Status AppendTryLog(const TiKey& key, int try_number, int64_t offset,
                              const std::string& data) = 0;
  /// Appends a line at the end of what has been shipped of a try's log.
  virtual Status AppendTryLogLine(const TiKey& key, int try_number, const std::string& line) = 0;
  /// The try's log from byte `offset` on, as far as it has been shipped;
  /// NotFound when nothing of it has been.
  virtual Result<std::string> ReadTryLog(const TiKey& key, int try_number, int64_t offset) = 0;

  // --- Pools ------------------------------------------------------------------

  /// Every pool, by name; `default_pool` is always there.
  virtual Result<std::vector<PoolRecord>> ListPools() = 0;
  /// Creates the pool or sets its slots and description.
  virtual Status SetPool(const PoolRecord& p) = 0;
  /// AlreadyExists when there is a pool of that name.
  virtual Status CreatePool(const PoolRecord& p) = 0;
  /// Replaces pool `name` with `p` (which may rename it). NotFound when there
  /// is no pool `name`, AlreadyExists when the new name is another pool's.
  virtual Status UpdatePool(const std::string& name, const PoolRecord& p) = 0;
  /// NotFound when there is no such pool; InvalidArgument for default_pool.
  virtual Status DeletePool(const std::string& name) = 0;
  /// Slots held per pool by task instances in each state that counts.
  virtual Result<std::map<std::string, PoolUsage>> CountPoolUsage() = 0;

  // --- Assets (data-aware scheduling) ---------------------------------------

  /// Records the asset references `refs` (what a DAGs folder says now) and
  /// creates the assets they name; with `replace` (the scheduler's full
  /// load) every other reference goes. Assets are never removed: their
  /// events stay.
  virtual Status SyncAssetReferences(const std::vector<AssetReference>& refs, bool replace) = 0;
  /// Assets whose URI contains `uri_pattern` (any case; every one when ""),
  /// or only those some DAG of `dag_ids` consumes or produces; ordered by
  /// `order_by` (`id`, `uri`, `created_at`, `updated_at`, `-` in front for
  /// descending; "" = id). InvalidArgument for another field.
  virtual Result<std::vector<AssetRecord>> ListAssets(const std::string& uri_pattern,
                                                      const std::vector<std::string>& dag_ids,
                                                      const std::string& order_by, int limit,
                                                      int offset) = 0;
  virtual Result<int> CountAssets(const std::string& uri_pattern,
                                  const std::vector<std::string>& dag_ids) = 0;
  /// NotFound when no DAG ever declared it.
  virtual Result<AssetRecord> GetAsset(const std::string& uri) = 0;
  /// Records an event of an existing asset: sets `event.id`, `asset_id` and
  /// `timestamp` (store clock), and queues a run of every unpaused DAG
  /// scheduled on it (one queue entry per asset until that run is created).
  /// NotFound when no DAG declares the asset.
  virtual Status RecordAssetEvent(AssetEventRecord& event) = 0;
  virtual Result<std::vector<AssetEventRecord>> ListAssetEvents(const AssetEventQuery& q) = 0;
  virtual Result<int> CountAssetEvents(const AssetEventQuery& q) = 0;
  /// The queue entries `q` selects, by dag_id then URI.
  virtual Result<std::vector<AssetQueueEntry>> ListAssetQueue(const AssetQueueQuery& q) = 0;
  /// Deletes the queue entries `q` selects (the API's DELETE .../queuedEvent);
  /// returns how many.
  virtual Result<int> DeleteAssetQueue(const AssetQueueQuery& q) = 0;
  /// What a dataset-triggered run consumed: links `event_ids` to it and
  /// empties its DAG's queue.
  virtual Status ConsumeAssetEvents(const std::string& dag_id, const std::string& run_id,
                                    const std::vector<int64_t>& event_ids) = 0;
  /// The runs that consumed each of `event_ids` (Airflow's created_dagruns),
  /// as (dag_id, run_id) by event id.
  virtual Result<std::map<int64_t, std::vector<std::pair<std::string, std::string>>>>
  ListAssetEventRuns(const std::vector<int64_t>& event_ids) = 0;
  /// The events a run consumed (Airflow's consumed_dataset_events), oldest first.
  virtual Result<std::vector<AssetEventRecord>> ListConsumedAssetEvents(
      const std::string& dag_id, const std::string& run_id) = 0;

  // --- Notifications ------------------------------------------------------------

  /// Tells listening processes (PostgreSQL NOTIFY, sent at commit; nothing
  /// on SQLite, where every process polls).
  virtual Status Notify(const std::string& channel, const std::string& payload) = 0;
  virtual Status Listen(const std::string& channel) = 0;
  /// The socket to poll for notifications, or -1.
  virtual int NotificationFd() = 0;
  /// The channels notified since the last call.
  virtual std::set<std::string> TakeNotifications() = 0;

  // --- DAGs, import errors, heartbeats, variables --------------------------------

  /// Replaces the recorded import errors with `errors` (the scheduler's latest load).
  virtual Status ReplaceImportErrors(const std::vector<ImportErrorRecord>& errors) = 0;
  virtual Result<std::vector<ImportErrorRecord>> ListImportErrors() = 0;
  /// Makes sure each DAG has its row (for LockDag and the pause flag).
  virtual Status EnsureDags(const std::vector<std::string>& dag_ids) = 0;
  /// Whether scheduling of `dag_id` is paused (false for unknown DAGs).
  virtual Result<bool> IsPaused(const std::string& dag_id) = 0;
  virtual Status SetPaused(const std::string& dag_id, bool paused) = 0;
  /// Every paused dag_id.
  virtual Result<std::set<std::string>> PausedDags() = 0;
  /// Records that `owner`, a `job_type` process (a scheduler), is alive at `at`.
  virtual Status Heartbeat(const std::string& job_type, const std::string& owner, Timestamp at) = 0;
  /// The latest heartbeat of any `job_type` process; nullopt if none ever.
  virtual Result<std::optional<Timestamp>> LatestHeartbeat(const std::string& job_type) = 0;

  /// Variables (Airflow's): named strings for templates (`{{ var.NAME }}`).
  virtual Status SetVariable(const std::string& key, const std::string& value) = 0;
  /// NotFound when unset.
  virtual Result<std::string> GetVariable(const std::string& key) = 0;
  /// Every variable, by key.
  virtual Result<std::vector<std::pair<std::string, std::string>>> ListVariables() = 0;
  /// NotFound when unset.
  virtual Status DeleteVariable(const std::string& key) = 0;

  /// Connections kept in the store, by conn_id.
  virtual Result<std::vector<ConnectionRecord>> ListConnections() = 0;
  /// NotFound when there is none.
  virtual Result<ConnectionRecord> GetConnection(const std::string& conn_id) = 0;
  /// AlreadyExists when the id is taken.
  virtual Status CreateConnection(const ConnectionRecord& c) = 0;
  /// Replaces every field of `c.conn_id`; NotFound when there is none.
  virtual Status UpdateConnection(const ConnectionRecord& c) = 0;
  /// NotFound when there is none.
  virtual Status DeleteConnection(const std::string& conn_id) = 0;
};

}  // namespace dagctl
