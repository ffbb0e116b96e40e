// Airflow's REST objects (DAG, DAGRun, TaskInstance, Task, ImportError,
// Error) built from dagctl's model and records. Shared by the REST API and
// the CLI's --json output so both speak the same shapes.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>

#include "engine/dag.h"
#include "engine/store/store.h"

namespace dagctl::api {

/// What the DAG object shows beyond the DAG file itself.
struct DagStatus {
  bool paused = false;
  std::optional<Timestamp> next_start;  ///< next_dagrun / data interval start
  std::optional<Timestamp> next_end;    ///< next_dagrun_create_after / interval end
  std::optional<RunState> last_run_state;
};

/// Airflow's DAG object (timestamps RFC 3339 in UTC), plus `timezone` and
/// `last_run_state`.
nlohmann::json DagJson(const Dag& dag, const DagStatus& status);
/// Airflow's Task object.
nlohmann::json TaskJson(const Dag& dag, const Task& task);
/// Airflow's DAGRun object.
nlohmann::json DagRunJson(const DagRunRecord& run);
/// The same object as JSON text appended to `out`, without building a json
/// value (the hot path of run lists).
void AppendDagRunJson(std::string& out, const DagRunRecord& run);
/// Airflow's TaskInstance object.
nlohmann::json TaskInstanceJson(const TaskInstanceRecord& ti, const DagRunRecord& run);
/// Airflow's ImportError object; `id` is its position in the list, from 1.
nlohmann::json ImportErrorJson(const ImportErrorRecord& e, int id);
/// Airflow's Pool object: slots by state and open slots.
/// Airflow's Dataset: id, uri, extra, created_at, updated_at,
/// consuming_dags, producing_tasks.
nlohmann::json DatasetJson(const AssetRecord& asset);
/// Airflow's DatasetEvent, with the runs that consumed it (BasicDAGRun).
nlohmann::json DatasetEventJson(const AssetEventRecord& event,
                                const std::vector<DagRunRecord>& created_dagruns);
nlohmann::json PoolJson(const PoolRecord& pool, const PoolUsage& usage);
/// Airflow's Error (problem JSON): type, title, status, detail.
nlohmann::json ErrorJson(int status, const std::string& title, const std::string& detail);

/// RFC 3339 in UTC, or null.
nlohmann::json TimeOrNull(std::optional<Timestamp> t);
/// Airflow's TimeDelta object: days, seconds, microseconds.
nlohmann::json TimeDelta(Duration d);

}  // namespace dagctl::api
