#include "engine/assets.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cctype>
#include <set>

#include "engine/asset_json.h"
#include "engine/dag.h"
#include "engine/json_io.h"
#include "engine/store/store.h"

namespace dagctl {

std::string AssetUriProblem(const std::string& uri) {
  if (uri.empty()) return "an asset URI cannot be empty";
  if (std::all_of(uri.begin(), uri.end(), [](unsigned char c) { return std::isspace(c); }))
    return "an asset URI cannot be only whitespace";
  if (uri.size() > kMaxAssetUriLength)
    return fmt::format("an asset URI is at most {} characters long; this one has {}",
                       kMaxAssetUriLength, uri.size());
  if (std::any_of(uri.begin(), uri.end(), [](unsigned char c) { return c > 127; }))
    return "an asset URI may only use ASCII characters";
  // The scheme, as urlsplit reads it: letters first, then letters, digits, + - .
  auto colon = uri.find(':');
  if (colon != std::string::npos && colon > 0) {
    std::string scheme = uri.substr(0, colon);
    std::transform(scheme.begin(), scheme.end(), scheme.begin(),
                   [](unsigned char c) { return std::tolower(c); });
    if (scheme == "airflow") return "the asset URI scheme 'airflow' is reserved";
  }
  return "";
}

bool IsAssetScheduled(const Dag& dag) { return !dag.schedule_assets.empty(); }

std::string ScheduleText(const Dag& dag) {
  if (dag.schedule) return dag.schedule->text();
  if (!IsAssetScheduled(dag)) return "None";
  return fmt::format("assets: {}", fmt::join(dag.schedule_assets, ", "));
}

std::vector<AssetReference> AssetReferences(const std::vector<std::shared_ptr<const Dag>>& dags) {
  std::vector<AssetReference> refs;
  for (const auto& dag : dags) {
    for (const std::string& uri : dag->schedule_assets) refs.push_back({uri, dag->dag_id, ""});
    for (const Task& t : dag->tasks)
      for (const std::string& uri : t.outlets) refs.push_back({uri, dag->dag_id, t.id});
  }
  return refs;
}

std::optional<AssetTriggeredRun> PlanAssetTriggeredRun(
    const Dag& dag, const std::vector<AssetQueueEntry>& queue,
    const std::vector<AssetEventRecord>& events) {
  if (!IsAssetScheduled(dag)) return std::nullopt;
  std::set<std::string> queued;
  std::optional<Timestamp> last;
  for (const AssetQueueEntry& q : queue) {
    if (q.dag_id != dag.dag_id) continue;
    queued.insert(q.uri);
    if (!last || q.created_at > *last) last = q.created_at;
  }
  for (const std::string& uri : dag.schedule_assets)
    if (!queued.count(uri)) return std::nullopt;
  // Airflow 2.10's DatasetTriggeredTimetable: the logical date is the latest
  // queue entry's time; the data interval spans the events consumed.
  AssetTriggeredRun run{*last, *last, *last, {}};
  bool first = true;
  for (const AssetEventRecord& e : events) {
    if (e.timestamp > *last) continue;
    run.event_ids.push_back(e.id);
    if (first || e.timestamp < run.data_interval_start) run.data_interval_start = e.timestamp;
    if (first || e.timestamp > run.data_interval_end) run.data_interval_end = e.timestamp;
    first = false;
  }
  return run;
}

nlohmann::json AssetEventJson(const AssetEventRecord& e) {
  using nlohmann::json;
  auto extra = ParseJson(e.extra);
  bool outside = e.source_dag_id.empty();
  auto text = [&](const std::string& s) { return outside ? json(nullptr) : json(s); };
  return {{"id", e.id},
          {"dataset_id", e.asset_id},
          {"dataset_uri", e.uri},
          {"extra", extra && extra->is_object() ? *extra : json(nullptr)},
          {"source_dag_id", text(e.source_dag_id)},
          {"source_task_id", text(e.source_task_id)},
          {"source_run_id", text(e.source_run_id)},
          {"source_map_index", outside ? json(nullptr) : json(e.source_map_index)},
          {"timestamp", FormatIso(e.timestamp)}};
}

nlohmann::json TriggeringAssetEventsJson(const std::vector<AssetEventRecord>& events) {
  nlohmann::json out = nlohmann::json::object();
  for (const AssetEventRecord& e : events) out[e.uri].push_back(AssetEventJson(e));
  return out;
}

}  // namespace dagctl
