// A TryRunner that starts no process: each try ends with the outcome a test
// scripted for its task, after the scripted duration on a FakeClock. Records
// every start, so tests can assert on order, concurrency and try numbers.
#pragma once

#include <deque>
#include <map>
#include <string>
#include <vector>

#include "engine/try_runner.h"
#include "fakes/fake_clock.h"

namespace dagctl::testing {

/// How one try of a task ends.
struct ScriptedTry {
  int exit_code = 0;
  std::chrono::milliseconds duration{10};
  bool timed_out = false;
  std::string stdout_last_line;
  int signal = 0;  ///< Ended by this signal (as by kill -9), not an exit.
};

class FakeTryRunner : public TryRunner {
 public:
  explicit FakeTryRunner(FakeClock& clock) : clock_(clock) {}

  /// Tries of `task_id` end as scripted, in order; once the script runs out,
  /// they succeed.
  void Script(const std::string& task_id, std::vector<ScriptedTry> tries) {
    scripts_[task_id] = std::deque<ScriptedTry>(tries.begin(), tries.end());
  }

  /// Start() of `task_id` fails, as when no process can be created.
  void FailStart(const std::string& task_id) { fail_start_ = task_id; }

  struct Started {
    std::string task_id;
    int try_number;
    Timestamp at;
    size_t running_before;  ///< Tries running when this one started.
    TryRequest request;
  };
  const std::vector<Started>& started() const { return started_; }
  /// The task of every try Kill() stopped, in order.
  const std::vector<std::string>& killed() const { return killed_; }
  size_t max_running() const { return max_running_; }

  Result<int> Start(const TryRequest& req) override;
  std::vector<TryResult> Wait(std::optional<Timestamp> deadline, int wake_fd = -1) override;
  void Kill(uint64_t id) override;
  std::vector<TryResult> TerminateAll() override;
  size_t running() const override { return running_.size(); }
  bool StopRequested() const override { return false; }

 private:
  FakeClock& clock_;
  std::map<std::string, std::deque<ScriptedTry>> scripts_;
  std::multimap<Timestamp, TryResult> running_;  // by end time
  std::vector<Started> started_;
  std::vector<std::string> killed_;
  std::map<uint64_t, std::string> task_of_;  // runner id -> task
  std::string fail_start_;
  size_t max_running_ = 0;
};

}  // namespace dagctl::testing
