// /variables and a task instance's /xcomEntries: Airflow's variable CRUD, and
// the XCom a task instance pushed (values only when reading one entry).
#include <fmt/format.h>

#include <algorithm>

#include "api/api_call.h"
#include "engine/text.h"

namespace dagctl::api {

namespace {

json VariableJson(const std::string& key, const std::string* value) {
  json v = {{"key", key}, {"description", nullptr}};
  if (value) v["value"] = *value;
  return v;
}

}  // namespace

Reply<json> Call::ListVariables() {
  auto limit = IntParam("limit", 100, 0, kMaxLimit);
  auto offset = IntParam("offset", 0, 0, INT32_MAX);
  if (!limit) return std::unexpected(limit.error());
  if (!offset) return std::unexpected(offset.error());
  auto order = req_.query.count("order_by") ? req_.query.find("order_by")->second : "key";
  if (order != "key" && order != "-key" && order != "id" && order != "-id")
    return BadRequest(fmt::format("Ordering with '{}' is disallowed or the attribute does not exist "
                                  "on the model", Shorten(order)));
  auto store = Db();
  if (!store) return std::unexpected(store.error());
  auto vars = (*store)->ListVariables();
  if (!vars) return Internal(vars.error());
  if (order[0] == '-') std::reverse(vars->begin(), vars->end());
  json items = json::array();
  for (size_t i = *offset; i < vars->size() && items.size() < static_cast<size_t>(*limit); ++i)
    items.push_back(VariableJson((*vars)[i].first, nullptr));
  return json{{"variables", items}, {"total_entries", vars->size()}};
}

// POST /variables, and PATCH /variables/{key} (`key` then names it).
Reply<json> Call::PutVariable(const std::string* key) {
  auto body = Body();
  if (!body) return std::unexpected(body.error());
  std::vector<std::string> missing;
  for (const char* f : {"key", "value"})
    if (!body->contains(f)) missing.push_back(fmt::format("'{}': ['Missing data for required field.']", f));
  if (!missing.empty()) {
    std::string all;
    for (const std::string& m : missing) all += (all.empty() ? "" : ", ") + m;
    return BadRequest("{" + all + "}");
  }
  if (!(*body)["key"].is_string() || (*body)["key"].get<std::string>().empty() ||
      (*body)["key"].get<std::string>().size() > 250)
    return BadRequest("{'key': ['Not a valid string of 1 to 250 characters.']}");
  if (!(*body)["value"].is_string()) return BadRequest("{'value': ['Not a valid string.']}");
  std::string name = (*body)["key"].get<std::string>();
  if (key) {
    if (name != *key) return BadRequest("key from request body doesn't match uri parameter");
    auto mask = Params("update_mask");
    for (const std::string& f : mask)
      if (f != "value" && f != "description")
        return BadRequest(fmt::format("Invalid field: {} in update mask", Shorten(f)));
  }
  auto store = Db();
  if (!store) return std::unexpected(store.error());
  if (key) {
    if (auto old = (*store)->GetVariable(*key); !old) {
      if (old.error().IsNotFound())
        return NotFound("Variable not found", fmt::format("Variable does not exist: {}", *key));
      return Internal(old.error());
    }
  }
  std::string value = (*body)["value"].get<std::string>();
  if (auto st = (*store)->SetVariable(name, value); !st) return Internal(st.error());
  return VariableJson(name, &value);
}

Reply<json> Call::GetVariable(const std::string& key) {
  auto store = Db();
  if (!store) return std::unexpected(store.error());
  auto value = (*store)->GetVariable(key);
  if (!value && value.error().IsNotFound())
    return NotFound("Variable not found", fmt::format("Variable does not exist: {}", key));
  if (!value) return Internal(value.error());
  return VariableJson(key, &*value);
}

Reply<json> Call::DeleteVariable(const std::string& key) {
  auto store = Db();
  if (!store) return std::unexpected(store.error());
  auto st = (*store)->DeleteVariable(key);
  if (!st && st.error().IsNotFound())
    return NotFound("Variable not found", fmt::format("Variable does not exist: {}", key));
  if (!st) return Internal(st.error());
  status_ = 204;
  return json(nullptr);
}

// The XCom entries of a task instance (map_index, xcom_key filters), or one
// of them with its value (`key`). Their timestamp is the try's end, when
// dagctl records what it pushed.
Reply<json> Call::XComEntries(const std::string& dag_id, const std::string& run_id,
                              const std::string& task, const std::string* key) {
  auto run = FindRun(dag_id, run_id);
  if (!run) return std::unexpected(run.error());
  auto limit = IntParam("limit", 100, 0, kMaxLimit);
  auto offset = IntParam("offset", 0, 0, INT32_MAX);
  auto map_index = IntParam("map_index", -1, -1, INT32_MAX);
  for (auto* p : {&limit, &offset, &map_index})
    if (!*p) return std::unexpected(p->error());
  auto store = Db();
  if (!store) return std::unexpected(store.error());
  auto tis = (*store)->ListTaskInstances(dag_id, run_id);
  if (!tis) return Internal(tis.error());
  std::map<int, std::optional<Timestamp>> ended;  // map index -> when its latest try ended
  for (const auto& ti : *tis)
    if (ti.task_id == task) ended[ti.map_index] = ti.end_date;
  auto xcoms = (*store)->ListXComs(dag_id, run_id, task);
  if (!xcoms) return Internal(xcoms.error());
  auto entry = [&](const XComRecord& x) {
    auto at = ended.find(x.map_index);
    return json{{"key", x.key},
                {"timestamp", at != ended.end() && at->second ? json(FormatIso(*at->second)) : json(nullptr)},
                {"execution_date", FormatIso(run->logical_date)},
                {"map_index", x.map_index},
                {"task_id", x.task_id},
                {"dag_id", dag_id}};
  };
  bool any_index = !req_.query.count("map_index");
  if (key) {
    for (const XComRecord& x : *xcoms)
      if (x.key == *key && (x.map_index == *map_index || (any_index && x.map_index == -1))) {
        json e = entry(x);
        e["value"] = x.value;
        return e;
      }
    return NotFound("XCom entry not found", fmt::format("XCom entry '{}' of task '{}' not found",
                                                        Shorten(*key), Shorten(task)));
  }
  auto wanted_key = req_.query.find("xcom_key");
  json items = json::array();
  size_t total = 0;
  for (const XComRecord& x : *xcoms) {
    if (!any_index && x.map_index != *map_index) continue;
    if (wanted_key != req_.query.end() && x.key != wanted_key->second) continue;
    if (total++ < static_cast<size_t>(*offset) || items.size() >= static_cast<size_t>(*limit)) continue;
    items.push_back(entry(x));
  }
  return json{{"xcom_entries", items}, {"total_entries", total}};
}

}  // namespace dagctl::api
