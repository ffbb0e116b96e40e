#include "engine/run_driver.h"

#include <fmt/format.h>

#include <algorithm>

#include "engine/duration.h"
#include "engine/log_file.h"
#include "engine/mapping.h"
#include "engine/retry.h"
#include "engine/run_scope.h"
#include "engine/runs.h"
#include "engine/try_log.h"
#include "operators/operator.h"

namespace dagctl {

namespace {

// A row about to be written anew for an expansion: nothing of an earlier
// try's process or lease.
TaskInstanceRecord Fresh(TaskInstanceRecord r) {
  r.ForgetTry();
  return r;
}

}  // namespace

Result<std::unique_ptr<RunDriver>> RunDriver::Load(DriverEnv& env,
                                                   std::shared_ptr<const Dag> dag,
                                                   DagRunRecord run) {
  auto stored = env.store.ListTaskInstances(dag->dag_id, run.run_id);
  if (!stored) return Fail(stored.error());
  std::map<std::string, TaskInstanceRecord> by_id;
  std::map<std::string, std::vector<TaskInstanceRecord>> instances;  // in map index order
  for (auto& ti : *stored) {
    if (ti.map_index == -1) by_id[ti.task_id] = ti;
    else instances[ti.task_id].push_back(ti);
  }
  std::vector<TaskInstanceRecord> tis;
  std::vector<std::vector<TaskInstanceRecord>> mapped(dag->tasks.size());
  for (size_t i = 0; i < dag->tasks.size(); ++i) {
    const Task& t = dag->tasks[i];
    if (auto m = instances.find(t.id); m != instances.end() && !t.expand.empty()) {
      for (size_t k = 0; k < m->second.size(); ++k)
        if (m->second[k].map_index != static_cast<int>(k))
          return Fail(Error::Internal(fmt::format("run '{}': task '{}' lacks map index {}",
                                                  run.run_id, t.id, k)));
      mapped[i] = std::move(m->second);
      TaskInstanceRecord whole = mapped[i].front();
      whole.map_index = -1;
      whole.map_values.clear();
      bool fresh = std::all_of(mapped[i].begin(), mapped[i].end(),
                               [](const auto& x) { return x.state == TaskState::kNone; });
      whole.state = fresh ? TaskState::kNone : TaskState::kRunning;
      tis.push_back(std::move(whole));
      continue;
    }
    auto it = by_id.find(t.id);
    if (it == by_id.end())
      return Fail(Error::NotFound(
          fmt::format("run '{}' has no task instance for '{}'", run.run_id, t.id)));
    tis.push_back(it->second);
  }
  return std::unique_ptr<RunDriver>(
      new RunDriver(env, std::move(dag), std::move(run), std::move(tis), std::move(mapped)));
}

RunDriver::RunDriver(DriverEnv& env, std::shared_ptr<const Dag> dag, DagRunRecord run,
                     std::vector<TaskInstanceRecord> tis,
                     std::vector<std::vector<TaskInstanceRecord>> mapped)
    : env_(env),
      dag_(std::move(dag)),
      run_(std::move(run)),
      tis_(std::move(tis)),
      mapped_(std::move(mapped)),
      plan_(*dag_, InitialStates(), InitialInstances()),
      known_version_(run_.ti_version) {}

std::vector<TaskState> RunDriver::InitialStates() const {
  std::vector<TaskState> states;
  for (const TaskInstanceRecord& ti : tis_) states.push_back(ti.state);
  return states;
}

// The instance states of expanded mapped tasks. A mapped task whose
// instances were all cleared is expanded again when its turn comes.
std::vector<std::vector<TaskState>> RunDriver::InitialInstances() const {
  std::vector<std::vector<TaskState>> out(tis_.size());
  for (size_t i = 0; i < tis_.size(); ++i)
    if (tis_[i].state != TaskState::kNone)
      for (const TaskInstanceRecord& m : mapped_[i]) out[i].push_back(m.state);
  return out;
}

Result<bool> RunDriver::Held() {
  if (checked_ || lost_) return !lost_;
  auto held = env_.store.HoldsRun(run_.dag_id, run_.run_id, run_.owner, run_.fence);
  if (!held) return Fail(held.error());
  checked_ = true;
  lost_ = !*held;
  return *held;
}

Status RunDriver::Begin() {
  auto held = Held();
  if (!held) return Fail(held.error());
  if (!*held) return {};
  run_.state = RunState::kRunning;
  if (!run_.start_date) run_.start_date = Now();
  run_.end_date.reset();
  auto updated = env_.store.UpdateHeldRun(run_, false);
  if (!updated) return Fail(updated.error());
  if (!*updated) {
    lost_ = true;
    return {};
  }
  for (size_t i = 0; i < tis_.size(); ++i) {
    if (!plan_.IsExpanded(i)) {
      Track(i, -1);
      if (tis_[i].state == TaskState::kScheduled) Ready(i, -1);
      continue;
    }
    for (TaskInstanceRecord& m : mapped_[i]) {
      Track(i, m.map_index);
      // An instance cleared on its own runs again at once: its task's
      // upstreams are done.
      if (m.state == TaskState::kNone) {
        m.state = TaskState::kScheduled;
        auto ok = env_.store.DecideTaskInstance(m, TaskState::kNone);
        if (!ok) return Fail(ok.error());
        if (!*ok) stale_ = true;
      }
      if (m.state == TaskState::kScheduled) Ready(i, m.map_index);
    }
  }
  if (stale_) return {};
  return Apply(plan_.Start());
}

// Remembers when a task waiting for a retry or a reschedule goes again.
void RunDriver::Track(size_t task, int map_index) {
  const TaskInstanceRecord& ti = Ti(task, map_index);
  if (ti.state == TaskState::kUpForRetry || ti.state == TaskState::kUpForReschedule)
    timers_.insert({ti.next_try_at.value_or(Now()), task, map_index});
}

Status RunDriver::Apply(const std::vector<Decision>& decisions) {
  for (const Decision& d : decisions) {
    if (stale_) return {};
    if (dag_->IsMapped(d.task) && (d.state == TaskState::kScheduled || !mapped_[d.task].empty())) {
      if (auto st = DecideMapped(d); !st) return st;
      continue;
    }
    TaskInstanceRecord& ti = tis_[d.task];
    TaskState expected = ti.state;
    ti.state = d.state;
    if (d.state != TaskState::kScheduled) ti.end_date = Now();
    auto ok = env_.store.DecideTaskInstance(ti, expected);
    if (!ok) return Fail(ok.error());
    if (!*ok) {
      stale_ = true;  // someone else changed it: read the run again
      return {};
    }
    if (d.state == TaskState::kScheduled) Ready(d.task, -1);
    if (d.state != TaskState::kScheduled && env_.observer)
      env_.observer->TaskDecided(ti.key(), d.state);
  }
  return {};
}

Status RunDriver::Finished(size_t task, TaskState state) {
  if (auto st = Apply(plan_.Finish(task, state)); !st) return st;
  if (state == TaskState::kSuccess) QueueAfterDownstream(task);
  return {};
}

Status RunDriver::FinishedInstance(size_t task, int map_index, TaskState state) {
  if (auto st = Apply(plan_.FinishInstance(task, map_index, state)); !st) return st;
  if (plan_.state(task) == TaskState::kSuccess) QueueAfterDownstream(task);
  return {};
}

// A mapped task decided: scheduled expands it; skipped or upstream_failed
// replaces the instances of an earlier expansion (a clear) with its one row.
Status RunDriver::DecideMapped(const Decision& d) {
  if (d.state == TaskState::kScheduled) return Expand(d.task);
  TaskInstanceRecord row = Fresh(tis_[d.task]);
  row.state = d.state;
  row.end_date = Now();
  auto ok = Replace(d.task, {row});
  if (!ok) return Fail(ok.error());
  if (*ok && env_.observer) env_.observer->TaskDecided(row.key(), d.state);
  return {};
}

Result<bool> RunDriver::Replace(size_t task, const std::vector<TaskInstanceRecord>& rows) {
  auto ok = env_.store.ReplaceTaskInstances(run_.dag_id, run_.run_id, dag_->tasks[task].id, rows);
  if (!ok) return Fail(ok.error());
  if (!*ok) {
    stale_ = true;  // someone else changed it: read the run again
    return false;
  }
  if (rows.size() == 1 && rows[0].map_index == -1) {
    tis_[task] = rows[0];
    mapped_[task].clear();
  } else {
    mapped_[task] = rows;
  }
  return true;
}

// Makes a mapped task's lists now that its upstreams are done: one instance
// per element (scheduled), or skipped for an empty list, or failed when the
// lists cannot be made. Instances of an earlier expansion keep counting
// their tries.
Status RunDriver::Expand(size_t task) {
  const Task& t = dag_->tasks[task];
  if (!params_) {
    auto params = ResolveParams(*dag_, run_.conf);
    if (!params) return FailMapped(task, params.error().message());
    params_ = std::move(*params);
  }
  RunScope scope(*dag_, run_, t, 1, *params_, env_.store);
  auto e = dagctl::Expand(t, scope);
  if (!e) return FailMapped(task, e.error().message());
  if (e->count == 0) {
    TaskInstanceRecord row = Fresh(tis_[task]);
    row.state = TaskState::kSkipped;
    row.end_date = Now();
    auto ok = Replace(task, {row});
    if (!ok) return Fail(ok.error());
    if (!*ok) return {};
    if (env_.observer) env_.observer->TaskDecided(row.key(), TaskState::kSkipped);
    return Apply(plan_.Finish(task, TaskState::kSkipped));
  }
  std::vector<TaskInstanceRecord> rows;
  rows.reserve(e->count);
  for (size_t k = 0; k < e->count; ++k) {
    TaskInstanceRecord r = Fresh(k < mapped_[task].size() ? mapped_[task][k] : tis_[task]);
    r.map_index = static_cast<int>(k);
    r.state = TaskState::kScheduled;
    r.map_values = InstanceValues(*e, k);
    rows.push_back(std::move(r));
  }
  auto ok = Replace(task, rows);
  if (!ok) return Fail(ok.error());
  if (!*ok) return {};
  plan_.Expanded(task, rows.size());
  for (size_t k = 0; k < rows.size(); ++k) Ready(task, static_cast<int>(k));
  return {};
}

// The mapped task fails without running: a try that says why, and the
// task's on_failure.
Status RunDriver::FailMapped(size_t task, const std::string& why) {
  TaskInstanceRecord row = Fresh(tis_[task]);
  Timestamp now = Now();
  row.state = TaskState::kFailed;
  row.try_number += 1;
  row.max_tries = std::max(row.max_tries, row.try_number);
  row.start_date = row.end_date = now;
  auto ok = Replace(task, {row});
  if (!ok) return Fail(ok.error());
  if (!*ok) return {};
  TryRecord tr{row.dag_id, row.run_id, row.task_id, -1, row.try_number, TaskState::kFailed, now};
  tr.end_date = now;
  tr.error = why;
  if (auto st = env_.store.PutTry(tr); !st) return st;
  Log(row, fmt::format("try {} failed before start: {}", row.try_number, why));
  if (dag_->tasks[task].callbacks.count("on_failure"))
    if (auto st = AddCallback(task, -1, "on_failure", why); !st) return st;
  if (env_.observer) env_.observer->TryEnded(row.key(), row.try_number, TaskState::kFailed, why);
  return Finished(task, TaskState::kFailed);
}

void RunDriver::Log(const TaskInstanceRecord& ti, const std::string& line) {
  if (env_.ship_logs)
  {
    std::string text = FormatLogLine(NowUtc(), LogStream::kDagctl, line);
    text.pop_back();  // AppendTryLogLine adds the newline
    (void)env_.store.AppendTryLogLine(ti.key(), ti.try_number, text);
  }
  else
    AppendLogLine(TryLogPath(env_.logs_dir, ti.key(), ti.try_number), line);
}

Result<bool> RunDriver::Sync(const std::vector<TaskInstanceRecord>& changed) {
  auto held = Held();
  if (!held) return Fail(held.error());
  if (!*held) return true;
  // Tasks a branch skipped (undecided until now) go first, all at once, so
  // that this report's success does not decide them.
  std::vector<size_t> skipped;
  std::vector<std::pair<size_t, TaskState>> ended;
  std::vector<std::tuple<size_t, int, TaskState>> ended_instances;
  for (const TaskInstanceRecord& c : changed) {
    known_version_ = std::max(known_version_, c.version);
    auto it = dag_->index.find(c.task_id);
    if (it == dag_->index.end()) continue;
    size_t i = it->second;
    if (c.map_index >= 0) {
      auto ok = SyncInstance(i, c, skipped, ended_instances);
      if (!ok || !*ok) return ok;
      continue;
    }
    if (plan_.IsExpanded(i) || !mapped_[i].empty()) return false;  // collapsed by someone else
    TaskState before = plan_.state(i);
    NotReady(i, -1);
    tis_[i] = c;
    if (c.state == TaskState::kScheduled) Ready(i, -1);
    if (before == c.state) continue;
    // Cleared or marked by hand: the plan cannot go back; rebuild.
    if (IsFinished(before) || (c.state == TaskState::kNone && before != TaskState::kNone))
      return false;
    if (c.state == TaskState::kSkipped && before == TaskState::kNone) {
      skipped.push_back(i);
    } else if (IsFinished(c.state)) {
      ended.emplace_back(i, c.state);
    } else {
      plan_.Set(i, c.state);
      Track(i, -1);
    }
  }
  if (auto st = Apply(plan_.Skip(skipped)); !st) return Fail(st.error());
  for (auto [i, state] : ended)
    if (auto st = Finished(i, state); !st) return Fail(st.error());
  for (auto [i, k, state] : ended_instances)
    if (auto st = FinishedInstance(i, k, state); !st) return Fail(st.error());
  return !stale_;
}

// One mapped instance changed by others (its worker's report, a clear, a
// branch that skipped its task). False when the driver cannot follow.
Result<bool> RunDriver::SyncInstance(size_t i, const TaskInstanceRecord& c,
                                     std::vector<size_t>& skipped,
                                     std::vector<std::tuple<size_t, int, TaskState>>& ended) {
  size_t k = static_cast<size_t>(c.map_index);
  if (k >= mapped_[i].size()) return false;
  TaskState before = mapped_[i][k].state;
  NotReady(i, c.map_index);
  mapped_[i][k] = c;
  if (!plan_.IsExpanded(i)) {
    // A cleared expansion that a branch skipped before it was made again.
    if (c.state != TaskState::kSkipped || plan_.state(i) != TaskState::kNone) return false;
    if (std::find(skipped.begin(), skipped.end(), i) == skipped.end()) skipped.push_back(i);
    return true;
  }
  if (c.state == TaskState::kScheduled) Ready(i, c.map_index);
  if (before == c.state) return true;
  if (IsFinished(before) || (c.state == TaskState::kNone && before != TaskState::kNone))
    return false;
  if (IsFinished(c.state)) ended.emplace_back(i, c.map_index, c.state);
  else Track(i, c.map_index);
  return true;
}

Status RunDriver::Reap(const std::vector<TaskInstanceRecord>& expired) {
  auto held = Held();
  if (!held) return Fail(held.error());
  if (!*held) return {};
  for (const TaskInstanceRecord& e : expired) {
    auto it = dag_->index.find(e.task_id);
    if (it == dag_->index.end()) continue;
    size_t i = it->second;
    if (e.map_index >= static_cast<int>(mapped_[i].size())) continue;
    const Task& t = dag_->tasks[i];
    Timestamp now = Now();
    std::string why = fmt::format("worker {} on {} stopped renewing its lease", e.worker,
                                  e.hostname.empty() ? "an unknown host" : e.hostname);
    TaskInstanceRecord ti = e;
    ti.state = TaskState::kFailed;
    ti.next_try_at.reset();
    if (ti.try_number < ti.max_tries) {
      int attempt = std::max(1, ti.try_number - (ti.max_tries - t.retries - 1));
      ti.state = TaskState::kUpForRetry;
      ti.next_try_at = now + std::chrono::duration_cast<std::chrono::microseconds>(RetryDelay(t, attempt));
    }
    ti.end_date = now;
    ti.worker.clear();
    ti.lease_until.reset();
    ti.pid = 0;
    ti.first_poke_at.reset();
    auto tr = EndedTry(e, TaskState::kFailed, why);
    if (!tr) return Fail(tr.error());
    auto ok = env_.store.ExpireTry(ti, *tr);
    if (!ok) return Fail(ok.error());
    if (!*ok) continue;  // renewed or reported meanwhile
    Log(ti, fmt::format("try {} was lost: {}", ti.try_number, why));
    Ti(i, ti.map_index) = ti;
    const char* event = ti.state == TaskState::kFailed ? "on_failure" : "on_retry";
    if (t.callbacks.count(event))
      if (auto st = AddCallback(i, ti.map_index, event, why); !st) return st;
    if (env_.observer) env_.observer->TryEnded(ti.key(), ti.try_number, ti.state, why);
    if (ti.state == TaskState::kFailed) {
      auto st = ti.map_index < 0 ? Finished(i, TaskState::kFailed)
                                 : FinishedInstance(i, ti.map_index, TaskState::kFailed);
      if (!st) return st;
    } else {
      if (ti.map_index < 0) plan_.Set(i, ti.state);
      Track(i, ti.map_index);
    }
  }
  return {};
}

// The record of try `e.try_number` of `e` ending now in `state`: the try's row
// if its worker wrote one (a sensor's), else one made from the task instance.
Result<TryRecord> RunDriver::EndedTry(const TaskInstanceRecord& e, TaskState state,
                                      const std::string& why) {
  return EndedTryRecord(env_.store, e, state, why, Now());
}

Status RunDriver::PromoteDue() {
  Timestamp now = Now();
  if (timers_.empty() || std::get<0>(*timers_.begin()) > now) return {};
  auto held = Held();
  if (!held) return Fail(held.error());
  if (!*held) return {};
  while (!timers_.empty() && std::get<0>(*timers_.begin()) <= now) {
    auto [at, i, map_index] = *timers_.begin();
    timers_.erase(timers_.begin());
    TaskInstanceRecord& ti = Ti(i, map_index);
    if (ti.state != TaskState::kUpForRetry && ti.state != TaskState::kUpForReschedule) continue;
    TaskState expected = ti.state;
    ti.state = TaskState::kScheduled;
    auto ok = env_.store.DecideTaskInstance(ti, expected);
    if (!ok) return Fail(ok.error());
    if (!*ok) {
      stale_ = true;
      return {};
    }
    if (map_index < 0) plan_.Set(i, TaskState::kScheduled);
    Ready(i, map_index);
  }
  return {};
}

Result<bool> RunDriver::SyncReported(const std::vector<TryReported>& reports) {
  std::vector<const TryReported*> order;
  for (const TryReported& r : reports) order.push_back(&r);
  std::sort(order.begin(), order.end(),
            [](auto* a, auto* b) { return a->ti.version < b->ti.version; });
  for (size_t k = 0; k < order.size(); ++k)
    if (order[k]->ti.version != known_version_ + static_cast<int64_t>(k) + 1) return false;
  std::vector<TaskInstanceRecord> changed;
  for (const TryReported* r : order) {
    changed.push_back(r->ti);
    // The report skipped these if they were undecided; the plan knows which.
    for (const std::string& id : r->skipped) {
      auto it = dag_->index.find(id);
      if (it == dag_->index.end() || plan_.state(it->second) != TaskState::kNone) continue;
      // A mapped task cleared after its expansion: rebuild from the store.
      if (!mapped_[it->second].empty()) return false;
      TaskInstanceRecord skipped = tis_[it->second];
      skipped.state = TaskState::kSkipped;
      skipped.end_date = r->ti.end_date;
      skipped.version = r->ti.version;
      changed.push_back(skipped);
    }
  }
  auto st = Sync(changed);
  if (!st) return Fail(st.error());
  if (!*st) stale_ = true;  // read the run again
  return true;
}

void RunDriver::AppendReady(std::vector<TaskInstanceRecord>& out, size_t limit) const {
  size_t taken = 0;
  for (auto [weight, i, map_index] : ready_) {
    if (taken++ == limit) break;
    const TaskInstanceRecord& ti = Ti(i, map_index);
    if (ti.state == TaskState::kScheduled) out.push_back(ti);
  }
}

void RunDriver::HandedOff(const TiKey& key) {
  auto it = dag_->index.find(key.task_id);
  if (it == dag_->index.end() || key.map_index >= static_cast<int>(mapped_[it->second].size()))
    return;
  NotReady(it->second, key.map_index);
  Ti(it->second, key.map_index).state = TaskState::kRunning;
  if (key.map_index < 0) plan_.Set(it->second, TaskState::kRunning);
}

// `succeeded` just succeeded: an upstream task whose direct downstream tasks
// have now all succeeded gets its after-downstream work (once).
void RunDriver::QueueAfterDownstream(size_t succeeded) {
  for (size_t u : dag_->graph.upstream[succeeded]) {
    const Task& up = dag_->tasks[u];
    if (!up.op || !up.op->HasAfterDownstream(up.params) || after_downstream_done_.count(u)) continue;
    if (plan_.state(u) != TaskState::kSuccess) continue;
    bool all = true;
    for (size_t d : dag_->graph.downstream[u]) all = all && plan_.state(d) == TaskState::kSuccess;
    if (!all) continue;
    after_downstream_done_.insert(u);
    (void)AddCallback(u, -1, "after_downstream", "");
  }
}

Status RunDriver::AddCallback(size_t task, int map_index, const std::string& event,
                              const std::string& error, const std::string& reason) {
  CallbackRecord c;
  c.dag_id = run_.dag_id;
  c.run_id = run_.run_id;
  c.event = event;
  c.error = error;
  c.reason = reason;
  c.dag_hash = run_.dag_hash;
  c.created_at = Now();
  if (task < tis_.size()) {
    const TaskInstanceRecord& ti = Ti(task, map_index);
    c.task_id = ti.task_id;
    c.map_index = ti.map_index;
    c.try_number = std::max(1, ti.try_number);
    c.state = TaskStateName(ti.state);
    c.queue = dag_->tasks[task].queue;
  } else {
    c.state = RunStateName(run_.state);
    c.queue = dag_->callbacks.at(event)->queue;
  }
  ++env_.callbacks_added;
  return env_.store.AddCallback(c);
}

Result<RunState> RunDriver::Finish(bool failed) {
  RunState state = !failed && plan_.Done() ? plan_.Outcome() : RunState::kFailed;
  return End(state, state == RunState::kSuccess ? "success" : "task_failure", "");
}

// Records the run's end, queues its on_success / on_failure (with Airflow's
// reason, and `why` as its exception) and gives the run up.
Result<RunState> RunDriver::End(RunState state, const std::string& reason, const std::string& why) {
  run_.state = state;
  run_.end_date = Now();
  auto ok = env_.store.UpdateHeldRun(run_, true);
  if (!ok) return Fail(ok.error());
  if (!*ok) {
    lost_ = true;
    return run_.state;
  }
  const char* event = run_.state == RunState::kSuccess ? "on_success" : "on_failure";
  if (dag_->callbacks.count(event))
    if (auto st = AddCallback(tis_.size(), -1, event, why, reason); !st) return Fail(st.error());
  if (env_.observer) env_.observer->RunEnded(run_, why);
  return run_.state;
}

std::optional<Timestamp> RunDriver::Deadline() const {
  if (!dag_->dagrun_timeout || !run_.start_date) return std::nullopt;
  return *run_.start_date +
         std::chrono::duration_cast<std::chrono::microseconds>(*dag_->dagrun_timeout);
}

bool RunDriver::TimedOut() const {
  auto deadline = Deadline();
  return deadline && Now() >= *deadline;
}

// Airflow's scheduler (_schedule_dag_run) on a run past its dagrun_timeout:
// every unfinished task instance skipped, the run failed, on_failure queued
// with reason timed_out. The store's copy of the task instances is read:
// only it knows the try numbers and workers of tries claimed since.
Result<RunState> RunDriver::TimeOut() {
  auto held = Held();
  if (!held) return Fail(held.error());
  if (!*held) return run_.state;
  std::string why = fmt::format("run timed out: still going {} after it started (dagrun_timeout)",
                                FormatDuration(*dag_->dagrun_timeout));
  auto stored = env_.store.ListTaskInstances(run_.dag_id, run_.run_id);
  if (!stored) return Fail(stored.error());
  int stopped = env_.tries_stopped;
  for (const TaskInstanceRecord& ti : *stored) {
    if (IsFinished(ti.state)) continue;
    if (auto st = SkipUnfinished(ti, why); !st) return Fail(st.error());
    if (stale_) return run_.state;
  }
  if (env_.tries_stopped != stopped)
    if (auto st = env_.store.Notify("dagctl_stopped", ""); !st) return Fail(st.error());
  return End(RunState::kFailed, "timed_out", why);
}

// Skips `ti`, unfinished in a run that timed out. A try that was running (or
// a sensor waiting for its next poke) ends skipped with `why` as its error;
// its worker finds the lease gone and stops the process.
Status RunDriver::SkipUnfinished(const TaskInstanceRecord& ti, const std::string& why) {
  TaskInstanceRecord skipped = ti;
  skipped.state = TaskState::kSkipped;
  skipped.end_date = Now();
  skipped.next_try_at.reset();
  skipped.worker.clear();
  skipped.lease_until.reset();
  skipped.pid = 0;
  skipped.first_poke_at.reset();
  bool had_try = ti.state == TaskState::kRunning || ti.state == TaskState::kUpForReschedule;
  auto ok = env_.store.DecideTaskInstance(skipped, ti.state);
  if (!ok) return Fail(ok.error());
  if (!*ok) {
    stale_ = true;  // someone else changed it: read the run again
    return {};
  }
  if (auto it = dag_->index.find(ti.task_id);
      it != dag_->index.end() && ti.map_index < static_cast<int>(mapped_[it->second].size())) {
    NotReady(it->second, ti.map_index);
    Ti(it->second, ti.map_index) = skipped;
  }
  if (!had_try) {
    if (env_.observer) env_.observer->TaskDecided(ti.key(), TaskState::kSkipped);
    return {};
  }
  auto tr = EndedTry(ti, TaskState::kSkipped, why);
  if (!tr) return Fail(tr.error());
  if (auto st = env_.store.PutTry(*tr); !st) return st;
  if (ti.state == TaskState::kRunning) ++env_.tries_stopped;
  if (env_.observer) env_.observer->TryEnded(ti.key(), ti.try_number, TaskState::kSkipped, why);
  return {};
}

Status RunDriver::Release() {
  auto ok = env_.store.UpdateHeldRun(run_, true);
  if (!ok) return Fail(ok.error());
  return {};
}

std::optional<Timestamp> RunDriver::NextWake() const {
  std::optional<Timestamp> wake = Deadline();
  if (!timers_.empty() && (!wake || std::get<0>(*timers_.begin()) < *wake))
    wake = std::get<0>(*timers_.begin());
  return wake;
}

}  // namespace dagctl
