#include "engine/executor.h"

#include <fmt/format.h>
#include <signal.h>
#include <string.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <queue>
#include <set>

#include "engine/log_file.h"
#include "engine/plan.h"
#include "engine/retry.h"
#include "engine/run_scope.h"

namespace dagctl {

namespace fs = std::filesystem;

std::string TryLogPath(const std::string& logs_dir, const std::string& dag_id,
                       const std::string& run_id, const std::string& task_id, int try_number) {
  return fmt::format("{}/dag_id={}/run_id={}/task_id={}/attempt={}.log", logs_dir, dag_id, run_id,
                     task_id, try_number);
}

namespace {

std::string DescribeExit(const TryResult& r, const Task& task) {
  if (r.timed_out)
    return fmt::format("timed out after {} (the process group got SIGTERM, then SIGKILL)",
                       FormatDuration(*task.timeout));
  if (r.term_signal)
    return fmt::format("killed by signal {} ({})", r.term_signal, strsignal(r.term_signal));
  return fmt::format("exit code {}", r.exit_code);
}

}  // namespace

// One DAG run in progress. Lives for one Executor::Run call.
class Executor::RunDriver {
 public:
  RunDriver(Executor& ex, const Dag& dag, DagRunRecord run, std::vector<TaskInstanceRecord> tis,
            std::map<std::string, std::string> params)
      : ex_(ex), dag_(dag), run_(std::move(run)), tis_(std::move(tis)), params_(std::move(params)),
        plan_(dag, InitialStates()), tries_(dag.tasks.size()),
        cwd_(fs::absolute(dag.file).parent_path().string()) {}

  Result<RunState> Drive();

 private:
  // A try that has been recorded as running and is to be started.
  struct Pending {
    size_t task;
    TryRequest request;
  };
  // Ready tasks: highest priority_weight first, then file order.
  struct ReadyOrder {
    const Dag* dag;
    bool operator()(size_t a, size_t b) const {
      int pa = dag->tasks[a].priority_weight, pb = dag->tasks[b].priority_weight;
      return pa != pb ? pa < pb : a > b;
    }
  };

  std::vector<TaskState> InitialStates() const;
  Status Apply(const std::vector<Decision>& decisions);
  Status LaunchReady(std::vector<Pending>& out);
  Status StartTry(size_t task, std::vector<Pending>& out);
  Result<TryRequest> PrepareTry(size_t task, int try_number);
  Status Spawn(std::vector<Pending>& pending);
  Status HandleResult(const TryResult& r, bool stopping);
  Status EndTry(size_t task, TaskState state, std::optional<int> exit_code, const std::string& error,
                bool may_retry);
  Status PromoteDueRetries();
  std::optional<Timestamp> NextRetryAt() const;
  Status Write(size_t task) { return ex_.store_.UpdateTaskInstance(tis_[task]); }
  Timestamp Now() const { return ex_.clock_.Now(); }

  Executor& ex_;
  const Dag& dag_;
  DagRunRecord run_;
  std::vector<TaskInstanceRecord> tis_;  // by task position
  std::map<std::string, std::string> params_;
  Plan plan_;
  std::vector<TryRecord> tries_;  // the current try of each task
  std::string cwd_;               // tries run in the DAG file's folder by default
  std::priority_queue<size_t, std::vector<size_t>, ReadyOrder> ready_{ReadyOrder{&dag_}};
  std::set<std::pair<Timestamp, size_t>> retries_;  // (next_try_at, task)
  std::map<uint64_t, size_t> running_;              // try id -> task
  uint64_t next_id_ = 1;
};

std::vector<TaskState> Executor::RunDriver::InitialStates() const {
  std::vector<TaskState> states;
  for (const TaskInstanceRecord& ti : tis_) {
    // Anything not finished is decided again from its upstreams.
    states.push_back(IsFinished(ti.state) ? ti.state : TaskState::kNone);
  }
  return states;
}

Status Executor::RunDriver::Apply(const std::vector<Decision>& decisions) {
  for (const Decision& d : decisions) {
    TaskInstanceRecord& ti = tis_[d.task];
    ti.state = d.state;
    if (d.state == TaskState::kScheduled) {
      ready_.push(d.task);
    } else {
      ti.end_date = Now();
      if (ex_.observer_) ex_.observer_->TaskDecided(dag_.tasks[d.task], d.state);
    }
    if (auto st = Write(d.task); !st) return st;
  }
  return {};
}

Status Executor::RunDriver::LaunchReady(std::vector<Pending>& out) {
  const size_t limit = static_cast<size_t>(std::min(ex_.opts_.parallelism, dag_.max_active_tasks));
  while (!ready_.empty() && ex_.runner_.running() + out.size() < limit) {
    size_t task = ready_.top();
    ready_.pop();
    if (auto st = StartTry(task, out); !st) return st;
  }
  return {};
}

Result<TryRequest> Executor::RunDriver::PrepareTry(size_t task, int try_number) {
  const Task& t = dag_.tasks[task];
  RunScope scope(dag_, run_, t, try_number, params_, ex_.store_);
  // Render every templated operator key (strings, list items, map values).
  Value rendered = t.params;
  for (MapEntry& e : rendered.entries) {
    auto spec = std::find_if(t.op->params().begin(), t.op->params().end(),
                             [&](const ParamSpec& s) { return s.name == e.key; });
    if (spec == t.op->params().end() || !spec->templated) continue;
    std::vector<Value*> scalars{&e.value};
    for (Value& item : e.value.items) scalars.push_back(&item);
    for (MapEntry& kv : e.value.entries) scalars.push_back(&kv.value);
    for (Value* v : scalars) {
      if (!v->IsScalar()) continue;
      auto r = RenderTemplate(v->scalar, scope);
      if (!r) return Fail(Error::InvalidArgument(fmt::format("'{}': {}", e.key, r.error().message())));
      v->scalar = *r;
    }
  }
  TryRequest req;
  std::map<std::string, std::string> env;
  for (const auto& [k, v] : t.env) {
    auto r = RenderTemplate(v, scope);
    if (!r) return Fail(Error::InvalidArgument(fmt::format("env '{}': {}", k, r.error().message())));
    env[k] = *r;
  }
  env["AIRFLOW_CTX_DAG_ID"] = dag_.dag_id;
  env["AIRFLOW_CTX_TASK_ID"] = t.id;
  env["AIRFLOW_CTX_DAG_RUN_ID"] = run_.run_id;
  env["AIRFLOW_CTX_LOGICAL_DATE"] = FormatIso(run_.logical_date);
  env["AIRFLOW_CTX_TRY_NUMBER"] = std::to_string(try_number);
  for (const auto& [k, v] : env) req.env.push_back(k + "=" + v);
  for (const std::string& kv : ex_.opts_.env)
    if (!env.count(kv.substr(0, kv.find('=')))) req.env.push_back(kv);

  auto launch = t.op->Prepare({rendered, dag_.dag_id, run_.run_id, t.id, try_number});
  if (!launch) return Fail(launch.error());
  req.launch = std::move(*launch);
  req.cwd = cwd_;
  req.timeout = t.timeout;
  return req;
}

Status Executor::RunDriver::StartTry(size_t task, std::vector<Pending>& out) {
  const Task& t = dag_.tasks[task];
  TaskInstanceRecord& ti = tis_[task];
  ti.try_number += 1;
  ti.state = TaskState::kRunning;
  ti.start_date = Now();
  ti.end_date.reset();
  ti.next_try_at.reset();
  TryRecord& tr = tries_[task];
  tr = {dag_.dag_id, run_.run_id, t.id, ti.try_number, TaskState::kRunning, *ti.start_date,
        std::nullopt, std::nullopt, "", ex_.opts_.hostname, 0};
  std::string log = TryLogPath(ex_.opts_.logs_dir, dag_.dag_id, run_.run_id, t.id, ti.try_number);
  if (ti.try_number > 1) {
    if (auto st = ex_.store_.ClearXCom(dag_.dag_id, run_.run_id, t.id); !st) return st;
  }
  if (auto st = Write(task); !st) return st;
  if (auto st = ex_.store_.PutTry(tr); !st) return st;
  if (ex_.observer_) ex_.observer_->TryStarted(t, ti.try_number);

  auto req = PrepareTry(task, ti.try_number);
  if (!req) {
    AppendLogLine(log, "try " + std::to_string(ti.try_number) + " failed before start: " +
                       req.error().message());
    return EndTry(task, TaskState::kFailed, std::nullopt, req.error().message(), true);
  }
  req->id = next_id_++;
  req->log_path = log;
  running_[req->id] = task;
  out.push_back({task, std::move(*req)});
  return {};
}

// Starts the processes of tries already recorded as running. A try whose
// process cannot start fails (and may be retried) like any other.
Status Executor::RunDriver::Spawn(std::vector<Pending>& pending) {
  for (Pending& p : pending) {
    auto pid = ex_.runner_.Start(p.request);
    if (pid) continue;
    running_.erase(p.request.id);
    std::string why = "cannot start: " + pid.error().message();
    AppendLogLine(p.request.log_path, why);
    auto st = ex_.store_.Transaction(
        [&] { return EndTry(p.task, TaskState::kFailed, std::nullopt, why, true); });
    if (!st) return st;
  }
  return {};
}

Status Executor::RunDriver::EndTry(size_t task, TaskState state, std::optional<int> exit_code,
                                   const std::string& error, bool may_retry) {
  const Task& t = dag_.tasks[task];
  TaskInstanceRecord& ti = tis_[task];
  Timestamp now = Now();
  if (state == TaskState::kFailed && may_retry && CanRetry(t, ti.try_number)) {
    state = TaskState::kUpForRetry;
    ti.next_try_at = now + std::chrono::duration_cast<std::chrono::microseconds>(
                               RetryDelay(t, ti.try_number));
    retries_.insert({*ti.next_try_at, task});
  }
  TryRecord& tr = tries_[task];
  tr.state = state == TaskState::kUpForRetry ? TaskState::kFailed : state;
  tr.end_date = now;
  tr.exit_code = exit_code;
  tr.error = error;
  ti.state = state;
  ti.end_date = now;
  if (auto st = ex_.store_.PutTry(tr); !st) return st;
  if (auto st = Write(task); !st) return st;
  if (ex_.observer_) ex_.observer_->TryEnded(t, ti.try_number, state, error);
  if (!IsFinished(state)) return {};
  return Apply(plan_.Finish(task, state));
}

Status Executor::RunDriver::HandleResult(const TryResult& r, bool stopping) {
  auto it = running_.find(r.id);
  if (it == running_.end()) return {};
  size_t task = it->second;
  running_.erase(it);
  const Task& t = dag_.tasks[task];
  const TaskInstanceRecord& ti = tis_[task];
  std::string log = TryLogPath(ex_.opts_.logs_dir, dag_.dag_id, run_.run_id, t.id, ti.try_number);
  std::optional<int> code;
  if (r.exit_code >= 0) code = r.exit_code;
  if (stopping) {
    AppendLogLine(log, "terminated: dagctl was asked to stop");
    return EndTry(task, TaskState::kFailed, code, "terminated: dagctl was asked to stop", false);
  }
  if (!r.timed_out && r.exit_code == 0) {
    for (const auto& [key, value] : r.xcom)
      if (auto st = ex_.store_.PutXCom(dag_.dag_id, run_.run_id, {t.id, key, value}); !st) return st;
    if (!r.return_value.empty())
      if (auto st = ex_.store_.PutXCom(dag_.dag_id, run_.run_id, {t.id, "return_value", r.return_value});
          !st)
        return st;
    return EndTry(task, TaskState::kSuccess, code, "", false);
  }
  if (!r.timed_out && r.exit_code == 99) return EndTry(task, TaskState::kSkipped, code, "", false);
  std::string why = DescribeExit(r, t);
  AppendLogLine(log, fmt::format("try {} failed: {}", ti.try_number, why));
  return EndTry(task, TaskState::kFailed, code, why, true);
}

Status Executor::RunDriver::PromoteDueRetries() {
  Timestamp now = Now();
  while (!retries_.empty() && retries_.begin()->first <= now) {
    size_t task = retries_.begin()->second;
    retries_.erase(retries_.begin());
    tis_[task].state = TaskState::kScheduled;
    ready_.push(task);
    if (auto st = Write(task); !st) return st;
  }
  return {};
}

std::optional<Timestamp> Executor::RunDriver::NextRetryAt() const {
  if (retries_.empty()) return std::nullopt;
  return retries_.begin()->first;
}

Result<RunState> Executor::RunDriver::Drive() {
  run_.state = RunState::kRunning;
  if (!run_.start_date) run_.start_date = Now();
  if (auto st = ex_.store_.UpdateDagRun(run_); !st) return Fail(st.error());
  if (auto st = ex_.store_.Transaction([&] { return Apply(plan_.Start()); }); !st)
    return Fail(st.error());

  // Each pass records what ended and starts what is ready in one transaction,
  // then starts the processes, then waits for the next end or retry time.
  std::vector<TryResult> results;
  bool stopping = false;
  while (true) {
    std::vector<Pending> pending;
    auto st = ex_.store_.Transaction([&]() -> Status {
      for (const TryResult& r : results)
        if (auto s = HandleResult(r, stopping); !s) return s;
      if (stopping) return {};
      if (auto s = PromoteDueRetries(); !s) return s;
      return LaunchReady(pending);
    });
    if (st) st = Spawn(pending);
    if (!st) {
      ex_.runner_.TerminateAll();
      return Fail(st.error());
    }
    if (stopping || plan_.Done()) break;
    if (ex_.runner_.StopRequested()) {
      stopping = true;
      results = ex_.runner_.TerminateAll();
      continue;
    }
    if (running_.empty() && ready_.empty() && retries_.empty())
      return Fail(Error::Internal("run " + run_.run_id + " cannot make progress"));
    results = ex_.runner_.Wait(NextRetryAt());
  }

  run_.state = plan_.Done() ? plan_.Outcome() : RunState::kFailed;
  run_.end_date = Now();
  if (auto st = ex_.store_.UpdateDagRun(run_); !st) return Fail(st.error());
  return run_.state;
}

Executor::Executor(Store& store, TryRunner& runner, const Clock& clock, ExecutorOptions opts,
                   RunObserver* observer)
    : store_(store), runner_(runner), clock_(clock), opts_(std::move(opts)), observer_(observer) {}

Executor::~Executor() = default;

Result<RunState> Executor::Run(const Dag& dag, const std::string& run_id) {
  auto run = store_.GetDagRun(dag.dag_id, run_id);
  if (!run) return Fail(run.error());
  auto stored = store_.ListTaskInstances(dag.dag_id, run_id);
  if (!stored) return Fail(stored.error());
  std::map<std::string, TaskInstanceRecord> by_id;
  for (auto& ti : *stored) by_id[ti.task_id] = ti;
  std::vector<TaskInstanceRecord> tis;
  for (const Task& t : dag.tasks) {
    auto it = by_id.find(t.id);
    if (it == by_id.end())
      return Fail(Error::NotFound(fmt::format("run '{}' has no task instance for '{}'", run_id, t.id)));
    tis.push_back(it->second);
  }
  auto params = ResolveParams(dag, run->conf);
  if (!params) return Fail(params.error());
  RunDriver driver(*this, dag, *run, std::move(tis), std::move(*params));
  return driver.Drive();
}

}  // namespace dagctl
