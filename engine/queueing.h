// Which scheduled task instances may be queued now (Airflow's critical
// section): the pool has free slots, the DAG is under max_active_tasks, the
// task under max_active_tis_per_dag and max_active_tis_per_dagrun.
// Pure: the counts come from the store, the limits from the DAGs.
#pragma once

#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "engine/store/store.h"

namespace dagctl {

/// The limits of one pass.
struct QueueLimits {
  std::map<std::string, int> pool_slots;  ///< pool -> its slots
  /// dag_id -> max_active_tasks; a DAG that is not there has no limit here.
  std::map<std::string, int> max_active_tasks;
  /// (dag_id, task_id) -> max_active_tis_per_dag / _per_dagrun; uncapped tasks are not there.
  std::map<std::pair<std::string, std::string>, int> per_dag_task;
  std::map<std::pair<std::string, std::string>, int> per_run_task;
  size_t budget = SIZE_MAX;  ///< At most this many (the free slots of a local-only worker).
};

/// What one pass of ChooseToQueue decided.
struct QueueChoice {
  std::vector<size_t> picked;  ///< Positions in the candidates, in order.
  /// Pools with no slot left (or unknown), DAGs at max_active_tasks, tasks
  /// at max_active_tis_per_dag: the next read can leave them out.
  QueueExclusions full;
  /// Candidates that cannot start until the pools change: their pool does
  /// not exist, or has fewer slots than their pool_slots.
  std::vector<size_t> stuck;
};

/// Why task `task_id` of `dag_id`, which takes `slots` of `pool`, cannot
/// start with the pools as they are (missing, or smaller than `slots`);
/// empty when it can.
std::string PoolProblem(const std::string& dag_id, const std::string& task_id,
                        const std::string& pool, int slots,
                        const std::map<std::string, int>& pool_slots);

/// Picks candidates in order while their pool, DAG and task have room;
/// counts the picked ones into `slots`.
QueueChoice ChooseToQueue(const std::vector<TaskInstanceRecord>& candidates,
                          const QueueLimits& limits, ActiveSlots& slots);

}  // namespace dagctl
