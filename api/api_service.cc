#include "api/api_service.h"

#include "api/api_call.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "api/airflow_json.h"
#include "api/file_token.h"
#include "engine/data_interval.h"
#include "engine/json_io.h"
#include "engine/limits.h"
#include "engine/try_log.h"
#include "engine/runs.h"
#include "engine/task_groups.h"
#include "engine/text.h"
#include "engine/value.h"

namespace dagctl::api {

namespace {

std::vector<std::string> Segments(const std::string& path) {
  std::vector<std::string> out;
  std::stringstream in(path);
  for (std::string seg; std::getline(in, seg, '/');)
    if (!seg.empty()) out.push_back(seg);
  return out;
}

}  // namespace

ApiResponse Call::Respond() {
  auto segs = Segments(req_.path);
  auto result = Route(segs);
  ApiResponse resp;
  resp.status = status_;
  if (!result) {
    resp.status = result.error().status;
    resp.content_type = "application/problem+json";
    resp.body = DumpJson(ErrorJson(resp.status, result.error().title, result.error().detail));
    return resp;
  }
  if (status_ == 204) return resp;  // no body
  if (!raw_json_.empty()) {
    resp.body = std::move(raw_json_);
    return resp;
  }
  if (text_reply_) {
    resp.content_type = "text/plain; charset=utf-8";
    resp.body = text_body_;
    return resp;
  }
  resp.body = DumpJson(*result);
  return resp;
}

// Dispatches on the path's segments and the method.
Reply<json> Call::Route(const std::vector<std::string>& s) {
  const std::string& m = req_.method;
  auto method_is = [&](const char* want) -> std::optional<std::unexpected<Problem>> {
    if (m == want) return std::nullopt;
    return std::unexpected(Problem{405, "Method not allowed",
                                   fmt::format("{} is not allowed on {}", m, req_.path)});
  };
  size_t n = s.size();
  if (n == 1 && s[0] == "version") {
    if (auto bad = method_is("GET")) return *bad;
    return json{{"version", DAGCTL_VERSION}, {"git_version", nullptr}};
  }
  if (n == 1 && s[0] == "health") {
    if (auto bad = method_is("GET")) return *bad;
    return Health();
  }
  if (n == 1 && s[0] == "importErrors") {
    if (auto bad = method_is("GET")) return *bad;
    return ImportErrors();
  }
  // dagctl's own read-only views for the dashboard.
  if (n == 3 && s[0] == "ui" && (s[1] == "grid" || s[1] == "graph")) {
    if (auto bad = method_is("GET")) return *bad;
    return s[1] == "grid" ? Grid(s[2]) : Graph(s[2]);
  }
  if (n == 3 && s[0] == "ui" && (s[1] == "durations" || s[1] == "calendar")) {
    if (auto bad = method_is("GET")) return *bad;
    return s[1] == "durations" ? Durations(s[2]) : Calendar(s[2]);
  }
  if (n == 4 && s[0] == "ui" && s[1] == "gantt") {
    if (auto bad = method_is("GET")) return *bad;
    return Gantt(s[2], s[3]);
  }
  if (n == 2 && s[0] == "ui" && s[1] == "backfills") {
    if (auto bad = method_is("POST")) return *bad;
    return PostBackfill();
  }
  if (n == 2 && s[0] == "dagSources") {
    if (auto bad = method_is("GET")) return *bad;
    return GetDagSource(s[1]);
  }
  if (n == 3 && s[0] == "ui" && s[1] == "versions") {
    if (auto bad = method_is("GET")) return *bad;
    return Versions(s[2]);
  }
  if (n == 2 && s[0] == "ui" && s[1] == "workers") {
    if (auto bad = method_is("GET")) return *bad;
    return Workers();
  }
  if (n >= 1 && n <= 2 && s[0] == "variables") {
    if (n == 1) {
      if (m == "POST") return PutVariable(nullptr);
      if (auto bad = method_is("GET")) return *bad;
      return ListVariables();
    }
    if (m == "PATCH") return PutVariable(&s[1]);
    if (m == "DELETE") return DeleteVariable(s[1]);
    if (auto bad = method_is("GET")) return *bad;
    return GetVariable(s[1]);
  }
  if (n >= 1 && n <= 2 && s[0] == "connections") {
    if (n == 1) {
      if (m == "POST") return PostConnection();
      if (auto bad = method_is("GET")) return *bad;
      return ListConnections();
    }
    if (s[1] == "test") {
      if (auto bad = method_is("POST")) return *bad;
      return TestConnection();
    }
    if (m == "PATCH") return PatchConnection(s[1]);
    if (m == "DELETE") return DeleteConnection(s[1]);
    if (auto bad = method_is("GET")) return *bad;
    return GetConnection(s[1]);
  }
  if (n == 4 && s[0] == "ui" && s[1] == "markRun") {
    if (auto bad = method_is("POST")) return *bad;
    return RunStatePreview(s[2], s[3]);
  }
  if (s.size() <= 2 && !s.empty() && s[0] == "pools") {
    if (n == 1) {
      if (m == "POST") return PostPool();
      if (auto bad = method_is("GET")) return *bad;
      return ListPools();
    }
    if (m == "PATCH") return PatchPool(s[1]);
    if (m == "DELETE") return DeletePool(s[1]);
    if (auto bad = method_is("GET")) return *bad;
    return GetPool(s[1]);
  }
  if (n >= 1 && s[0] == "datasets") {
    if (n == 2 && s[1] == "events") {
      if (m == "POST") return PostDatasetEvent();
      if (auto bad = method_is("GET")) return *bad;
      return ListDatasetEvents();
    }
    const std::string queued = "/datasets/queuedEvent/";
    if (n >= 3 && s[1] == "queuedEvent" && req_.path.starts_with(queued)) {
      if (auto bad = method_is("GET"); bad && m != "DELETE") return *bad;
      return QueuedEvents("", req_.path.substr(queued.size()));
    }
    if (auto bad = method_is("GET")) return *bad;
    if (n == 1) return ListDatasets();
    // The URI is the rest of the path, slashes and all (s3://bucket/key).
    return GetDataset(req_.path.substr(std::string("/datasets/").size()));
  }
  if (n >= 1 && s[0] == "dags") {
    if (n == 1) {
      if (auto bad = method_is("GET")) return *bad;
      return ListDags();
    }
    const std::string& dag = s[1];
    if (n == 2) {
      if (m == "PATCH") return PatchDag(dag);
      if (auto bad = method_is("GET")) return *bad;
      return GetDag(dag);
    }
    if (n == 3 && s[2] == "details") {
      if (auto bad = method_is("GET")) return *bad;
      return DagDetails(dag);
    }
    if (n == 3 && s[2] == "tasks") {
      if (auto bad = method_is("GET")) return *bad;
      return ListTasks(dag);
    }
    if (n == 4 && s[2] == "tasks") {
      if (auto bad = method_is("GET")) return *bad;
      return GetTask(dag, s[3]);
    }
    if (n >= 4 && s[2] == "datasets" && s[3] == "queuedEvent") {
      // The URI, if any, is the rest of the path, slashes and all.
      std::string prefix = "/dags/" + dag + "/datasets/queuedEvent/";
      std::string uri = n > 4 && req_.path.starts_with(prefix) ? req_.path.substr(prefix.size()) : "";
      if (n > 4 && uri.empty()) return NotFound("Not found", "no API endpoint at " + req_.path);
      if (auto bad = method_is("GET"); bad && m != "DELETE") return *bad;
      return QueuedEvents(dag, uri);
    }
    if (n == 3 && s[2] == "updateTaskInstancesState") {
      if (auto bad = method_is("POST")) return *bad;
      return UpdateTisState(dag);
    }
    if (n == 3 && s[2] == "clearTaskInstances") {
      if (auto bad = method_is("POST")) return *bad;
      return Clear(dag);
    }
    if (n >= 3 && s[2] == "dagRuns") {
      if (n == 3) {
        if (m == "POST") return PostRun(dag);
        if (auto bad = method_is("GET")) return *bad;
        return ListRuns(dag);
      }
      // .../taskInstances/{task_id}/{map_index}: a number; other words there
      // (tries, links, dependencies, setNote) are endpoints dagctl lacks.
      bool by_index = false;
      if (n >= 7) {
        size_t digits = !s[6].empty() && s[6][0] == '-' ? 1 : 0;  // -3: a bad index, 400
        by_index = s[6].size() > digits &&
                   s[6].find_first_not_of("0123456789", digits) == std::string::npos;
      }
      if (n == 4 && m == "PATCH") return PatchRun(dag, s[3]);
      if ((n == 6 || (n == 7 && by_index)) && m == "PATCH" && s[4] == "taskInstances")
        return PatchTi(dag, s[3], s[5], n == 7 ? &s[6] : nullptr);
      if (auto bad = method_is("GET")) return *bad;
      if (n == 4) return GetRun(dag, s[3]);
      if (n == 5 && s[4] == "taskInstances") return ListTis(dag, s[3]);
      if (n == 5 && s[4] == "upstreamDatasetEvents") return UpstreamDatasetEvents(dag, s[3]);
      if (n == 6 && s[4] == "taskInstances") return GetTi(dag, s[3], s[5]);
      if (n == 7 && s[4] == "taskInstances" && s[6] == "listMapped") return ListMapped(dag, s[3], s[5]);
      if (n == 7 && s[4] == "taskInstances" && s[6] == "xcomEntries")
        return XComEntries(dag, s[3], s[5], nullptr);
      if (n == 8 && s[4] == "taskInstances" && s[6] == "xcomEntries")
        return XComEntries(dag, s[3], s[5], &s[7]);
      if (n == 7 && s[4] == "taskInstances" && by_index) return GetTi(dag, s[3], s[5], &s[6]);
      if (n == 8 && s[4] == "taskInstances" && s[6] == "logs") return GetLog(dag, s[3], s[5], s[7]);
    }
  }
  return NotFound("Not found", fmt::format("no API endpoint at {} {}", m, req_.path));
}

Reply<Store*> Call::Db() {
  Store* store = ctx_.store();
  if (!store) return std::unexpected(Problem{503, "Metadata database unavailable",
                                             "the metadata database cannot be opened"});
  return store;
}

std::vector<std::string> Call::Params(const std::string& name) const {
  std::vector<std::string> out;
  auto [b, e] = req_.query.equal_range(name);
  for (auto it = b; it != e; ++it) {
    // Accept both ?state=a&state=b and ?state=a,b.
    std::stringstream in(it->second);
    for (std::string v; std::getline(in, v, ',');)
      if (!v.empty()) out.push_back(v);
  }
  return out;
}

Reply<int> Call::IntParam(const std::string& name, int fallback, int min, int max) {
  auto it = req_.query.find(name);
  if (it == req_.query.end()) return fallback;
  auto v = ScalarAsInt(it->second);
  if (!v || *v < min)
    return BadRequest(fmt::format("'{}' must be a whole number of at least {}, not '{}'", name, min,
                                  it->second));
  return static_cast<int>(std::min<int64_t>(*v, max));
}

Reply<std::optional<bool>> Call::BoolParam(const std::string& name) {
  auto it = req_.query.find(name);
  if (it == req_.query.end()) return std::optional<bool>();
  auto v = ScalarAsBool(it->second);
  if (!v) return BadRequest(fmt::format("'{}' must be true or false, not '{}'", name, it->second));
  return std::optional<bool>(*v);
}

Reply<std::optional<Timestamp>> Call::TimeParam(const std::string& name) {
  auto it = req_.query.find(name);
  if (it == req_.query.end()) return std::optional<Timestamp>();
  auto t = ParseDateTime(it->second);
  if (!t) return BadRequest(fmt::format("'{}': {}", name, t.error().message()));
  return std::optional<Timestamp>(*t);
}

Reply<json> Call::Body() {
  auto j = ParseJson(req_.body);
  if (!j) return BadRequest("the request body is " + j.error().message());
  if (!j->is_object()) return BadRequest("the request body must be a JSON object");
  return *j;
}

Reply<std::shared_ptr<const Dag>> Call::FindDag(const std::string& dag_id) {
  if (!bag_) bag_ = ctx_.dags->Get();
  for (const auto& d : bag_->dags)
    if (d->dag_id == dag_id) return d;
  return NotFound("DAG not found", fmt::format("DAG with dag_id: '{}' not found", dag_id));
}

Reply<DagRunRecord> Call::FindRun(const std::string& dag_id, const std::string& run_id) {
  auto store = Db();
  if (!store) return std::unexpected(store.error());
  auto run = (*store)->GetDagRun(dag_id, run_id);
  if (run) return *run;
  if (run.error().IsNotFound())
    return NotFound("DAGRun not found", fmt::format("DAGRun with DAG ID: '{}' and DAGRun ID: '{}' not found",
                                                    dag_id, run_id));
  return Internal(run.error());
}

Reply<TaskInstanceRecord> Call::FindTi(const std::string& dag_id, const std::string& run_id,
                                        const std::string& task_id, const std::string* map_index) {
  auto run = FindRun(dag_id, run_id);
  if (!run) return std::unexpected(run.error());
  int want = -1;
  if (map_index) {
    auto n = ScalarAsInt(*map_index);
    if (!n || *n < 0 || *n > INT32_MAX)
      return BadRequest(fmt::format("map index must be a whole number from 0, not '{}'", *map_index));
    want = static_cast<int>(*n);
  }
  auto tis = (*Db())->ListTaskInstances(dag_id, run_id);
  if (!tis) return Internal(tis.error());
  bool mapped = false;
  for (const auto& ti : *tis) {
    if (ti.task_id != task_id) continue;
    if (ti.map_index == want) return ti;
    mapped = ti.map_index >= 0;
  }
  // As Airflow says when the URL lacks the map index of a mapped task.
  if (mapped && !map_index)
    return NotFound("Task instance not found", "Task instance is mapped, add the map_index value to the URL");
  return NotFound("Task instance not found",
                  map_index ? fmt::format("Task instance for task '{}' map index {} of run '{}' not found",
                                          task_id, want, run_id)
                            : fmt::format("Task instance for task '{}' of run '{}' not found", task_id, run_id));
}

DagStatus Call::StatusOf(const Dag& dag, Store& store, bool paused) {
  DagStatus st;
  st.paused = paused;
  auto next = NextIntervals(dag, ctx_.clock->Now(), 1);
  if (!next.empty()) {
    st.next_start = next[0].start;
    st.next_end = next[0].end;
  }
  auto last = store.ListDagRuns({.dag_id = dag.dag_id, .limit = 1});
  if (last && !last->empty()) st.last_run_state = (*last)[0].state;
  return st;
}

Reply<json> Call::Health() {
  json out = {{"metadatabase", {{"status", "healthy"}}},
              {"scheduler", {{"status", "unhealthy"}, {"latest_scheduler_heartbeat", nullptr}}}};
  Store* store = ctx_.store();
  auto beat = store ? store->LatestHeartbeat("scheduler") : Result<std::optional<Timestamp>>(
                                                                Fail(Error::IOError("no database")));
  if (!beat) {
    out["metadatabase"]["status"] = "unhealthy";
    return out;
  }
  if (*beat) {
    out["scheduler"]["latest_scheduler_heartbeat"] = FormatIso(**beat);
    if (ctx_.clock->Now() - **beat < std::chrono::seconds(30))
      out["scheduler"]["status"] = "healthy";
  }
  return out;
}

Reply<json> Call::ListDags() {
  auto limit = IntParam("limit", 100, 0, kMaxLimit);
  auto offset = IntParam("offset", 0, 0, INT32_MAX);
  auto paused_filter = BoolParam("paused");
  if (!limit) return std::unexpected(limit.error());
  if (!offset) return std::unexpected(offset.error());
  if (!paused_filter) return std::unexpected(paused_filter.error());
  std::string order = Params("order_by").empty() ? "dag_id" : Params("order_by")[0];
  if (order != "dag_id" && order != "-dag_id")
    return BadRequest(fmt::format("cannot order DAGs by '{}' (use dag_id or -dag_id)", order));
  auto store = Db();
  if (!store) return std::unexpected(store.error());
  auto paused = (*store)->PausedDags();
  if (!paused) return Internal(paused.error());
  bag_ = ctx_.dags->Get();
  std::vector<std::string> tags = Params("tags");
  auto pattern_it = req_.query.find("dag_id_pattern");
  std::vector<const Dag*> chosen;
  for (const auto& d : bag_->dags) {
    if (*paused_filter && **paused_filter != (paused->count(d->dag_id) > 0)) continue;
    if (pattern_it != req_.query.end() && d->dag_id.find(pattern_it->second) == std::string::npos)
      continue;
    if (!tags.empty() && std::none_of(tags.begin(), tags.end(), [&](const std::string& t) {
          return std::find(d->tags.begin(), d->tags.end(), t) != d->tags.end();
        }))
      continue;
    chosen.push_back(d.get());
  }
  if (order == "-dag_id") std::reverse(chosen.begin(), chosen.end());
  json dags = json::array();
  for (size_t i = *offset; i < chosen.size() && dags.size() < static_cast<size_t>(*limit); ++i)
    dags.push_back(DagJson(*chosen[i], StatusOf(*chosen[i], **store, paused->count(chosen[i]->dag_id))));
  return json{{"dags", dags}, {"total_entries", chosen.size()}};
}

Reply<json> Call::GetDag(const std::string& dag_id) {
  auto dag = FindDag(dag_id);
  if (!dag) return std::unexpected(dag.error());
  auto store = Db();
  if (!store) return std::unexpected(store.error());
  auto paused = (*store)->IsPaused(dag_id);
  if (!paused) return Internal(paused.error());
  return DagJson(**dag, StatusOf(**dag, **store, *paused));
}

Reply<json> Call::PatchDag(const std::string& dag_id) {
  auto dag = FindDag(dag_id);
  if (!dag) return std::unexpected(dag.error());
  for (const std::string& field : Params("update_mask"))
    if (field != "is_paused")
      return BadRequest(fmt::format("only 'is_paused' can be updated, not '{}'", field));
  auto body = Body();
  if (!body) return std::unexpected(body.error());
  if (!body->contains("is_paused") || !(*body)["is_paused"].is_boolean())
    return BadRequest("the body needs 'is_paused': true or false");
  auto store = Db();
  if (!store) return std::unexpected(store.error());
  if (auto st = (*store)->SetPaused(dag_id, (*body)["is_paused"].get<bool>()); !st)
    return Internal(st.error());
  return GetDag(dag_id);
}

Reply<json> Call::ListTasks(const std::string& dag_id) {
  auto dag = FindDag(dag_id);
  if (!dag) return std::unexpected(dag.error());
  json tasks = json::array();
  for (size_t i : (*dag)->graph.topo_order) tasks.push_back(TaskJson(**dag, (*dag)->tasks[i]));
  return json{{"tasks", tasks}, {"total_entries", tasks.size()}};
}

Reply<json> Call::GetTask(const std::string& dag_id, const std::string& task_id) {
  auto dag = FindDag(dag_id);
  if (!dag) return std::unexpected(dag.error());
  const Task* t = (*dag)->FindTask(task_id);
  if (!t) return NotFound("Task not found", fmt::format("Task with id '{}' not found", task_id));
  return TaskJson(**dag, *t);
}

Reply<json> Call::ListRuns(const std::string& dag_id) {
  auto store = Db();
  if (!store) return std::unexpected(store.error());
  RunQuery q;
  if (dag_id != "~") {
    q.dag_id = dag_id;
    // A DAG whose file is gone still has its history.
    if (!FindDag(dag_id)) {
      auto count = (*store)->CountDagRuns({.dag_id = dag_id});
      if (!count || *count == 0) return std::unexpected(FindDag(dag_id).error());
    }
  }
  auto limit = IntParam("limit", 100, 0, kMaxLimit);
  auto offset = IntParam("offset", 0, 0, INT32_MAX);
  if (!limit) return std::unexpected(limit.error());
  if (!offset) return std::unexpected(offset.error());
  q.limit = *limit;
  q.offset = *offset;
  for (const std::string& s : Params("state")) {
    auto st = ParseRunState(s);
    if (!st) return BadRequest(fmt::format("unknown DAG run state '{}' (use queued, running, success or failed)", s));
    q.states.push_back(*st);
  }
  for (auto [name, field] : {std::pair{"execution_date_gte", &q.logical_date_gte},
                             std::pair{"execution_date_lte", &q.logical_date_lte},
                             std::pair{"logical_date_gte", &q.logical_date_gte},
                             std::pair{"logical_date_lte", &q.logical_date_lte},
                             std::pair{"start_date_gte", &q.start_date_gte},
                             std::pair{"start_date_lte", &q.start_date_lte},
                             std::pair{"end_date_gte", &q.end_date_gte},
                             std::pair{"end_date_lte", &q.end_date_lte}}) {
    auto t = TimeParam(name);
    if (!t) return std::unexpected(t.error());
    if (*t) *field = *t;
  }
  // dagctl's extension: run_type=manual|scheduled|backfill|dataset_triggered (repeatable).
  for (const std::string& t : Params("run_type")) {
    auto type = ParseRunType(t);
    if (!type)
      return BadRequest(fmt::format(
          "unknown run type '{}' (use manual, scheduled, backfill or dataset_triggered)", Shorten(t)));
    q.types.push_back(*type);
  }
  auto order = Params("order_by");
  q.order_by = order.empty() ? "id" : order[0];
  auto runs = (*store)->ListDagRuns(q);
  if (!runs) {
    if (runs.error().code() == Error::Code::kInvalidArgument) return BadRequest(runs.error().message());
    return Internal(runs.error());
  }
  auto total = (*store)->CountDagRuns(q);
  if (!total) return Internal(total.error());
  // Written as text directly: this list is the API's busiest answer.
  raw_json_ = "{\"dag_runs\":[";
  for (size_t i = 0; i < runs->size(); ++i) {
    if (i) raw_json_ += ',';
    AppendDagRunJson(raw_json_, (*runs)[i]);
  }
  raw_json_ += fmt::format("],\"total_entries\":{}}}", *total);
  return json(nullptr);
}

Reply<json> Call::PostRun(const std::string& dag_id) {
  auto dag = FindDag(dag_id);
  if (!dag) return std::unexpected(dag.error());
  auto body = Body();
  if (!body) return std::unexpected(body.error());
  static const std::set<std::string> kWritable = {"dag_run_id", "logical_date", "execution_date",
                                                  "conf", "note", "data_interval_start",
                                                  "data_interval_end"};
  for (auto& [key, value] : body->items())
    if (!kWritable.count(key))
      return BadRequest(fmt::format("'{}' cannot be set when triggering a run", Shorten(key)));
  std::optional<Timestamp> logical;
  for (const char* field : {"logical_date", "execution_date"}) {
    if (!body->contains(field) || (*body)[field].is_null()) continue;
    if (!(*body)[field].is_string()) return BadRequest(fmt::format("'{}' must be a date-time string", field));
    auto t = ParseDateTime((*body)[field].get<std::string>());
    if (!t) return BadRequest(fmt::format("'{}': {}", field, t.error().message()));
    if (logical && *logical != *t) return BadRequest("logical_date and execution_date differ");
    logical = *t;
  }
  std::string run_id;
  if (body->contains("dag_run_id") && !(*body)["dag_run_id"].is_null()) {
    if (!(*body)["dag_run_id"].is_string()) return BadRequest("'dag_run_id' must be a string");
    run_id = (*body)["dag_run_id"].get<std::string>();
  }
  std::string conf = "{}";
  if (body->contains("conf") && !(*body)["conf"].is_null()) conf = DumpJson((*body)["conf"]);
  auto store = Db();
  if (!store) return std::unexpected(store.error());
  auto run = TriggerRun(**store, **dag, logical, conf, run_id, ctx_.clock->Now());
  if (run) return DagRunJson(*run);
  if (run.error().code() == Error::Code::kInvalidArgument) return BadRequest(run.error().message());
  if (run.error().code() == Error::Code::kAlreadyExists)
    return std::unexpected(Problem{409, "Already exists", run.error().message()});
  return Internal(run.error());
}

Reply<json> Call::GetRun(const std::string& dag_id, const std::string& run_id) {
  auto run = FindRun(dag_id, run_id);
  if (!run) return std::unexpected(run.error());
  return DagRunJson(*run);
}

// A page of task instances, as the query's limit, offset and state say.
Reply<json> Call::TiPage(const std::vector<const TaskInstanceRecord*>& tis, const DagRunRecord& run) {
  auto limit = IntParam("limit", 100, 0, kMaxLimit);
  auto offset = IntParam("offset", 0, 0, INT32_MAX);
  if (!limit) return std::unexpected(limit.error());
  if (!offset) return std::unexpected(offset.error());
  std::set<std::string> states;
  for (const std::string& s : Params("state")) {
    if (!ParseTaskState(s)) return BadRequest(fmt::format("unknown task state '{}'", s));
    states.insert(s);
  }
  json items = json::array();
  size_t total = 0;
  for (const TaskInstanceRecord* ti : tis) {
    if (!states.empty() && !states.count(TaskStateName(ti->state))) continue;
    if (total++ < static_cast<size_t>(*offset) || items.size() >= static_cast<size_t>(*limit)) continue;
    items.push_back(TaskInstanceJson(*ti, run));
  }
  return json{{"task_instances", items}, {"total_entries", total}};
}

Reply<json> Call::ListTis(const std::string& dag_id, const std::string& run_id) {
  auto run = FindRun(dag_id, run_id);
  if (!run) return std::unexpected(run.error());
  auto tis = (*Db())->ListTaskInstances(dag_id, run_id);
  if (!tis) return Internal(tis.error());
  std::vector<const TaskInstanceRecord*> all;
  for (const auto& ti : *tis) all.push_back(&ti);
  return TiPage(all, *run);
}

Reply<json> Call::GetTi(const std::string& dag_id, const std::string& run_id, const std::string& task,
                         const std::string* map_index) {
  auto ti = FindTi(dag_id, run_id, task, map_index);
  if (!ti) return std::unexpected(ti.error());
  return TaskInstanceJson(*ti, *FindRun(dag_id, run_id));
}

Reply<json> Call::ListMapped(const std::string& dag_id, const std::string& run_id,
                             const std::string& task) {
  auto run = FindRun(dag_id, run_id);
  if (!run) return std::unexpected(run.error());
  auto tis = (*Db())->ListTaskInstances(dag_id, run_id);
  if (!tis) return Internal(tis.error());
  std::vector<const TaskInstanceRecord*> mine;
  for (const auto& ti : *tis)
    if (ti.task_id == task && ti.map_index >= 0) mine.push_back(&ti);
  // None may mean a mapped task that expanded to an empty list: not a 404 (as Airflow).
  if (mine.empty()) {
    auto dag = FindDag(dag_id);
    if (!dag) return std::unexpected(dag.error());
    const Task* t = (*dag)->FindTask(task);
    if (!t) return NotFound("Task not found", fmt::format("Task id {} not found", task));
    if (t->expand.empty())
      return NotFound("Task instance not found", fmt::format("Task id {} is not mapped", task));
  }
  auto order = req_.query.count("order_by") ? req_.query.find("order_by")->second : "map_index";
  if (order != "map_index" && order != "-map_index")
    return BadRequest(fmt::format(
        "cannot order mapped task instances by '{}' (use map_index or -map_index)", order));
  if (order == "-map_index") std::reverse(mine.begin(), mine.end());
  return TiPage(mine, *run);
}

Reply<json> Call::GetLog(const std::string& dag_id, const std::string& run_id, const std::string& task,
                          const std::string& try_text) {
  auto map_it = req_.query.find("map_index");
  bool by_index = map_it != req_.query.end() && map_it->second != "-1";
  auto ti = FindTi(dag_id, run_id, task, by_index ? &map_it->second : nullptr);
  if (!ti) return std::unexpected(ti.error());
  auto n = ScalarAsInt(try_text);
  if (!n || *n < 1) return BadRequest(fmt::format("try number must be a whole number from 1, not '{}'", try_text));
  if (*n > ti->try_number)
    return NotFound("Task try not found", fmt::format("task '{}' has {} tr{} in run '{}'", task,
                                                      ti->try_number, ti->try_number == 1 ? "y" : "ies", run_id));
  // Airflow's continuation: `token` carries where the last reply ended; with
  // it, or with full_content, the log is read forward from there in chunks,
  // else its tail is returned. end_of_log says the try had ended when the
  // reading began and every byte has been returned.
  LogToken from;
  if (auto t = req_.query.find("token"); t != req_.query.end() && !t->second.empty()) {
    auto parsed = ParseLogToken(t->second);
    if (!parsed) return BadRequest("Bad Signature. Please use only the tokens provided by the API.");
    from = *parsed;
  }
  if (auto f = req_.query.find("full_content"); f != req_.query.end()) {
    if (f->second != "true" && f->second != "false")
      return BadRequest(fmt::format("full_content must be true or false, not '{}'", f->second));
    from.download_logs = from.download_logs || f->second == "true";
  }
  bool ended = !TryIsLive(*ti, static_cast<int>(*n));
  auto store = Db();
  if (!store) return std::unexpected(store.error());
  bool forward = from.download_logs || from.log_pos > 0;
  auto chunk = ReadTryLogChunk(**store, ctx_.logs_dir, ti->key(), static_cast<int>(*n),
                               from.log_pos, limits::kMaxLogReplyBytes, forward);
  if (!chunk) {
    if (chunk.error().code() == Error::Code::kInvalidArgument)
      return BadRequest(chunk.error().message());
    return Internal(chunk.error());
  }
  if (req_.wants_text) return TextReply(std::move(chunk->text));
  // A forward chunk cut short leaves more to read even after the try ended.
  LogToken next{chunk->end, ended && !chunk->more, from.download_logs};
  return json{{"content", std::move(chunk->text)},
              {"continuation_token", LogContinuationToken(next)},
              {"end_of_log", next.end_of_log}};
}

Reply<json> Call::ImportErrors() {
  auto limit = IntParam("limit", 100, 0, kMaxLimit);
  auto offset = IntParam("offset", 0, 0, INT32_MAX);
  if (!limit) return std::unexpected(limit.error());
  if (!offset) return std::unexpected(offset.error());
  bag_ = ctx_.dags->Get();
  json items = json::array();
  Timestamp now = ctx_.clock->Now();
  for (size_t i = *offset; i < bag_->errors.size() && items.size() < static_cast<size_t>(*limit); ++i) {
    std::string trace;
    for (const Diagnostic& d : bag_->errors[i].diagnostics) trace += d.ToString() + "\n";
    items.push_back(ImportErrorJson({bag_->errors[i].file, trace, now}, static_cast<int>(i) + 1));
  }
  return json{{"import_errors", items}, {"total_entries", bag_->errors.size()}};
}

Reply<json> Call::DagDetails(const std::string& dag_id) {
  auto base = GetDag(dag_id);
  if (!base) return base;
  const Dag& dag = **FindDag(dag_id);
  json params = json::object();
  for (const MapEntry& e : dag.params) {
    json value = e.value.IsScalar() ? json(e.value.scalar) : json(nullptr);
    if (e.value.IsScalar()) {
      if (auto i = ScalarAsInt(e.value.scalar)) value = *i;
      else if (auto d = ScalarAsDouble(e.value.scalar)) value = *d;
      else if (auto b = ScalarAsBool(e.value.scalar)) value = *b;
    }
    params[e.key] = {{"__class", "airflow.models.param.Param"},
                     {"value", value},
                     {"description", nullptr},
                     {"schema", json::object()}};
  }
  json& d = *base;
  d["timezone"] = dag.timezone.name();
  d["catchup"] = dag.catchup;
  d["orientation"] = "LR";
  d["concurrency"] = dag.max_active_tasks;
  d["start_date"] = TimeOrNull(dag.start_date);
  d["end_date"] = TimeOrNull(dag.end_date);
  d["dag_run_timeout"] = dag.dagrun_timeout ? TimeDelta(*dag.dagrun_timeout) : json(nullptr);
  // Airflow's DatasetAll as an expression: {"all": [URI, ...]}.
  d["dataset_expression"] =
      dag.schedule_assets.empty() ? json(nullptr) : json{{"all", dag.schedule_assets}};
  d["doc_md"] = nullptr;
  d["default_view"] = "grid";
  d["params"] = params;
  d["is_paused_upon_creation"] = nullptr;
  d["last_parsed"] = nullptr;
  d["template_search_path"] = nullptr;
  d["render_template_as_native_obj"] = nullptr;
  return base;
}

// The live workers (a heartbeat within 30 s), as `dagctl workers --json`.
Reply<json> Call::Workers() {
  auto store = Db();
  if (!store) return std::unexpected(store.error());
  auto workers = (*store)->ListWorkers(std::chrono::seconds(30));
  if (!workers) return Internal(workers.error());
  auto now = (*store)->Now();
  if (!now) return Internal(now.error());
  json list = json::array();
  for (const WorkerRecord& w : *workers)
    list.push_back({{"name", w.name},
                    {"hostname", w.hostname},
                    {"queues", w.queues},
                    {"slots", w.slots},
                    {"slots_used", w.slots_used},
                    {"started_at", FormatIso(w.started_at)},
                    {"latest_heartbeat", FormatIso(w.heartbeat)},
                    {"seconds_since_heartbeat",
                     std::chrono::duration<double>(*now - w.heartbeat).count()}});
  return json{{"workers", list}, {"total_entries", list.size()}};
}

ApiResponse ApiService::Handle(const ApiRequest& req) const {
  try {
    return Call(ctx_, req).Respond();
  } catch (const std::exception& e) {
    // Nothing above should throw; if it does, the client still gets an answer.
    return {500, "application/problem+json", DumpJson(ErrorJson(500, "Internal error", e.what()))};
  }
}

}  // namespace dagctl::api
