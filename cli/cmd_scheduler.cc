// dagctl scheduler / serve: the long-running scheduler.
#include <fmt/format.h>

#include "cli/app.h"
#include "cli/args.h"
#include "engine/posix_try_runner.h"
#include "engine/scheduler.h"

namespace dagctl::cli {

namespace {

// One line per task event, for the scheduler's own output.
class EventPrinter : public RunObserver {
 public:
  void TryStarted(const Task& task, int try_number) override {
    fmt::print(stderr, "{} task {} running (try {})\n", FormatIso(NowUtc()), task.id, try_number);
  }
  void TryEnded(const Task& task, int try_number, TaskState state,
                const std::string& error) override {
    fmt::print(stderr, "{} task {} {} (try {}){}\n", FormatIso(NowUtc()), task.id,
               TaskStateName(state), try_number, error.empty() ? "" : ": " + error);
  }
};

}  // namespace

int RunScheduler(App& app, const std::string& name, bool quiet) {
  Store* store = app.store();
  if (!store) return kExitFailed;
  auto runner = MakePosixTryRunner();
  SystemClock clock;
  EventPrinter printer;
  SchedulerOptions opts;
  opts.dags_dir = app.dags_dir();
  opts.executor = app.executor_options();
  Scheduler scheduler(*store, *runner, clock, app.operators(), opts, quiet ? nullptr : &printer);
  fmt::print(stderr, "dagctl {}: DAGs from {}, home {} (Ctrl-C to stop)\n", name, app.dags_dir(),
             app.home());
  auto st = scheduler.Run();
  if (!st) {
    PrintError(st.error().message());
    return kExitFailed;
  }
  fmt::print(stderr, "dagctl {}: stopped\n", name);
  return kExitOk;
}

int CmdScheduler(App& app, const std::vector<std::string>& argv) {
  auto args = ParseOrReport({"scheduler", "[--quiet]", {}, {"--quiet"}, 0, 0}, argv);
  if (!args) return kExitUsage;
  return RunScheduler(app, "scheduler", args->Flag("--quiet"));
}

}  // namespace dagctl::cli
