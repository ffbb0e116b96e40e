#include "engine/executor.h"

#include <fmt/format.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

#include "engine/run_driver.h"
#include "engine/run_scope.h"

namespace dagctl {

std::string TryLogPath(const std::string& logs_dir, const std::string& dag_id,
                       const std::string& run_id, const std::string& task_id, int try_number) {
  return fmt::format("{}/dag_id={}/run_id={}/task_id={}/attempt={}.log", logs_dir, dag_id, run_id,
                     task_id, try_number);
}

Executor::Executor(Store& store, TryRunner& runner, const Clock& clock, ExecutorOptions opts,
                   RunObserver* observer)
    : store_(store), runner_(runner), clock_(clock), opts_(std::move(opts)), observer_(observer) {}

Executor::~Executor() = default;

std::string ThisProcessOwner() {
  char host[256] = {};
  gethostname(host, sizeof host - 1);
  return fmt::format("{}:{}", host, getpid());
}

bool OwnerIsGone(const std::string& owner) {
  auto colon = owner.rfind(':');
  if (colon == std::string::npos) return true;
  char host[256] = {};
  gethostname(host, sizeof host - 1);
  if (owner.substr(0, colon) != host) return false;  // another machine's: not ours to judge
  pid_t pid = static_cast<pid_t>(std::atol(owner.c_str() + colon + 1));
  return pid <= 0 || (kill(pid, 0) != 0 && errno == ESRCH);
}

Status Executor::AddRun(std::shared_ptr<const Dag> dag, const std::string& run_id,
                        const std::string& expected_owner) {
  if (HasRun(dag->dag_id, run_id)) return {};
  auto run = store_.GetDagRun(dag->dag_id, run_id);
  if (!run) return Fail(run.error());
  if (run->owner != opts_.owner) {
    auto claimed = store_.ClaimRun(dag->dag_id, run_id, expected_owner, opts_.owner);
    if (!claimed) return Fail(claimed.error());
    if (!*claimed)
      return Fail(Error::AlreadyExists(
          fmt::format("run '{}' of '{}' is taken by another process", run_id, dag->dag_id)));
    run->owner = opts_.owner;
  }
  auto stored = store_.ListTaskInstances(dag->dag_id, run_id);
  if (!stored) return Fail(stored.error());
  std::map<std::string, TaskInstanceRecord> by_id;
  for (auto& ti : *stored) by_id[ti.task_id] = ti;
  std::vector<TaskInstanceRecord> tis;
  for (const Task& t : dag->tasks) {
    auto it = by_id.find(t.id);
    if (it == by_id.end())
      return Fail(
          Error::NotFound(fmt::format("run '{}' has no task instance for '{}'", run_id, t.id)));
    tis.push_back(it->second);
  }
  auto params = ResolveParams(*dag, run->conf);
  if (!params) return Fail(params.error());
  auto driver = std::make_unique<RunDriver>(RunDriver::Env{store_, clock_, opts_, observer_}, dag,
                                            *run, std::move(tis), std::move(*params));
  if (auto st = driver->Begin(); !st) return st;
  runs_.push_back(std::move(driver));
  return {};
}

Status Executor::HandleResults(const std::vector<TryResult>& results) {
  for (const TryResult& r : results) {
    auto it = running_.find(r.id);
    if (it == running_.end()) continue;
    RunningTry t = it->second;
    running_.erase(it);
    --running_per_dag_[t.run->dag().dag_id];
    if (t.callback) {
      t.run->OnCallbackEnded(t.log, r);
      continue;
    }
    if (auto st = t.run->OnTryEnded(t.task, r); !st) return st;
  }
  return {};
}

// Starts ready tries, oldest run first, within the global and per-DAG limits.
// Everything is recorded running (one transaction) before any process starts.
Status Executor::LaunchReady() {
  std::vector<std::pair<RunDriver*, PendingTry>> launches;
  auto st = store_.Transaction([&]() -> Status {
    // Poke-mode sensors between pokes still hold their slots.
    size_t held = 0;
    std::map<std::string, int> held_per_dag;
    for (auto& run : runs_) {
      held += run->HeldSlots();
      held_per_dag[run->dag().dag_id] += static_cast<int>(run->HeldSlots());
    }
    for (auto& run : runs_) {
      size_t held_before = run->HeldSlots();
      if (auto s = run->PromoteDueRetries(); !s) return s;
      held -= held_before - run->HeldSlots();
      held_per_dag[run->dag().dag_id] -= static_cast<int>(held_before - run->HeldSlots());
      size_t busy = running_.size() + launches.size() + held;
      size_t global = busy >= static_cast<size_t>(opts_.parallelism)
                          ? 0
                          : static_cast<size_t>(opts_.parallelism) - busy;
      int& per_dag = running_per_dag_[run->dag().dag_id];
      int dag_left = run->dag().max_active_tasks - per_dag - held_per_dag[run->dag().dag_id];
      size_t budget = std::min(global, static_cast<size_t>(std::max(0, dag_left)));
      if (budget == 0 || !run->HasReady()) continue;
      std::vector<PendingTry> out;
      if (auto s = run->Launch(budget, out); !s) return s;
      per_dag += static_cast<int>(out.size());
      for (PendingTry& p : out) launches.emplace_back(run.get(), std::move(p));
    }
    return {};
  });
  if (!st) return st;
  for (auto& [run, p] : launches) {
    p.request.id = next_id_++;
    RunningTry entry{run, p.task, p.callback, p.request.log_path};
    if (p.request.launch.argv.empty() && !p.request.launch.body) {
      // Nothing to run (the empty operator): the try succeeds at once.
      running_[p.request.id] = entry;
      TryResult done;
      done.id = p.request.id;
      done.exit_code = 0;
      results_.push_back(done);
      continue;
    }
    auto pid = runner_.Start(p.request);
    if (pid) {
      running_[p.request.id] = entry;
      if (!p.callback) started_.push_back({run, p.task, *pid});
      continue;
    }
    --running_per_dag_[run->dag().dag_id];
    std::string why = "cannot start: " + pid.error().message();
    if (p.callback) {
      TryResult failed;
      run->OnCallbackEnded(p.request.log_path, failed);
      continue;
    }
    if (auto s = store_.Transaction([&] { return run->OnStartFailed(p.task, why); }); !s) return s;
  }
  // The pids, so a successor can end these process groups should we die.
  if (started_.empty()) return {};
  std::vector<StartedTry> started = std::move(started_);
  started_.clear();
  return store_.Transaction([&]() -> Status {
    for (const StartedTry& s : started)
      if (auto st = s.run->RecordPid(s.task, s.pid); !st) return st;
    return {};
  });
}

std::optional<Timestamp> Executor::NextRetryAt() const {
  std::optional<Timestamp> next;
  for (const auto& run : runs_)
    if (auto t = run->NextRetryAt(); t && (!next || *t < *next)) next = t;
  return next;
}

Result<std::vector<FinishedRun>> Executor::CollectFinished() {
  std::vector<FinishedRun> done;
  for (auto it = runs_.begin(); it != runs_.end();) {
    if (!(*it)->Done()) {
      ++it;
      continue;
    }
    auto state = (*it)->Finish(false);
    if (!state) return Fail(state.error());
    done.push_back({(*it)->dag().dag_id, (*it)->run().run_id, *state});
    it = runs_.erase(it);
  }
  return done;
}

Result<std::vector<FinishedRun>> Executor::Step(std::optional<Timestamp> deadline) {
  std::vector<TryResult> results = std::move(results_);
  results_.clear();
  if (auto st = store_.Transaction([&] { return HandleResults(results); }); !st)
    return Fail(st.error());
  if (auto st = LaunchReady(); !st) return Fail(st.error());
  auto finished = CollectFinished();
  if (!finished) return finished;
  if (runner_.StopRequested()) return finished;
  bool ready = false;
  for (const auto& run : runs_) ready = ready || run->HasReady();
  // Something ready but no slot: the next try to end frees one. Nothing
  // running and nothing ready: only a retry time or the deadline can wake us.
  if (!finished->empty() && runs_.empty()) return finished;
  auto wake = NextRetryAt();
  if (deadline && (!wake || *deadline < *wake)) wake = deadline;
  if (running_.empty() && !wake) {
    if (!runs_.empty() && !ready)
      return Fail(Error::Internal("the executor has runs that cannot make progress"));
    return finished;
  }
  if (!results_.empty()) return finished;  // tries that ended without a process
  results_ = runner_.Wait(wake);
  return finished;
}

Status Executor::Stop(bool fail_runs) {
  std::vector<TryResult> finished = std::move(results_);
  results_.clear();
  if (auto st = store_.Transaction([&] { return HandleResults(finished); }); !st) return st;
  std::vector<TryResult> ended = runner_.TerminateAll();
  const char* why =
      fail_runs ? "terminated: dagctl was asked to stop" : "terminated: the scheduler shut down";
  auto st = store_.Transaction([&]() -> Status {
    for (const TryResult& r : ended) {
      auto it = running_.find(r.id);
      if (it == running_.end() || it->second.callback) continue;
      if (auto s = it->second.run->OnTryStopped(it->second.task, !fail_runs, why); !s) return s;
      running_.erase(it);
    }
    return {};
  });
  running_.clear();
  running_per_dag_.clear();
  started_.clear();
  if (!st) return st;
  for (auto& run : runs_) {
    auto s = fail_runs ? run->Finish(true) : run->Release();
    if (!s) return Fail(s.error());
  }
  runs_.clear();
  return {};
}

size_t Executor::ActiveRunsOf(const std::string& dag_id) const {
  size_t n = 0;
  for (const auto& run : runs_) n += run->dag().dag_id == dag_id;
  return n;
}

bool Executor::HasRun(const std::string& dag_id, const std::string& run_id) const {
  for (const auto& run : runs_)
    if (run->dag().dag_id == dag_id && run->run().run_id == run_id) return true;
  return false;
}

Result<RunState> Executor::Run(std::shared_ptr<const Dag> dag, const std::string& run_id) {
  if (auto st = AddRun(dag, run_id); !st) return Fail(st.error());
  while (HasRun(dag->dag_id, run_id)) {
    if (runner_.StopRequested()) {
      if (auto st = Stop(true); !st) return Fail(st.error());
      break;
    }
    auto finished = Step(std::nullopt);
    if (!finished) {
      (void)Stop(true);
      return Fail(finished.error());
    }
    for (const FinishedRun& f : *finished)
      if (f.run_id == run_id) return f.state;
  }
  auto run = store_.GetDagRun(dag->dag_id, run_id);
  if (!run) return Fail(run.error());
  return run->state;
}

}  // namespace dagctl
