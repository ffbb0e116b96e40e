// The validated DAG model: what a DAG file means once it has loaded cleanly.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "engine/cron.h"
#include "engine/duration.h"
#include "engine/graph.h"
#include "engine/timeutil.h"
#include "engine/trigger_rule.h"
#include "engine/value.h"

namespace dagctl {

class Operator;

/// How a task's effective priority is summed (Airflow's weight_rule).
enum class WeightRule {
  kDownstream,  ///< its own weight plus every task downstream of it (the default)
  kUpstream,    ///< its own weight plus every task upstream of it
  kAbsolute,    ///< its own weight only
};

inline const char* WeightRuleName(WeightRule r) {
  return r == WeightRule::kDownstream ? "downstream" : r == WeightRule::kUpstream ? "upstream" : "absolute";
}

/// One name a mapped task is expanded over (`expand: {NAME: LIST}`).
struct ExpandArg {
  std::string name;
  /// A YAML list's elements as template text (lists and maps as JSON).
  std::vector<std::string> literal;
  /// A template that renders a JSON list, known once the upstreams are done;
  /// empty for a literal list.
  std::string source;
  Mark mark;
};

/// One task of a DAG, with default_args already applied.
struct Task {
  std::string id;     ///< Prefixed by its group's id when in a group ("load.users").
  std::string group;  ///< Id of the innermost group it is in; "" = none.
  Mark group_mark;
  std::string operator_name = "shell";
  const Operator* op = nullptr;  ///< Owned by the OperatorRegistry; outlives the DAG.
  std::vector<std::string> depends_on;
  Mark depends_on_mark;
  TriggerRule trigger_rule = TriggerRule::kAllSuccess;
  int retries = 3;
  Duration retry_delay = std::chrono::seconds(30);
  bool retry_exponential_backoff = false;
  Duration max_retry_delay = std::chrono::hours(1);
  std::optional<Duration> timeout;
  std::string pool = "default_pool";
  int pool_slots = 1;
  std::string queue = "default";  ///< Which workers run it (Airflow's queue).
  int priority_weight = 1;  ///< As written in the file.
  WeightRule weight_rule = WeightRule::kDownstream;
  /// priority_weight summed by weight_rule: what orders waiting tries.
  int priority_weight_total = 1;
  int max_active_tis_per_dag = 0;     ///< Running tries of this task in all runs; 0 = no cap.
  int max_active_tis_per_dagrun = 0;  ///< Running tries of this task in one run; 0 = no cap.
  std::map<std::string, std::string> env;
  std::string doc;
  /// Asset URIs an event is recorded for when the task succeeds (Airflow's outlets).
  std::vector<std::string> outlets;
  /// Dynamic task mapping: one task instance per element (the cross product
  /// of several names, the last varying fastest); empty = not mapped.
  std::vector<ExpandArg> expand;
  int max_map_length = 1024;
  // Sensors only (SPEC §2 Sensors); `timeout` is then the sensor's, from its first poke.
  Duration poke_interval = std::chrono::seconds(60);
  bool reschedule = false;  ///< mode: reschedule (no slot held between pokes)
  bool soft_fail = false;   ///< end skipped, not failed, on timeout
  Value params;  ///< The operator's own keys, as a map, still unrendered.
  /// on_failure / on_success / on_retry: a task-like operator call run when
  /// this task ends that way (never retried; its output goes to the try's log).
  std::map<std::string, std::shared_ptr<const Task>> callbacks;
  Mark mark;
  size_t file_index = 0;  ///< Position in the file's `tasks` list.

  /// The id without its group's prefix (Airflow's label: "users" for "load.users").
  std::string Label() const { return group.empty() ? id : id.substr(group.size() + 1); }
};

/// A task group (Airflow's TaskGroup): tasks shown, folded and cleared
/// together, and a name `depends_on` may use. A dotted id nests: "etl.load"
/// is group "load" inside group "etl".
struct TaskGroup {
  std::string id;
  std::string parent;   ///< The enclosing group's id; "" at the top.
  std::string tooltip;  ///< From `task_groups`; shown by the dashboard.
  /// From `task_groups`: what the group's roots wait for, as written.
  std::vector<std::string> depends_on;
  Mark depends_on_mark;
  Mark mark;  ///< Where the group first appears (a task's `group`, or its `task_groups` key).
  std::vector<size_t> tasks;   ///< Every task inside it, nested groups' too, in file order.
  std::vector<size_t> roots;   ///< Its tasks with no upstream inside it.
  std::vector<size_t> leaves;  ///< Its tasks with no downstream inside it.

  /// The id without its parent's prefix ("load" for "etl.load").
  std::string Label() const { return id.substr(id.rfind('.') + 1); }
};

/// A loaded DAG. Tasks keep the file's order; `index` maps task id to position.
struct Dag {
  std::string dag_id;
  std::string file;       ///< Path the DAG was loaded from.
  std::string file_hash;  ///< Hex digest of the file's bytes: the version's identity.
  std::string source;     ///< The file's text (stored as the version's text).
  std::string description;
  std::string owner = "airflow";
  std::vector<std::string> tags;
  std::optional<CronSchedule> schedule;  ///< nullopt = manual runs only (or asset-scheduled).
  /// `schedule: {assets: [URI, ...]}`: a run once every one of them has a
  /// new event (no cron then); empty = not asset-scheduled.
  std::vector<std::string> schedule_assets;
  TimeZone timezone;
  std::optional<Timestamp> start_date;
  std::optional<Timestamp> end_date;
  bool catchup = false;
  int max_active_runs = 16;
  int max_active_tasks = 16;
  /// A run still going this long after it started is failed, its unfinished
  /// tasks skipped (Airflow's dagrun_timeout); nullopt = no limit.
  std::optional<Duration> dagrun_timeout;
  std::vector<MapEntry> params;  ///< name -> default, in file order.
  /// on_failure / on_success of the whole run.
  std::map<std::string, std::shared_ptr<const Task>> callbacks;
  std::vector<Task> tasks;
  std::unordered_map<std::string, size_t> index;
  /// Outer groups before inner ones, otherwise in order of first appearance.
  std::vector<TaskGroup> groups;
  std::unordered_map<std::string, size_t> group_index;
  TaskGraph graph;  ///< Positions in `tasks`.
  /// Tasks with max_active_tis_per_dag or _per_dagrun (positions), for queueing.
  std::vector<size_t> capped_tasks;

  bool IsMapped(size_t task) const { return !tasks[task].expand.empty(); }
  const Task* FindTask(const std::string& id) const {
    auto it = index.find(id);
    return it == index.end() ? nullptr : &tasks[it->second];
  }
  const TaskGroup* FindGroup(const std::string& id) const {
    auto it = group_index.find(id);
    return it == group_index.end() ? nullptr : &groups[it->second];
  }
  /// Positions of the task `id`, or of every task of the group `id`; empty
  /// when the DAG has neither.
  std::vector<size_t> TasksNamed(const std::string& id) const {
    if (auto it = index.find(id); it != index.end()) return {it->second};
    if (const TaskGroup* g = FindGroup(id)) return g->tasks;
    return {};
  }
};

}  // namespace dagctl
