// dagctl list: the DAGs folder at a glance, with import errors.
#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "cli/app.h"
#include "cli/args.h"
#include "cli/output.h"
#include "engine/data_interval.h"

namespace dagctl::cli {

namespace {

struct DagRow {
  const Dag* dag;
  bool paused = false;
  std::optional<DataInterval> next;
  std::optional<DagRunRecord> last;
};

nlohmann::json DagJson(const DagRow& r) {
  const Dag& d = *r.dag;
  nlohmann::json tags = nlohmann::json::array();
  for (const auto& t : d.tags) tags.push_back({{"name", t}});
  nlohmann::json schedule = nullptr;
  if (d.schedule) schedule = {{"__type", "CronExpression"}, {"value", d.schedule->text()}};
  return {
      {"dag_id", d.dag_id},
      {"description",
       d.description.empty() ? nlohmann::json(nullptr) : nlohmann::json(d.description)},
      {"fileloc", d.file},
      {"is_paused", r.paused},
      {"is_active", true},
      {"owners", {d.owner}},
      {"tags", tags},
      {"schedule_interval", schedule},
      {"timezone", d.timezone.name()},
      {"max_active_runs", d.max_active_runs},
      {"max_active_tasks", d.max_active_tasks},
      {"next_dagrun", r.next ? nlohmann::json(FormatIso(r.next->start)) : nlohmann::json(nullptr)},
      {"next_dagrun_create_after",
       r.next ? nlohmann::json(FormatIso(r.next->end)) : nlohmann::json(nullptr)},
      {"last_run_state",
       r.last ? nlohmann::json(RunStateName(r.last->state)) : nlohmann::json(nullptr)},
  };
}

}  // namespace

int CmdList(App& app, const std::vector<std::string>& argv) {
  CommandSpec spec{"list", "[--json]", {}, {"--json"}, 0, 0};
  auto args = ParseOrReport(spec, argv);
  if (!args) return kExitUsage;
  Store* store = app.store();
  if (!store) return kExitFailed;
  const DagBag& bag = app.bag();
  std::vector<DagRow> rows;
  Timestamp now = NowUtc();
  for (const auto& d : bag.dags) {
    DagRow r{d.get(), false, std::nullopt, std::nullopt};
    r.paused = store->IsPaused(d->dag_id).value_or(false);
    auto next = NextIntervals(*d, now, 1);
    if (!next.empty()) r.next = next[0];
    auto last = store->ListDagRuns({.dag_id = d->dag_id, .limit = 1});
    if (last && !last->empty()) r.last = (*last)[0];
    rows.push_back(r);
  }
  if (args->Flag("--json")) {
    nlohmann::json out = {{"dags", nlohmann::json::array()},
                          {"total_entries", rows.size()},
                          {"import_errors", nlohmann::json::array()}};
    for (const DagRow& r : rows) out["dags"].push_back(DagJson(r));
    for (const ImportError& e : bag.errors) {
      std::string trace;
      for (const Diagnostic& d : e.diagnostics) trace += d.ToString() + "\n";
      out["import_errors"].push_back({{"filename", e.file}, {"stack_trace", trace}});
    }
    PrintJson(out);
    return kExitOk;
  }
  std::vector<std::vector<std::string>> table;
  for (const DagRow& r : rows) {
    const Dag& d = *r.dag;
    table.push_back({d.dag_id, d.schedule ? d.schedule->text() : "None", d.timezone.name(),
                     r.paused ? "yes" : "no", r.next ? FormatShort(r.next->end, d.timezone) : "",
                     r.last ? RunStateName(r.last->state) : ""});
  }
  PrintTable({"dag_id", "schedule", "timezone", "paused", "next run", "last run"}, table);
  if (!bag.errors.empty()) {
    fmt::print("\n{} import error{}:\n", bag.errors.size(), bag.errors.size() == 1 ? "" : "s");
    for (const ImportError& e : bag.errors)
      for (const Diagnostic& d : e.diagnostics) fmt::print("  {}\n", d.ToString());
  }
  return kExitOk;
}

}  // namespace dagctl::cli
