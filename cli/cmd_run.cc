// dagctl run DAG [--date D] [--param K=V]...: one DAG run in the foreground.
#include <fmt/format.h>
#include <unistd.h>

#include <cstdlib>
#include <map>

#include "cli/app.h"
#include "cli/args.h"
#include "cli/output.h"
#include "cli/progress.h"
#include "engine/data_interval.h"
#include "engine/posix_try_runner.h"
#include "engine/queueing.h"
#include "engine/run_scope.h"
#include "engine/runs.h"

namespace dagctl::cli {

namespace {

// The run's interval: --date D, else the latest complete interval of a
// scheduled DAG, else now.
Result<DataInterval> ChooseInterval(const Dag& dag, const std::optional<std::string>& date) {
  if (date) {
    auto d = ParseDateTime(*date, dag.timezone);
    if (!d) return Fail(Error::InvalidArgument("--date: " + d.error().message()));
    return ManualInterval(dag, *d);
  }
  Timestamp now = std::chrono::floor<std::chrono::seconds>(NowUtc());
  if (!dag.schedule) return ManualInterval(dag, now);
  if (auto latest = LatestCompleteInterval(dag, now)) return *latest;
  return Fail(Error::InvalidArgument(fmt::format(
      "DAG '{}' has no complete data interval yet (start_date {}); pass --date", dag.dag_id,
      dag.start_date ? FormatIso(*dag.start_date, dag.timezone) : "unset")));
}

void PrintSummary(Store& store, const Dag& dag, const DagRunRecord& run, RunState state) {
  auto tis = store.ListTaskInstances(dag.dag_id, run.run_id);
  if (!tis) return;
  // Each task's instances (one, or a mapped task's), in map index order.
  std::map<std::string, std::vector<const TaskInstanceRecord*>> by_id;
  for (const auto& ti : *tis) by_id[ti.task_id].push_back(&ti);
  std::vector<std::vector<std::string>> rows;
  std::map<std::string, int> counts;
  for (size_t i : dag.graph.topo_order) {
    for (const TaskInstanceRecord* ti : by_id[dag.tasks[i].id]) {
      ++counts[TaskStateName(ti->state)];
      rows.push_back({TaskLabel(ti->key()), TaskStateName(ti->state),
                      std::to_string(ti->try_number), ElapsedText(ti->start_date, ti->end_date)});
    }
  }
  if (rows.size() <= 200) PrintTable({"task_id", "state", "tries", "duration"}, rows);
  std::string tally;
  for (const auto& [name, n] : counts)
    tally += fmt::format("{}{} {}", tally.empty() ? "" : ", ", n, name);
  auto final_run = store.GetDagRun(dag.dag_id, run.run_id);
  fmt::print("run {} of {}: {} in {} ({})\n", run.run_id, dag.dag_id, RunStateName(state),
             final_run ? ElapsedText(final_run->start_date, final_run->end_date) : "?", tally);
}

}  // namespace

int CmdRun(App& app, const std::vector<std::string>& argv) {
  CommandSpec spec{"run", "DAG [--date D] [--param K=V]...", {"--date", "--param"}, {}, 1, 1};
  auto args = ParseOrReport(spec, argv);
  if (!args) return kExitUsage;
  auto dag = app.FindDag(args->positional[0]);
  if (!dag) return kExitUsage;
  auto interval = ChooseInterval(*dag, args->Option("--date"));
  if (!interval) {
    PrintError(interval.error().message());
    return kExitUsage;
  }
  auto conf = ConfFromParamArgs(*dag, args->All("--param"));
  if (!conf) {
    PrintError("--param: " + conf.error().message());
    return kExitUsage;
  }
  Store* store = app.store();
  if (!store) return kExitFailed;
  // A task whose pool is missing or too small would wait for ever here: say so instead.
  auto pools = store->ListPools();
  if (!pools) {
    PrintError(pools.error().message());
    return kExitFailed;
  }
  std::map<std::string, int> pool_slots;
  for (const PoolRecord& p : *pools) pool_slots[p.name] = p.slots;
  for (const Task& t : dag->tasks)
    if (std::string problem = PoolProblem(dag->dag_id, t.id, t.pool, t.pool_slots, pool_slots);
        !problem.empty()) {
      PrintError(problem);
      return kExitFailed;
    }
  // The assets the DAGs name are known from now on, scheduler or not.
  if (auto st = RecordAssetReferences(app, *store, dag); !st) {
    PrintError(st.error().message());
    return kExitFailed;
  }
  ExecutorOptions opts = app.executor_options();
  auto run = CreateRun(*store, *dag,
                       {.type = RunType::kManual,
                        .logical_date = interval->start,
                        .interval_end = interval->end,
                        .conf = *conf,
                        .owner = opts.owner,
                        .now = NowUtc()});
  if (!run) {
    PrintError(run.error().message());
    return kExitFailed;
  }
  fmt::print(stderr, "run {} of {} ({} tasks, logical date {})\n", run->run_id, dag->dag_id,
             dag->tasks.size(), FormatIso(run->logical_date, dag->timezone));

  auto runner = MakePosixTryRunner();
  SystemClock clock;
  ProgressPrinter progress(*dag, isatty(STDERR_FILENO));
  Executor executor(*store, *runner, clock, opts, &progress);
  auto state = executor.Run(dag, run->run_id);
  progress.Stop();
  if (!state) {
    PrintError(state.error().message());
    return kExitFailed;
  }
  PrintSummary(*store, *dag, *run, *state);
  return *state == RunState::kSuccess ? kExitOk : kExitFailed;
}

}  // namespace dagctl::cli
