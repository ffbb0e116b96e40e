// dagctl trigger / clear / backfill: runs for the scheduler, or run here.
#include <fmt/format.h>
#include <unistd.h>

#include <cctype>
#include <iostream>
#include <set>

#include "cli/app.h"
#include "cli/args.h"
#include "cli/output.h"
#include "engine/data_interval.h"
#include "engine/posix_try_runner.h"
#include "engine/run_scope.h"
#include "engine/runs.h"
#include "engine/task_groups.h"

namespace dagctl::cli {

int CmdTrigger(App& app, const std::vector<std::string>& argv) {
  auto args = ParseOrReport(
      {"trigger", "DAG [--date D] [--conf JSON]", {"--date", "--conf"}, {}, 1, 1}, argv);
  if (!args) return kExitUsage;
  auto dag = app.FindDag(args->positional[0]);
  if (!dag) return kExitUsage;
  std::optional<Timestamp> logical = std::chrono::floor<std::chrono::seconds>(NowUtc());
  if (auto d = args->Option("--date")) {
    auto t = ParseDateTime(*d, dag->timezone);
    if (!t) {
      PrintError("--date: " + t.error().message());
      return kExitUsage;
    }
    logical = *t;
  }
  Store* store = app.store();
  if (!store) return kExitFailed;
  auto run = TriggerRun(*store, *dag, logical, args->Option("--conf").value_or("{}"), "", NowUtc());
  if (!run) {
    bool usage = run.error().code() == Error::Code::kInvalidArgument;
    PrintError((usage ? "--conf: " : "") + run.error().message());
    return usage ? kExitUsage : kExitFailed;
  }
  fmt::print("queued {} of {} (logical date {})\n", run->run_id, dag->dag_id,
             FormatIso(run->logical_date, dag->timezone));
  if (store->IsPaused(dag->dag_id).value_or(false))
    fmt::print("note: {} is paused; the run waits until `dagctl unpause {}`\n", dag->dag_id,
               dag->dag_id);
  return kExitOk;
}

namespace {

std::string Labels(const std::vector<TiKey>& keys) {
  std::string list;
  for (const TiKey& t : keys) list += (list.empty() ? "" : ", ") + TaskLabel(t);
  return list;
}

// Asks on the terminal, as `airflow tasks clear` does; false for anything but y or yes.
bool Confirmed(size_t n) {
  fmt::print("Clear {} task instance{}? [y/N] ", n, n == 1 ? "" : "s");
  std::fflush(stdout);
  std::string answer;
  if (!std::getline(std::cin, answer)) return false;
  for (char& c : answer) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return answer == "y" || answer == "yes";
}

}  // namespace

int CmdClear(App& app, const std::vector<std::string>& argv) {
  auto args = ParseOrReport({"clear",
                             "DAG RUN_ID [--task TASK|GROUP]... [--downstream] [--only-failed] "
                             "[--yes] [--dry-run]",
                             {"--task"},
                             {"--downstream", "--only-failed", "--yes", "--dry-run"},
                             2,
                             2},
                            argv);
  if (!args) return kExitUsage;
  auto dag = app.FindDag(args->positional[0]);
  if (!dag) return kExitUsage;
  for (const std::string& t : args->All("--task")) {
    if (dag->TasksNamed(t).empty()) {  // a task, or a group: all its tasks
      PrintError("clear: " + NoSuchTaskMessage(*dag, t));
      return kExitUsage;
    }
  }
  Store* store = app.store();
  if (!store) return kExitFailed;
  const std::string& run_id = args->positional[1];
  ClearSpec spec{.task_ids = args->All("--task"),
                 .downstream = args->Flag("--downstream"),
                 .only_failed = args->Flag("--only-failed"),
                 .dry_run = true};
  // First what would be cleared, then (asked, or --yes) the clear itself.
  auto preview = ClearRun(*store, *dag, run_id, spec);
  if (!preview) {
    PrintError(preview.error().message());
    return kExitFailed;
  }
  if (preview->empty()) {
    fmt::print("nothing to clear in {}\n", run_id);
    return kExitOk;
  }
  fmt::print("{} task instance{} of {} to clear: {}\n", preview->size(),
             preview->size() == 1 ? "" : "s", run_id, Labels(*preview));
  if (args->Flag("--dry-run")) return kExitOk;
  if (!args->Flag("--yes")) {
    if (!isatty(STDIN_FILENO)) {
      PrintError("clear: add --yes to clear without being asked (stdin is not a terminal)");
      return kExitUsage;
    }
    if (!Confirmed(preview->size())) {
      fmt::print("cancelled: nothing was cleared\n");
      return kExitFailed;
    }
  }
  spec.dry_run = false;
  auto cleared = ClearRun(*store, *dag, run_id, spec);
  if (!cleared) {
    PrintError(cleared.error().message());
    return kExitFailed;
  }
  fmt::print("cleared {} task instance{} of {}: {}; the run is queued for the scheduler\n",
             cleared->size(), cleared->size() == 1 ? "" : "s", run_id, Labels(*cleared));
  return kExitOk;
}

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
  auto plan = RecordBackfill(*store, *dag,
                             {.from = *from,
                              .to = *to,
                              .rerun_failed = args->Flag("--rerun-failed"),
                              .owner = opts.owner,
                              .now = NowUtc()});
  if (!plan) {
    PrintError(plan.error().message());
    return kExitFailed;
  }
  std::vector<std::string> todo;
  for (const BackfillRun& b : *plan) {
    if (b.action != BackfillRun::Action::kKept)
      todo.push_back(b.run_id);
    else
      fmt::print(stderr, "keeping {} ({})\n", b.run_id, RunStateName(b.state));
  }
  auto runner = MakePosixTryRunner();
  SystemClock clock;
  Executor executor(*store, *runner, clock, opts);
  // Runs go in date order, at most max_active_runs at a time.
  size_t next = 0, failed = 0;
  while ((next < todo.size() || executor.active_runs() > 0) && !executor.StopRequested()) {
    while (next < todo.size() &&
           executor.active_runs() < static_cast<size_t>(dag->max_active_runs)) {
      const std::string& id = todo[next++];
      auto run = store->GetDagRun(dag->dag_id, id);
      if (auto st = executor.AddRun(dag, id); !st) {
        PrintError(st.error().message());
        return kExitFailed;
      }
      fmt::print(stderr, "running {}\n", id);
    }
    for (const FinishedRun& f : executor.Step(std::nullopt)) {
      failed += f.state != RunState::kSuccess;
      fmt::print("{} {}\n", f.run_id, RunStateName(f.state));
    }
  }
  if (executor.StopRequested()) {
    (void)executor.Stop(true);
    return kExitFailed;
  }
  fmt::print("backfill of {}: {} run{}, {} failed\n", dag->dag_id, todo.size(),
             todo.size() == 1 ? "" : "s", failed);
  return failed ? kExitFailed : kExitOk;
}

}  // namespace dagctl::cli
