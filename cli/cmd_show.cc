// dagctl show DAG [--run RUN_ID]: the YAML of a DAG's current version, or of
// the version a run executes (kept in the store for every version).
#include <fmt/format.h>

#include <cstdio>

#include "cli/app.h"
#include "cli/args.h"
#include "engine/dag_cache.h"

namespace dagctl::cli {

namespace {

void PrintText(const std::string& text) {
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::fflush(stdout);
}

// The version run `run_id` of the DAG named by `arg` executes.
int ShowRunVersion(App& app, const std::string& arg, const std::string& run_id) {
  Store* store = app.store();
  if (!store) return kExitFailed;
  auto ref = app.ResolveDag(*store, arg);
  if (!ref) return kExitUsage;
  auto run = store->GetDagRun(ref->dag_id, run_id);
  if (!run) {
    PrintError(run.error().message());
    return kExitFailed;
  }
  if (run->dag_hash.empty()) {
    PrintError(
        fmt::format("run '{}' of '{}' recorded no DAG version (it is older than version "
                    "keeping); 'dagctl show {}' prints the current one",
                    run_id, ref->dag_id, ref->dag_id));
    return kExitFailed;
  }
  auto text = VersionSource(*store, ref->dag_id, run->dag_hash, app.bag().Find(ref->dag_id));
  if (!text) {
    PrintError(fmt::format("run '{}' of '{}': {}", run_id, ref->dag_id, text.error().message()));
    return kExitFailed;
  }
  PrintText(*text);
  return kExitOk;
}

}  // namespace

int CmdShow(App& app, const std::vector<std::string>& argv) {
  auto args = ParseOrReport({"show", "DAG [--run RUN_ID]", {"--run"}, {}, 1, 1}, argv);
  if (!args) return kExitUsage;
  if (auto run_id = args->Option("--run")) return ShowRunVersion(app, args->positional[0], *run_id);
  auto dag = app.FindDag(args->positional[0]);
  if (!dag) return kExitUsage;
  PrintText(dag->source);
  return kExitOk;
}

}  // namespace dagctl::cli
