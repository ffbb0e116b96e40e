#include "engine/queueing.h"

#include <fmt/format.h>

namespace dagctl {

namespace {

// The cap of `key` in `caps`, or 0 (none).
int CapOf(const std::map<std::pair<std::string, std::string>, int>& caps,
          const std::pair<std::string, std::string>& key) {
  auto it = caps.find(key);
  return it == caps.end() ? 0 : it->second;
}

}  // namespace

std::string PoolProblem(const std::string& dag_id, const std::string& task_id,
                        const std::string& pool, int slots,
                        const std::map<std::string, int>& pool_slots) {
  auto it = pool_slots.find(pool);
  if (it == pool_slots.end())
    return fmt::format(
        "task {} of {} waits for pool '{}', which does not exist (create it: dagctl pools set {} "
        "SLOTS)",
        task_id, dag_id, pool, pool);
  if (slots > it->second)
    return fmt::format(
        "task {} of {} needs {} slots of pool '{}', which has {}: it waits until the pool has "
        "enough",
        task_id, dag_id, slots, pool, it->second);
  return "";
}

QueueChoice ChooseToQueue(const std::vector<TaskInstanceRecord>& candidates,
                          const QueueLimits& limits, ActiveSlots& slots) {
  QueueChoice out;
  for (size_t i = 0; i < candidates.size() && out.picked.size() < limits.budget; ++i) {
    const TaskInstanceRecord& ti = candidates[i];
    auto pool = limits.pool_slots.find(ti.pool);
    // A task of a pool that does not exist waits, as in Airflow.
    int pool_size = pool == limits.pool_slots.end() ? 0 : pool->second;
    int& used = slots.pool[ti.pool];
    if (ti.pool_slots > pool_size) out.stuck.push_back(i);
    if (used + ti.pool_slots > pool_size) {
      // A task taking several slots may wait while smaller ones still fit.
      if (used >= pool_size) out.full.pools.insert(ti.pool);
      continue;
    }
    auto cap = limits.max_active_tasks.find(ti.dag_id);
    int& active = slots.dag[ti.dag_id];
    if (cap != limits.max_active_tasks.end() && active >= cap->second) {
      out.full.dags.insert(ti.dag_id);
      continue;
    }
    std::pair<std::string, std::string> task{ti.dag_id, ti.task_id};
    int& of_task = slots.task[task];
    if (int c = CapOf(limits.per_dag_task, task); c && of_task >= c) {
      out.full.tasks.insert(task);
      continue;
    }
    int& of_run_task = slots.run_task[TiKey{ti.dag_id, ti.run_id, ti.task_id, -1}];
    if (int c = CapOf(limits.per_run_task, task); c && of_run_task >= c) continue;
    used += ti.pool_slots;
    ++active;
    ++of_task;
    ++of_run_task;
    out.picked.push_back(i);
  }
  return out;
}

}  // namespace dagctl
