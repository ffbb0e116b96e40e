// Runs DAG runs to their end: asks each run's RunDriver what is ready, starts
// tries through the TryRunner within the parallelism limits, and reports back
// what ended. One event loop serves any number of runs.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "engine/clock.h"
#include "engine/dag.h"
#include "engine/store/store.h"
#include "engine/try_runner.h"

namespace dagctl {

class RunDriver;

/// Hears what happens in runs, for progress displays. Called on the
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
  int parallelism = 32;          ///< Tries running at once, across all runs.
  std::string logs_dir;          ///< $DAGCTL_HOME/logs
  std::vector<std::string> env;  ///< Base environment of every try (NAME=value).
  std::string hostname;
  std::string home;       ///< $DAGCTL_HOME, given to tries as DAGCTL_HOME
  std::string dags_dir;   ///< the DAGs folder, given to tries as DAGCTL_DAGS
  std::string owner;  ///< This process as a run owner ("host:pid"); see Store::ClaimRun.
};

/// "host:pid" of the calling process.
std::string ThisProcessOwner();

/// True when `owner` names a process on this host that no longer exists.
bool OwnerIsGone(const std::string& owner);

/// The path of a try's log: LOGS/dag_id=X/run_id=Y/task_id=Z/attempt=N.log.
std::string TryLogPath(const std::string& logs_dir, const std::string& dag_id,
                       const std::string& run_id, const std::string& task_id, int try_number);

/// A run that reached its end in Step().
struct FinishedRun {
  std::string dag_id;
  std::string run_id;
  RunState state;
};

/// Not thread-safe: one thread drives an executor.
class Executor {
 public:
  /// The store, runner and clock must outlive the executor; `observer` may be null.
  Executor(Store& store, TryRunner& runner, const Clock& clock, ExecutorOptions opts,
           RunObserver* observer = nullptr);
  ~Executor();

  /// Takes on run `run_id` of `dag`, already in the store with its task
  /// instances, by claiming it from `expected_owner` (AlreadyExists when
  /// another process holds it). Finished tasks keep their state; a try left
  /// `running` by a dead engine counts as failed and may be retried; the rest
  /// are decided anew.
  Status AddRun(std::shared_ptr<const Dag> dag, const std::string& run_id,
                const std::string& expected_owner = "");

  /// One pass of the loop: records what ended, starts what is ready within
  /// `parallelism` and each DAG's `max_active_tasks`, then waits until a try
  /// ends, a retry is due, `deadline` passes, or a stop is requested. Returns
  /// the runs that finished during the pass.
  Result<std::vector<FinishedRun>> Step(std::optional<Timestamp> deadline);

  /// Terminates every running try and records it failed. With `fail_runs`
  /// the tries are not retried and every active run ends failed (Ctrl-C on
  /// `dagctl run`); otherwise the retry rule applies and the runs stay
  /// running, for the next engine to resume.
  Status Stop(bool fail_runs);

  /// AddRun, then Step until that run ends; a stop request (SIGINT, SIGTERM)
  /// ends it failed.
  Result<RunState> Run(std::shared_ptr<const Dag> dag, const std::string& run_id);

  size_t active_runs() const { return runs_.size(); }
  /// True once SIGINT or SIGTERM asked the process to stop.
  bool StopRequested() const { return runner_.StopRequested(); }
  /// Active runs of one DAG (for max_active_runs).
  size_t ActiveRunsOf(const std::string& dag_id) const;
  bool HasRun(const std::string& dag_id, const std::string& run_id) const;

 private:
  struct RunningTry {
    RunDriver* run;
    size_t task;
    bool callback = false;
    std::string log;  // callbacks: where their end is noted
  };
  Status HandleResults(const std::vector<TryResult>& results);
  Status LaunchReady();
  std::optional<Timestamp> NextRetryAt() const;
  Result<std::vector<FinishedRun>> CollectFinished();

  Store& store_;
  TryRunner& runner_;
  const Clock& clock_;
  ExecutorOptions opts_;
  RunObserver* observer_;
  std::vector<std::unique_ptr<RunDriver>> runs_;  // oldest first
  std::map<uint64_t, RunningTry> running_;        // try id -> its run and task
  std::map<std::string, int> running_per_dag_;
  std::vector<TryResult> results_;  // ended tries not yet recorded
  struct StartedTry {
    RunDriver* run;
    size_t task;
    int pid;
  };
  std::vector<StartedTry> started_;  // pids not yet recorded
  uint64_t next_id_ = 1;
};

}  // namespace dagctl
