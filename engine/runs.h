// Creating, triggering and clearing DAG runs: the one code path the
// scheduler, the CLI and the REST API share.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "engine/dag.h"
#include "engine/store/store.h"

namespace dagctl {

/// A run to create, with its task instances (state none).
struct NewRun {
  RunType type = RunType::kManual;
  Timestamp logical_date;
  Timestamp interval_end;
  /// The data interval's start when it is not the logical date (a
  /// dataset-triggered run's first event).
  std::optional<Timestamp> interval_start;
  std::string conf = "{}";
  RunState state = RunState::kQueued;
  std::string owner;   ///< The process that will execute it; "" = whoever claims it.
  std::string run_id;  ///< "" = `<type>__<logical date>`.
  Timestamp now;       ///< queued_at
  int max_active_runs = 0;  ///< DagRunRecord::max_active_runs
};

/// Creates the run. A generated manual run id that is taken gets a suffix
/// (`_2`, `_3` ...); an explicit run id that is taken, or a scheduled or
/// backfill run for a logical date that has one, is AlreadyExists.
Result<DagRunRecord> CreateRun(Store& store, const Dag& dag, const NewRun& spec);

/// Queues a manual run for the scheduler (`dagctl trigger`, POST dagRuns):
/// logical date `logical` (default `now`), the interval of a manual run, conf
/// checked against the DAG's params, an optional explicit run id.
Result<DagRunRecord> TriggerRun(Store& store, const Dag& dag, std::optional<Timestamp> logical,
                                const std::string& conf, const std::string& run_id, Timestamp now);

/// Which task instances of a run to clear.
struct ClearSpec {
  std::vector<std::string> task_ids;  ///< Tasks or groups (all their tasks); empty = every task.
  bool downstream = false;            ///< Also everything below them.
  bool upstream = false;              ///< Also everything above them.
  bool only_failed = false;           ///< Only failed and upstream_failed ones.
  bool only_running = false;          ///< Only running ones.
  /// Queue the run again (Airflow's reset_dag_runs); otherwise its state
  /// stays as it is.
  bool reset_run = true;
  bool dry_run = false;               ///< Say what would be cleared; change nothing.
};

/// Resets the chosen task instances (state none, their retries again, XCom
/// dropped) and queues the run for the scheduler. Returns the cleared task
/// instances (each instance of a mapped task). InvalidArgument for an id
/// that is neither a task nor a group, or a run another live process is
/// executing.
Result<std::vector<TiKey>> ClearRun(Store& store, const Dag& dag, const std::string& run_id,
                                    const ClearSpec& spec);

/// The record of try `ti.try_number` of `ti` ending at `now` in `state`,
/// with `why`: the try's row if its worker wrote one (a sensor's), else one
/// made from the task instance.
Result<TryRecord> EndedTryRecord(Store& store, const TaskInstanceRecord& ti, TaskState state,
                                 const std::string& why, Timestamp now);

/// A task instance set by hand, with its run's logical date (Airflow's
/// TaskInstanceReference).
struct MarkedTi {
  TiKey key;
  Timestamp logical_date;
  TaskState before = TaskState::kNone;
  TaskState after = TaskState::kNone;
};

/// Which task instances to set by hand (Airflow's set_state).
struct MarkSpec {
  std::vector<std::string> task_ids;  ///< Tasks or groups (all their tasks).
  /// Only these instances of the named tasks (a mapped task's map indexes,
  /// -1 for a task that is not mapped); empty = every instance.
  std::vector<int> map_indexes;
  bool upstream = false;    ///< Also everything above them.
  bool downstream = false;  ///< Also everything below them.
  bool future = false;      ///< Also in the runs with a later logical date.
  bool past = false;        ///< Also in the runs with an earlier logical date.
  TaskState state = TaskState::kSuccess;  ///< success, failed or skipped.
  bool dry_run = false;                    ///< Say what would change; change nothing.
};

/// Airflow's DAG.set_task_instance_state: sets the chosen task instances
/// of run `run_id` (and, as asked, of later or earlier runs) that are not
/// yet in `spec.state` to it. A running try is stopped (its lease taken:
/// its worker kills it; the try ends in that state). Then the failed and
/// upstream_failed task instances below the named tasks are cleared, so
/// that the run resumes from them; a finished run that changed is queued
/// again and its state decided anew by the scheduler. Returns what was set.
Result<std::vector<MarkedTi>> MarkTaskInstances(Store& store, const Dag& dag,
                                                const std::string& run_id, const MarkSpec& spec,
                                                Timestamp now);

/// Airflow's update_dag_run_state: `success` sets every task instance not
/// yet successful to success, `failed` sets running ones to failed and
/// those not yet finished to skipped (set_dag_run_state_to_failed); both
/// stop the run's running tries and end the run in that state, taken from
/// the scheduler holding it. `queued` clears every task instance and queues
/// the run again. Returns the task instances that change (or, with
/// `dry_run`, would).
Result<std::vector<MarkedTi>> SetRunState(Store& store, const Dag& dag, const std::string& run_id,
                                          RunState state, bool dry_run, Timestamp now);

/// What a backfill does with one interval of its range.
struct BackfillRun {
  enum class Action {
    kCreated,  ///< No run had its logical date: a backfill run was created.
    kRerun,    ///< Its run had failed (and rerun_failed): its failed tasks were cleared.
    kQueued,   ///< Its run is queued and nobody holds it: it is run as it is.
    kKept,     ///< Its run is left as it is (running, succeeded, failed without rerun).
  };
  std::string run_id;
  Timestamp logical_date;
  Action action = Action::kCreated;
  RunState state = RunState::kQueued;  ///< The run's state before the backfill.
};

/// Which intervals of `dag`'s schedule a backfill covers: those starting in
/// [from, to], at most `max_runs` of them.
struct BackfillSpec {
  Timestamp from;
  Timestamp to;
  bool rerun_failed = false;
  std::string owner;  ///< Who executes the new runs ("" = the scheduler).
  Timestamp now;      ///< queued_at of the new runs.
  size_t max_runs = 100000;
  /// How many of the DAG's backfill runs the scheduler runs at once (on top
  /// of the DAG's max_active_runs); 0 = no limit of its own.
  int max_active_runs = 0;
};

/// Plans and records a backfill (`dagctl backfill`, POST /ui/backfills): for
/// each interval of the range, creates its `backfill__<logical date>` run, or
/// clears a failed one's failed tasks (rerun_failed), or keeps the run it
/// has. Returns one entry per interval, in date order. InvalidArgument when
/// the DAG has no recurring schedule or the range has more than max_runs
/// intervals (nothing is created then).
Result<std::vector<BackfillRun>> RecordBackfill(Store& store, const Dag& dag,
                                                const BackfillSpec& spec);

/// True when `run_id` is usable as a run id (and as a log folder name):
/// `[A-Za-z0-9_.:+-]+`, not starting with '.', at most 250 characters.
bool ValidRunId(const std::string& run_id);

}  // namespace dagctl
