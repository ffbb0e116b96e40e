// dagctl list: the DAGs folder at a glance, with import errors.
#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "api/airflow_json.h"
#include "cli/app.h"
#include "cli/args.h"
#include "cli/output.h"
#include "engine/assets.h"
#include "engine/data_interval.h"

namespace dagctl::cli {

namespace {

struct DagRow {
  const Dag* dag;
  api::DagStatus status;
};

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
    DagRow r{d.get(), {}};
    r.status.paused = store->IsPaused(d->dag_id).value_or(false);
    auto next = NextIntervals(*d, now, 1);
    if (!next.empty()) {
      r.status.next_start = next[0].start;
      r.status.next_end = next[0].end;
    }
    auto last = store->ListDagRuns({.dag_id = d->dag_id, .limit = 1});
    if (last && !last->empty()) r.status.last_run_state = (*last)[0].state;
    rows.push_back(r);
  }
  if (args->Flag("--json")) {
    nlohmann::json out = {{"dags", nlohmann::json::array()},
                          {"total_entries", rows.size()},
                          {"import_errors", nlohmann::json::array()}};
    for (const DagRow& r : rows) out["dags"].push_back(api::DagJson(*r.dag, r.status));
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
    table.push_back({d.dag_id, ScheduleText(d), d.timezone.name(),
                     r.status.paused ? "yes" : "no",
                     r.status.next_end ? FormatShort(*r.status.next_end, d.timezone) : "",
                     r.status.last_run_state ? RunStateName(*r.status.last_run_state) : ""});
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
