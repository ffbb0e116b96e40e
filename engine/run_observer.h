// Hearing what happens in runs, for progress displays and console lines.
#pragma once

#include <string>

#include "engine/store/store.h"
#include "engine/task_state.h"

namespace dagctl {

/// Called on the engine's thread; must not block.
class RunObserver {
 public:
  virtual ~RunObserver() = default;
  /// A try's process started (on `worker`).
  virtual void TryStarted(const TiKey& ti, int try_number, const std::string& worker) {
    (void)ti, (void)try_number, (void)worker;
  }
  /// `state` is success, skipped, failed, up_for_retry or up_for_reschedule;
  /// `error` says why a try failed.
  virtual void TryEnded(const TiKey& ti, int try_number, TaskState state,
                        const std::string& error) {
    (void)ti, (void)try_number, (void)state, (void)error;
  }
  /// A task the trigger rules skipped or marked upstream_failed without running it.
  virtual void TaskDecided(const TiKey& ti, TaskState state) { (void)ti, (void)state; }
  /// A run reached its end; `why` says why it failed when its tasks do not
  /// (a dagrun_timeout), else "".
  virtual void RunEnded(const DagRunRecord& run, const std::string& why) { (void)run, (void)why; }
};

}  // namespace dagctl
