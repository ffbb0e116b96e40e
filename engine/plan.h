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
  /// downstreams. `instances[i]`, when given and not empty, holds the states
  /// of expanded mapped task i's instances: each counts as an upstream of
  /// its own, and they decide the task's state. The DAG must outlive the plan.
  Plan(const Dag& dag, std::vector<TaskState> states,
       std::vector<std::vector<TaskState>> instances = {});

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

  /// Mapped `task`, decided scheduled, was expanded into `n` (> 0)
  /// instances: its downstreams now wait for `n` upstreams where it was one.
  void Expanded(size_t task, size_t n);

  /// Instance `map_index` of expanded `task` ended in `state` (a finished
  /// state); when it was the last, the task ends too. Returns what that
  /// decides downstream.
  std::vector<Decision> FinishInstance(size_t task, size_t map_index, TaskState state);

  bool IsExpanded(size_t task) const { return !instances_[task].empty(); }

  /// A mapped task's state once every instance has finished: failed if one
  /// failed, else upstream_failed if one was, else success if one succeeded,
  /// else skipped.
  static TaskState MappedOutcome(const std::vector<TaskState>& instances);

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
  void CountUpstream(size_t task, size_t upstream);

  const Dag& dag_;
  std::vector<TaskState> states_;
  std::vector<std::vector<TaskState>> instances_;  // of expanded mapped tasks, else empty
  std::vector<UpstreamCounts> counts_;
  size_t finished_ = 0;
};

}  // namespace dagctl
