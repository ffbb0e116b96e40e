// dagctl run DAG [--date D] [--param K=V]...: one DAG run in the foreground.
#include <fmt/format.h>
#include <unistd.h>

#include <cstdlib>
#include <nlohmann/json.hpp>

#include "cli/app.h"
#include "cli/args.h"
#include "cli/output.h"
#include "cli/progress.h"
#include "engine/data_interval.h"
#include "engine/posix_try_runner.h"
#include "engine/suggest.h"

extern char** environ;

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

// --param K=V pairs as a conf object; keys must be the DAG's params.
Result<std::string> ParamsConf(const Dag& dag, const std::vector<std::string>& pairs) {
  nlohmann::json conf = nlohmann::json::object();
  std::vector<std::string> known;
  for (const MapEntry& e : dag.params) known.push_back(e.key);
  for (const std::string& kv : pairs) {
    auto eq = kv.find('=');
    if (eq == std::string::npos || eq == 0)
      return Fail(Error::InvalidArgument(fmt::format("--param '{}': expected NAME=VALUE", kv)));
    std::string key = kv.substr(0, eq);
    if (std::find(known.begin(), known.end(), key) == known.end())
      return Fail(Error::InvalidArgument(fmt::format("--param: DAG '{}' has no param '{}'{}",
                                                     dag.dag_id, key, DidYouMean(key, known))));
    conf[key] = kv.substr(eq + 1);
  }
  return conf.dump();
}

// Creates the run with a fresh manual run id and its task instances.
Result<DagRunRecord> CreateRun(Store& store, const Dag& dag, const DataInterval& interval,
                               const std::string& conf) {
  DagRunRecord run;
  run.dag_id = dag.dag_id;
  run.run_type = RunType::kManual;
  run.logical_date = interval.start;
  run.data_interval_start = interval.start;
  run.data_interval_end = interval.end;
  run.queued_at = NowUtc();
  run.conf = conf;
  run.dag_hash = dag.file_hash;
  std::string base = "manual__" + FormatIso(interval.start);
  for (int n = 1; n < 1000; ++n) {
    run.run_id = n == 1 ? base : fmt::format("{}_{}", base, n);
    std::vector<TaskInstanceRecord> tis;
    for (const Task& t : dag.tasks) {
      TaskInstanceRecord ti;
      ti.dag_id = dag.dag_id;
      ti.run_id = run.run_id;
      ti.task_id = t.id;
      ti.max_tries = t.retries + 1;
      ti.operator_name = t.operator_name;
      ti.priority_weight = t.priority_weight;
      ti.pool = t.pool;
      tis.push_back(ti);
    }
    auto st = store.CreateDagRun(run, tis);
    if (st) return run;
    if (st.error().code() != Error::Code::kAlreadyExists) return Fail(st.error());
  }
  return Fail(Error::AlreadyExists("too many manual runs for " + base));
}

void PrintSummary(Store& store, const Dag& dag, const DagRunRecord& run, RunState state) {
  auto tis = store.ListTaskInstances(dag.dag_id, run.run_id);
  if (!tis) return;
  std::map<std::string, const TaskInstanceRecord*> by_id;
  for (const auto& ti : *tis) by_id[ti.task_id] = &ti;
  std::vector<std::vector<std::string>> rows;
  std::map<std::string, int> counts;
  for (size_t i : dag.graph.topo_order) {
    const TaskInstanceRecord& ti = *by_id[dag.tasks[i].id];
    ++counts[TaskStateName(ti.state)];
    rows.push_back({ti.task_id, TaskStateName(ti.state), std::to_string(ti.try_number),
                    ElapsedText(ti.start_date, ti.end_date)});
  }
  if (rows.size() <= 200) PrintTable({"task_id", "state", "tries", "duration"}, rows);
  std::string tally;
  for (const auto& [name, n] : counts) tally += fmt::format("{}{} {}", tally.empty() ? "" : ", ", n, name);
  auto final_run = store.GetDagRun(dag.dag_id, run.run_id);
  fmt::print("run {} of {}: {} in {} ({})\n", run.run_id, dag.dag_id, RunStateName(state),
             final_run ? ElapsedText(final_run->start_date, final_run->end_date) : "?", tally);
}

int ParallelismFromEnv() {
  const char* p = std::getenv("DAGCTL_PARALLELISM");
  if (!p) return 32;
  int n = std::atoi(p);
  return n > 0 ? n : 32;
}

}  // namespace

int CmdRun(App& app, const std::vector<std::string>& argv) {
  CommandSpec spec{"run", "DAG [--date D] [--param K=V]...", {"--date", "--param"}, {}, 1, 1};
  auto args = ParseArgs(spec, argv);
  if (!args) {
    fmt::print(stderr, "{}\n", args.error().message());
    return kExitUsage;
  }
  auto dag = app.FindDag(args->positional[0]);
  if (!dag) return kExitUsage;
  auto interval = ChooseInterval(*dag, args->Option("--date"));
  if (!interval) {
    PrintError(interval.error().message());
    return kExitUsage;
  }
  auto conf = ParamsConf(*dag, args->All("--param"));
  if (!conf) {
    PrintError(conf.error().message());
    return kExitUsage;
  }
  Store* store = app.store();
  if (!store) return kExitFailed;
  auto run = CreateRun(*store, *dag, *interval, *conf);
  if (!run) {
    PrintError(run.error().message());
    return kExitFailed;
  }
  fmt::print(stderr, "run {} of {} ({} tasks, logical date {})\n", run->run_id, dag->dag_id,
             dag->tasks.size(), FormatIso(run->logical_date, dag->timezone));

  ExecutorOptions opts;
  opts.parallelism = ParallelismFromEnv();
  opts.logs_dir = app.logs_dir();
  for (char** e = environ; *e; ++e) opts.env.push_back(*e);
  char host[256] = {};
  gethostname(host, sizeof host - 1);
  opts.hostname = host;
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
