// The limits dagctl puts on what it reads from outside (DAG files, the
// connections files, REST requests, --conf), in one place. Each one is
// enforced with a message that names it; README.md ("Limits") lists them.
#pragma once

#include <cstddef>
#include <cstdint>

namespace dagctl::limits {

/// A DAG file (or a connections.yaml) larger than this is an import error.
constexpr size_t kMaxDagFileBytes = 10 << 20;  // 10 MiB
/// Containers nested deeper than this in a YAML file are an error.
constexpr int kMaxYamlDepth = 64;
/// YAML nodes in one file, counting every copy an alias makes ("billion laughs").
constexpr size_t kMaxYamlNodes = 1'000'000;
/// Tasks in one DAG.
constexpr size_t kMaxTasksPerDag = 10'000;
/// Length of a dag_id or task id (Airflow's ID_LEN).
constexpr size_t kMaxIdLength = 250;
/// Errors listed per file; past it one line says how many more there were.
constexpr size_t kMaxDiagnostics = 100;
/// `retries` of one task.
constexpr int64_t kMaxRetries = 1000;
/// `max_active_runs` / `max_active_tasks` of a DAG.
constexpr int64_t kMaxActive = 100'000;
/// The longest duration (retry_delay, timeout, poke_interval ...): 3650 days.
constexpr int64_t kMaxDurationMillis = int64_t{3650} * 86'400'000;
/// JSON nesting in request bodies, --conf and params.
constexpr int kMaxJsonDepth = 64;
/// Macro calls nested inside one `{{ ... }}` expression.
constexpr int kMaxTemplateDepth = 32;
/// `ds_add` moves a date by at most this many days either way.
constexpr int64_t kMaxDsAddDays = 1'000'000;
/// A try's log as the REST API returns it: its last 16 MiB, after a line saying so.
constexpr size_t kMaxLogReplyBytes = 16 << 20;
/// A mapped task's instances: `max_map_length` defaults to this and may be set up to kMaxMapLength.
constexpr int64_t kDefaultMapLength = 1024;
constexpr int64_t kMaxMapLength = 100'000;
/// Quoted input in a message is cut to this many bytes (and "...").
constexpr size_t kMaxQuotedBytes = 80;

}  // namespace dagctl::limits
