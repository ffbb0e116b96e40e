// dagctl runs / tasks / logs: what happened, from the metadata store.
#include <fmt/format.h>
#include <unistd.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "cli/app.h"
#include "cli/args.h"
#include "api/airflow_json.h"
#include "cli/output.h"
#include "engine/try_log.h"

namespace dagctl::cli {

namespace {

template <typename F>
int WithArgs(const CommandSpec& spec, const std::vector<std::string>& argv, F body) {
  auto args = ParseOrReport(spec, argv);
  return args ? body(*args) : kExitUsage;
}

}  // namespace

int CmdRuns(App& app, const std::vector<std::string>& argv) {
  CommandSpec spec{"runs", "DAG [--json] [--limit N]", {"--limit"}, {"--json"}, 1, 1};
  return WithArgs(spec, argv, [&](const Args& args) {
    Store* store = app.store();
    if (!store) return kExitFailed;
    auto ref = app.ResolveDag(*store, args.positional[0]);
    if (!ref) return kExitUsage;
    int limit = 100;
    if (auto l = args.Option("--limit")) limit = std::max(1, std::atoi(l->c_str()));
    auto runs = store->ListDagRuns({.dag_id = ref->dag_id, .limit = limit});
    if (!runs) {
      PrintError(runs.error().message());
      return kExitFailed;
    }
    if (args.Flag("--json")) {
      nlohmann::json out = {{"dag_runs", nlohmann::json::array()}};
      for (const auto& r : *runs) out["dag_runs"].push_back(api::DagRunJson(r));
      out["total_entries"] = store->CountDagRuns({.dag_id = ref->dag_id, .limit = 1}).value_or(0);
      PrintJson(out);
      return kExitOk;
    }
    // 80 columns: the logical date to the minute, in the DAG's zone; --json has the rest.
    std::vector<std::vector<std::string>> rows;
    for (const auto& r : *runs)
      rows.push_back({r.run_id, RunStateName(r.state),
                      FormatShort(r.logical_date, ref->tz).substr(0, 16),
                      ElapsedText(r.start_date, r.end_date)});
    PrintTable({"run_id", "state", "logical date", "duration"}, rows);
    return kExitOk;
  });
}

int CmdTasks(App& app, const std::vector<std::string>& argv) {
  CommandSpec spec{"tasks", "DAG RUN_ID [--json]", {}, {"--json"}, 2, 2};
  return WithArgs(spec, argv, [&](const Args& args) {
    Store* store = app.store();
    if (!store) return kExitFailed;
    auto ref = app.ResolveDag(*store, args.positional[0]);
    if (!ref) return kExitUsage;
    auto run = store->GetDagRun(ref->dag_id, args.positional[1]);
    if (!run) {
      PrintError(run.error().message());
      return kExitFailed;
    }
    auto tis = store->ListTaskInstances(ref->dag_id, run->run_id);
    if (!tis) {
      PrintError(tis.error().message());
      return kExitFailed;
    }
    if (args.Flag("--json")) {
      nlohmann::json out = {{"task_instances", nlohmann::json::array()},
                            {"total_entries", tis->size()}};
      for (const auto& ti : *tis) out["task_instances"].push_back(api::TaskInstanceJson(ti, *run));
      PrintJson(out);
      return kExitOk;
    }
    // 80 columns: the start without its year, in the DAG's zone; --json has the rest.
    std::vector<std::vector<std::string>> rows;
    for (const auto& ti : *tis)
      rows.push_back({TaskLabel(ti.key()), TaskStateName(ti.state), std::to_string(ti.try_number),
                      ti.start_date ? FormatShort(*ti.start_date, ref->tz).substr(5) : "",
                      ElapsedText(ti.start_date, ti.end_date)});
    PrintTable({"task_id", "state", "try", "start", "duration"}, rows);
    return kExitOk;
  });
}

namespace {

// Prints the log from `offset` on (the store's copy, or this machine's
// file); returns the new offset.
int64_t PrintFrom(Store& store, const std::string& logs_dir, const TiKey& key, int try_number,
                  int64_t offset) {
  auto text = ReadTryLogText(store, logs_dir, key, try_number, offset);
  if (!text) return offset;
  std::fwrite(text->data(), 1, text->size(), stdout);
  std::fflush(stdout);
  return offset + static_cast<int64_t>(text->size());
}

// The task instance `dagctl logs` reads: the task's own, or with
// --map-index one of a mapped task's instances. Says what is wrong otherwise.
std::optional<TaskInstanceRecord> FindInstance(const std::vector<TaskInstanceRecord>& tis,
                                               const std::string& run_id, const std::string& dag_id,
                                               const std::string& task_id,
                                               std::optional<std::string> map_index) {
  std::vector<const TaskInstanceRecord*> mine;
  for (const auto& t : tis)
    if (t.task_id == task_id) mine.push_back(&t);
  if (mine.empty()) {
    PrintError(fmt::format("run '{}' of '{}' has no task '{}'", run_id, dag_id, task_id));
    return std::nullopt;
  }
  bool mapped = mine.front()->map_index >= 0;
  if (!map_index) {
    if (!mapped) return *mine.front();
    PrintError(fmt::format("task '{}' is mapped ({} instances in run '{}'): add --map-index N "
                           "(0 to {})",
                           task_id, mine.size(), run_id, mine.size() - 1));
    return std::nullopt;
  }
  for (const TaskInstanceRecord* t : mine)
    if (std::to_string(t->map_index) == *map_index) return *t;
  PrintError(mapped ? fmt::format("--map-index: task '{}' has instances 0 to {} in run '{}', not "
                                  "'{}'",
                                  task_id, mine.size() - 1, run_id, *map_index)
                    : fmt::format("--map-index: task '{}' is not mapped in run '{}'", task_id,
                                  run_id));
  return std::nullopt;
}

}  // namespace

int CmdLogs(App& app, const std::vector<std::string>& argv) {
  CommandSpec spec{"logs",
                   "DAG RUN_ID TASK [--map-index N] [--try N] [--follow]",
                   {"--try", "--map-index"},
                   {"--follow"},
                   3,
                   3};
  return WithArgs(spec, argv, [&](const Args& args) {
    Store* store = app.store();
    if (!store) return kExitFailed;
    auto ref = app.ResolveDag(*store, args.positional[0]);
    if (!ref) return kExitUsage;
    const std::string& run_id = args.positional[1];
    const std::string& task_id = args.positional[2];
    auto tis = store->ListTaskInstances(ref->dag_id, run_id);
    if (!tis) {
      PrintError(tis.error().message());
      return kExitFailed;
    }
    auto ti = FindInstance(*tis, run_id, ref->dag_id, task_id, args.Option("--map-index"));
    if (!ti) return kExitFailed;
    int try_number = ti->try_number;
    if (auto t = args.Option("--try")) try_number = std::atoi(t->c_str());
    if (try_number < 1 || try_number > ti->try_number) {
      PrintError(fmt::format("task '{}' has {} tr{} in run '{}'", TaskLabel(ti->key()),
                             ti->try_number, ti->try_number == 1 ? "y" : "ies", run_id));
      return kExitFailed;
    }
    TiKey key = ti->key();
    int64_t offset = PrintFrom(*store, app.logs_dir(), key, try_number, 0);
    // --follow: keep printing while this try is still the running one. The
    // state is read before the log, so the last print after the try ended
    // holds its footer (a worker on another machine ships its last chunk in
    // the same transaction that ends the try).
    while (args.Flag("--follow")) {
      auto now = store->ListTaskInstances(ref->dag_id, run_id);
      if (!now) break;
      auto cur = std::find_if(now->begin(), now->end(),
                              [&](const auto& t) { return t.key() == key; });
      bool live = cur != now->end() && TryIsLive(*cur, try_number);
      offset = PrintFrom(*store, app.logs_dir(), key, try_number, offset);
      if (!live) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    return kExitOk;
  });
}

}  // namespace dagctl::cli
