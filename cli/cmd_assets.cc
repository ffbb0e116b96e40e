// dagctl assets list|event: the assets the DAGs name (who produces and who
// consumes each, its latest event) and recording an event from outside.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <nlohmann/json.hpp>

#include "api/airflow_json.h"
#include "cli/app.h"
#include "cli/args.h"
#include "cli/output.h"
#include "engine/assets.h"
#include "engine/json_io.h"

namespace dagctl::cli {

namespace {

constexpr char kAssetsUsage[] = "usage: dagctl assets list [--json] | event URI [--extra JSON]";

// The latest event of each asset, for the table.
std::optional<AssetEventRecord> LatestEvent(Store& store, const std::string& uri) {
  auto events = store.ListAssetEvents({.uris = {uri}, .limit = 1, .order_by = "-timestamp"});
  if (!events || events->empty()) return std::nullopt;
  return events->front();
}

std::string Producers(const AssetRecord& a) {
  std::vector<std::string> out;
  for (const auto& [dag_id, task_id] : a.producing_tasks) out.push_back(dag_id + "." + task_id);
  return fmt::format("{}", fmt::join(out, ", "));
}

int ListAssets(Store& store, bool json) {
  auto assets = store.ListAssets("", {}, "uri", 1000000, 0);
  if (!assets) {
    PrintError(assets.error().message());
    return kExitFailed;
  }
  if (json) {
    nlohmann::json list = nlohmann::json::array();
    for (const AssetRecord& a : *assets) list.push_back(api::DatasetJson(a));
    PrintJson({{"datasets", list}, {"total_entries", list.size()}});
    return kExitOk;
  }
  std::vector<std::vector<std::string>> rows;
  for (const AssetRecord& a : *assets) {
    auto latest = LatestEvent(store, a.uri);
    rows.push_back({a.uri, Producers(a), fmt::format("{}", fmt::join(a.consuming_dags, ", ")),
                    latest ? FormatShort(latest->timestamp) : ""});
  }
  PrintTable({"uri", "producers", "consumers", "latest event"}, rows);
  return kExitOk;
}

int RecordEvent(Store& store, const std::string& uri, const std::string& extra) {
  AssetEventRecord event{.uri = uri, .extra = extra};
  if (auto st = store.RecordAssetEvent(event); !st) {
    if (st.error().IsNotFound()) {
      PrintError(fmt::format("no DAG declares asset '{}' (name it in a task's 'outlets' or a "
                             "DAG's 'schedule: {{assets: [...]}}'; see dagctl assets list)",
                             uri));
      return kExitFailed;
    }
    PrintError(st.error().message());
    return kExitFailed;
  }
  fmt::print("Recorded event {} of {} at {}\n", event.id, uri, FormatIso(event.timestamp));
  return kExitOk;
}

}  // namespace

Status RecordAssetReferences(App& app, Store& store, std::shared_ptr<const Dag> also) {
  std::vector<std::shared_ptr<const Dag>> dags = app.bag().dags;
  if (also) dags.push_back(also);
  auto refs = AssetReferences(dags);
  if (refs.empty()) return {};
  return store.SyncAssetReferences(refs, false);
}

int CmdAssets(App& app, const std::vector<std::string>& argv) {
  auto args = ParseOrReport({"assets", "list [--json] | event URI [--extra JSON]", {"--extra"},
                             {"--json"}, 1, 2},
                            argv);
  if (!args) return kExitUsage;
  const auto& pos = args->positional;
  const std::string& verb = pos[0];
  if ((verb != "list" && verb != "event") || pos.size() != (verb == "list" ? 1u : 2u)) {
    PrintError(kAssetsUsage);
    return kExitUsage;
  }
  if (verb == "list" && args->Option("--extra")) {
    PrintError(fmt::format("--extra is for 'assets event'\n{}", kAssetsUsage));
    return kExitUsage;
  }
  std::string extra = args->Option("--extra").value_or("{}");
  if (verb == "event") {
    if (std::string problem = AssetUriProblem(pos[1]); !problem.empty()) {
      PrintError(problem);
      return kExitUsage;
    }
    auto parsed = ParseJson(extra);
    if (!parsed || !parsed->is_object()) {
      PrintError(fmt::format("--extra must be a JSON object{}",
                             parsed ? "" : ": " + parsed.error().message()));
      return kExitUsage;
    }
    extra = DumpJson(*parsed);
  }
  Store* store = app.store();
  if (!store) return kExitFailed;
  if (auto st = RecordAssetReferences(app, *store, nullptr); !st) {
    PrintError(st.error().message());
    return kExitFailed;
  }
  if (verb == "list") return ListAssets(*store, args->Flag("--json"));
  return RecordEvent(*store, pos[1], extra);
}

}  // namespace dagctl::cli
