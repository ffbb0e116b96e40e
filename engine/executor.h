// Runs DAG runs to their end: decides what is ready (Plan), starts tries
// (TryRunner), applies retries and timeouts, and records every transition
// (Store) as it happens.
#pragma once

#include <string>
#include <vector>

#include "engine/clock.h"
#include "engine/dag.h"
#include "engine/store/store.h"
#include "engine/try_runner.h"

namespace dagctl {

/// Hears what happens in a run, for progress displays. Called on the
/// executor's thread; must not block.
class RunObserver {
 public:
  virtual ~RunObserver() = default;
  virtual void TryStarted(const Task& task, int try_number) { (void)task, (void)try_number; }
  /// `state` is success, skipped, failed or up_for_retry; `error` says why a try failed.
  virtual void TryEnded(const Task& task, int try_number, TaskState state,
                        const std::string& error) {
    (void)task, (void)try_number, (void)state, (void)error;
  }
  /// A task the trigger rules skipped or marked upstream_failed without running it.
  virtual void TaskDecided(const Task& task, TaskState state) { (void)task, (void)state; }
};

struct ExecutorOptions {
  int parallelism = 32;           ///< Tries running at once, across all runs.
  std::string logs_dir;           ///< $DAGCTL_HOME/logs
  std::vector<std::string> env;   ///< Base environment of every try (NAME=value).
  std::string hostname;
};

/// The path of a try's log: LOGS/dag_id=X/run_id=Y/task_id=Z/attempt=N.log.
std::string TryLogPath(const std::string& logs_dir, const std::string& dag_id,
                       const std::string& run_id, const std::string& task_id, int try_number);

class Executor {
 public:
  /// The store, runner and clock must outlive the executor; `observer` may be null.
  Executor(Store& store, TryRunner& runner, const Clock& clock, ExecutorOptions opts,
           RunObserver* observer = nullptr);
  ~Executor();

  /// Runs `run_id` of `dag` (already created in the store with its task
  /// instances) until every task is finished, and returns the run's final
  /// state. Tasks already finished keep their state. A stop request (SIGINT)
  /// terminates running tries, records them failed and fails the run.
  Result<RunState> Run(const Dag& dag, const std::string& run_id);

 private:
  class RunDriver;
  Store& store_;
  TryRunner& runner_;
  const Clock& clock_;
  ExecutorOptions opts_;
  RunObserver* observer_;
};

}  // namespace dagctl
