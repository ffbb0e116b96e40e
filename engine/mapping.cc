#include "engine/mapping.h"

#include <fmt/format.h>

#include <array>

#include "engine/json_io.h"
#include "engine/text.h"

namespace dagctl {

namespace {

constexpr std::array<const char*, 19> kBuiltins = {
    "ds",        "ds_nodash", "ts",      "ts_nodash", "logical_date", "data_interval_start",
    "data_interval_end", "run_id", "dag_id", "task_id", "try_number", "map_index",
    "params",    "xcom",      "var",     "conn",      "ds_add",       "ds_format",
    "triggering_asset_events"};

// The elements of one rendered `expand` template: it must be a JSON list.
Result<std::vector<std::string>> ParseList(const ExpandArg& arg, const std::string& text) {
  auto j = ParseJson(text);
  if (!j || !j->is_array())
    return Fail(Error::InvalidArgument(fmt::format(
        "expand: '{}' must render a JSON list, but '{}' rendered '{}'{}", arg.name,
        Shorten(arg.source), Shorten(text), j ? "" : ", " + j.error().message())));
  std::vector<std::string> out;
  out.reserve(j->size());
  for (const auto& item : *j) out.push_back(JsonToText(item));
  return out;
}

}  // namespace

bool IsBuiltinTemplateName(const std::string& name) {
  for (const char* b : kBuiltins)
    if (name == b) return true;
  return false;
}

Result<Expansion> Expand(const Task& task, const TemplateScope& scope) {
  Expansion e;
  e.count = 1;
  for (const ExpandArg& arg : task.expand) {
    e.names.push_back(arg.name);
    if (arg.source.empty()) {
      e.lists.push_back(arg.literal);
    } else {
      auto text = RenderTemplate(arg.source, scope);
      if (!text)
        return Fail(Error::InvalidArgument(
            fmt::format("expand: '{}': {}", arg.name, text.error().message())));
      auto list = ParseList(arg, *text);
      if (!list) return Fail(list.error());
      e.lists.push_back(std::move(*list));
    }
    // Multiplied with a cap, so that no product of lengths can overflow.
    size_t n = e.lists.back().size();
    e.count = n == 0 ? 0 : std::min(e.count * n, static_cast<size_t>(task.max_map_length) + 1);
  }
  if (e.count > static_cast<size_t>(task.max_map_length)) {
    std::string sizes;
    for (size_t i = 0; i < e.names.size(); ++i)
      sizes += fmt::format("{}{} {}", i ? " x " : "", e.lists[i].size(), e.names[i]);
    return Fail(Error::InvalidArgument(
        fmt::format("expand: {} would make more task instances than max_map_length ({})", sizes,
                    task.max_map_length)));
  }
  return e;
}

std::string InstanceValues(const Expansion& e, size_t map_index) {
  nlohmann::json values = nlohmann::json::object();
  for (size_t i = e.names.size(); i-- > 0;) {
    size_t n = e.lists[i].size();
    values[e.names[i]] = e.lists[i][map_index % n];
    map_index /= n;
  }
  return DumpJson(values);
}

std::map<std::string, std::string> InstanceNames(const std::string& values_json, int map_index) {
  std::map<std::string, std::string> names;
  if (map_index < 0) return names;
  names["map_index"] = std::to_string(map_index);
  auto j = ParseJson(values_json);
  if (j && j->is_object())
    for (const auto& [k, v] : j->items()) names[k] = JsonToText(v);
  return names;
}

std::string DescribeInstance(const std::string& values_json) {
  auto j = ParseJson(values_json);
  if (!j || !j->is_object()) return "";
  std::string out;
  for (const auto& [k, v] : j->items()) out += fmt::format("{}{}={}", out.empty() ? "" : ", ", k, JsonToText(v));
  return out;
}

}  // namespace dagctl
