// Assets (Airflow 2's datasets): what a task's `outlets` and a DAG's
// `schedule: {assets: [...]}` name, checked as Airflow checks a Dataset URI,
// and the pure rule that turns a consumer's queue into a dataset-triggered run.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/timeutil.h"

namespace dagctl {

struct AssetEventRecord;
struct AssetQueueEntry;
struct AssetReference;
struct Dag;

/// Airflow's limit on a dataset URI's length.
constexpr size_t kMaxAssetUriLength = 3000;

/// What is wrong with `uri` as an asset URI (Airflow's Dataset checks: not
/// empty, not only whitespace, ASCII, at most 3000 characters, not the
/// reserved `airflow` scheme), or "" when it is fine.
std::string AssetUriProblem(const std::string& uri);

/// True when the DAG runs on asset events rather than on a cron schedule.
bool IsAssetScheduled(const Dag& dag);

/// The schedule as `dagctl list` shows it: the cron text, "assets: URI, ..."
/// or "None".
std::string ScheduleText(const Dag& dag);

/// Every asset the DAGs mention: those each is scheduled on, and each
/// task's outlets (for the store's asset references).
std::vector<AssetReference> AssetReferences(const std::vector<std::shared_ptr<const Dag>>& dags);

/// The dataset-triggered run the scheduler creates from a consumer's queue
/// (Airflow 2.10's `_create_dag_runs_dataset_triggered`).
struct AssetTriggeredRun {
  Timestamp logical_date;         ///< The latest queue entry's time.
  Timestamp data_interval_start;  ///< The first consumed event's time.
  Timestamp data_interval_end;    ///< The last consumed event's time.
  std::vector<int64_t> event_ids; ///< The events the run consumes.
};

/// Whether `dag` is due, given the queue entries of its assets: nullopt
/// until every asset it is scheduled on has one. `events` are the events of
/// its assets after its previous dataset-triggered run; the run consumes
/// those up to the logical date. Pure.
std::optional<AssetTriggeredRun> PlanAssetTriggeredRun(
    const Dag& dag, const std::vector<AssetQueueEntry>& queue,
    const std::vector<AssetEventRecord>& events);

}  // namespace dagctl
