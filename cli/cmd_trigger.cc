// dagctl trigger / clear / backfill: runs for the scheduler, or run here.
#include <fmt/format.h>
#include <unistd.h>

#include <set>

#include "cli/app.h"
#include "cli/args.h"
#include "cli/output.h"
#include "engine/data_interval.h"
#include "engine/posix_try_runner.h"
#include "engine/run_scope.h"
#include "engine/scheduler.h"

namespace dagctl::cli {

int CmdTrigger(App& app, const std::vector<std::string>& argv) {
  auto args = ParseOrReport(
      {"trigger", "DAG [--date D] [--conf JSON]", {"--date", "--conf"}, {}, 1, 1}, argv);
  if (!args) return kExitUsage;
  auto dag = app.FindDag(args->positional[0]);
  if (!dag) return kExitUsage;
  Timestamp logical = std::chrono::floor<std::chrono::seconds>(NowUtc());
  if (auto d = args->Option("--date")) {
    auto t = ParseDateTime(*d, dag->timezone);
    if (!t) {
      PrintError("--date: " + t.error().message());
      return kExitUsage;
    }
    logical = *t;
  }
  std::string conf = args->Option("--conf").value_or("{}");
  if (auto st = ValidateConf(*dag, conf); !st) {
    PrintError("--conf: " + st.error().message());
    return kExitUsage;
  }
  Store* store = app.store();
  if (!store) return kExitFailed;
  DataInterval interval = ManualInterval(*dag, logical);
  auto run = CreateRun(*store, *dag, RunType::kManual, interval.start, interval.end, conf,
                       RunState::kQueued, NowUtc());
  if (!run) {
    PrintError(run.error().message());
    return kExitFailed;
  }
  fmt::print("queued {} of {} (logical date {})\n", run->run_id, dag->dag_id,
             FormatIso(run->logical_date, dag->timezone));
  return kExitOk;
}

namespace {

// The positions of `roots` and, with `downstream`, everything below them.
std::set<size_t> Reach(const Dag& dag, const std::vector<size_t>& roots, bool downstream) {
  std::set<size_t> out(roots.begin(), roots.end());
  std::vector<size_t> stack = roots;
  while (downstream && !stack.empty()) {
    size_t v = stack.back();
    stack.pop_back();
    for (size_t d : dag.graph.downstream[v])
      if (out.insert(d).second) stack.push_back(d);
  }
  return out;
}

// Resets the chosen task instances so they run again, and queues the run.
Result<std::vector<std::string>> ClearRun(Store& store, const Dag& dag, const std::string& run_id,
                                          const std::set<size_t>& tasks, bool only_failed) {
  auto run = store.GetDagRun(dag.dag_id, run_id);
  if (!run) return Fail(run.error());
  if (!run->owner.empty() && !OwnerIsGone(run->owner))
    return Fail(Error::InvalidArgument(fmt::format(
        "run '{}' is being executed by {}; clear it when it has ended", run_id, run->owner)));
  auto tis = store.ListTaskInstances(dag.dag_id, run_id);
  if (!tis) return Fail(tis.error());
  std::vector<std::string> cleared;
  auto st = store.Transaction([&]() -> Status {
    for (TaskInstanceRecord ti : *tis) {
      const Task* t = dag.FindTask(ti.task_id);
      if (!t || !tasks.count(dag.index.at(ti.task_id))) continue;
      bool failed = ti.state == TaskState::kFailed || ti.state == TaskState::kUpstreamFailed;
      if (only_failed && !failed) continue;
      ti.state = TaskState::kNone;
      ti.max_tries = ti.try_number + t->retries + 1;
      ti.start_date.reset();
      ti.end_date.reset();
      ti.next_try_at.reset();
      if (auto s = store.UpdateTaskInstance(ti); !s) return s;
      if (auto s = store.ClearXCom(dag.dag_id, run_id, ti.task_id); !s) return s;
      cleared.push_back(ti.task_id);
    }
    if (cleared.empty()) return {};
    DagRunRecord r = *run;
    r.state = RunState::kQueued;
    r.end_date.reset();
    r.owner.clear();
    return store.UpdateDagRun(r);
  });
  if (!st) return Fail(st.error());
  return cleared;
}

}  // namespace

int CmdClear(App& app, const std::vector<std::string>& argv) {
  auto args = ParseOrReport({"clear",
                             "DAG RUN_ID [--task T]... [--downstream] [--only-failed]",
                             {"--task"},
                             {"--downstream", "--only-failed"},
                             2,
                             2},
                            argv);
  if (!args) return kExitUsage;
  auto dag = app.FindDag(args->positional[0]);
  if (!dag) return kExitUsage;
  std::vector<size_t> roots;
  for (const std::string& t : args->All("--task")) {
    if (!dag->FindTask(t)) {
      PrintError(fmt::format("clear: DAG '{}' has no task '{}'", dag->dag_id, t));
      return kExitUsage;
    }
    roots.push_back(dag->index.at(t));
  }
  if (roots.empty())
    for (size_t i = 0; i < dag->tasks.size(); ++i) roots.push_back(i);
  Store* store = app.store();
  if (!store) return kExitFailed;
  auto cleared =
      ClearRun(*store, *dag, args->positional[1], Reach(*dag, roots, args->Flag("--downstream")),
               args->Flag("--only-failed"));
  if (!cleared) {
    PrintError(cleared.error().message());
    return kExitFailed;
  }
  if (cleared->empty()) {
    fmt::print("nothing to clear in {}\n", args->positional[1]);
    return kExitOk;
  }
  std::string list;
  for (const auto& t : *cleared) list += (list.empty() ? "" : ", ") + t;
  fmt::print("cleared {} task{} of {}: {}; the run is queued for the scheduler\n", cleared->size(),
             cleared->size() == 1 ? "" : "s", args->positional[1], list);
  return kExitOk;
}

namespace {

// Decides, for each interval of the range, whether to create, keep or re-run
// its run; returns the run ids to execute.
Result<std::vector<std::string>> PlanBackfill(Store& store, const Dag& dag, Timestamp from,
                                              Timestamp to, bool rerun_failed,
                                              const std::string& owner) {
  auto existing = store.ListDagRuns(
      {.dag_id = dag.dag_id, .types = {RunType::kScheduled, RunType::kBackfill}, .limit = 1000000});
  if (!existing) return Fail(existing.error());
  std::map<Timestamp, DagRunRecord> by_date;
  for (const auto& r : *existing) by_date[r.logical_date] = r;
  std::vector<std::string> todo;
  for (auto i = IntervalStartingFrom(dag, from); i && i->start <= to;
       i = IntervalStartingFrom(dag, i->end)) {
    auto it = by_date.find(i->start);
    if (it == by_date.end()) {
      auto run = CreateRun(store, dag, RunType::kBackfill, i->start, i->end, "{}",
                           RunState::kQueued, NowUtc(), owner);
      if (!run) return Fail(run.error());
      todo.push_back(run->run_id);
      continue;
    }
    const DagRunRecord& r = it->second;
    if (r.state == RunState::kFailed && rerun_failed) {
      std::vector<size_t> all(dag.tasks.size());
      for (size_t k = 0; k < all.size(); ++k) all[k] = k;
      auto cleared = ClearRun(store, dag, r.run_id, Reach(dag, all, false), true);
      if (!cleared) return Fail(cleared.error());
      todo.push_back(r.run_id);
    } else if (r.state == RunState::kQueued && (r.owner.empty() || OwnerIsGone(r.owner))) {
      todo.push_back(r.run_id);
    } else {
      fmt::print(stderr, "keeping {} ({})\n", r.run_id, RunStateName(r.state));
    }
  }
  return todo;
}

}  // namespace

int CmdBackfill(App& app, const std::vector<std::string>& argv) {
  auto args = ParseOrReport({"backfill",
                             "DAG --from D --to D [--rerun-failed]",
                             {"--from", "--to"},
                             {"--rerun-failed"},
                             1,
                             1},
                            argv);
  if (!args) return kExitUsage;
  auto dag = app.FindDag(args->positional[0]);
  if (!dag) return kExitUsage;
  if (!dag->schedule || dag->schedule->once()) {
    PrintError(fmt::format("backfill: DAG '{}' has no recurring schedule", dag->dag_id));
    return kExitUsage;
  }
  auto from = ParseDateTime(args->Option("--from").value_or(""), dag->timezone);
  auto to = ParseDateTime(args->Option("--to").value_or(""), dag->timezone);
  if (!from || !to) {
    PrintError("backfill: --from and --to take dates: " +
               (!from ? from.error() : to.error()).message());
    return kExitUsage;
  }
  // A date alone as --to covers that whole day.
  if (args->Option("--to")->size() == 10)
    *to += std::chrono::hours(24) - std::chrono::microseconds(1);
  Store* store = app.store();
  if (!store) return kExitFailed;
  ExecutorOptions opts = app.executor_options();
  auto todo = PlanBackfill(*store, *dag, *from, *to, args->Flag("--rerun-failed"), opts.owner);
  if (!todo) {
    PrintError(todo.error().message());
    return kExitFailed;
  }
  auto runner = MakePosixTryRunner();
  SystemClock clock;
  Executor executor(*store, *runner, clock, opts);
  // Runs go in date order, at most max_active_runs at a time.
  size_t next = 0, failed = 0;
  while ((next < todo->size() || executor.active_runs() > 0) && !executor.StopRequested()) {
    while (next < todo->size() &&
           executor.active_runs() < static_cast<size_t>(dag->max_active_runs)) {
      const std::string& id = (*todo)[next++];
      auto run = store->GetDagRun(dag->dag_id, id);
      if (auto st = executor.AddRun(dag, id, run ? run->owner : ""); !st) {
        PrintError(st.error().message());
        return kExitFailed;
      }
      fmt::print(stderr, "running {}\n", id);
    }
    auto finished = executor.Step(std::nullopt);
    if (!finished) {
      PrintError(finished.error().message());
      return kExitFailed;
    }
    for (const FinishedRun& f : *finished) {
      failed += f.state != RunState::kSuccess;
      fmt::print("{} {}\n", f.run_id, RunStateName(f.state));
    }
  }
  if (executor.StopRequested()) {
    (void)executor.Stop(true);
    return kExitFailed;
  }
  fmt::print("backfill of {}: {} run{}, {} failed\n", dag->dag_id, todo->size(),
             todo->size() == 1 ? "" : "s", failed);
  return failed ? kExitFailed : kExitOk;
}

}  // namespace dagctl::cli
