// Queueing's pure decision: which scheduled tries may start, given the pools,
// max_active_tasks and the per-task caps, and what is already running.
#include "engine/queueing.h"

#include <catch2/catch.hpp>

using namespace dagctl;

namespace {

TaskInstanceRecord Ti(const std::string& task, const std::string& pool = "default_pool",
                      int pool_slots = 1, const std::string& run = "r1",
                      const std::string& dag = "etl") {
  TaskInstanceRecord ti;
  ti.dag_id = dag;
  ti.run_id = run;
  ti.task_id = task;
  ti.pool = pool;
  ti.pool_slots = pool_slots;
  return ti;
}

std::vector<std::string> Picked(const std::vector<TaskInstanceRecord>& c, const QueueChoice& q) {
  std::vector<std::string> out;
  for (size_t i : q.picked) out.push_back(c[i].run_id + "." + c[i].task_id);
  return out;
}

}  // namespace

TEST_CASE("a pool's free slots decide how many of its tries start, counting pool_slots") {
  struct Case {
    const char* what;
    int pool_size;
    int in_use;
    std::vector<int> slots_wanted;  // pool_slots of each candidate, in priority order
    std::vector<std::string> picked;
    bool full;
  };
  std::vector<Case> cases = {
      {"room for all", 4, 0, {1, 1, 1}, {"r1.t0", "r1.t1", "r1.t2"}, false},
      {"two free slots", 4, 2, {1, 1, 1}, {"r1.t0", "r1.t1"}, true},
      {"nothing free", 2, 2, {1}, {}, true},
      {"a big task waits while a smaller one still fits", 3, 1, {3, 1}, {"r1.t1"}, false},
      {"a task bigger than the pool never starts", 2, 0, {3, 1}, {"r1.t1"}, false},
      {"exactly fits", 3, 0, {2, 1}, {"r1.t0", "r1.t1"}, false},
      {"an empty pool starts nothing", 0, 0, {1}, {}, true},
  };
  for (const Case& c : cases) {
    INFO(c.what);
    std::vector<TaskInstanceRecord> cands;
    for (size_t i = 0; i < c.slots_wanted.size(); ++i)
      cands.push_back(Ti("t" + std::to_string(i), "db", c.slots_wanted[i]));
    QueueLimits limits;
    limits.pool_slots = {{"db", c.pool_size}};
    ActiveSlots slots;
    slots.pool["db"] = c.in_use;
    QueueChoice q = ChooseToQueue(cands, limits, slots);
    CHECK(Picked(cands, q) == c.picked);
    CHECK(q.full.pools.count("db") == (c.full ? 1u : 0u));
    int taken = c.in_use;
    for (size_t i : q.picked) taken += c.slots_wanted[i];
    CHECK(slots.pool["db"] == taken);
  }
}

TEST_CASE("a try of a pool that does not exist, or bigger than its pool, waits and is reported stuck") {
  std::vector<TaskInstanceRecord> cands = {Ti("a", "nowhere"), Ti("b", "db", 5), Ti("c", "db")};
  QueueLimits limits;
  limits.pool_slots = {{"db", 2}};
  ActiveSlots slots;
  QueueChoice q = ChooseToQueue(cands, limits, slots);
  CHECK(Picked(cands, q) == std::vector<std::string>{"r1.c"});
  CHECK(q.stuck == std::vector<size_t>{0, 1});
  CHECK(q.full.pools.count("nowhere") == 1);
}

TEST_CASE("max_active_tasks, max_active_tis_per_dag and max_active_tis_per_dagrun cap starts") {
  std::vector<TaskInstanceRecord> cands = {
      Ti("load", "default_pool", 1, "r1"), Ti("load", "default_pool", 1, "r2"),
      Ti("load", "default_pool", 1, "r3"), Ti("report", "default_pool", 1, "r1"),
      Ti("report", "default_pool", 1, "r2")};
  QueueLimits limits;
  limits.pool_slots = {{"default_pool", 128}};
  SECTION("per DAG: two loads at once across runs") {
    limits.per_dag_task[{"etl", "load"}] = 2;
    ActiveSlots slots;
    QueueChoice q = ChooseToQueue(cands, limits, slots);
    CHECK(Picked(cands, q) == std::vector<std::string>{"r1.load", "r2.load", "r1.report", "r2.report"});
    CHECK(q.full.tasks.count({"etl", "load"}) == 1);
  }
  SECTION("per DAG, counting what already runs") {
    limits.per_dag_task[{"etl", "load"}] = 2;
    ActiveSlots slots;
    slots.task[{"etl", "load"}] = 2;
    QueueChoice q = ChooseToQueue(cands, limits, slots);
    CHECK(Picked(cands, q) == std::vector<std::string>{"r1.report", "r2.report"});
  }
  SECTION("per run: one load in r1 already runs") {
    limits.per_run_task[{"etl", "load"}] = 1;
    ActiveSlots slots;
    slots.run_task[TiKey{"etl", "r1", "load", -1}] = 1;
    QueueChoice q = ChooseToQueue(cands, limits, slots);
    CHECK(Picked(cands, q) ==
          std::vector<std::string>{"r2.load", "r3.load", "r1.report", "r2.report"});
    CHECK(q.full.tasks.empty());
  }
  SECTION("max_active_tasks of the DAG") {
    limits.max_active_tasks["etl"] = 3;
    ActiveSlots slots;
    slots.dag["etl"] = 1;
    QueueChoice q = ChooseToQueue(cands, limits, slots);
    CHECK(Picked(cands, q) == std::vector<std::string>{"r1.load", "r2.load"});
    CHECK(q.full.dags.count("etl") == 1);
  }
  SECTION("a budget (the local worker's free slots)") {
    limits.budget = 1;
    ActiveSlots slots;
    CHECK(Picked(cands, ChooseToQueue(cands, limits, slots)) == std::vector<std::string>{"r1.load"});
  }
}
