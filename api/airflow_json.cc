#include "api/airflow_json.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "api/file_token.h"
#include "engine/asset_json.h"
#include "engine/json_io.h"
#include "engine/mapping.h"
#include "operators/operator.h"

namespace dagctl::api {

using nlohmann::json;

json TimeOrNull(std::optional<Timestamp> t) { return t ? json(FormatIso(*t)) : json(nullptr); }

json TimeDelta(Duration d) {
  auto secs = std::chrono::duration_cast<std::chrono::seconds>(d);
  auto micros = std::chrono::duration_cast<std::chrono::microseconds>(d - secs);
  return {{"__type", "TimeDelta"},
          {"days", secs.count() / 86400},
          {"seconds", secs.count() % 86400},
          {"microseconds", micros.count()}};
}

json DagJson(const Dag& dag, const DagStatus& st) {
  json tags = json::array();
  for (const auto& t : dag.tags) tags.push_back({{"name", t}});
  json schedule = nullptr;
  if (dag.schedule) schedule = {{"__type", "CronExpression"}, {"value", dag.schedule->text()}};
  // Airflow 2 stores a dataset-scheduled DAG's schedule_interval as "Dataset".
  if (!dag.schedule_assets.empty()) schedule = {{"__type", "CronExpression"}, {"value", "Dataset"}};
  json description = dag.schedule ? json(dag.schedule->text()) : json(nullptr);
  if (!dag.schedule_assets.empty()) description = "Triggered by datasets";
  return {
      {"dag_id", dag.dag_id},
      {"dag_display_name", dag.dag_id},
      {"description", dag.description.empty() ? json(nullptr) : json(dag.description)},
      {"fileloc", dag.file},
      {"file_token", FileToken(dag.dag_id, dag.file_hash)},
      {"is_paused", st.paused},
      {"is_active", true},
      {"owners", {dag.owner}},
      {"tags", tags},
      {"schedule_interval", schedule},
      {"timetable_description", description},
      {"timezone", dag.timezone.name()},
      {"max_active_runs", dag.max_active_runs},
      {"max_active_tasks", dag.max_active_tasks},
      {"has_import_errors", false},
      {"has_task_concurrency_limits", false},
      {"next_dagrun", TimeOrNull(st.next_start)},
      {"next_dagrun_data_interval_start", TimeOrNull(st.next_start)},
      {"next_dagrun_data_interval_end", TimeOrNull(st.next_end)},
      {"next_dagrun_create_after", TimeOrNull(st.next_end)},
      {"last_run_state", st.last_run_state ? json(RunStateName(*st.last_run_state)) : json(nullptr)},
  };
}

json DatasetJson(const AssetRecord& asset) {
  auto extra = ParseJson(asset.extra);
  std::string created = FormatIso(asset.created_at), updated = FormatIso(asset.updated_at);
  json consumers = json::array(), producers = json::array();
  for (const std::string& dag_id : asset.consuming_dags)
    consumers.push_back({{"dag_id", dag_id}, {"created_at", created}, {"updated_at", updated}});
  for (const auto& [dag_id, task_id] : asset.producing_tasks)
    producers.push_back({{"dag_id", dag_id},
                         {"task_id", task_id},
                         {"created_at", created},
                         {"updated_at", updated}});
  return {{"id", asset.id},
          {"uri", asset.uri},
          {"extra", extra && extra->is_object() ? *extra : json(nullptr)},
          {"created_at", created},
          {"updated_at", updated},
          {"consuming_dags", consumers},
          {"producing_tasks", producers}};
}

json DatasetEventJson(const AssetEventRecord& event, const std::vector<DagRunRecord>& created_dagruns) {
  json out = AssetEventJson(event);
  json runs = json::array();
  for (const DagRunRecord& r : created_dagruns)
    runs.push_back({{"run_id", r.run_id},
                    {"dag_id", r.dag_id},
                    {"logical_date", FormatIso(r.logical_date)},
                    {"start_date", TimeOrNull(r.start_date)},
                    {"end_date", TimeOrNull(r.end_date)},
                    {"data_interval_start", FormatIso(r.data_interval_start)},
                    {"data_interval_end", FormatIso(r.data_interval_end)},
                    {"state", RunStateName(r.state)}});
  out["created_dagruns"] = runs;
  return out;
}

json PoolJson(const PoolRecord& pool, const PoolUsage& usage) {
  int occupied = usage.running + usage.queued;
  return {{"name", pool.name},
          {"slots", pool.slots},
          {"occupied_slots", occupied},
          {"running_slots", usage.running},
          {"queued_slots", usage.queued},
          {"scheduled_slots", usage.scheduled},
          {"deferred_slots", 0},
          {"open_slots", pool.slots - occupied},
          {"description", pool.description.empty() ? json(nullptr) : json(pool.description)},
          {"include_deferred", false}};
}

json TaskJson(const Dag& dag, const Task& task) {
  json downstream = json::array();
  size_t pos = dag.index.at(task.id);
  for (size_t d : dag.graph.downstream[pos]) downstream.push_back(dag.tasks[d].id);
  json templated = json::array();
  if (task.op)
    for (const ParamSpec& p : task.op->params())
      if (p.templated) templated.push_back(p.name);
  return {
      {"class_ref", {{"module_path", "dagctl.operators"}, {"class_name", task.operator_name}}},
      {"task_id", task.id},
      {"task_display_name", task.id},
      {"owner", dag.owner},
      {"start_date", TimeOrNull(dag.start_date)},
      {"end_date", TimeOrNull(dag.end_date)},
      {"trigger_rule", TriggerRuleName(task.trigger_rule)},
      {"extra_links", json::array()},
      {"depends_on_past", false},
      {"is_mapped", !task.expand.empty()},
      {"wait_for_downstream", false},
      {"retries", task.retries},
      {"queue", task.queue},
      {"pool", task.pool},
      {"pool_slots", task.pool_slots},
      {"execution_timeout", task.timeout ? TimeDelta(*task.timeout) : json(nullptr)},
      {"retry_delay", TimeDelta(task.retry_delay)},
      {"retry_exponential_backoff", task.retry_exponential_backoff},
      {"priority_weight", task.priority_weight},
      {"weight_rule", WeightRuleName(task.weight_rule)},
      {"ui_color", "#f0ede4"},
      {"ui_fgcolor", "#000"},
      {"template_fields", templated},
      {"downstream_task_ids", downstream},
      {"doc_md", task.doc.empty() ? json(nullptr) : json(task.doc)},
  };
}

namespace {

void AppendString(std::string& out, std::string_view s) {
  out += '"';
  for (char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) out += fmt::format("\\u{:04x}", c);
        else out += c;
    }
  }
  out += '"';
}

void AppendTime(std::string& out, std::optional<Timestamp> t) {
  if (t) AppendString(out, FormatIso(*t));
  else out += "null";
}

}  // namespace

void AppendDagRunJson(std::string& out, const DagRunRecord& run) {
  // Keys in the order nlohmann::json prints them (sorted), so both forms match.
  bool conf_ok = !run.conf.empty() && run.conf.front() == '{' && run.conf.back() == '}';
  std::string logical = FormatIso(run.logical_date);
  out += "{\"conf\":";
  out += conf_ok ? run.conf : "{}";
  out += ",\"dag_id\":";
  AppendString(out, run.dag_id);
  out += ",\"dag_run_id\":";
  AppendString(out, run.run_id);
  out += ",\"data_interval_end\":";
  AppendTime(out, run.data_interval_end);
  out += ",\"data_interval_start\":";
  AppendTime(out, run.data_interval_start);
  out += ",\"end_date\":";
  AppendTime(out, run.end_date);
  out += ",\"execution_date\":";
  AppendString(out, logical);
  out += ",\"external_trigger\":";
  out += run.run_type == RunType::kManual ? "true" : "false";
  out += ",\"last_scheduling_decision\":null,\"logical_date\":";
  AppendString(out, logical);
  out += ",\"note\":null,\"run_type\":";
  AppendString(out, RunTypeName(run.run_type));
  out += ",\"start_date\":";
  AppendTime(out, run.start_date);
  out += ",\"state\":";
  AppendString(out, RunStateName(run.state));
  out += '}';
}

json DagRunJson(const DagRunRecord& run) {
  std::string text;
  AppendDagRunJson(text, run);
  auto j = ParseJson(text);
  if (!j) {  // a conf that is not valid JSON after all, or nested too deep
    DagRunRecord plain = run;
    plain.conf = "{}";
    return DagRunJson(plain);
  }
  return *j;
}

json TaskInstanceJson(const TaskInstanceRecord& ti, const DagRunRecord& run) {
  json duration = nullptr;
  if (ti.start_date && ti.end_date)
    duration = std::chrono::duration<double>(*ti.end_date - *ti.start_date).count();
  return {
      {"task_id", ti.task_id},
      {"task_display_name", ti.task_id},
      {"dag_id", ti.dag_id},
      {"dag_run_id", ti.run_id},
      {"execution_date", FormatIso(run.logical_date)},
      {"start_date", TimeOrNull(ti.start_date)},
      {"end_date", TimeOrNull(ti.end_date)},
      {"duration", duration},
      {"state", ti.state == TaskState::kNone ? json(nullptr) : json(TaskStateName(ti.state))},
      {"try_number", ti.try_number},
      {"map_index", ti.map_index},
      {"max_tries", ti.max_tries - 1},  // Airflow's: the retries allowed (tries = max_tries + 1)
      {"hostname", ti.hostname},
      {"unixname", ""},
      {"pool", ti.pool},
      {"pool_slots", ti.pool_slots},
      {"queue", ti.queue},
      {"priority_weight", ti.priority_weight},
      {"operator", ti.operator_name},
      {"queued_when", TimeOrNull(ti.queued_at)},
      {"pid", ti.pid ? json(ti.pid) : json(nullptr)},
      {"executor", nullptr},
      {"executor_config", "{}"},
      {"rendered_map_index",
       ti.map_index >= 0 ? json(DescribeInstance(ti.map_values)) : json(nullptr)},
      {"rendered_fields", json::object()},
      {"note", nullptr},
  };
}

json ImportErrorJson(const ImportErrorRecord& e, int id) {
  return {{"import_error_id", id},
          {"timestamp", FormatIso(e.timestamp)},
          {"filename", e.filename},
          {"stack_trace", e.stack_trace}};
}

json ErrorJson(int status, const std::string& title, const std::string& detail) {
  const char* section = status == 400   ? "BadRequest"
                        : status == 401 ? "Unauthenticated"
                        : status == 403 ? "PermissionDenied"
                        : status == 404 ? "NotFound"
                        : status == 405 ? "MethodNotAllowed"
                        : status == 409 ? "AlreadyExists"
                        : status == 413 ? "RequestTooLarge"
                                        : "Unknown";
  return {{"type", std::string("https://airflow.apache.org/docs/apache-airflow/stable/"
                               "stable-rest-api-ref.html#section/Errors/") +
                       section},
          {"title", title},
          {"status", status},
          {"detail", detail}};
}

}  // namespace dagctl::api
