#include "engine/task_state.h"

#include <array>
#include <utility>

namespace dagctl {
namespace {

constexpr std::array<std::pair<TaskState, const char*>, 10> kTaskStates = {{
    {TaskState::kNone, "none"},
    {TaskState::kScheduled, "scheduled"},
    {TaskState::kQueued, "queued"},
    {TaskState::kRunning, "running"},
    {TaskState::kSuccess, "success"},
    {TaskState::kFailed, "failed"},
    {TaskState::kUpForRetry, "up_for_retry"},
    {TaskState::kUpForReschedule, "up_for_reschedule"},
    {TaskState::kUpstreamFailed, "upstream_failed"},
    {TaskState::kSkipped, "skipped"},
}};

constexpr std::array<std::pair<RunState, const char*>, 4> kRunStates = {{
    {RunState::kQueued, "queued"},
    {RunState::kRunning, "running"},
    {RunState::kSuccess, "success"},
    {RunState::kFailed, "failed"},
}};

}  // namespace

const char* TaskStateName(TaskState s) {
  for (auto [state, name] : kTaskStates)
    if (state == s) return name;
  return "none";
}

const char* RunStateName(RunState s) {
  for (auto [state, name] : kRunStates)
    if (state == s) return name;
  return "queued";
}

std::optional<TaskState> ParseTaskState(const std::string& n) {
  for (auto [state, name] : kTaskStates)
    if (n == name) return state;
  return std::nullopt;
}

std::optional<RunState> ParseRunState(const std::string& n) {
  for (auto [state, name] : kRunStates)
    if (n == name) return state;
  return std::nullopt;
}

}  // namespace dagctl
