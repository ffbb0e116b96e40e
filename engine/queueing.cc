#include "engine/queueing.h"

namespace dagctl {

QueueChoice ChooseToQueue(const std::vector<TaskInstanceRecord>& candidates,
                          const QueueLimits& limits, ActiveSlots& slots) {
  QueueChoice out;
  for (size_t i = 0; i < candidates.size() && out.picked.size() < limits.budget; ++i) {
    const TaskInstanceRecord& ti = candidates[i];
    auto pool = limits.pool_slots.find(ti.pool);
    // A task of a pool that does not exist waits, as in Airflow.
    int pool_size = pool == limits.pool_slots.end() ? 0 : pool->second;
    int& used = slots.pool[ti.pool];
    if (used + ti.pool_slots > pool_size) {
      // A task taking several slots may wait while smaller ones still fit.
      if (used >= pool_size) out.full_pools.insert(ti.pool);
      continue;
    }
    auto cap = limits.max_active_tasks.find(ti.dag_id);
    int& active = slots.dag[ti.dag_id];
    if (cap != limits.max_active_tasks.end() && active >= cap->second) {
      out.capped_dags.insert(ti.dag_id);
      continue;
    }
    used += ti.pool_slots;
    ++active;
    ++slots.task[{ti.dag_id, ti.task_id}];
    ++slots.run_task[TiKey{ti.dag_id, ti.run_id, ti.task_id, -1}];
    out.picked.push_back(i);
  }
  return out;
}

}  // namespace dagctl
