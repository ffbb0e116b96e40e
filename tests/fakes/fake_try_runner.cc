#include "fakes/fake_try_runner.h"

namespace dagctl::testing {

namespace {

// The executor puts the task and try in the environment; read them back.
std::string EnvValue(const TryRequest& req, const std::string& name) {
  for (const std::string& kv : req.env)
    if (kv.rfind(name + "=", 0) == 0) return kv.substr(name.size() + 1);
  return "";
}

}  // namespace

Result<int> FakeTryRunner::Start(const TryRequest& req) {
  std::string task = EnvValue(req, "AIRFLOW_CTX_TASK_ID");
  // A callback is scripted (and recorded) as "<task>.<event>".
  if (std::string event = EnvValue(req, "DAGCTL_CALLBACK"); !event.empty()) task += "." + event;
  int try_number = std::stoi(EnvValue(req, "AIRFLOW_CTX_TRY_NUMBER"));
  if (task == fail_start_) return Fail(Error::IOError("cannot start a process: out of pids"));
  started_.push_back({task, try_number, clock_.Now(), running_.size(), req});
  task_of_[req.id] = task;
  ScriptedTry s;
  auto& script = scripts_[task];
  if (!script.empty()) {
    s = script.front();
    script.pop_front();
  }
  TryResult r;
  r.id = req.id;
  r.exit_code = s.timed_out || s.signal ? -1 : s.exit_code;
  r.term_signal = s.timed_out ? 15 : s.signal;
  r.timed_out = s.timed_out;
  r.return_value = s.stdout_last_line;
  running_.emplace(clock_.Now() + std::chrono::duration_cast<std::chrono::microseconds>(s.duration),
                   r);
  max_running_ = std::max(max_running_, running_.size());
  return 1000 + static_cast<int>(started_.size());
}

void FakeTryRunner::Kill(uint64_t id) {
  for (auto it = running_.begin(); it != running_.end(); ++it) {
    if (it->second.id != id) continue;
    killed_.push_back(task_of_[id]);
    TryResult r = it->second;
    r.exit_code = -1;
    r.term_signal = 15;
    running_.erase(it);
    running_.emplace(clock_.Now(), r);  // ends now
    return;
  }
}

std::vector<TryResult> FakeTryRunner::Wait(std::optional<Timestamp> deadline, int) {
  if (running_.empty() || (deadline && *deadline < running_.begin()->first)) {
    if (deadline) clock_.Set(std::max(clock_.Now(), *deadline));
    return {};
  }
  // Everything that ends at the earliest end time ends together.
  Timestamp t = running_.begin()->first;
  clock_.Set(std::max(clock_.Now(), t));
  std::vector<TryResult> out;
  while (!running_.empty() && running_.begin()->first == t) {
    out.push_back(running_.begin()->second);
    running_.erase(running_.begin());
  }
  return out;
}

std::vector<TryResult> FakeTryRunner::TerminateAll() {
  std::vector<TryResult> out;
  for (auto& [t, r] : running_) out.push_back(r);
  running_.clear();
  return out;
}

}  // namespace dagctl::testing
