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
  bool dry_run = false;               ///< Say what would be cleared; change nothing.
};

/// Resets the chosen task instances (state none, their retries again, XCom
/// dropped) and queues the run for the scheduler. Returns the cleared task
/// instances (each instance of a mapped task). InvalidArgument for an id
/// that is neither a task nor a group, or a run another live process is
/// executing.
Result<std::vector<TiKey>> ClearRun(Store& store, const Dag& dag, const std::string& run_id,
                                    const ClearSpec& spec);

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
