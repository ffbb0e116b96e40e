#include "cli/output.h"

#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>

namespace dagctl::cli {

void PrintTable(const std::vector<std::string>& headers,
                const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> width(headers.size());
  for (size_t c = 0; c < headers.size(); ++c) width[c] = headers[c].size();
  for (const auto& row : rows)
    for (size_t c = 0; c < row.size() && c < width.size(); ++c)
      width[c] = std::max(width[c], row[c].size());
  auto print_row = [&](const std::vector<std::string>& row) {
    std::string line;
    for (size_t c = 0; c < row.size(); ++c) {
      line += row[c];
      if (c + 1 < row.size()) line += std::string(width[c] - row[c].size() + 2, ' ');
    }
    fmt::print("{}\n", line);
  };
  std::vector<std::string> upper;
  for (std::string h : headers) {
    for (char& ch : h) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    upper.push_back(h);
  }
  print_row(upper);
  for (const auto& row : rows) print_row(row);
}

std::string ElapsedText(std::optional<Timestamp> start, std::optional<Timestamp> end) {
  if (!start || !end) return "";
  double secs = std::chrono::duration<double>(*end - *start).count();
  if (secs < 60) return fmt::format("{:.2f}s", secs);
  auto s = static_cast<long>(secs);
  if (s < 3600) return fmt::format("{}m{:02}s", s / 60, s % 60);
  return fmt::format("{}h{:02}m", s / 3600, (s % 3600) / 60);
}

namespace {

nlohmann::json TimeOrNull(std::optional<Timestamp> t) {
  return t ? nlohmann::json(FormatIso(*t)) : nlohmann::json(nullptr);
}

}  // namespace

nlohmann::json DagRunJson(const DagRunRecord& run) {
  auto conf = nlohmann::json::parse(run.conf, nullptr, false);
  return {
      {"dag_id", run.dag_id},
      {"dag_run_id", run.run_id},
      {"run_type", RunTypeName(run.run_type)},
      {"state", RunStateName(run.state)},
      {"logical_date", FormatIso(run.logical_date)},
      {"execution_date", FormatIso(run.logical_date)},
      {"data_interval_start", FormatIso(run.data_interval_start)},
      {"data_interval_end", FormatIso(run.data_interval_end)},
      {"start_date", TimeOrNull(run.start_date)},
      {"end_date", TimeOrNull(run.end_date)},
      {"last_scheduling_decision", nullptr},
      {"external_trigger", run.run_type == RunType::kManual},
      {"conf", conf.is_discarded() ? nlohmann::json::object() : conf},
      {"note", nullptr},
  };
}

nlohmann::json TaskInstanceJson(const TaskInstanceRecord& ti, const DagRunRecord& run) {
  nlohmann::json duration = nullptr;
  if (ti.start_date && ti.end_date)
    duration = std::chrono::duration<double>(*ti.end_date - *ti.start_date).count();
  return {
      {"task_id", ti.task_id},
      {"dag_id", ti.dag_id},
      {"dag_run_id", ti.run_id},
      {"execution_date", FormatIso(run.logical_date)},
      {"start_date", TimeOrNull(ti.start_date)},
      {"end_date", TimeOrNull(ti.end_date)},
      {"duration", duration},
      {"state", ti.state == TaskState::kNone ? nlohmann::json(nullptr)
                                             : nlohmann::json(TaskStateName(ti.state))},
      {"try_number", ti.try_number},
      {"max_tries", ti.max_tries},
      {"map_index", -1},
      {"hostname", ""},
      {"unixname", ""},
      {"pool", ti.pool},
      {"pool_slots", 1},
      {"queue", "default"},
      {"priority_weight", ti.priority_weight},
      {"operator", ti.operator_name},
      {"queued_when", nullptr},
      {"pid", ti.pid ? nlohmann::json(ti.pid) : nlohmann::json(nullptr)},
      {"executor_config", "{}"},
      {"note", nullptr},
  };
}

void PrintJson(const nlohmann::json& j) { fmt::print("{}\n", j.dump(2)); }

}  // namespace dagctl::cli
