#include "engine/run_driver.h"

#include <fmt/format.h>
#include <signal.h>
#include <string.h>

#include <algorithm>
#include <filesystem>

#include "engine/executor.h"
#include "engine/log_file.h"
#include "engine/retry.h"
#include "engine/run_scope.h"

namespace dagctl {

namespace fs = std::filesystem;

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

RunDriver::RunDriver(Env env, std::shared_ptr<const Dag> dag, DagRunRecord run,
                     std::vector<TaskInstanceRecord> tis, std::map<std::string, std::string> params)
    : env_(env),
      dag_(std::move(dag)),
      run_(std::move(run)),
      tis_(std::move(tis)),
      params_(std::move(params)),
      plan_(*dag_, InitialStates()),
      tries_(dag_->tasks.size()),
      cwd_(fs::absolute(dag_->file).parent_path().string()),
      ready_(ReadyOrder{dag_.get()}),
      repoke_(dag_->tasks.size()) {}

std::vector<TaskState> RunDriver::InitialStates() const {
  std::vector<TaskState> states;
  for (const TaskInstanceRecord& ti : tis_) {
    // Finished tasks keep their state; a running try or a retry wait is picked
    // up in Begin(); anything else is decided again from its upstreams.
    bool keep = IsFinished(ti.state) || ti.state == TaskState::kRunning ||
                ti.state == TaskState::kUpForRetry || ti.state == TaskState::kUpForReschedule;
    states.push_back(keep ? ti.state : TaskState::kNone);
  }
  return states;
}

std::string RunDriver::LogPath(size_t task) const {
  return TryLogPath(env_.opts.logs_dir, dag_->dag_id, run_.run_id, dag_->tasks[task].id,
                    tis_[task].try_number);
}

Status RunDriver::Begin() {
  run_.state = RunState::kRunning;
  run_.owner = env_.opts.owner;
  if (!run_.start_date) run_.start_date = Now();
  run_.end_date.reset();
  if (auto st = env_.store.UpdateDagRun(run_); !st) return st;
  return env_.store.Transaction([&]() -> Status {
    for (size_t i = 0; i < tis_.size(); ++i) {
      TaskInstanceRecord& ti = tis_[i];
      if (ti.state == TaskState::kUpForRetry || ti.state == TaskState::kUpForReschedule) {
        repoke_[i] = ti.state == TaskState::kUpForReschedule;
        retries_.insert({ti.next_try_at.value_or(Now()), i});
      } else if (ti.state == TaskState::kRunning) {
        // The engine that ran this try is gone, and its process with it.
        auto tries = env_.store.ListTries(dag_->dag_id, run_.run_id, ti.task_id);
        if (!tries) return Fail(tries.error());
        if (!tries->empty())
          tries_[i] = tries->back();
        else
          tries_[i] = {dag_->dag_id,  run_.run_id,         ti.task_id,
                       ti.try_number, TaskState::kRunning, ti.start_date.value_or(Now())};
        // Its process group may have outlived it (PDEATHSIG reaches only the
        // group leader): end it before the task runs again.
        if (ti.pid > 0) kill(-ti.pid, SIGKILL);
        const char* why = "the try was lost: dagctl stopped while it ran";
        AppendLogLine(LogPath(i), why);
        if (auto st = EndTry(i, TaskState::kFailed, std::nullopt, why, true); !st) return st;
      }
    }
    return Apply(plan_.Start());
  });
}

Status RunDriver::Apply(const std::vector<Decision>& decisions) {
  for (const Decision& d : decisions) {
    TaskInstanceRecord& ti = tis_[d.task];
    ti.state = d.state;
    if (d.state == TaskState::kScheduled) {
      ready_.push(d.task);
    } else {
      ti.end_date = Now();
      if (env_.observer) env_.observer->TaskDecided(dag_->tasks[d.task], d.state);
    }
    if (auto st = Write(d.task); !st) return st;
  }
  return {};
}

Status RunDriver::Launch(size_t budget, std::vector<PendingTry>& out) {
  // Callbacks first: they report on what already happened.
  while (budget > 0 && !callbacks_.empty()) {
    auto cb = PrepareCallback();
    if (!cb) return Fail(cb.error());
    if (!*cb) continue;
    out.push_back(std::move(**cb));
    ++callbacks_running_;
    --budget;
  }
  for (size_t started = 0; started < budget && !ready_.empty();) {
    size_t task = ready_.top();
    ready_.pop();
    size_t before = out.size();
    if (auto st = StartTry(task, out); !st) return st;
    started += out.size() - before;  // a try that failed to prepare takes no slot
  }
  return {};
}

Result<TryRequest> RunDriver::PrepareTry(size_t task, int try_number) {
  const Task& t = dag_->tasks[task];
  auto req = PrepareLaunch(t, t, try_number, {});
  if (!req) return req;
  if (t.op->IsSensor() && t.timeout && tis_[task].first_poke_at) {
    // A poke may take at most what is left of the sensor's timeout.
    auto used = std::chrono::duration_cast<Duration>(Now() - *tis_[task].first_poke_at);
    req->timeout = std::max(Duration(1), *t.timeout - used);
  }
  return req;
}

// Renders `t`'s keys and env in the scope of `scope_task` (the task itself,
// or the task a callback belongs to) and asks its operator for a launch.
Result<TryRequest> RunDriver::PrepareLaunch(const Task& t, const Task& scope_task, int try_number,
                                            const std::map<std::string, std::string>& extra,
                                            const std::string* after_downstream) {
  RunScope scope(*dag_, run_, scope_task, try_number, params_, env_.store, extra);
  // Render every templated operator key: each string in it, however nested.
  Value rendered = t.params;
  for (MapEntry& e : rendered.entries) {
    auto spec = std::find_if(t.op->params().begin(), t.op->params().end(),
                             [&](const ParamSpec& s) { return s.name == e.key; });
    if (spec == t.op->params().end() || !spec->templated) continue;
    std::vector<Value*> todo{&e.value};
    while (!todo.empty()) {
      Value* v = todo.back();
      todo.pop_back();
      for (Value& item : v->items) todo.push_back(&item);
      for (MapEntry& kv : v->entries) todo.push_back(&kv.value);
      if (!v->IsScalar()) continue;
      auto r = RenderTemplate(v->scalar, scope);
      if (!r)
        return Fail(Error::InvalidArgument(fmt::format("'{}': {}", e.key, r.error().message())));
      v->scalar = *r;
    }
  }
  TryRequest req;
  std::map<std::string, std::string> env;
  for (const auto& [k, v] : t.env) {
    auto r = RenderTemplate(v, scope);
    if (!r)
      return Fail(Error::InvalidArgument(fmt::format("env '{}': {}", k, r.error().message())));
    env[k] = *r;
  }
  env["AIRFLOW_CTX_DAG_ID"] = dag_->dag_id;
  env["AIRFLOW_CTX_TASK_ID"] = scope_task.id;
  env["AIRFLOW_CTX_DAG_RUN_ID"] = run_.run_id;
  env["AIRFLOW_CTX_LOGICAL_DATE"] = FormatIso(run_.logical_date);
  env["AIRFLOW_CTX_TRY_NUMBER"] = std::to_string(try_number);
  // Where this dagctl keeps its state, for tasks that talk to it (trigger_dag).
  if (!env_.opts.home.empty()) env["DAGCTL_HOME"] = env_.opts.home;
  if (!env_.opts.dags_dir.empty()) env["DAGCTL_DAGS"] = env_.opts.dags_dir;
  for (const auto& [k, v] : env) req.env.push_back(k + "=" + v);
  for (const std::string& kv : env_.opts.env)
    if (!env.count(kv.substr(0, kv.find('=')))) req.env.push_back(kv);

  TryContext ctx{rendered, dag_->dag_id, run_.run_id, scope_task.id, try_number};
  auto launch = after_downstream ? t.op->AfterDownstreamSuccess(ctx, *after_downstream)
                                 : t.op->Prepare(ctx);
  if (!launch) return Fail(launch.error());
  req.secrets = scope.secrets();
  req.secrets.insert(req.secrets.end(), launch->secrets.begin(), launch->secrets.end());
  req.launch = std::move(*launch);
  req.cwd = cwd_;
  req.timeout = t.timeout;
  return req;
}

Status RunDriver::StartTry(size_t task, std::vector<PendingTry>& out) {
  const Task& t = dag_->tasks[task];
  TaskInstanceRecord& ti = tis_[task];
  bool repoke = repoke_[task];
  repoke_[task] = false;
  ti.state = TaskState::kRunning;
  ti.end_date.reset();
  ti.next_try_at.reset();
  if (!repoke) {
    // A new try. (Another poke of a sensor's try keeps its number, log and start.)
    ti.try_number += 1;
    ti.start_date = Now();
    ti.first_poke_at.reset();
    if (t.op && t.op->IsSensor()) ti.first_poke_at = ti.start_date;
    tries_[task] = {dag_->dag_id, run_.run_id, t.id,         ti.try_number, TaskState::kRunning,
                    *ti.start_date, std::nullopt, std::nullopt, "", env_.opts.hostname, 0};
    if (ti.try_number > 1)
      if (auto st = env_.store.ClearXCom(dag_->dag_id, run_.run_id, t.id); !st) return st;
  } else if (tries_[task].try_number != ti.try_number) {
    // Resumed after a restart: the try's record is in the store.
    auto tries = env_.store.ListTries(dag_->dag_id, run_.run_id, t.id);
    if (!tries) return Fail(tries.error());
    if (!tries->empty()) tries_[task] = tries->back();
  }
  tries_[task].state = TaskState::kRunning;
  tries_[task].end_date.reset();
  if (auto st = Write(task); !st) return st;
  if (auto st = env_.store.PutTry(tries_[task]); !st) return st;
  if (env_.observer && !repoke) env_.observer->TryStarted(t, ti.try_number);

  auto req = PrepareTry(task, ti.try_number);
  if (!req) {
    AppendLogLine(LogPath(task), fmt::format("try {} failed before start: {}", ti.try_number,
                                             req.error().message()));
    return EndTry(task, TaskState::kFailed, std::nullopt, req.error().message(), true);
  }
  req->log_path = LogPath(task);
  out.push_back({task, std::move(*req)});
  return {};
}

Status RunDriver::EndTry(size_t task, TaskState state, std::optional<int> exit_code,
                         const std::string& error, bool may_retry) {
  const Task& t = dag_->tasks[task];
  TaskInstanceRecord& ti = tis_[task];
  Timestamp now = Now();
  if (state == TaskState::kFailed && may_retry && ti.try_number < ti.max_tries) {
    // Tries since the task was last cleared decide the backoff.
    int attempt = std::max(1, ti.try_number - (ti.max_tries - t.retries - 1));
    state = TaskState::kUpForRetry;
    ti.next_try_at =
        now + std::chrono::duration_cast<std::chrono::microseconds>(RetryDelay(t, attempt));
    retries_.insert({*ti.next_try_at, task});
  }
  ti.pid = 0;
  TryRecord& tr = tries_[task];
  tr.state = state == TaskState::kUpForRetry ? TaskState::kFailed : state;
  tr.end_date = now;
  tr.exit_code = exit_code;
  tr.error = error;
  ti.state = state;
  ti.end_date = now;
  if (auto st = env_.store.PutTry(tr); !st) return st;
  if (auto st = Write(task); !st) return st;
  if (env_.observer) env_.observer->TryEnded(t, ti.try_number, state, error);
  const char* event = state == TaskState::kFailed      ? "on_failure"
                      : state == TaskState::kSuccess   ? "on_success"
                      : state == TaskState::kUpForRetry ? "on_retry"
                                                        : nullptr;
  if (event && t.callbacks.count(event)) QueueCallback(task, event, error);
  if (state == TaskState::kSuccess) QueueAfterDownstream(task);
  if (!IsFinished(state)) return {};
  auto st = Apply(plan_.Finish(task, state));
  if (plan_.Done() && !run_callback_queued_) {
    // The run's outcome is known: its own callback goes last.
    run_callback_queued_ = true;
    const char* run_event = plan_.Outcome() == RunState::kSuccess ? "on_success" : "on_failure";
    if (dag_->callbacks.count(run_event)) QueueCallback(kRunCallback, run_event, "");
  }
  return st;
}

// `succeeded` just succeeded: an upstream task whose direct downstream tasks
// have now all succeeded gets its after-downstream work (once).
void RunDriver::QueueAfterDownstream(size_t succeeded) {
  for (size_t u : dag_->graph.upstream[succeeded]) {
    const Task& up = dag_->tasks[u];
    if (!up.op || !up.op->HasAfterDownstream(up.params) || after_downstream_done_.count(u)) continue;
    if (tis_[u].state != TaskState::kSuccess) continue;
    bool all = true;
    for (size_t d : dag_->graph.downstream[u]) all = all && tis_[d].state == TaskState::kSuccess;
    if (!all) continue;
    after_downstream_done_.insert(u);
    QueueCallback(u, "after_downstream", "");
  }
}

void RunDriver::QueueCallback(size_t task, const std::string& event, const std::string& error) {
  callbacks_.push_back({task, event, error});
}

std::string RunDriver::CallbackLog(size_t task, const std::string& event) const {
  if (task != kRunCallback) return LogPath(task);  // beside the try it reports on
  return fmt::format("{}/dag_id={}/run_id={}/callback={}.log", env_.opts.logs_dir, dag_->dag_id,
                     run_.run_id, event);
}

// The next queued callback as a launch. One that cannot even be prepared (a
// template error) is logged and dropped: it never changes a state.
Result<std::optional<PendingTry>> RunDriver::PrepareCallback() {
  CallbackCall call = callbacks_.front();
  callbacks_.pop_front();
  bool whole_run = call.task == kRunCallback;
  bool after = call.event == "after_downstream";
  const Task& cb = whole_run ? *dag_->callbacks.at(call.event)
                   : after   ? dag_->tasks[call.task]
                             : *dag_->tasks[call.task].callbacks.at(call.event);
  const Task& scope_task = whole_run ? cb : dag_->tasks[call.task];
  int try_number = whole_run ? 1 : tis_[call.task].try_number;
  std::map<std::string, std::string> extra = {
      {"exception", call.error},
      {"event", call.event},
      {"state", whole_run ? RunStateName(plan_.Outcome())
                          : TaskStateName(tis_[call.task].state)}};
  std::string log = CallbackLog(call.task, call.event);
  AppendLogLine(log, fmt::format("{} callback {}: starting", call.event, cb.id));
  std::string value;
  if (after) {
    auto x = env_.store.GetXCom(dag_->dag_id, run_.run_id, cb.id, "return_value");
    if (x) value = *x;
  }
  auto req = PrepareLaunch(cb, scope_task, try_number, extra, after ? &value : nullptr);
  if (!req) {
    AppendLogLine(log, fmt::format("{} callback {} could not start: {}", call.event, cb.id,
                                   req.error().message()));
    return std::optional<PendingTry>();
  }
  req->env.push_back("DAGCTL_CALLBACK=" + call.event);
  req->log_path = log;
  return std::optional<PendingTry>(PendingTry{call.task, std::move(*req), true});
}

void RunDriver::OnCallbackEnded(const std::string& log, const TryResult& r) {
  --callbacks_running_;
  std::string how = r.timed_out ? "timed out"
                    : r.term_signal ? fmt::format("was killed by signal {}", r.term_signal)
                    : r.exit_code == 0 ? "succeeded"
                                       : fmt::format("failed with exit code {}", r.exit_code);
  AppendLogLine(log, "callback " + how);
}

Status RunDriver::OnTryEnded(size_t task, const TryResult& r) {
  const Task& t = dag_->tasks[task];
  std::optional<int> code;
  if (r.exit_code >= 0) code = r.exit_code;
  // A try that exited by itself is read by its operator; a killed one failed.
  TryOutcome outcome;
  outcome.kind = TryOutcome::Kind::kFailed;
  if (!r.timed_out && r.term_signal == 0) {
    std::vector<std::string> downstream;
    for (size_t d : dag_->graph.downstream[task]) downstream.push_back(dag_->tasks[d].id);
    outcome = t.op ? t.op->Interpret(r.exit_code, r.return_value, downstream)
                   : StandardOutcome(r.exit_code);
  }
  if (outcome.kind == TryOutcome::Kind::kSuccess) {
    for (const auto& [key, value] : r.xcom)
      if (auto st = env_.store.PutXCom(dag_->dag_id, run_.run_id, {t.id, key, value}); !st)
        return st;
    // A value the operator pushed itself wins over its last stdout line.
    bool pushed = std::any_of(r.xcom.begin(), r.xcom.end(),
                              [](const auto& kv) { return kv.first == "return_value"; });
    if (!r.return_value.empty() && !pushed) {
      XComRecord x{t.id, "return_value", r.return_value};
      if (auto st = env_.store.PutXCom(dag_->dag_id, run_.run_id, x); !st) return st;
    }
    // Branches not taken are skipped before this task's success decides the rest.
    if (auto st = SkipDownstream(task, outcome); !st) return st;
    return EndTry(task, TaskState::kSuccess, code, "", false);
  }
  if (outcome.kind == TryOutcome::Kind::kSkipped)
    return EndTry(task, TaskState::kSkipped, code, "", false);
  if (outcome.kind == TryOutcome::Kind::kNotYet || (r.timed_out && t.op && t.op->IsSensor()))
    return WaitForNextPoke(task, r);
  std::string why = outcome.error.empty() || r.timed_out || r.term_signal ? DescribeExit(r, t)
                                                                          : outcome.error;
  AppendLogLine(LogPath(task), fmt::format("try {} failed: {}", tis_[task].try_number, why));
  return EndTry(task, TaskState::kFailed, code, why, true);
}

// A sensor's condition is not met: poke again after poke_interval, holding
// the slot (mode poke) or not (mode reschedule, state up_for_reschedule);
// past its timeout it fails without retry, or ends skipped with soft_fail.
Status RunDriver::WaitForNextPoke(size_t task, const TryResult& r) {
  const Task& t = dag_->tasks[task];
  TaskInstanceRecord& ti = tis_[task];
  Timestamp now = Now();
  Timestamp first = ti.first_poke_at.value_or(now);
  Timestamp next = now + std::chrono::duration_cast<std::chrono::microseconds>(t.poke_interval);
  bool out_of_time = r.timed_out || (t.timeout && next - first >= *t.timeout);
  if (out_of_time) {
    std::string why = fmt::format("sensor timed out after {} without its condition being met",
                                  FormatDuration(*t.timeout));
    AppendLogLine(LogPath(task), why + (t.soft_fail ? " (soft_fail: skipped)" : ""));
    if (t.soft_fail) return EndTry(task, TaskState::kSkipped, std::nullopt, why, false);
    return EndTry(task, TaskState::kFailed, std::nullopt, why, false);
  }
  repoke_[task] = true;
  ti.next_try_at = next;
  retries_.insert({next, task});
  if (t.reschedule) {
    ti.state = TaskState::kUpForReschedule;
    ti.end_date = now;
  } else {
    poking_.insert(task);  // still running as far as anyone can see
  }
  return Write(task);
}

Status RunDriver::SkipDownstream(size_t task, const TryOutcome& outcome) {
  std::vector<size_t> targets;
  for (const std::string& id : outcome.skip_downstream) targets.push_back(dag_->index.at(id));
  if (outcome.skip_all_downstream) {
    // Every task below, in topological order.
    std::vector<bool> below(dag_->tasks.size());
    below[task] = true;
    for (size_t v : dag_->graph.topo_order)
      for (size_t u : dag_->graph.upstream[v])
        if (below[u]) below[v] = true;
    for (size_t v : dag_->graph.topo_order)
      if (v != task && below[v]) targets.push_back(v);
  }
  return Apply(plan_.Skip(targets));
}

Status RunDriver::OnTryStopped(size_t task, bool may_retry, const std::string& why) {
  AppendLogLine(LogPath(task), why);
  return EndTry(task, TaskState::kFailed, std::nullopt, why, may_retry);
}

Status RunDriver::RecordPid(size_t task, int pid) {
  if (tis_[task].state != TaskState::kRunning) return {};
  tis_[task].pid = pid;
  return Write(task);
}

Status RunDriver::OnStartFailed(size_t task, const std::string& why) {
  AppendLogLine(LogPath(task), why);
  return EndTry(task, TaskState::kFailed, std::nullopt, why, true);
}

Status RunDriver::PromoteDueRetries() {
  Timestamp now = Now();
  while (!retries_.empty() && retries_.begin()->first <= now) {
    size_t task = retries_.begin()->second;
    retries_.erase(retries_.begin());
    poking_.erase(task);
    tis_[task].state = repoke_[task] && !dag_->tasks[task].reschedule ? TaskState::kRunning
                                                                      : TaskState::kScheduled;
    ready_.push(task);
    if (auto st = Write(task); !st) return st;
  }
  return {};
}

std::optional<Timestamp> RunDriver::NextRetryAt() const {
  if (retries_.empty()) return std::nullopt;
  return retries_.begin()->first;
}

Result<RunState> RunDriver::Finish(bool failed) {
  run_.state = !failed && plan_.Done() ? plan_.Outcome() : RunState::kFailed;
  run_.end_date = Now();
  run_.owner.clear();
  if (auto st = env_.store.UpdateDagRun(run_); !st) return Fail(st.error());
  return run_.state;
}

Result<RunState> RunDriver::Release() {
  run_.owner.clear();
  if (auto st = env_.store.UpdateDagRun(run_); !st) return Fail(st.error());
  return run_.state;
}

}  // namespace dagctl
