// What may run next in one DAG run, from its task states and trigger rules.
// Pure: no I/O, no clock, no processes (after ninja's Plan).
#pragma once

#include <vector>

#include "engine/dag.h"
#include "engine/task_state.h"

namespace dagctl {

/// A task whose state the plan decided: kScheduled (ready to run), kSkipped or
/// kUpstreamFailed.
struct Decision {
  size_t task;
  TaskState state;
};

/// Tracks one run's task states. Not thread-safe.
class Plan {
 public:
  /// `states[i]` is task i's state; finished ones count towards their
  /// downstreams. The DAG must outlive the plan.
  Plan(const Dag& dag, std::vector<TaskState> states);

  /// Decides every undecided task whose trigger rule can already be applied:
  /// roots become ready, and so on. Call once after construction.
  std::vector<Decision> Start();

  /// Records that `task` ended in `state` (a finished state) and returns the
  /// downstream tasks that this decides, transitively (skips and upstream
  /// failures propagate at once).
  std::vector<Decision> Finish(size_t task, TaskState state);

  /// Skips those of `tasks` that are still undecided (branches not taken, or
  /// everything below a short-circuit), all at once so that none of them is
  /// decided by another's skip first, and returns what that decides.
  std::vector<Decision> Skip(const std::vector<size_t>& tasks);

  /// Sets a state that does not finish the task (running, up_for_retry ...).
  void Set(size_t task, TaskState state) { states_[task] = state; }

  TaskState state(size_t task) const { return states_[task]; }
  const std::vector<TaskState>& states() const { return states_; }

  /// True when every task is finished.
  bool Done() const { return finished_ == states_.size(); }

  /// The run's outcome once Done(): failed when any leaf ended failed or
  /// upstream_failed, else success.
  RunState Outcome() const;

 private:
  void Decide(size_t task, std::vector<Decision>& out);
  void Propagate(size_t task, TaskState state, std::vector<Decision>& out);

  const Dag& dag_;
  std::vector<TaskState> states_;
  std::vector<UpstreamCounts> counts_;
  size_t finished_ = 0;
};

}  // namespace dagctl
