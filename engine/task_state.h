// Airflow's task-instance and DAG-run states.
#pragma once

#include <optional>
#include <string>

namespace dagctl {

enum class TaskState {
  kNone,  ///< Not yet decided (Airflow's null state).
  kScheduled,
  kQueued,
  kRunning,
  kSuccess,
  kFailed,
  kUpForRetry,
  kUpForReschedule,
  kUpstreamFailed,
  kSkipped,
};

enum class RunState { kQueued, kRunning, kSuccess, kFailed };

/// Airflow's name: `success`, `up_for_retry` ...; kNone is "none".
const char* TaskStateName(TaskState s);
const char* RunStateName(RunState s);
std::optional<TaskState> ParseTaskState(const std::string& name);
std::optional<RunState> ParseRunState(const std::string& name);

/// success, failed, upstream_failed and skipped: the task will not run again
/// in this run unless it is cleared.
inline bool IsFinished(TaskState s) {
  return s == TaskState::kSuccess || s == TaskState::kFailed || s == TaskState::kUpstreamFailed ||
         s == TaskState::kSkipped;
}

inline bool IsFinished(RunState s) { return s == RunState::kSuccess || s == RunState::kFailed; }

}  // namespace dagctl
