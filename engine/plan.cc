#include "engine/plan.h"

#include <algorithm>

namespace dagctl {

namespace {

bool Finished(TaskState s) { return IsFinished(s); }

}  // namespace

Plan::Plan(const Dag& dag, std::vector<TaskState> states,
           std::vector<std::vector<TaskState>> instances)
    : dag_(dag),
      states_(std::move(states)),
      instances_(std::move(instances)),
      counts_(dag.tasks.size()) {
  instances_.resize(states_.size());
  for (size_t i = 0; i < states_.size(); ++i) {
    if (instances_[i].empty()) continue;
    bool all = std::all_of(instances_[i].begin(), instances_[i].end(), Finished);
    states_[i] = all ? MappedOutcome(instances_[i]) : TaskState::kRunning;
  }
  for (size_t i = 0; i < states_.size(); ++i) {
    for (size_t u : dag_.graph.upstream[i]) CountUpstream(i, u);
    if (IsFinished(states_[i])) ++finished_;
  }
}

// An expanded mapped upstream counts once per instance, as Airflow counts
// task instances.
void Plan::CountUpstream(size_t task, size_t upstream) {
  UpstreamCounts& c = counts_[task];
  if (instances_[upstream].empty()) {
    ++c.total;
    c.Add(states_[upstream]);
    return;
  }
  c.total += static_cast<int>(instances_[upstream].size());
  for (TaskState s : instances_[upstream]) c.Add(s);
}

TaskState Plan::MappedOutcome(const std::vector<TaskState>& instances) {
  auto any = [&](TaskState s) {
    return std::find(instances.begin(), instances.end(), s) != instances.end();
  };
  if (any(TaskState::kFailed)) return TaskState::kFailed;
  if (any(TaskState::kUpstreamFailed)) return TaskState::kUpstreamFailed;
  if (any(TaskState::kSuccess)) return TaskState::kSuccess;
  return TaskState::kSkipped;
}

void Plan::Expanded(size_t task, size_t n) {
  instances_[task].assign(n, TaskState::kScheduled);
  for (size_t d : dag_.graph.downstream[task]) counts_[d].total += static_cast<int>(n) - 1;
}

std::vector<Decision> Plan::FinishInstance(size_t task, size_t map_index, TaskState state) {
  std::vector<Decision> out;
  std::vector<TaskState>& mine = instances_[task];
  if (map_index >= mine.size() || IsFinished(mine[map_index])) return out;
  mine[map_index] = state;
  for (size_t d : dag_.graph.downstream[task]) {
    counts_[d].Add(state);
    Decide(d, out);
  }
  if (std::all_of(mine.begin(), mine.end(), Finished)) {
    states_[task] = MappedOutcome(mine);
    ++finished_;
  }
  return out;
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
