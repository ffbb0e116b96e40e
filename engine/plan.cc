#include "engine/plan.h"

namespace dagctl {

Plan::Plan(const Dag& dag, std::vector<TaskState> states)
    : dag_(dag), states_(std::move(states)), counts_(dag.tasks.size()) {
  for (size_t i = 0; i < states_.size(); ++i) {
    counts_[i].total = static_cast<int>(dag_.graph.upstream[i].size());
    for (size_t u : dag_.graph.upstream[i]) counts_[i].Add(states_[u]);
    if (IsFinished(states_[i])) ++finished_;
  }
}

std::vector<Decision> Plan::Start() {
  std::vector<Decision> out;
  for (size_t i : dag_.graph.topo_order) Decide(i, out);
  return out;
}

std::vector<Decision> Plan::Finish(size_t task, TaskState state) {
  std::vector<Decision> out;
  Propagate(task, state, out);
  return out;
}

std::vector<Decision> Plan::Skip(const std::vector<size_t>& tasks) {
  std::vector<Decision> out;
  std::vector<size_t> skipped;
  for (size_t t : tasks) {
    if (states_[t] != TaskState::kNone) continue;
    states_[t] = TaskState::kSkipped;
    ++finished_;
    out.push_back({t, TaskState::kSkipped});
    skipped.push_back(t);
  }
  for (size_t t : skipped) {
    for (size_t d : dag_.graph.downstream[t]) {
      counts_[d].Add(TaskState::kSkipped);
      Decide(d, out);
    }
  }
  return out;
}

// Applies `task`'s trigger rule if the task is still undecided.
void Plan::Decide(size_t task, std::vector<Decision>& out) {
  if (states_[task] != TaskState::kNone) return;
  switch (Evaluate(dag_.tasks[task].trigger_rule, counts_[task])) {
    case Verdict::kWait:
      return;
    case Verdict::kRun:
      states_[task] = TaskState::kScheduled;
      out.push_back({task, TaskState::kScheduled});
      return;
    case Verdict::kSkip:
      out.push_back({task, TaskState::kSkipped});
      Propagate(task, TaskState::kSkipped, out);
      return;
    case Verdict::kUpstreamFailed:
      out.push_back({task, TaskState::kUpstreamFailed});
      Propagate(task, TaskState::kUpstreamFailed, out);
      return;
  }
}

void Plan::Propagate(size_t task, TaskState state, std::vector<Decision>& out) {
  if (!IsFinished(states_[task])) ++finished_;
  states_[task] = state;
  for (size_t d : dag_.graph.downstream[task]) {
    counts_[d].Add(state);
    Decide(d, out);
  }
}

RunState Plan::Outcome() const {
  for (size_t i = 0; i < states_.size(); ++i) {
    if (!dag_.graph.downstream[i].empty()) continue;
    if (states_[i] == TaskState::kFailed || states_[i] == TaskState::kUpstreamFailed)
      return RunState::kFailed;
  }
  return RunState::kSuccess;
}

}  // namespace dagctl
