// Which scheduled task instances may be queued now (Airflow's critical
// section): the pool has free slots, the DAG is under max_active_tasks.
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
  size_t budget = SIZE_MAX;  ///< At most this many (the free slots of a local-only worker).
};

/// What one pass of ChooseToQueue decided.
struct QueueChoice {
  std::vector<size_t> picked;         ///< Positions in the candidates, in order.
  std::set<std::string> full_pools;   ///< Pools with no slot left (or unknown).
  std::set<std::string> capped_dags;  ///< DAGs at max_active_tasks.
};

/// Picks candidates in order while their pool and DAG have room; counts the
/// picked ones into `slots`.
QueueChoice ChooseToQueue(const std::vector<TaskInstanceRecord>& candidates,
                          const QueueLimits& limits, ActiveSlots& slots);

}  // namespace dagctl
