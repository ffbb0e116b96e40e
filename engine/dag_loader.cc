#include "engine/dag_loader.h"

#include <fmt/format.h>
#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <map>
#include <set>

#include "engine/assets.h"
#include "engine/json_io.h"
#include "engine/group_loader.h"
#include "engine/limits.h"
#include "engine/mapping.h"
#include "engine/suggest.h"
#include "engine/text.h"
#include "engine/yaml_reader.h"
#include "operators/operator.h"

namespace dagctl {

namespace fs = std::filesystem;

namespace {

const std::vector<std::string> kDagKeys = {
    "dag_id",           "description",    "owner",        "tags",        "schedule",
    "timezone",         "start_date",     "end_date",     "catchup",     "max_active_runs",
    "max_active_tasks", "dagrun_timeout", "params",       "default_args", "task_groups",
    "tasks"};

const std::vector<std::string> kTaskKeys = {"id",
                                            "group",
                                            "operator",
                                            "depends_on",
                                            "trigger_rule",
                                            "retries",
                                            "retry_delay",
                                            "retry_exponential_backoff",
                                            "max_retry_delay",
                                            "timeout",
                                            "pool",
                                            "pool_slots",
                                            "queue",
                                            "priority_weight",
                                            "weight_rule",
                                            "max_active_tis_per_dag",
                                            "max_active_tis_per_dagrun",
                                            "env",
                                            "doc",
                                            "outlets",
                                            "expand",
                                            "max_map_length"};

// Airflow spellings that are far from ours by edit distance.
const std::map<std::string, std::string> kAirflowAliases = {
    {"schedule_interval", "schedule"},
    {"task_id", "id"},
    {"task_group", "group"},
    {"upstream", "depends_on"},
    {"dependencies", "depends_on"},
    {"bash_command", "command"},
    {"execution_timeout", "timeout"},
    {"concurrency", "max_active_tasks"},
};

// True when `op` declares `key` among its own keys (it then wins over a
// task key of the same name, such as trigger_dag's poke_interval).
bool OperatorTakes(const Operator& op, const std::string& key) {
  return std::any_of(op.params().begin(), op.params().end(),
                     [&](const ParamSpec& s) { return s.name == key; });
}

// `[A-Za-z0-9_.-]+`, at most limits::kMaxIdLength long.
// A name templates can use alone: letters, digits and _, not starting with a digit.
bool IsTemplateName(const std::string& s) {
  if (s.empty() || std::isdigit(static_cast<unsigned char>(s[0]))) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
  });
}

bool ValidId(const std::string& id) {
  if (id.empty() || id.size() > limits::kMaxIdLength) return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-';
  });
}

std::string InvalidIdMessage(const std::string& what, const std::string& id) {
  if (id.size() > limits::kMaxIdLength)
    return fmt::format("{} '{}' is {} characters long; the limit is {}", what, Shorten(id),
                       id.size(), limits::kMaxIdLength);
  return fmt::format("{} '{}' may only use letters, digits, '_', '.' and '-'", what, Shorten(id));
}

// `hints` is false once the file has too many errors to spend time on them.
std::string UnknownKeyMessage(const std::string& key, const std::vector<std::string>& known,
                              bool hints = true) {
  auto alias = kAirflowAliases.find(key);
  if (alias != kAirflowAliases.end() &&
      std::find(known.begin(), known.end(), alias->second) != known.end())
    return fmt::format("unknown key '{}' (did you mean '{}'?)", key, alias->second);
  if (key == "<<")
    return "unknown key '<<': YAML merge keys are not supported (use default_args for keys "
           "shared by tasks)";
  return fmt::format("unknown key '{}'{}", Shorten(key), hints ? DidYouMean(key, known) : "");
}

// Validates one DAG file's Value tree into a Dag. One instance per file.
class Loader {
 public:
  Loader(const OperatorRegistry& ops, Diagnostics& diags) : ops_(ops), diags_(diags) {}

  std::shared_ptr<Dag> Load(const Value& root, const std::string& path);

 private:
  void Error(Mark m, std::string msg) { diags_.Error(m, std::move(msg)); }
  // " (did you mean ...)", unless the file already has too many errors.
  std::string Hint(const std::string& word, const std::vector<std::string>& known) const {
    return diags_.full() ? "" : DidYouMean(word, known);
  }

  std::optional<std::string> String(const MapEntry& e, const std::string& where);
  std::optional<int64_t> Int(const MapEntry& e, const std::string& where, int64_t min,
                             int64_t max = INT32_MAX);
  std::optional<bool> Bool(const MapEntry& e, const std::string& where);
  std::optional<Duration> DurationOf(const MapEntry& e, const std::string& where);
  std::optional<std::vector<std::string>> StringList(const MapEntry& e, const std::string& where);
  std::optional<std::map<std::string, std::string>> StringMap(const MapEntry& e,
                                                              const std::string& where);

  void LoadDagKey(const MapEntry& e, Dag& dag);
  void LoadSchedule(const Value& root, Dag& dag);
  void LoadAssetSchedule(const MapEntry& e, Dag& dag);
  std::vector<std::string> AssetList(const Value& v, const std::string& what);
  std::optional<Timestamp> Date(const MapEntry& e, const TimeZone& tz);
  void LoadTasks(const Value& tasks, const Value* default_args, Dag& dag);
  std::optional<Task> LoadTask(const Value& node, size_t i, const Value* default_args);
  bool PrefixGroup(Task& task, const std::string& where);
  std::optional<Task> LoadTaskBody(const Value& node, const std::string& where,
                                   const Value* default_args);
  std::shared_ptr<const Task> LoadCallback(const MapEntry& e, const std::string& where,
                                           const std::string& owner);
  void LoadTaskKey(const MapEntry& e, const std::string& where, Task& task);
  void CheckOperatorParams(const Task& task, const std::string& where);
  void LoadSensorKey(const MapEntry& e, const std::string& where, Task& task);
  void LoadExpand(const MapEntry& e, const std::string& where, Task& task);
  void CheckLiteralExpansion(const Task& task, const std::string& where);
  void CheckParamType(const ParamSpec& spec, const MapEntry& e, const std::string& where);
  void ResolveGraph(Dag& dag, const std::vector<Dependency>& deps);
  void SumPriorityWeights(Dag& dag);

  const OperatorRegistry& ops_;
  Diagnostics& diags_;
};

std::optional<std::string> Loader::String(const MapEntry& e, const std::string& where) {
  if (e.value.IsScalar()) return e.value.scalar;
  Error(e.value.mark,
        fmt::format("{}'{}' must be a string, not {}", where, e.key, e.value.KindName()));
  return std::nullopt;
}

std::optional<int64_t> Loader::Int(const MapEntry& e, const std::string& where, int64_t min,
                                   int64_t max) {
  auto v = e.value.IsScalar() ? ScalarAsInt(e.value.scalar) : std::nullopt;
  if (v && *v >= min && *v <= max) return v;
  std::string range = min == INT64_MIN && max == INT64_MAX ? ""
                      : max == INT32_MAX                   ? fmt::format(" of at least {}", min)
                                         : fmt::format(" from {} to {}", min, max);
  Error(e.value.mark,
        fmt::format("{}'{}' must be a whole number{}{}", where, e.key, range,
                    e.value.IsScalar() ? ", not '" + Shorten(e.value.scalar) + "'" : ""));
  return std::nullopt;
}

std::optional<bool> Loader::Bool(const MapEntry& e, const std::string& where) {
  auto v = e.value.IsScalar() ? ScalarAsBool(e.value.scalar) : std::nullopt;
  if (v) return v;
  Error(e.value.mark, fmt::format("{}'{}' must be true or false", where, e.key));
  return std::nullopt;
}

std::optional<Duration> Loader::DurationOf(const MapEntry& e, const std::string& where) {
  auto v = e.value.IsScalar() ? ParseDuration(e.value.scalar) : std::nullopt;
  if (v) return v;
  Error(e.value.mark,
        fmt::format("{}'{}' is not a duration{} (use e.g. 45s, 5m, 1h30m, 2d or seconds, at most "
                    "3650d)",
                    where, e.key, e.value.IsScalar() ? ": '" + Shorten(e.value.scalar) + "'" : ""));
  return std::nullopt;
}

std::optional<std::vector<std::string>> Loader::StringList(const MapEntry& e,
                                                           const std::string& where) {
  if (e.value.IsScalar()) return std::vector<std::string>{e.value.scalar};
  if (e.value.IsNull()) return std::vector<std::string>{};
  std::vector<std::string> out;
  if (e.value.IsSequence()) {
    for (const Value& item : e.value.items) {
      if (!item.IsScalar()) {
        Error(item.mark, fmt::format("{}'{}' items must be strings", where, e.key));
        return std::nullopt;
      }
      out.push_back(item.scalar);
    }
    return out;
  }
  Error(e.value.mark, fmt::format("{}'{}' must be a string or a list of strings", where, e.key));
  return std::nullopt;
}

std::optional<std::map<std::string, std::string>> Loader::StringMap(const MapEntry& e,
                                                                    const std::string& where) {
  if (!e.value.IsMap()) {
    Error(e.value.mark,
          fmt::format("{}'{}' must be a map, not {}", where, e.key, e.value.KindName()));
    return std::nullopt;
  }
  std::map<std::string, std::string> out;
  for (const MapEntry& kv : e.value.entries) {
    if (!kv.value.IsScalar() && !kv.value.IsNull()) {
      Error(kv.value.mark, fmt::format("{}'{}.{}' must be a string", where, e.key, kv.key));
      continue;
    }
    out[kv.key] = kv.value.scalar;
  }
  return out;
}

std::optional<Timestamp> Loader::Date(const MapEntry& e, const TimeZone& tz) {
  if (auto s = String(e, "")) {
    auto t = ParseDateTime(*s, tz);
    if (t) return *t;
    Error(e.value.mark, fmt::format("'{}': {}", e.key, t.error().message()));
  }
  return std::nullopt;
}

void Loader::LoadDagKey(const MapEntry& e, Dag& dag) {
  const std::string& k = e.key;
  if (k == "dag_id") {
    if (auto s = String(e, "")) {
      if (ValidId(*s))
        dag.dag_id = *s;
      else
        Error(e.value.mark, InvalidIdMessage("dag_id", *s));
    }
  } else if (k == "description") {
    if (auto s = String(e, "")) dag.description = *s;
  } else if (k == "owner") {
    if (auto s = String(e, "")) dag.owner = *s;
  } else if (k == "tags") {
    if (auto l = StringList(e, "")) dag.tags = *l;
  } else if (k == "catchup") {
    if (auto b = Bool(e, "")) dag.catchup = *b;
  } else if (k == "max_active_runs") {
    if (auto n = Int(e, "", 1, limits::kMaxActive)) dag.max_active_runs = static_cast<int>(*n);
  } else if (k == "max_active_tasks") {
    if (auto n = Int(e, "", 1, limits::kMaxActive)) dag.max_active_tasks = static_cast<int>(*n);
  } else if (k == "dagrun_timeout") {
    if (e.value.IsNull())
      dag.dagrun_timeout.reset();
    else if (auto d = DurationOf(e, ""); d && d->count() <= 0)
      Error(e.value.mark, "'dagrun_timeout' must be longer than 0s (leave it out for no limit)");
    else if (d)
      dag.dagrun_timeout = *d;
  } else if (k == "params") {
    if (e.value.IsMap())
      dag.params = e.value.entries;
    else if (!e.value.IsNull())
      Error(e.value.mark, "'params' must be a map of name: default value");
  } else if (k == "default_args") {
    if (!e.value.IsMap() && !e.value.IsNull())
      Error(e.value.mark, "'default_args' must be a map of task keys");
    if (const Value* expand = e.value.Find("expand"))
      Error(expand->mark, "'expand' cannot be a default: map each task on its own");
  } else if (k == "on_failure" || k == "on_success") {
    if (auto cb = LoadCallback(e, "", "dag")) dag.callbacks[k] = cb;
  } else if (k == "tasks" || k == "task_groups" || k == "schedule" || k == "timezone" ||
             k == "start_date" || k == "end_date") {
    // Handled with their dependencies in Load().
  } else {
    Error(e.key_mark, UnknownKeyMessage(k, kDagKeys, !diags_.full()));
  }
}

// timezone first: schedule, start_date and end_date are read in it.
void Loader::LoadSchedule(const Value& root, Dag& dag) {
  for (const MapEntry& e : root.entries) {
    if (e.key != "timezone") continue;
    if (auto s = String(e, "")) {
      auto tz = TimeZone::Locate(*s);
      if (tz)
        dag.timezone = *tz;
      else
        Error(e.value.mark, fmt::format("unknown time zone '{}' (use an IANA name such as "
                                        "'Asia/Seoul')",
                                        Shorten(*s)));
    }
  }
  const MapEntry* schedule = nullptr;
  for (const MapEntry& e : root.entries) {
    if (e.key == "schedule" && e.value.IsMap()) {
      LoadAssetSchedule(e, dag);
    } else if (e.key == "schedule" && !e.value.IsNull()) {
      schedule = &e;
      if (auto s = String(e, "")) {
        auto cron = CronSchedule::Parse(*s);
        if (cron)
          dag.schedule = *cron;
        else
          Error(e.value.mark, cron.error().message());
      }
    } else if (e.key == "start_date" && !e.value.IsNull()) {
      dag.start_date = Date(e, dag.timezone);
    } else if (e.key == "end_date" && !e.value.IsNull()) {
      dag.end_date = Date(e, dag.timezone);
    }
  }
  if (schedule && dag.schedule && !dag.start_date && !root.Find("start_date"))
    Error(schedule->key_mark, "'start_date' is required when 'schedule' is set");
  if (dag.start_date && dag.end_date && *dag.end_date < *dag.start_date)
    Error(root.Find("end_date")->mark, "'end_date' is before 'start_date'");
}

// schedule: {assets: [URI, ...]}: runs on asset events, so no cron, no
// start_date needed, nothing to catch up.
void Loader::LoadAssetSchedule(const MapEntry& e, Dag& dag) {
  const Value* assets = nullptr;
  for (const MapEntry& k : e.value.entries) {
    if (k.key == "assets")
      assets = &k.value;
    else
      Error(k.key_mark, fmt::format("'schedule': unknown key '{}'{} (a schedule map takes "
                                    "'assets: [URI, ...]')",
                                    Shorten(k.key), Hint(k.key, {"assets"})));
  }
  if (!assets) {
    if (e.value.entries.empty())
      Error(e.value.mark, "'schedule' as a map must have 'assets: [URI, ...]'");
    return;
  }
  dag.schedule_assets = AssetList(*assets, "'schedule.assets'");
  if (assets->IsNull() || (assets->IsSequence() && assets->items.empty()))
    Error(assets->mark, "'schedule.assets' must list at least one asset URI");
}

// A list of asset URIs, each checked as Airflow checks a Dataset's URI;
// repeats are dropped.
std::vector<std::string> Loader::AssetList(const Value& v, const std::string& what) {
  std::vector<std::string> out;
  if (!v.IsSequence()) {
    if (!v.IsNull())
      Error(v.mark, fmt::format("{} must be a list of asset URIs, not {}", what, v.KindName()));
    return out;
  }
  for (const Value& item : v.items) {
    if (!item.IsScalar()) {
      Error(item.mark, fmt::format("{} items must be URI strings, not {}", what, item.KindName()));
      continue;
    }
    std::string problem = AssetUriProblem(item.scalar);
    if (!problem.empty())
      Error(item.mark, fmt::format("{}: {}", what, problem));
    else if (std::find(out.begin(), out.end(), item.scalar) == out.end())
      out.push_back(item.scalar);
  }
  return out;
}

std::shared_ptr<Dag> Loader::Load(const Value& root, const std::string& path) {
  if (!root.IsMap()) {
    Error(root.mark.line ? root.mark : Mark{1, 1},
          "a DAG file must be a map with at least 'tasks' (and optionally dag_id, schedule, ...)");
    return nullptr;
  }
  auto dag = std::make_shared<Dag>();
  dag->file = path;
  dag->dag_id = fs::path(path).stem().string();
  for (const MapEntry& e : root.entries) LoadDagKey(e, *dag);
  if (!root.Find("dag_id") && !ValidId(dag->dag_id))
    Error({1, 1}, fmt::format("the file name '{}' is not a valid dag_id; set 'dag_id'",
                              Shorten(dag->dag_id)));
  LoadSchedule(root, *dag);
  const Value* tasks = root.Find("tasks");
  const Value* defaults = root.Find("default_args");
  if (!tasks)
    Error(root.mark, "missing required key 'tasks'");
  else
    LoadTasks(*tasks, defaults && defaults->IsMap() ? defaults : nullptr, *dag);
  std::vector<Dependency> deps = LoadGroupsAndDependencies(*dag, root.Find("task_groups"), diags_);
  if (!diags_.empty()) return nullptr;
  ResolveGraph(*dag, deps);
  return diags_.empty() ? dag : nullptr;
}

void Loader::LoadTasks(const Value& tasks, const Value* default_args, Dag& dag) {
  if (!tasks.IsSequence() || tasks.items.empty()) {
    Error(tasks.mark, "'tasks' must be a non-empty list of tasks");
    return;
  }
  if (tasks.items.size() > limits::kMaxTasksPerDag) {
    Error(tasks.mark, fmt::format("'tasks' has {} tasks; the limit is {} per DAG (split the DAG)",
                                  tasks.items.size(), limits::kMaxTasksPerDag));
    return;
  }
  std::map<std::string, Mark> first_seen;
  for (size_t i = 0; i < tasks.items.size(); ++i) {
    auto task = LoadTask(tasks.items[i], i, default_args);
    if (!task) continue;
    auto [it, fresh] = first_seen.emplace(task->id, task->mark);
    if (!fresh) {
      Error(task->mark, fmt::format("tasks[{}]: duplicate task id '{}' (first defined at line {})",
                                    i, Shorten(task->id), it->second.line));
      continue;
    }
    dag.index[task->id] = dag.tasks.size();
    dag.tasks.push_back(std::move(*task));
  }
}

std::optional<Task> Loader::LoadTask(const Value& node, size_t i, const Value* default_args) {
  std::string where = fmt::format("tasks[{}]: ", i);
  if (!node.IsMap()) {
    Error(node.mark, where + "a task must be a map with at least 'id'");
    return std::nullopt;
  }
  if (!node.Find("id")) Error(node.mark, where + "missing required key 'id'");
  auto task = LoadTaskBody(node, where, default_args);
  if (!task || task->id.empty()) return std::nullopt;
  task->file_index = i;
  if (!task->group.empty() && !PrefixGroup(*task, where)) return std::nullopt;
  // Callbacks are named after their task.
  for (auto& [event, cb] : task->callbacks) {
    auto named = std::make_shared<Task>(*cb);
    named->id = task->id + "." + event;
    named->group = task->group;  // its templates name tasks as the task does
    cb = named;
  }
  return task;
}

// A task in a group gets Airflow's prefixed id, `group.id`; false (after an
// error) when that cannot be.
bool Loader::PrefixGroup(Task& task, const std::string& where) {
  if (task.id.find('.') != std::string::npos) {
    size_t dot = task.id.rfind('.');
    Error(task.mark,
          fmt::format("{}task id '{}' in group '{}' cannot contain '.' (nest groups "
                      "instead: 'group: {}.{}', 'id: {}')",
                      where, Shorten(task.id), task.group, task.group,
                      Shorten(task.id.substr(0, dot)), Shorten(task.id.substr(dot + 1))));
    return false;
  }
  task.id = task.group + "." + task.id;
  if (ValidId(task.id)) return true;
  Error(task.mark, where + InvalidIdMessage("task id", task.id));
  return false;
}

// A callback: an operator and its keys, checked like a task's.
std::shared_ptr<const Task> Loader::LoadCallback(const MapEntry& e, const std::string& where,
                                                 const std::string& owner) {
  if (!e.value.IsMap()) {
    Error(e.value.mark, fmt::format("{}'{}' must be a map: an operator and its keys", where, e.key));
    return nullptr;
  }
  auto cb = LoadTaskBody(e.value, where + e.key + ": ", nullptr);
  if (!cb) return nullptr;
  if (!cb->callbacks.empty() || !cb->group.empty()) {
    Error(e.value.mark, fmt::format("{}'{}': a callback cannot have {}", where, e.key,
                                    cb->group.empty() ? "callbacks of its own" : "a group"));
    return nullptr;
  }
  cb->id = owner + "." + e.key;
  if (!e.value.Find("retries")) cb->retries = 0;
  if (!e.value.Find("timeout")) cb->timeout = std::chrono::minutes(5);
  return std::make_shared<const Task>(std::move(*cb));
}

std::optional<Task> Loader::LoadTaskBody(const Value& node, const std::string& where,
                                         const Value* default_args) {
  // A task with errors is still returned when it has an id, so duplicate ids
  // and depends_on targets can be checked too.
  Task task;
  task.mark = node.mark;
  task.params.kind = Value::Kind::kMap;
  task.params.mark = node.mark;  // where an operator's Validate points for a missing key
  // default_args first, then the task's own keys, which win.
  std::vector<const MapEntry*> entries;
  if (default_args)
    for (const MapEntry& e : default_args->entries)
      if (!node.Find(e.key) && e.key != "id" && e.key != "depends_on" && e.key != "expand" &&
          e.key != "group")
        entries.push_back(&e);
  for (const MapEntry& e : node.entries) entries.push_back(&e);

  for (const MapEntry* e : entries)
    if (e->key == "operator")
      if (auto s = String(*e, where)) task.operator_name = *s;
  task.op = ops_.Find(task.operator_name);
  if (!task.op) {
    Mark m = node.mark;
    for (const MapEntry* x : entries)
      if (x->key == "operator") m = x->value.mark;
    Error(m, fmt::format("{}unknown operator '{}'{}", where, Shorten(task.operator_name),
                         Hint(task.operator_name, ops_.Names())));
  }
  for (const MapEntry* e : entries) LoadTaskKey(*e, where, task);
  CheckLiteralExpansion(task, where);
  if (task.op) CheckOperatorParams(task, where);
  if (task.op && task.op->IsSensor() && !task.timeout) task.timeout = std::chrono::hours(24 * 7);
  return task;
}

void Loader::LoadTaskKey(const MapEntry& e, const std::string& where, Task& task) {
  const std::string& k = e.key;
  if (k == "id") {
    if (auto s = String(e, where)) {
      if (ValidId(*s))
        task.id = *s;
      else
        Error(e.value.mark, where + InvalidIdMessage("task id", *s));
    }
  } else if (k == "operator") {
    // Read before the other keys.
  } else if (k == "group") {
    if (auto s = String(e, where)) {
      std::string problem = GroupIdProblem(*s);
      if (problem.empty())
        task.group = *s;
      else
        Error(e.value.mark, where + problem);
    }
    task.group_mark = e.value.mark;
  } else if (k == "depends_on") {
    if (auto l = StringList(e, where)) task.depends_on = *l;
    task.depends_on_mark = e.value.mark;
  } else if (k == "trigger_rule") {
    if (auto s = String(e, where)) {
      if (auto r = ParseTriggerRule(*s))
        task.trigger_rule = *r;
      else
        Error(e.value.mark, fmt::format("{}unknown trigger rule '{}'{}", where, Shorten(*s),
                                        Hint(*s, TriggerRuleNames())));
    }
  } else if (k == "retries") {
    if (auto n = Int(e, where, 0, limits::kMaxRetries)) task.retries = static_cast<int>(*n);
  } else if (k == "retry_delay") {
    if (auto d = DurationOf(e, where)) task.retry_delay = *d;
  } else if (k == "retry_exponential_backoff") {
    if (auto b = Bool(e, where)) task.retry_exponential_backoff = *b;
  } else if (k == "max_retry_delay") {
    if (auto d = DurationOf(e, where)) task.max_retry_delay = *d;
  } else if (k == "timeout") {
    if (e.value.IsNull())
      task.timeout.reset();
    else if (auto d = DurationOf(e, where))
      task.timeout = *d;
  } else if (k == "pool") {
    if (auto s = String(e, where)) task.pool = *s;
  } else if (k == "pool_slots") {
    if (auto n = Int(e, where, 1)) task.pool_slots = static_cast<int>(*n);
  } else if (k == "queue") {
    if (auto s = String(e, where)) task.queue = *s;
  } else if (k == "priority_weight") {
    if (auto n = Int(e, where, INT32_MIN, INT32_MAX)) task.priority_weight = static_cast<int>(*n);
  } else if (k == "weight_rule") {
    if (auto s = String(e, where)) {
      if (*s == "downstream") task.weight_rule = WeightRule::kDownstream;
      else if (*s == "upstream") task.weight_rule = WeightRule::kUpstream;
      else if (*s == "absolute") task.weight_rule = WeightRule::kAbsolute;
      else
        Error(e.value.mark, fmt::format("{}'weight_rule' must be downstream, upstream or absolute, "
                                        "not '{}'{}",
                                        where, Shorten(*s),
                                        Hint(*s, {"downstream", "upstream", "absolute"})));
    }
  } else if (k == "max_active_tis_per_dag") {
    if (auto n = Int(e, where, 1, limits::kMaxActive)) task.max_active_tis_per_dag = static_cast<int>(*n);
  } else if (k == "max_active_tis_per_dagrun") {
    if (auto n = Int(e, where, 1, limits::kMaxActive))
      task.max_active_tis_per_dagrun = static_cast<int>(*n);
  } else if (k == "expand") {
    LoadExpand(e, where, task);
  } else if (k == "max_map_length") {
    if (auto n = Int(e, where, 1, limits::kMaxMapLength)) task.max_map_length = static_cast<int>(*n);
  } else if (k == "env") {
    if (auto m = StringMap(e, where)) task.env = *m;
  } else if (k == "doc") {
    if (auto s = String(e, where)) task.doc = *s;
  } else if (k == "outlets") {
    task.outlets = AssetList(e.value, where + "'outlets'");
  } else if (k == "on_failure" || k == "on_success" || k == "on_retry") {
    if (auto cb = LoadCallback(e, where, task.id)) task.callbacks[k] = cb;
  } else if ((k == "poke_interval" || k == "mode" || k == "soft_fail") &&
             !(task.op && !task.op->IsSensor() && OperatorTakes(*task.op, k))) {
    LoadSensorKey(e, where, task);
  } else {
    task.params.entries.push_back(e);  // an operator key; checked against its spec next
  }
}

// expand: {NAME: [a, b] | "{{ template }}", ...}
void Loader::LoadExpand(const MapEntry& e, const std::string& where, Task& task) {
  if (!e.value.IsMap() || e.value.entries.empty()) {
    Error(e.value.mark, where + "'expand' must be a map of NAME: a list, or a template that "
                                "renders a JSON list");
    return;
  }
  for (const MapEntry& arg : e.value.entries) {
    if (!IsTemplateName(arg.key))
      Error(arg.key_mark, fmt::format("{}expand: '{}' is not a name (letters, digits and _, not "
                                      "starting with a digit)",
                                      where, Shorten(arg.key)));
    else if (IsBuiltinTemplateName(arg.key))
      Error(arg.key_mark, fmt::format("{}expand: '{}' is a built-in template name; choose another",
                                      where, arg.key));
    ExpandArg a{arg.key, {}, "", arg.value.mark};
    if (arg.value.IsSequence()) {
      for (const Value& item : arg.value.items) a.literal.push_back(JsonToText(ValueToJson(item)));
    } else if (arg.value.IsScalar() && arg.value.scalar.find("{{") != std::string::npos) {
      a.source = arg.value.scalar;
    } else {
      Error(arg.value.mark, fmt::format("{}expand: '{}' must be a list, or a template that renders "
                                        "a JSON list (\"{{{{ xcom.TASK }}}}\"), not {}",
                                        where, Shorten(arg.key),
                                        arg.value.IsScalar() ? "'" + Shorten(arg.value.scalar) + "'"
                                                             : arg.value.KindName()));
    }
    if (a.literal.size() > static_cast<size_t>(limits::kMaxMapLength))
      Error(arg.value.mark, fmt::format("{}expand: '{}' has {} elements; the limit is {}", where,
                                        Shorten(arg.key), a.literal.size(), limits::kMaxMapLength));
    task.expand.push_back(std::move(a));
  }
}

// A task mapped over YAML lists only: its size is known now.
void Loader::CheckLiteralExpansion(const Task& task, const std::string& where) {
  size_t count = 1;
  for (const ExpandArg& a : task.expand) {
    if (!a.source.empty()) return;
    count = std::min(count * a.literal.size(), static_cast<size_t>(limits::kMaxMapLength) + 1);
  }
  if (!task.expand.empty() && count > static_cast<size_t>(task.max_map_length))
    Error(task.expand.front().mark,
          fmt::format("{}expand makes {}{} task instances, over max_map_length ({})", where,
                      count > static_cast<size_t>(limits::kMaxMapLength) ? "over " : "",
                      std::min(count, static_cast<size_t>(limits::kMaxMapLength)), task.max_map_length));
}

void Loader::LoadSensorKey(const MapEntry& e, const std::string& where, Task& task) {
  if (task.op && !task.op->IsSensor()) {
    Error(e.key_mark, fmt::format("{}'{}' is for sensors; operator '{}' is not one", where, e.key,
                                  task.operator_name));
    return;
  }
  if (e.key == "poke_interval") {
    if (auto d = DurationOf(e, where)) task.poke_interval = *d;
  } else if (e.key == "soft_fail") {
    if (auto b = Bool(e, where)) task.soft_fail = *b;
  } else if (auto s = String(e, where)) {
    if (*s == "poke" || *s == "reschedule") task.reschedule = *s == "reschedule";
    else
      Error(e.value.mark,
            fmt::format("{}'mode' must be poke or reschedule, not '{}'", where, Shorten(*s)));
  }
}

void Loader::CheckOperatorParams(const Task& task, const std::string& where) {
  const std::vector<ParamSpec>& specs = task.op->params();
  std::vector<std::string> known = kTaskKeys;
  for (const ParamSpec& s : specs) known.push_back(s.name);
  for (const MapEntry& e : task.params.entries) {
    auto spec = std::find_if(specs.begin(), specs.end(),
                             [&](const ParamSpec& s) { return s.name == e.key; });
    if (spec == specs.end())
      Error(e.key_mark, where + UnknownKeyMessage(e.key, known, !diags_.full()));
    else
      CheckParamType(*spec, e, where);
  }
  for (const ParamSpec& s : specs)
    if (s.required && !task.params.Find(s.name))
      Error(task.mark,
            fmt::format("{}operator '{}' needs key '{}'", where, task.operator_name, s.name));
  Diagnostics op_diags(diags_.file());
  task.op->Validate(task.params, op_diags);
  for (const Diagnostic& d : op_diags.list()) Error(d.mark, where + d.message);
}

void Loader::CheckParamType(const ParamSpec& spec, const MapEntry& e, const std::string& where) {
  switch (spec.type) {
    case ParamType::kString:
      String(e, where);
      break;
    case ParamType::kInt:
      Int(e, where, INT64_MIN, INT64_MAX);
      break;
    case ParamType::kBool:
      Bool(e, where);
      break;
    case ParamType::kDuration:
      DurationOf(e, where);
      break;
    case ParamType::kStringList:
      StringList(e, where);
      break;
    case ParamType::kStringMap:
      StringMap(e, where);
      break;
    case ParamType::kAny:
      break;
  }
}

// Turns the resolved dependencies into the task graph and reports cycles.
void Loader::ResolveGraph(Dag& dag, const std::vector<Dependency>& deps) {
  std::vector<std::vector<size_t>> upstream = ExpandDependencies(dag, deps);
  if (auto cycle = FindCycle(upstream)) {
    std::string path;
    for (size_t v : *cycle) path += (path.empty() ? "" : " -> ") + dag.tasks[v].id;
    Error(dag.tasks[cycle->front()].mark, "cycle in task dependencies: " + path);
    return;
  }
  dag.graph = BuildTaskGraph(upstream);
  SumPriorityWeights(dag);
}

// Each task's priority_weight_total by its weight_rule, clamped to what the
// store's column holds (as Airflow's db_safe_priority).
void Loader::SumPriorityWeights(Dag& dag) {
  std::vector<int64_t> weights;
  bool any_down = false, any_up = false;
  for (const Task& t : dag.tasks) {
    weights.push_back(t.priority_weight);
    any_down |= t.weight_rule == WeightRule::kDownstream;
    any_up |= t.weight_rule == WeightRule::kUpstream;
  }
  std::vector<int64_t> down, up;
  if (any_down) down = ReachableWeightSums(dag.graph, true, weights);
  if (any_up) up = ReachableWeightSums(dag.graph, false, weights);
  for (size_t i = 0; i < dag.tasks.size(); ++i) {
    Task& t = dag.tasks[i];
    int64_t total = t.weight_rule == WeightRule::kDownstream ? down[i]
                    : t.weight_rule == WeightRule::kUpstream ? up[i]
                                                             : weights[i];
    t.priority_weight_total = static_cast<int>(std::clamp<int64_t>(total, INT32_MIN + 1, INT32_MAX));
    if (t.max_active_tis_per_dag || t.max_active_tis_per_dagrun) dag.capped_tasks.push_back(i);
  }
}

// Every *.yaml / *.yml is a DAG file, but the folder's connections.yaml
// (default connections shipped with the DAGs).
bool IsDagFile(const fs::path& p) {
  auto ext = p.extension().string();
  return (ext == ".yaml" || ext == ".yml") && p.filename() != "connections.yaml";
}

}  // namespace

std::string HashBytes(const std::string& bytes) {
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return fmt::format("{:016x}", h);
}

std::shared_ptr<Dag> LoadDagText(const std::string& text, const std::string& path,
                                 const OperatorRegistry& ops, Diagnostics& diags) {
  auto root = ReadYaml(text, diags);
  if (!root) return nullptr;
  auto dag = Loader(ops, diags).Load(*root, path);
  diags.Sort();
  if (dag) {
    dag->file_hash = HashBytes(text);
    dag->source = text;
  }
  return dag;
}

std::shared_ptr<Dag> LoadDagFile(const std::string& path, const OperatorRegistry& ops,
                                 Diagnostics& diags) {
  auto text = ReadFileLimited(path, limits::kMaxDagFileBytes);
  if (!text) {
    diags.Error({1, 1}, text.error().message());
    return nullptr;
  }
  return LoadDagText(*text, path, ops, diags);
}

namespace {

// What a walk of the DAGs folder found: the DAG files, and the *.yaml /
// *.yml entries that cannot be DAG files (a broken or looping symbolic link,
// a FIFO or device), or folders that could not be listed.
struct FolderListing {
  std::vector<std::string> files;
  std::vector<ImportError> problems;
};

// Walks `dir` without recursion, following symbolic links to folders but
// entering each folder (by device and inode) once, so a link loop ends.
FolderListing ListDagFolder(const std::string& dir) {
  FolderListing out;
  std::set<std::pair<dev_t, ino_t>> seen;
  auto first_visit = [&](const fs::path& p) {
    struct stat st;
    return ::stat(p.c_str(), &st) == 0 && seen.insert({st.st_dev, st.st_ino}).second;
  };
  auto problem = [&](const fs::path& p, const std::string& why) {
    out.problems.push_back({p.string(), {{p.string(), {1, 1}, why}}});
  };
  std::vector<fs::path> todo{dir};
  first_visit(dir);
  while (!todo.empty()) {
    fs::path folder = todo.back();
    todo.pop_back();
    std::error_code ec;
    fs::directory_iterator it(folder, ec), end;
    for (; !ec && it != end; it.increment(ec)) {
      const fs::path& p = it->path();
      std::error_code st_ec;
      fs::file_status st = fs::status(p, st_ec);  // follows symbolic links
      if (!st_ec && fs::is_directory(st)) {
        if (first_visit(p)) todo.push_back(p);
      } else if (IsDagFile(p)) {
        std::error_code link_ec;
        bool link = fs::is_symlink(fs::symlink_status(p, link_ec));
        if (st_ec)
          problem(p, "cannot read file: " + st_ec.message() + (link ? " (a symbolic link)" : ""));
        else if (!fs::is_regular_file(st))
          problem(p, "not a regular file (a FIFO, socket or device cannot be a DAG file)");
        else
          out.files.push_back(p.string());
      }
    }
    if (ec) problem(folder, "cannot read folder: " + ec.message());
  }
  std::sort(out.files.begin(), out.files.end());
  return out;
}

}  // namespace

DagFolderStamp StampDagFolder(const std::string& dir) {
  DagFolderStamp stamp;
  FolderListing listing = ListDagFolder(dir);
  for (const std::string& file : listing.files) {
    std::error_code ec;
    auto mtime = fs::last_write_time(file, ec).time_since_epoch().count();
    stamp[file] = {static_cast<int64_t>(mtime), fs::file_size(file, ec)};
  }
  // A problem that goes away (a link fixed) changes the stamp too.
  for (const ImportError& e : listing.problems) stamp[e.file] = {-1, 0};
  return stamp;
}

const Dag* DagBag::Find(const std::string& dag_id) const {
  for (const auto& d : dags)
    if (d->dag_id == dag_id) return d.get();
  return nullptr;
}

DagBag LoadDagFolder(const std::string& dir, const OperatorRegistry& ops) {
  DagBag bag;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    bag.errors.push_back({dir, {{dir, {0, 0}, "DAGs folder does not exist"}}});
    return bag;
  }
  FolderListing listing = ListDagFolder(dir);
  bag.errors = std::move(listing.problems);
  std::map<std::string, std::string> owner;  // dag_id -> file
  for (const std::string& file : listing.files) {
    Diagnostics diags(file);
    auto dag = LoadDagFile(file, ops, diags);
    if (dag) {
      auto [it, fresh] = owner.emplace(dag->dag_id, file);
      if (fresh) {
        bag.dags.push_back(dag);
        continue;
      }
      diags.Error({1, 1},
                  fmt::format("dag_id '{}' is already used by {}", dag->dag_id, it->second));
    }
    bag.errors.push_back({file, diags.list()});
  }
  std::sort(bag.dags.begin(), bag.dags.end(),
            [](const auto& a, const auto& b) { return a->dag_id < b->dag_id; });
  std::sort(bag.errors.begin(), bag.errors.end(),
            [](const ImportError& a, const ImportError& b) { return a.file < b.file; });
  return bag;
}

}  // namespace dagctl
