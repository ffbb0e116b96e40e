// dagctl's own views of a DAG's runs for the dashboard (/api/v1/ui/...): a
// run's Gantt chart, task durations across runs, a calendar of run states,
// and backfills recorded for the scheduler. Not part of Airflow's API.
#include <fmt/format.h>

#include <map>

#include "api/api_call.h"
#include "engine/runs.h"

namespace dagctl::api {

namespace {

constexpr auto kDay = std::chrono::hours(24);
constexpr int kMaxCalendarDays = 400;
constexpr size_t kMaxBackfillRuns = 1000;

json TryJson(const TryRecord& t) {
  return {{"try_number", t.try_number},
          {"state", TaskStateName(t.state)},
          {"start_date", FormatIso(t.start_date)},
          {"end_date", TimeOrNull(t.end_date)},
          {"hostname", t.hostname}};
}

const char* BackfillActionName(BackfillRun::Action a) {
  switch (a) {
    case BackfillRun::Action::kCreated:
      return "created";
    case BackfillRun::Action::kRerun:
      return "rerun";
    case BackfillRun::Action::kQueued:
      return "queued";
    case BackfillRun::Action::kKept:
      break;
  }
  return "kept";
}

}  // namespace

// A run's task instances with their tries, for a Gantt chart: per instance
// when its latest try was queued, and per try when it started and ended.
// The store keeps the queued time of the latest try only.
Reply<json> Call::Gantt(const std::string& dag_id, const std::string& run_id) {
  auto run = FindRun(dag_id, run_id);
  if (!run) return std::unexpected(run.error());
  auto store = Db();
  if (!store) return std::unexpected(store.error());
  auto tis = (*store)->ListTaskInstances(dag_id, run_id);
  if (!tis) return Internal(tis.error());
  auto tries = (*store)->ListTriesOfRun(dag_id, run_id);
  if (!tries) return Internal(tries.error());
  std::map<std::pair<std::string, int>, json> tries_of;
  for (const TryRecord& t : *tries) {
    json& list = tries_of[{t.task_id, t.map_index}];
    if (list.is_null()) list = json::array();
    list.push_back(TryJson(t));
  }
  // Tasks in the DAG's order (topological), unknown ones (a DAG that
  // changed) after them.
  std::map<std::string, size_t> order;
  if (auto dag = FindDag(dag_id))
    for (size_t i = 0; i < (*dag)->graph.topo_order.size(); ++i)
      order[(*dag)->tasks[(*dag)->graph.topo_order[i]].id] = i;
  std::stable_sort(tis->begin(), tis->end(), [&](const auto& a, const auto& b) {
    auto oa = order.count(a.task_id) ? order[a.task_id] : order.size();
    auto ob = order.count(b.task_id) ? order[b.task_id] : order.size();
    return std::tie(oa, a.map_index) < std::tie(ob, b.map_index);
  });
  json items = json::array();
  for (const TaskInstanceRecord& ti : *tis) {
    auto it = tries_of.find({ti.task_id, ti.map_index});
    items.push_back({{"task_id", ti.task_id},
                     {"map_index", ti.map_index},
                     {"state", ti.state == TaskState::kNone ? json(nullptr) : json(TaskStateName(ti.state))},
                     {"try_number", ti.try_number},
                     {"queued_when", TimeOrNull(ti.queued_at)},
                     {"start_date", TimeOrNull(ti.start_date)},
                     {"end_date", TimeOrNull(ti.end_date)},
                     {"tries", it == tries_of.end() ? json::array() : it->second}});
  }
  return json{{"dag_run", DagRunJson(*run)}, {"task_instances", items}};
}

// How long each task took in the DAG's latest `limit` runs (newest first):
// per task, per run, the seconds from its first start to its last end (a
// mapped task's instances together); null while it has not ended.
Reply<json> Call::Durations(const std::string& dag_id) {
  auto dag = FindDag(dag_id);
  if (!dag) return std::unexpected(dag.error());
  auto limit = IntParam("limit", 25, 1, 200);
  if (!limit) return std::unexpected(limit.error());
  auto store = Db();
  if (!store) return std::unexpected(store.error());
  auto listed = RunsAndInstances(**store, {.dag_id = dag_id, .limit = *limit});
  if (!listed) return std::unexpected(listed.error());
  struct Span {
    std::optional<Timestamp> start, end;
    bool open = false;  // an instance started and not ended
  };
  std::map<std::pair<std::string, std::string>, Span> spans;
  for (const auto& ti : listed->tis) {
    if (!ti.start_date) continue;
    Span& s = spans[{ti.task_id, ti.run_id}];
    if (!s.start || *ti.start_date < *s.start) s.start = ti.start_date;
    if (!ti.end_date) s.open = true;
    else if (!s.end || *ti.end_date > *s.end) s.end = ti.end_date;
  }
  json durations = json::object();
  for (const auto& [key, s] : spans)
    durations[key.first][key.second] = s.open || !s.end ? json(nullptr) : json(std::chrono::duration<double>(*s.end - *s.start).count());
  json tasks = json::array();
  for (size_t i : (*dag)->graph.topo_order) tasks.push_back((*dag)->tasks[i].id);
  return json{{"dag_runs", listed->runs}, {"tasks", tasks}, {"durations", durations}};
}

// Run states per UTC day of the logical date, from `start_date` (a date,
// default 364 days before `end_date`) to `end_date` (default today), both
// included, at most 400 days: counted in the store, one row per day and state.
Reply<json> Call::Calendar(const std::string& dag_id) {
  auto dag = FindDag(dag_id);
  if (!dag) return std::unexpected(dag.error());
  auto from = TimeParam("start_date");
  auto to = TimeParam("end_date");
  if (!from) return std::unexpected(from.error());
  if (!to) return std::unexpected(to.error());
  auto floor_day = [](Timestamp t) { return std::chrono::floor<std::chrono::days>(t); };
  Timestamp last = floor_day(to->value_or(ctx_.clock->Now()));
  Timestamp first = floor_day(from->value_or(last - 364 * kDay));
  if (first > last) return BadRequest("'start_date' is after 'end_date'");
  if (last - first >= kMaxCalendarDays * kDay)
    return BadRequest(fmt::format("a calendar covers at most {} days", kMaxCalendarDays));
  auto store = Db();
  if (!store) return std::unexpected(store.error());
  auto counts = (*store)->CountRunsByDay(dag_id, first, last + kDay);
  if (!counts) return Internal(counts.error());
  json days = json::object();
  for (const RunDayCount& c : *counts)
    days[FormatIso(c.day).substr(0, 10)][RunStateName(c.state)] = c.count;
  return json{{"start_date", FormatIso(first).substr(0, 10)},
              {"end_date", FormatIso(last).substr(0, 10)},
              {"days", days}};
}

// Records a backfill for the scheduler: the body names dag_id, from_date and
// to_date (dates or times; a date alone as to_date covers its day) and
// optionally reprocess_behavior ("none" or "failed") and max_active_runs
// (default the DAG's), after Airflow 3's backfill. The runs are created
// queued, without an owner; a scheduler runs them in date order, at most
// max_active_runs of the DAG's backfill runs at a time and within the DAG's
// max_active_runs.
Reply<json> Call::PostBackfill() {
  auto body = Body();
  if (!body) return std::unexpected(body.error());
  for (const auto& [key, value] : body->items())
    if (key != "dag_id" && key != "from_date" && key != "to_date" && key != "reprocess_behavior" &&
        key != "max_active_runs")
      return BadRequest(fmt::format("unknown field '{}' (a backfill takes dag_id, from_date, "
                                    "to_date, reprocess_behavior, max_active_runs)",
                                    key));
  auto text = [&](const char* name) -> Reply<std::string> {
    if (!body->contains(name) || !(*body)[name].is_string() || (*body)[name].get<std::string>().empty())
      return BadRequest(fmt::format("'{}' is required (a string)", name));
    return (*body)[name].get<std::string>();
  };
  auto dag_id = text("dag_id");
  if (!dag_id) return std::unexpected(dag_id.error());
  auto dag = FindDag(*dag_id);
  if (!dag) return std::unexpected(dag.error());
  BackfillSpec spec{.owner = "", .now = ctx_.clock->Now(), .max_runs = kMaxBackfillRuns};
  for (auto [name, field] : {std::pair{"from_date", &spec.from}, std::pair{"to_date", &spec.to}}) {
    auto value = text(name);
    if (!value) return std::unexpected(value.error());
    auto t = ParseDateTime(*value, (*dag)->timezone);
    if (!t) return BadRequest(fmt::format("'{}': {}", name, t.error().message()));
    *field = *t;
    // A date alone as to_date covers that whole day.
    if (field == &spec.to && value->size() == 10) *field += kDay - std::chrono::microseconds(1);
  }
  if (spec.from > spec.to) return BadRequest("'from_date' is after 'to_date'");
  std::string reprocess = body->value("reprocess_behavior", std::string("none"));
  if (reprocess != "none" && reprocess != "failed")
    return BadRequest("'reprocess_behavior' is 'none' or 'failed'");
  spec.rerun_failed = reprocess == "failed";
  // The backfill's own limit; without one, the DAG's max_active_runs alone.
  spec.max_active_runs = (*dag)->max_active_runs;
  if (body->contains("max_active_runs")) {
    const json& m = (*body)["max_active_runs"];
    if (!m.is_number_integer() || m.get<int64_t>() < 1 || m.get<int64_t>() > 1000)
      return BadRequest("'max_active_runs' is a whole number from 1 to 1000");
    spec.max_active_runs = static_cast<int>(m.get<int64_t>());
  }
  auto store = Db();
  if (!store) return std::unexpected(store.error());
  auto plan = RecordBackfill(**store, **dag, spec);
  if (!plan) {
    if (plan.error().code() == Error::Code::kInvalidArgument) return BadRequest(plan.error().message());
    return Internal(plan.error());
  }
  json runs = json::array();
  for (const BackfillRun& b : *plan)
    runs.push_back({{"dag_run_id", b.run_id},
                    {"logical_date", FormatIso(b.logical_date)},
                    {"action", BackfillActionName(b.action)},
                    {"state", RunStateName(b.state)}});
  return json{{"dag_id", *dag_id},
              {"from_date", FormatIso(spec.from)},
              {"to_date", FormatIso(spec.to)},
              {"reprocess_behavior", reprocess},
              {"max_active_runs", spec.max_active_runs},
              {"dag_runs", runs}};
}

}  // namespace dagctl::api
