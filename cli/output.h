// Tables and JSON printing for the CLI's listing commands (the JSON objects
// themselves come from api/airflow_json.h).
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <vector>

#include "engine/store/store.h"
#include "engine/timeutil.h"

namespace dagctl::cli {

/// Prints rows under upper-case headers, columns padded to fit.
void PrintTable(const std::vector<std::string>& headers,
                const std::vector<std::vector<std::string>>& rows);

/// Seconds between two instants as `1.23s`, `2m05s`, `1h02m`; "" when either is missing.
std::string ElapsedText(std::optional<Timestamp> start, std::optional<Timestamp> end);

/// A task instance for people: its task id, and `[N]` for a mapped instance.
inline std::string TaskLabel(const TiKey& key) {
  return key.map_index < 0 ? key.task_id : key.task_id + "[" + std::to_string(key.map_index) + "]";
}

/// Prints JSON, pretty, with a trailing newline.
void PrintJson(const nlohmann::json& j);

}  // namespace dagctl::cli
