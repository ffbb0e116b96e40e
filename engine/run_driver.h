// One DAG run in progress: its plan, its task instances and their tries, and
// the retry timers. Knows nothing of other runs or of processes: the Executor
// starts what Launch() prepares and reports back what ended.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <deque>
#include <queue>
#include <set>
#include <string>
#include <vector>

#include "engine/clock.h"
#include "engine/dag.h"
#include "engine/plan.h"
#include "engine/store/store.h"
#include "engine/try_runner.h"

namespace dagctl {

class RunObserver;
struct ExecutorOptions;

/// A try recorded as running whose process is still to be started.
struct PendingTry {
  size_t task;         ///< For the run's own callbacks: kRunCallback.
  TryRequest request;  ///< `id` is left for the executor to assign.
  bool callback = false;
};

/// PendingTry::task of a callback of the whole run.
constexpr size_t kRunCallback = static_cast<size_t>(-1);

/// Not thread-safe; used from the executor's thread only.
class RunDriver {
 public:
  /// Everything a driver reads and writes besides its own run; outlives it.
  struct Env {
    Store& store;
    const Clock& clock;
    const ExecutorOptions& opts;
    RunObserver* observer;
  };

  RunDriver(Env env, std::shared_ptr<const Dag> dag, DagRunRecord run,
            std::vector<TaskInstanceRecord> tis, std::map<std::string, std::string> params);

  /// Marks the run running and decides what is ready. A try found `running`
  /// (its engine died) counts as failed and may be retried; an up_for_retry
  /// task waits out its stored retry time.
  Status Begin();
  /// Records up to `budget` ready tasks as running and prepares their launches.
  Status Launch(size_t budget, std::vector<PendingTry>& out);
  /// A try's process ended.
  Status OnTryEnded(size_t task, const TryResult& r);
  /// A try was ended by a stop request; `may_retry` lets the retry rule apply.
  Status OnTryStopped(size_t task, bool may_retry, const std::string& why);
  /// Records the process (group) of a running try, so a successor can end it
  /// should this engine die.
  Status RecordPid(size_t task, int pid);
  /// A callback's process ended; its result is only logged (to `log`).
  void OnCallbackEnded(const std::string& log, const TryResult& r);
  /// A try's process could not be started.
  Status OnStartFailed(size_t task, const std::string& why);
  /// Makes tasks whose retry time has come ready again.
  Status PromoteDueRetries();

  std::optional<Timestamp> NextRetryAt() const;
  bool HasReady() const { return !ready_.empty() || !callbacks_.empty(); }
  /// Slots held by poke-mode sensors waiting for their next poke.
  size_t HeldSlots() const { return poking_.size(); }
  /// Every task finished and every callback run.
  bool Done() const { return plan_.Done() && callbacks_.empty() && callbacks_running_ == 0; }
  /// Records the run's end: its outcome, or failed when `failed` or unfinished.
  /// Gives up ownership.
  Result<RunState> Finish(bool failed);
  /// Gives up ownership of the unfinished run, for another process to resume.
  Result<RunState> Release();

  const Dag& dag() const { return *dag_; }
  const DagRunRecord& run() const { return run_; }

 private:
  // Ready tasks: highest priority_weight first, then file order.
  struct ReadyOrder {
    const Dag* dag;
    bool operator()(size_t a, size_t b) const {
      int pa = dag->tasks[a].priority_weight, pb = dag->tasks[b].priority_weight;
      return pa != pb ? pa < pb : a > b;
    }
  };

  std::vector<TaskState> InitialStates() const;
  Status Apply(const std::vector<Decision>& decisions);
  Status StartTry(size_t task, std::vector<PendingTry>& out);
  Result<TryRequest> PrepareTry(size_t task, int try_number);
  /// With `after_downstream` (this task's return value), the operator's
  /// AfterDownstreamSuccess work instead of a try.
  Result<TryRequest> PrepareLaunch(const Task& t, const Task& scope_task, int try_number,
                                   const std::map<std::string, std::string>& extra,
                                   const std::string* after_downstream = nullptr);
  void QueueAfterDownstream(size_t succeeded);
  Status SkipDownstream(size_t task, const TryOutcome& outcome);
  void QueueCallback(size_t task, const std::string& event, const std::string& error);
  Result<std::optional<PendingTry>> PrepareCallback();
  std::string CallbackLog(size_t task, const std::string& event) const;
  Status WaitForNextPoke(size_t task, const TryResult& r);
  Status EndTry(size_t task, TaskState state, std::optional<int> exit_code,
                const std::string& error, bool may_retry);
  std::string LogPath(size_t task) const;
  Status Write(size_t task) { return env_.store.UpdateTaskInstance(tis_[task]); }
  Timestamp Now() const { return env_.clock.Now(); }

  Env env_;
  std::shared_ptr<const Dag> dag_;
  DagRunRecord run_;
  std::vector<TaskInstanceRecord> tis_;  // by task position
  std::map<std::string, std::string> params_;
  Plan plan_;
  std::vector<TryRecord> tries_;  // the current try of each task
  std::string cwd_;               // tries run in the DAG file's folder by default
  std::priority_queue<size_t, std::vector<size_t>, ReadyOrder> ready_;
  std::set<std::pair<Timestamp, size_t>> retries_;  // (next_try_at or next poke, task)
  std::vector<bool> repoke_;    // the task's next start is another poke of the same try
  std::set<size_t> poking_;     // poke-mode sensors between pokes: they keep their slot
  struct CallbackCall {
    size_t task;  // kRunCallback for the run's own
    std::string event;
    std::string error;
  };
  std::deque<CallbackCall> callbacks_;  // to start
  size_t callbacks_running_ = 0;
  bool run_callback_queued_ = false;
  std::set<size_t> after_downstream_done_;  // tasks whose after-downstream work is queued
};

}  // namespace dagctl
