// Running DAG runs in this process, start to end: `dagctl run`, `dagctl
// backfill` and the engine's tests. A Scheduler (on just these runs) and a
// Worker (taking just what that scheduler queues) on one Node: the same try
// lifecycle as `serve` and as a worker on another machine.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "engine/clock.h"
#include "engine/dag.h"
#include "engine/dag_cache.h"
#include "engine/node.h"
#include "engine/run_observer.h"
#include "engine/scheduler.h"
#include "engine/store/store.h"
#include "engine/try_log.h"
#include "engine/try_runner.h"
#include "engine/worker.h"

namespace dagctl {

class Guardian;
class OperatorRegistry;

struct ExecutorOptions {
  int parallelism = 32;          ///< Tries running at once in this process.
  std::string logs_dir;          ///< $DAGCTL_HOME/logs
  std::vector<std::string> env;  ///< Base environment of every try (NAME=value).
  std::string hostname;
  std::string home;       ///< $DAGCTL_HOME, given to tries as DAGCTL_HOME
  std::string dags_dir;   ///< the DAGs folder, given to tries as DAGCTL_DAGS
  std::string store_url;  ///< given to tries as DAGCTL_STORE when set
  std::string owner;      ///< This process as a run owner and worker ("host:pid").
  Duration lease = std::chrono::seconds(30);
  bool ship_logs = false;  ///< Copy logs into the store (a shared store).
};

/// Not thread-safe: one thread drives an executor.
class Executor {
 public:
  /// Everything must outlive the executor; `observer` may be null.
  Executor(Store& store, TryRunner& runner, const Clock& clock, ExecutorOptions opts,
           RunObserver* observer = nullptr);
  ~Executor();

  /// Takes on run `run_id` of `dag`, already in the store (held by this
  /// process since it created it, or claimed now: AlreadyExists when another
  /// process holds it). Finished tasks keep their state.
  Status AddRun(std::shared_ptr<const Dag> dag, const std::string& run_id);
  /// One pass of the loop, waiting at most until `deadline`; returns the
  /// runs that finished.
  std::vector<FinishedRun> Step(std::optional<Timestamp> deadline);
  /// Ends running tries and records them failed; with `fail_runs` they are
  /// not retried and every run ends failed, otherwise the runs are given up
  /// for a scheduler to resume.
  Status Stop(bool fail_runs);
  /// AddRun, then Step until the run and its callbacks are done; a stop
  /// request (SIGINT, SIGTERM) ends it failed.
  Result<RunState> Run(std::shared_ptr<const Dag> dag, const std::string& run_id);

  size_t active_runs() const { return scheduler_->active_runs(); }
  bool StopRequested() const { return node_->StopRequested(); }
  size_t ActiveRunsOf(const std::string& dag_id) const { return scheduler_->ActiveRunsOf(dag_id); }
  bool HasRun(const std::string& dag_id, const std::string& run_id) const {
    return scheduler_->HasRun(dag_id, run_id);
  }
  /// True when every callback of the run has run.
  Result<bool> CallbacksDone(const std::string& dag_id, const std::string& run_id);

 private:
  Store& store_;
  std::unique_ptr<OperatorRegistry> no_ops_;
  DagCache dags_;
  std::string dags_dir_;
  std::unique_ptr<Guardian> guardian_;
  std::unique_ptr<Scheduler> scheduler_;
  std::unique_ptr<Worker> worker_;
  std::unique_ptr<Node> node_;
  std::vector<std::pair<std::string, std::string>> runs_;
};

}  // namespace dagctl
