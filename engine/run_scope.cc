#include "engine/run_scope.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "engine/asset_json.h"
#include "engine/connection.h"
#include "engine/json_io.h"
#include "engine/suggest.h"
#include "engine/task_groups.h"
#include "engine/text.h"

namespace dagctl {

namespace {

std::string Date(Timestamp t, const TimeZone& tz) { return FormatIso(t, tz).substr(0, 10); }

std::string NoDash(std::string s) {
  std::string out;
  for (char c : s)
    if (c != '-' && c != ':') out += c;
  return out;
}

// The JSON type a param's default asks for, or "" for any.
std::string ExpectedType(const Value& v) {
  switch (v.kind) {
    case Value::Kind::kNull:
      return "";
    case Value::Kind::kSequence:
      return "list";
    case Value::Kind::kMap:
      return "map";
    case Value::Kind::kScalar:
      break;
  }
  if (ScalarAsInt(v.scalar)) return "integer";
  if (ScalarAsDouble(v.scalar)) return "number";
  if (ScalarAsBool(v.scalar)) return "boolean";
  return "string";
}

std::string DefaultText(const Value& v) {
  return Shorten(v.IsScalar() ? v.scalar : DumpJson(ValueToJson(v)));
}

bool HasType(const nlohmann::json& j, const std::string& type) {
  if (type.empty()) return true;
  if (type == "integer") return j.is_number_integer();
  if (type == "number") return j.is_number();
  if (type == "boolean") return j.is_boolean();
  if (type == "string") return j.is_string();
  if (type == "list") return j.is_array();
  return j.is_object();
}

}  // namespace

Status ValidateConf(const Dag& dag, const std::string& conf) {
  auto j = ParseJson(conf);
  if (!j) return Fail(Error::InvalidArgument("conf is " + j.error().message()));
  if (!j->is_object())
    return Fail(Error::InvalidArgument("conf must be a JSON object, such as {\"n\": 3}"));
  std::vector<std::string> names;
  for (const MapEntry& e : dag.params) names.push_back(e.key);
  for (auto& [key, value] : j->items()) {
    auto it = std::find_if(dag.params.begin(), dag.params.end(),
                           [&](const MapEntry& e) { return e.key == key; });
    if (it == dag.params.end())
      return Fail(Error::InvalidArgument(fmt::format("DAG '{}' has no param '{}'{}", dag.dag_id,
                                                     Shorten(key), DidYouMean(key, names))));
    std::string type = ExpectedType(it->value);
    if (!HasType(value, type))
      return Fail(Error::InvalidArgument(fmt::format(
          "param '{}' must be {} {} (its default is {}), not {}", key,
          type == "integer" ? "an" : "a", type, DefaultText(it->value), Shorten(DumpJson(value)))));
  }
  return {};
}

Result<std::string> ConfFromParamArgs(const Dag& dag, const std::vector<std::string>& pairs) {
  nlohmann::json conf = nlohmann::json::object();
  for (const std::string& kv : pairs) {
    auto eq = kv.find('=');
    if (eq == std::string::npos || eq == 0)
      return Fail(Error::InvalidArgument(fmt::format("'{}': expected NAME=VALUE", kv)));
    std::string key = kv.substr(0, eq), text = kv.substr(eq + 1);
    auto it = std::find_if(dag.params.begin(), dag.params.end(),
                           [&](const MapEntry& e) { return e.key == key; });
    std::string type = it == dag.params.end() ? "string" : ExpectedType(it->value);
    // Typed params take their type's text form; lists and maps take JSON.
    nlohmann::json value = text;
    if (type == "integer" && ScalarAsInt(text))
      value = *ScalarAsInt(text);
    else if (type == "number" && ScalarAsDouble(text))
      value = *ScalarAsDouble(text);
    else if (type == "boolean" && ScalarAsBool(text))
      value = *ScalarAsBool(text);
    else if (type == "list" || type == "map")
      if (auto parsed = ParseJson(text)) value = std::move(*parsed);
    conf[key] = value;
  }
  std::string out = DumpJson(conf);
  if (auto st = ValidateConf(dag, out); !st) return Fail(st.error());
  return out;
}

Result<std::map<std::string, std::string>> ResolveParams(const Dag& dag, const std::string& conf) {
  std::map<std::string, std::string> params;
  for (const MapEntry& e : dag.params) params[e.key] = JsonToText(ValueToJson(e.value));
  if (conf.empty()) return params;
  auto j = ParseJson(conf);
  if (!j || !j->is_object())
    return Fail(Error::InvalidArgument("the run's conf is not a JSON object: " + Shorten(conf)));
  for (auto& [k, v] : j->items()) params[k] = JsonToText(v);
  return params;
}

RunScope::RunScope(const Dag& dag, const DagRunRecord& run, const Task& task, int try_number,
                   const std::map<std::string, std::string>& params, Store& store,
                   const std::map<std::string, std::string>& extra)
    : dag_(dag),
      run_(run),
      task_(task),
      try_number_(try_number),
      params_(params),
      store_(store),
      extra_(extra) {}

// The plain names, made on first use (most commands use none of them, and
// dates in a zone take time to format).
const std::map<std::string, std::string>& RunScope::Vars() const {
  if (vars_) return *vars_;
  const TimeZone& tz = dag_.timezone;
  std::string ts = FormatIso(run_.logical_date, tz);
  vars_.emplace(std::map<std::string, std::string>{
      {"ds", Date(run_.logical_date, tz)},
      {"ds_nodash", NoDash(Date(run_.logical_date, tz))},
      {"ts", ts},
      {"ts_nodash", NoDash(ts.substr(0, 19))},
      {"logical_date", ts},
      {"data_interval_start", FormatIso(run_.data_interval_start, tz)},
      {"data_interval_end", FormatIso(run_.data_interval_end, tz)},
      {"run_id", run_.run_id},
      {"dag_id", dag_.dag_id},
      {"task_id", task_.id},
      {"try_number", std::to_string(try_number_)},
  });
  for (const auto& [k, v] : extra_) (*vars_)[k] = v;
  return *vars_;
}

bool IsSensitiveName(const std::string& name) {
  std::string lower = name;
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (const char* word : {"password", "passwd", "secret", "token", "api_key", "apikey",
                           "private_key", "passphrase", "credential", "access_key"})
    if (lower.find(word) != std::string::npos) return true;
  return false;
}

Result<std::string> RunScope::Lookup(const std::vector<std::string>& path) const {
  const std::string& head = path[0];
  if (head == "triggering_asset_events" && path.size() == 1) {
    // Read only when a template asks (most runs were not asset-triggered).
    auto events = store_.ListConsumedAssetEvents(run_.dag_id, run_.run_id);
    if (!events) return Fail(events.error());
    return DumpJson(TriggeringAssetEventsJson(*events));
  } else if (path.size() == 1) {
    auto it = Vars().find(head);
    if (it != Vars().end()) return it->second;
  } else if (head == "params" && path.size() == 2) {
    auto it = params_.find(path[1]);
    if (it != params_.end()) return it->second;
    return Fail(Error::InvalidArgument(fmt::format("unknown param '{}'", path[1])));
  } else if (head == "xcom") {
    return XCom(path);

  } else if (head == "conn" && path.size() == 3) {
    auto conn = LookupConnection(path[1]);
    if (!conn) return Fail(Error::InvalidArgument(conn.error().message()));
    if (!conn->password.empty()) secrets_.push_back(conn->password);
    return conn->Field(path[2]);
  } else if (head == "var" && path.size() == 2) {
    // The environment first, then the store, as Airflow looks them up.
    Result<std::string> v = Fail(Error::NotFound(""));
    if (const char* env = std::getenv(("DAGCTL_VAR_" + path[1]).c_str())) v = std::string(env);
    else v = store_.GetVariable(path[1]);
    if (v && IsSensitiveName(path[1])) secrets_.push_back(*v);
    if (v || !v.error().IsNotFound()) return v;
    return Fail(Error::InvalidArgument(fmt::format(
        "variable '{}' is not set (dagctl variables set {} VALUE, or DAGCTL_VAR_{})", path[1],
        path[1], path[1])));
  }
  std::string name;
  for (const std::string& p : path) name += (name.empty() ? "" : ".") + p;
  return Fail(Error::InvalidArgument(fmt::format("unknown name '{}'", name)));
}

bool RunScope::IsUpstream(const std::string& task_id) const {
  auto target = dag_.index.find(task_id);
  if (target == dag_.index.end()) return false;
  // A run's own callback runs after every task: all of them are "upstream".
  if (!dag_.index.count(task_.id)) return true;
  std::vector<size_t> stack{dag_.index.at(task_.id)};
  std::vector<bool> seen(dag_.tasks.size());
  while (!stack.empty()) {
    size_t v = stack.back();
    stack.pop_back();
    for (size_t u : dag_.graph.upstream[v]) {
      if (u == target->second) return true;
      if (!seen[u]) {
        seen[u] = true;
        stack.push_back(u);
      }
    }
  }
  return false;
}

Result<std::string> RunScope::XCom(const std::vector<std::string>& path) const {
  if (path.size() < 2) return Fail(Error::InvalidArgument("use xcom.TASK or xcom.TASK.KEY"));
  auto join = [&](size_t end) {
    std::string name;
    for (size_t i = 1; i < end; ++i) name += (i > 1 ? "." : "") + path[i];
    return name;
  };
  // Task ids may hold dots (a group's prefix): the longest name that is a
  // task wins, so xcom.load.users is task load.users' value when there is
  // one, else the value task load pushed under `users`. Names resolve as in
  // depends_on: beside this task in its group first.
  std::string key = "return_value";
  auto ref = ResolveNode(dag_, task_.group, join(path.size()));
  if ((!ref || ref->group) && path.size() >= 3) {
    auto shorter = ResolveNode(dag_, task_.group, join(path.size() - 1));
    if (shorter && !shorter->group) {
      ref = shorter;
      key = path.back();
    }
  }
  if (!ref) return Fail(Error::InvalidArgument("xcom: " + ref.error().message()));
  if (ref->group)
    return Fail(Error::InvalidArgument(fmt::format(
        "xcom: '{}' is a task group; name one of its tasks", dag_.groups[ref->index].id)));
  const std::string& from = dag_.tasks[ref->index].id;
  if (!IsUpstream(from))
    return Fail(Error::InvalidArgument(fmt::format(
        "xcom: task '{}' is not upstream of '{}' (add it to depends_on)", from, task_.id)));
  if (!dag_.FindTask(from)->expand.empty()) {
    // A mapped task's values: a JSON list, in map index order.
    auto values = store_.ListMappedXCom(dag_.dag_id, run_.run_id, from, key);
    if (!values) return Fail(values.error());
    nlohmann::json list = nlohmann::json::array();
    for (auto& [index, value] : *values) list.push_back(std::move(value));
    return DumpJson(list);
  }
  auto v = store_.GetXCom(dag_.dag_id, run_.run_id, from, key);
  if (!v && v.error().IsNotFound())
    return Fail(Error::InvalidArgument(
        fmt::format("xcom: task '{}' pushed no value under '{}' in this run", from, key)));
  return v;
}

}  // namespace dagctl
