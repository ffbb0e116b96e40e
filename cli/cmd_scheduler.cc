// dagctl scheduler / serve / worker / workers: the long-running processes,
// built from one Node with a scheduler, a worker, or both.
#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "cli/app.h"
#include "cli/args.h"
#include "cli/output.h"
#include "engine/guardian.h"
#include "engine/node.h"
#include "engine/posix_try_runner.h"
#include "engine/scheduler.h"
#include "engine/store/sql_conn.h"
#include "engine/try_log.h"
#include "engine/value.h"

namespace dagctl::cli {

namespace {

// One line per event on the console, naming the DAG, run, task and try.
class EventPrinter : public RunObserver {
 public:
  void TryStarted(const TiKey& k, int try_number, const std::string& worker) override {
    Line(k, try_number, "running on " + worker, "");
  }
  void TryEnded(const TiKey& k, int try_number, TaskState state,
                const std::string& error) override {
    Line(k, try_number, TaskStateName(state), error);
  }
  void TaskDecided(const TiKey& k, TaskState state) override {
    // Decided without a try of its own (try=none).
    fmt::print(stderr, "{} dag_id={} run_id={} task_id={}{} try=none {}\n", FormatIso(NowUtc()),
               k.dag_id, k.run_id, k.task_id, MapIndex(k), TaskStateName(state));
  }
  void RunEnded(const DagRunRecord& run, const std::string& why) override {
    fmt::print(stderr, "{} dag_id={} run_id={} run {}{}\n", FormatIso(NowUtc()), run.dag_id,
               run.run_id, RunStateName(run.state), why.empty() ? "" : ": " + why);
  }

 private:
  static std::string MapIndex(const TiKey& k) {
    return k.map_index >= 0 ? fmt::format(" map_index={}", k.map_index) : "";
  }
  static void Line(const TiKey& k, int try_number, const std::string& what,
                   const std::string& detail) {
    fmt::print(stderr, "{} dag_id={} run_id={} task_id={}{} try={} {}{}\n", FormatIso(NowUtc()),
               k.dag_id, k.run_id, k.task_id, MapIndex(k), try_number, what,
               detail.empty() ? "" : ": " + detail);
  }
};


// --lease D: how long a run or try is held without a renewal (default 30s).
std::optional<Duration> LeaseFlag(const Args& args, const std::string& name) {
  auto l = args.Option("--lease");
  if (!l) return Duration(std::chrono::seconds(30));
  auto d = ParseDuration(*l);
  if (!d || *d < std::chrono::seconds(2)) {
    PrintError(fmt::format("{}: --lease must be a duration of at least 2s (such as 30s), not '{}'",
                           name, *l));
    return std::nullopt;
  }
  return *d;
}

// The worker settings from flags shared by worker, scheduler and serve.
std::optional<WorkerOptions> WorkerFlags(App& app, const Args& args, const std::string& name,
                                         std::vector<std::string> default_queues) {
  ExecutorOptions base = app.executor_options();
  WorkerOptions w;
  w.name = args.Option("--name").value_or(base.owner);
  w.hostname = base.hostname;
  w.queues = args.Option("--queues") ? SplitCommaList(*args.Option("--queues")) : default_queues;
  w.slots = base.parallelism;
  if (auto s = args.Option("--slots")) {
    auto n = ScalarAsInt(*s);
    if (!n || *n < 1 || *n > 100000) {
      PrintError(fmt::format("{}: --slots must be a whole number from 1, not '{}'", name, *s));
      return std::nullopt;
    }
    w.slots = static_cast<int>(*n);
  }
  auto lease = LeaseFlag(args, name);
  if (!lease) return std::nullopt;
  w.lease = *lease;
  w.logs_dir = base.logs_dir;
  w.try_env = {base.env, base.home, base.dags_dir, base.store_url};
  w.ship_logs = base.ship_logs;
  return w;
}

int RunNode(App& app, const std::string& name, bool quiet, bool with_scheduler,
            std::optional<WorkerOptions> worker_opts, Duration lease) {
  StopSignalled();  // from here on SIGINT/SIGTERM stop it gracefully
  Store* store = app.store_waiting();
  if (!store) return kExitFailed;
  for (const char* channel : {"dagctl_queued", "dagctl_ti_done", "dagctl_run", "dagctl_stopped"})
    if (auto st = store->Listen(channel); !st) {
      PrintError(st.error().message());
      return kExitFailed;
    }
  // The guardian first: it should hold no copy of what opens later.
  std::unique_ptr<Guardian> guardian;
  if (worker_opts) {
    auto g = Guardian::Start();
    if (g) guardian = std::move(*g);
  }
  auto runner = MakePosixTryRunner();
  EventPrinter printer;
  RunObserver* observer = quiet ? nullptr : &printer;
  DagCache dags(app.operators(), app.dags_dir());
  std::unique_ptr<Scheduler> scheduler;
  if (with_scheduler) {
    ExecutorOptions base = app.executor_options();
    SchedulerOptions so;
    so.dags_dir = app.dags_dir();
    so.owner = base.owner;
    so.logs_dir = base.logs_dir;
    so.ship_logs = base.ship_logs;
    so.lease = lease;
    scheduler = std::make_unique<Scheduler>(*store, app.clock(), app.operators(), dags, so, observer);
  }
  std::unique_ptr<Worker> worker;
  if (worker_opts)
    worker = std::make_unique<Worker>(*store, *runner, app.clock(), dags, *worker_opts,
                                      guardian.get(), observer);
  Node node(*store, *runner, app.clock(), scheduler.get(), worker.get(), name);
  std::string what = with_scheduler && worker ? "scheduler and worker"
                     : with_scheduler         ? "scheduler (no worker)"
                                              : "worker";
  fmt::print(stderr, "dagctl {}: {} {} on {}; DAGs from {} (Ctrl-C to stop)\n", name, what,
             worker ? worker_opts->name : app.executor_options().owner,
             app.store_url().empty() ? app.home() + "/dagctl.db" : RedactUrl(app.store_url()),
             app.dags_dir());
  if (worker)
    fmt::print(stderr, "dagctl {}: {} slots, queues {}, lease {}\n", name, worker_opts->slots,
               worker_opts->queues.empty() ? std::string("(all)")
                                           : fmt::format("{}", fmt::join(worker_opts->queues, ",")),
               FormatDuration(worker_opts->lease));
  auto st = node.Run();
  if (!st) {
    PrintError(st.error().message());
    return kExitFailed;
  }
  fmt::print(stderr, "dagctl {}: stopped\n", name);
  return kExitOk;
}

}  // namespace

const char kNodeFlagsUsage[] = "[--no-worker] [--queues Q,...] [--slots N] [--lease D] [--quiet]";

int RunScheduler(App& app, const std::string& name, const Args& args) {
  auto lease = LeaseFlag(args, name);
  if (!lease) return kExitUsage;
  std::optional<WorkerOptions> worker;
  if (!args.Flag("--no-worker")) {
    // The worker of a scheduler takes every queue unless told otherwise.
    worker = WorkerFlags(app, args, name, {});
    if (!worker) return kExitUsage;
  }
  return RunNode(app, name, args.Flag("--quiet"), true, worker, *lease);
}

int CmdScheduler(App& app, const std::vector<std::string>& argv) {
  auto args = ParseOrReport({"scheduler", kNodeFlagsUsage, {"--queues", "--slots", "--lease"},
                             {"--quiet", "--no-worker"}, 0, 0},
                            argv);
  if (!args) return kExitUsage;
  return RunScheduler(app, "scheduler", *args);
}

int CmdWorker(App& app, const std::vector<std::string>& argv) {
  auto args = ParseOrReport({"worker", "[--queues Q,...] [--slots N] [--name NAME] [--lease D] [--quiet]",
                             {"--queues", "--slots", "--name", "--lease"}, {"--quiet"}, 0, 0},
                            argv);
  if (!args) return kExitUsage;
  auto worker = WorkerFlags(app, *args, "worker", {"default"});
  if (!worker) return kExitUsage;
  // A worker without a scheduler beside it on SQLite has no notifications
  // to wake it: it looks often.
  if (!app.shared_store()) worker->poll = std::chrono::milliseconds(100);
  return RunNode(app, "worker", args->Flag("--quiet"), false, worker, worker->lease);
}

int CmdWorkers(App& app, const std::vector<std::string>& argv) {
  auto args = ParseOrReport({"workers", "[--json]", {}, {"--json"}, 0, 0}, argv);
  if (!args) return kExitUsage;
  Store* store = app.store();
  if (!store) return kExitFailed;
  // Alive: a heartbeat within the last 30 s (workers beat every 2 s).
  auto workers = store->ListWorkers(std::chrono::seconds(30));
  auto now = store->Now();
  if (!workers || !now) {
    PrintError((!workers ? workers.error() : now.error()).message());
    return kExitFailed;
  }
  if (args->Flag("--json")) {
    auto list = nlohmann::json::array();
    for (const WorkerRecord& w : *workers)
      list.push_back({{"name", w.name},
                      {"hostname", w.hostname},
                      {"queues", w.queues},
                      {"slots", w.slots},
                      {"slots_used", w.slots_used},
                      {"started_at", FormatIso(w.started_at)},
                      {"latest_heartbeat", FormatIso(w.heartbeat)}});
    PrintJson(nlohmann::json{{"workers", list}, {"total_entries", list.size()}});
    return kExitOk;
  }
  std::vector<std::vector<std::string>> rows;
  for (const WorkerRecord& w : *workers) {
    auto ago = std::chrono::duration_cast<std::chrono::milliseconds>(*now - w.heartbeat);
    rows.push_back({w.name, w.hostname,
                    w.queues.empty() ? "(all)" : fmt::format("{}", fmt::join(w.queues, ",")),
                    fmt::format("{}/{}", w.slots_used, w.slots),
                    fmt::format("{:.1f}s ago", ago.count() / 1000.0)});
  }
  if (rows.empty()) {
    fmt::print("no live workers\n");
    return kExitOk;
  }
  PrintTable({"name", "host", "queues", "slots", "heartbeat"}, rows);
  return kExitOk;
}

}  // namespace dagctl::cli
