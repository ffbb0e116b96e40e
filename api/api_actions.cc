// Setting states by hand, as Airflow's stable API does: a run's state
// (PATCH dagRuns/{id}), a task instance's (PATCH taskInstances/{task}),
// several at once (updateTaskInstancesState), and clearing task instances
// of one run or of the runs in a range of logical dates (clearTaskInstances).
#include <fmt/format.h>

#include <set>

#include "api/api_call.h"
#include "engine/runs.h"
#include "engine/task_groups.h"
#include "engine/text.h"
#include "engine/value.h"

namespace dagctl::api {

namespace {

json ReferenceJson(const std::string& dag_id, const std::string& run_id, const std::string& task_id,
                   Timestamp logical_date) {
  return {{"task_id", task_id},
          {"dag_id", dag_id},
          {"dag_run_id", run_id},
          {"execution_date", FormatIso(logical_date)}};
}

json References(const std::vector<MarkedTi>& marked) {
  json items = json::array();
  for (const MarkedTi& m : marked)
    items.push_back(ReferenceJson(m.key.dag_id, m.key.run_id, m.key.task_id, m.logical_date));
  return json{{"task_instances", items}};
}

// Checks that `body` has only `allowed` keys, as Airflow's schemas do
// (marshmallow rejects unknown fields).
Reply<bool> OnlyKeys(const json& body, const std::set<std::string>& allowed) {
  for (auto& [key, value] : body.items())
    if (!allowed.count(key))
      return BadRequest(fmt::format("{{'{}': ['Unknown field.']}}", Shorten(key)));
  return true;
}

Reply<bool> Flag(const json& body, const char* name, bool fallback) {
  if (!body.contains(name) || body[name].is_null()) return fallback;
  if (!body[name].is_boolean())
    return BadRequest(fmt::format("{{'{}': ['Not a valid boolean.']}}", name));
  return body[name].get<bool>();
}

// Airflow's UpdateTaskState: success, failed or skipped.
Reply<TaskState> NewState(const json& body) {
  if (!body.contains("new_state"))
    return BadRequest("{'new_state': ['Missing data for required field.']}");
  const json& v = body["new_state"];
  if (v.is_string()) {
    std::string s = v.get<std::string>();
    if (s == "success") return TaskState::kSuccess;
    if (s == "failed") return TaskState::kFailed;
    if (s == "skipped") return TaskState::kSkipped;
  }
  return BadRequest("{'new_state': ['Must be one of: success, failed, skipped.']}");
}

Reply<json> FromEngine(const Error& e) {
  if (e.IsNotFound()) return NotFound("Not found", e.message());
  if (e.code() == Error::Code::kInvalidArgument) return BadRequest(e.message());
  return Internal(e);
}

}  // namespace

// PATCH /dags/{dag_id}/dagRuns/{dag_run_id}: {"state": success|failed|queued}.
Reply<json> Call::PatchRun(const std::string& dag_id, const std::string& run_id) {
  auto run = FindRun(dag_id, run_id);
  if (!run) return std::unexpected(run.error());
  auto body = Body();
  if (!body) return std::unexpected(body.error());
  if (auto ok = OnlyKeys(*body, {"state"}); !ok) return std::unexpected(ok.error());
  if (!body->contains("state"))
    return BadRequest("{'state': ['Missing data for required field.']}");
  const json& v = (*body)["state"];
  std::optional<RunState> state;
  if (v.is_string()) state = ParseRunState(v.get<std::string>());
  if (!state || *state == RunState::kRunning)
    return BadRequest("{'state': ['Must be one of: success, failed, queued.']}");
  auto dag = FindDag(dag_id);
  if (!dag) return std::unexpected(dag.error());
  auto store = Db();
  if (!store) return std::unexpected(store.error());
  auto changed = SetRunState(**store, **dag, run_id, *state, false, ctx_.clock->Now());
  if (!changed) return FromEngine(changed.error());
  auto after = FindRun(dag_id, run_id);
  if (!after) return std::unexpected(after.error());
  return DagRunJson(*after);
}

// dagctl's extension for the dashboard's confirmation: POST
// /dags/{dag_id}/dagRuns/{dag_run_id}/setState with {"state", "dry_run"}
// answers the task instances that change (Airflow's UI's dry run of
// "Mark success/failed" on a run), without changing them when dry_run.
Reply<json> Call::RunStatePreview(const std::string& dag_id, const std::string& run_id) {
  auto run = FindRun(dag_id, run_id);
  if (!run) return std::unexpected(run.error());
  auto body = Body();
  if (!body) return std::unexpected(body.error());
  if (auto ok = OnlyKeys(*body, {"state", "dry_run"}); !ok) return std::unexpected(ok.error());
  std::optional<RunState> state;
  if (body->contains("state") && (*body)["state"].is_string())
    state = ParseRunState((*body)["state"].get<std::string>());
  if (!state || *state == RunState::kRunning)
    return BadRequest("{'state': ['Must be one of: success, failed, queued.']}");
  auto dry = Flag(*body, "dry_run", true);
  if (!dry) return std::unexpected(dry.error());
  auto dag = FindDag(dag_id);
  if (!dag) return std::unexpected(dag.error());
  auto changed = SetRunState(**Db(), **dag, run_id, *state, *dry, ctx_.clock->Now());
  if (!changed) return FromEngine(changed.error());
  json items = json::array();
  for (const MarkedTi& m : *changed) {
    json ref = ReferenceJson(dag_id, run_id, m.key.task_id, m.logical_date);
    ref["map_index"] = m.key.map_index;
    ref["state"] = m.before == TaskState::kNone ? json(nullptr) : json(TaskStateName(m.before));
    ref["new_state"] = m.after == TaskState::kNone ? json(nullptr) : json(TaskStateName(m.after));
    items.push_back(ref);
  }
  return json{{"task_instances", items}};
}

// PATCH /dags/{dag_id}/dagRuns/{dag_run_id}/taskInstances/{task_id}[/{map_index}].
Reply<json> Call::PatchTi(const std::string& dag_id, const std::string& run_id,
                          const std::string& task_id, const std::string* map_index) {
  auto dag = FindDag(dag_id);
  if (!dag) return std::unexpected(dag.error());
  if (!(*dag)->FindTask(task_id))
    return NotFound("Task not found",
                    fmt::format("Task '{}' not found in DAG '{}'", task_id, dag_id));
  auto ti = FindTi(dag_id, run_id, task_id, map_index);
  if (!ti) return std::unexpected(ti.error());
  auto body = Body();
  if (!body) return std::unexpected(body.error());
  if (auto ok = OnlyKeys(*body, {"dry_run", "new_state"}); !ok) return std::unexpected(ok.error());
  auto state = NewState(*body);
  if (!state) return std::unexpected(state.error());
  auto dry = Flag(*body, "dry_run", true);
  if (!dry) return std::unexpected(dry.error());
  auto run = FindRun(dag_id, run_id);
  if (!run) return std::unexpected(run.error());
  if (!*dry) {
    MarkSpec spec{.task_ids = {task_id}, .map_indexes = {ti->map_index}, .state = *state};
    auto marked = MarkTaskInstances(**Db(), **dag, run_id, spec, ctx_.clock->Now());
    if (!marked) return FromEngine(marked.error());
  }
  return ReferenceJson(dag_id, run_id, task_id, run->logical_date);
}

// POST /dags/{dag_id}/updateTaskInstancesState.
Reply<json> Call::UpdateTisState(const std::string& dag_id) {
  auto body = Body();
  if (!body) return std::unexpected(body.error());
  if (auto ok =
          OnlyKeys(*body, {"dry_run", "task_id", "execution_date", "dag_run_id", "include_upstream",
                           "include_downstream", "include_future", "include_past", "new_state"});
      !ok)
    return std::unexpected(ok.error());
  auto state = NewState(*body);
  if (!state) return std::unexpected(state.error());
  if (!body->contains("task_id") || !(*body)["task_id"].is_string())
    return BadRequest("{'task_id': ['Missing data for required field.']}");
  std::string task_id = (*body)["task_id"].get<std::string>();
  MarkSpec spec{.task_ids = {task_id}, .state = *state};
  bool dry_run = true;
  for (auto [name, field] :
       {std::pair{"dry_run", &dry_run}, std::pair{"include_upstream", &spec.upstream},
        std::pair{"include_downstream", &spec.downstream},
        std::pair{"include_future", &spec.future}, std::pair{"include_past", &spec.past}}) {
    auto f = Flag(*body, name, *field);
    if (!f) return std::unexpected(f.error());
    *field = *f;
  }
  spec.dry_run = dry_run;
  bool by_date = body->contains("execution_date") && !(*body)["execution_date"].is_null();
  bool by_id = body->contains("dag_run_id") && !(*body)["dag_run_id"].is_null();
  if (by_date == by_id)
    return BadRequest(
        "{'_schema': ['Exactly one of execution_date or dag_run_id must be provided']}");
  auto dag = FindDag(dag_id);
  if (!dag) return std::unexpected(dag.error());
  if ((*dag)->TasksNamed(task_id).empty())
    return NotFound("Task not found", fmt::format("Task ID {} not found", task_id));
  auto store = Db();
  if (!store) return std::unexpected(store.error());
  std::string run_id;
  if (by_id) {
    if (!(*body)["dag_run_id"].is_string())
      return BadRequest("{'dag_run_id': ['Not a valid string.']}");
    run_id = (*body)["dag_run_id"].get<std::string>();
    auto run = FindRun(dag_id, run_id);
    if (!run) return std::unexpected(run.error());
  } else {
    auto t = (*body)["execution_date"].is_string()
                 ? ParseDateTime((*body)["execution_date"].get<std::string>())
                 : Result<Timestamp>(Fail(Error::InvalidArgument("not a date-time string")));
    if (!t) return BadRequest(fmt::format("{{'execution_date': ['{}']}}", t.error().message()));
    auto runs = (*store)->ListDagRuns(
        {.dag_id = dag_id, .limit = 1, .logical_date_gte = *t, .logical_date_lte = *t});
    if (!runs) return Internal(runs.error());
    if (runs->empty())
      return NotFound("Task instance not found",
                      fmt::format("Task instance not found for task {} on execution_date {}",
                                  task_id, FormatIso(*t)));
    run_id = runs->front().run_id;
  }
  auto marked = MarkTaskInstances(**store, **dag, run_id, spec, ctx_.clock->Now());
  if (!marked) return FromEngine(marked.error());
  return References(*marked);
}

// POST /dags/{dag_id}/clearTaskInstances: one run (dag_run_id, and with
// include_past / include_future the runs before / after it), or every run
// whose logical date is within start_date..end_date.
Reply<json> Call::Clear(const std::string& dag_id) {
  auto dag = FindDag(dag_id);
  if (!dag) return std::unexpected(dag.error());
  auto body = Body();
  if (!body) return std::unexpected(body.error());
  if (auto ok = OnlyKeys(
          *body, {"dry_run", "task_ids", "start_date", "end_date", "only_failed", "only_running",
                  "reset_dag_runs", "dag_run_id", "include_upstream", "include_downstream",
                  "include_future", "include_past", "include_subdags", "include_parentdag"});
      !ok)
    return std::unexpected(ok.error());
  ClearSpec spec;
  bool future = false, past = false, reset = true;
  for (auto [name, field] :
       {std::pair{"dry_run", &spec.dry_run}, std::pair{"only_failed", &spec.only_failed},
        std::pair{"only_running", &spec.only_running},
        std::pair{"include_downstream", &spec.downstream},
        std::pair{"include_upstream", &spec.upstream}, std::pair{"include_future", &future},
        std::pair{"include_past", &past}, std::pair{"reset_dag_runs", &reset}}) {
    bool fallback = std::string(name) == "dry_run" || std::string(name) == "only_failed" ||
                    std::string(name) == "reset_dag_runs";
    auto f = Flag(*body, name, fallback);
    if (!f) return std::unexpected(f.error());
    *field = *f;
  }
  spec.reset_run = reset;
  if (body->contains("task_ids")) {
    const json& ids = (*body)["task_ids"];
    if (!ids.is_array() || ids.empty())
      return BadRequest("'task_ids' must be a non-empty list of task ids");
    for (const json& id : ids) {
      if (!id.is_string()) return BadRequest("'task_ids' must be a list of strings");
      // A group's id stands for its tasks, as Airflow's UI clears a group.
      if ((*dag)->TasksNamed(id.get<std::string>()).empty())
        return BadRequest(NoSuchTaskMessage(**dag, id.get<std::string>()));
      spec.task_ids.push_back(id.get<std::string>());
    }
  }
  RunQuery q{.dag_id = dag_id, .limit = 1000000, .oldest_first = true};
  for (auto [name, field] :
       {std::pair{"start_date", &q.logical_date_gte}, std::pair{"end_date", &q.logical_date_lte}}) {
    if (!body->contains(name) || (*body)[name].is_null()) continue;
    if (!(*body)[name].is_string())
      return BadRequest(fmt::format("'{}' must be a date-time string", name));
    auto t = ParseDateTime((*body)[name].get<std::string>());
    if (!t) return BadRequest(fmt::format("'{}': {}", name, t.error().message()));
    *field = *t;
  }
  auto store = Db();
  if (!store) return std::unexpected(store.error());
  if (body->contains("dag_run_id") && !(*body)["dag_run_id"].is_null()) {
    if (!(*body)["dag_run_id"].is_string()) return BadRequest("'dag_run_id' must be a string");
    // As Airflow: the run's logical date bounds the range, unless past/future.
    auto run = FindRun(dag_id, (*body)["dag_run_id"].get<std::string>());
    if (!run) return std::unexpected(run.error());
    q.logical_date_gte = past ? std::nullopt : std::optional(run->logical_date);
    q.logical_date_lte = future ? std::nullopt : std::optional(run->logical_date);
  }
  auto runs = (*store)->ListDagRuns(q);
  if (!runs) return Internal(runs.error());
  json items = json::array();
  for (const DagRunRecord& run : *runs) {
    auto cleared = ClearRun(**store, **dag, run.run_id, spec);
    if (!cleared) {
      if (cleared.error().code() == Error::Code::kInvalidArgument)
        return std::unexpected(Problem{409, "Conflict", cleared.error().message()});
      return Internal(cleared.error());
    }
    for (const TiKey& t : *cleared)
      items.push_back(ReferenceJson(dag_id, run.run_id, t.task_id, run.logical_date));
  }
  return json{{"task_instances", items}};
}

}  // namespace dagctl::api
