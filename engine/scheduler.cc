#include "engine/scheduler.h"

#include <fmt/format.h>

#include <filesystem>

#include "engine/data_interval.h"
#include "engine/runs.h"

namespace dagctl {

namespace fs = std::filesystem;

Scheduler::Scheduler(Store& store, TryRunner& runner, const Clock& clock,
                     const OperatorRegistry& ops, SchedulerOptions opts, RunObserver* observer)
    : store_(store),
      clock_(clock),
      ops_(ops),
      opts_(std::move(opts)),
      executor_(store, runner, clock, opts_.executor, observer) {}

// Reloads the whole folder when any DAG file was added, removed or changed.
// Runs already going keep the DAG version they started with.
bool Scheduler::ReloadIfChanged() {
  DagFolderStamp now = StampDagFolder(opts_.dags_dir);
  if (loaded_ && now == stamps_) return false;
  stamps_ = std::move(now);
  bag_ = LoadDagFolder(opts_.dags_dir, ops_);
  loaded_ = true;
  return true;
}

Status Scheduler::RecordImportErrors() {
  std::vector<ImportErrorRecord> errors;
  for (const ImportError& e : bag_.errors) {
    std::string trace;
    for (const Diagnostic& d : e.diagnostics) trace += d.ToString() + "\n";
    errors.push_back({e.file, trace, clock_.Now()});
  }
  return store_.ReplaceImportErrors(errors);
}

// Creates every scheduled run whose data interval has ended by `now`, as far
// as max_active_runs allows; without catchup, missed intervals are skipped
// and only the latest is run. Sets `next_due` to the next run_after to come.
Status Scheduler::CreateDueRuns(const Dag& dag, Timestamp now, std::optional<Timestamp>* next_due) {
  if (!dag.schedule || !dag.start_date) return {};
  auto last = store_.LatestScheduledRun(dag.dag_id);
  if (!last) return Fail(last.error());
  auto active = store_.CountDagRuns(
      {.dag_id = dag.dag_id, .states = {RunState::kQueued, RunState::kRunning}});
  if (!active) return Fail(active.error());
  int room = dag.max_active_runs - *active;

  if (dag.schedule->once()) {
    if (!*last && *dag.start_date <= now && room > 0) {
      auto run = CreateRun(store_, dag,
                           {.type = RunType::kScheduled,
                            .logical_date = *dag.start_date,
                            .interval_end = *dag.start_date,
                            .now = now});
      if (!run && run.error().code() != Error::Code::kAlreadyExists) return Fail(run.error());
    } else if (!*last && *dag.start_date > now && (!*next_due || *dag.start_date < **next_due)) {
      *next_due = *dag.start_date;
    }
    return {};
  }
  auto next = IntervalStartingFrom(dag, *last ? (*last)->data_interval_end : *dag.start_date);
  if (next && !dag.catchup)
    if (auto latest = LatestCompleteInterval(dag, now); latest && latest->start > next->start)
      next = latest;
  while (next && next->end <= now && room > 0) {
    auto run = CreateRun(store_, dag,
                         {.type = RunType::kScheduled,
                          .logical_date = next->start,
                          .interval_end = next->end,
                          .now = now});
    if (run)
      --room;
    else if (run.error().code() != Error::Code::kAlreadyExists)
      return Fail(run.error());
    next = IntervalStartingFrom(dag, next->end);
  }
  // Not due yet: wake then. Due but no room: RunFinished() brings us back.
  if (next && next->end > now && (!*next_due || next->end < **next_due)) *next_due = next->end;
  return {};
}

// Hands queued runs (and runs a previous scheduler left running) to the
// executor, oldest logical date first, within each DAG's max_active_runs.
Status Scheduler::StartQueuedRuns() {
  auto runs = store_.ListDagRuns(
      {.states = {RunState::kRunning, RunState::kQueued}, .limit = 100000, .oldest_first = true});
  if (!runs) return Fail(runs.error());
  // Running ones first: they already hold a slot of max_active_runs.
  std::stable_partition(runs->begin(), runs->end(),
                        [](const DagRunRecord& r) { return r.state == RunState::kRunning; });
  for (const DagRunRecord& r : *runs) {
    if (executor_.HasRun(r.dag_id, r.run_id)) continue;
    // Another live process (dagctl run, backfill, another scheduler) has it.
    if (!r.owner.empty() && !OwnerIsGone(r.owner)) continue;
    const Dag* dag = bag_.Find(r.dag_id);
    if (!dag) continue;  // deleted or broken: its runs wait for it to come back
    if (r.state == RunState::kQueued) {
      auto paused = store_.IsPaused(r.dag_id);
      if (!paused) return Fail(paused.error());
      if (*paused) continue;
      if (executor_.ActiveRunsOf(r.dag_id) >= static_cast<size_t>(dag->max_active_runs)) continue;
    }
    std::shared_ptr<const Dag> shared;
    for (const auto& d : bag_.dags)
      if (d->dag_id == r.dag_id) shared = d;
    if (auto st = executor_.AddRun(shared, r.run_id, r.owner); !st) {
      if (st.error().code() == Error::Code::kAlreadyExists) continue;  // claimed first elsewhere
      // One bad run (say, tasks renamed since) must not stop the scheduler.
      fmt::print(stderr, "dagctl scheduler: cannot start run {} of {}: {}\n", r.run_id, r.dag_id,
                 st.error().message());
      DagRunRecord failed = r;
      failed.state = RunState::kFailed;
      failed.end_date = clock_.Now();
      (void)store_.UpdateDagRun(failed);
    }
  }
  return {};
}

Result<std::optional<Timestamp>> Scheduler::Tick() {
  if (ReloadIfChanged()) {
    due_.clear();  // every DAG is looked at again after a reload
    if (auto st = RecordImportErrors(); !st) return Fail(st.error());
  }
  auto paused = store_.PausedDags();
  if (!paused) return Fail(paused.error());
  Timestamp now = clock_.Now();
  if (!last_heartbeat_ || now - *last_heartbeat_ >= std::chrono::seconds(5)) {
    if (auto st = store_.Heartbeat("scheduler", opts_.executor.owner, now); !st)
      return Fail(st.error());
    last_heartbeat_ = now;
  }
  std::optional<Timestamp> next_due;
  for (const auto& dag : bag_.dags) {
    if (paused->count(dag->dag_id)) {
      due_.erase(dag->dag_id);  // looked at afresh once unpaused
      continue;
    }
    auto it = due_.find(dag->dag_id);
    // Known and not yet due (or waiting for a run to finish): nothing to do.
    if (it != due_.end() && (!it->second || *it->second > now)) {
      if (it->second && (!next_due || *it->second < *next_due)) next_due = it->second;
      continue;
    }
    std::optional<Timestamp> dag_due;
    if (auto st = CreateDueRuns(*dag, now, &dag_due); !st) return Fail(st.error());
    due_[dag->dag_id] = dag_due;
    if (dag_due && (!next_due || *dag_due < *next_due)) next_due = dag_due;
  }
  if (auto st = StartQueuedRuns(); !st) return Fail(st.error());
  return next_due;
}

void Scheduler::RunFinished(const std::string& dag_id) {
  // Its max_active_runs slot is free: the DAG may have runs to create.
  due_.erase(dag_id);
}

Status Scheduler::Run() {
  // Each round decides (Tick), then lets the executor work until the next
  // scheduled run is due or the poll interval ends; task ends wake the
  // executor at once, and every pass returns here to start what they freed.
  Timestamp next_tick = clock_.Now();
  std::optional<Timestamp> next_due;
  while (!executor_.StopRequested()) {
    Timestamp now = clock_.Now();
    if (now >= next_tick || (next_due && now >= *next_due)) {
      auto due = Tick();
      if (!due) {
        (void)executor_.Stop(false);
        return Fail(due.error());
      }
      next_due = *due;
      next_tick = now + std::chrono::duration_cast<std::chrono::microseconds>(opts_.poll_interval);
    }
    Timestamp wake = next_due && *next_due < next_tick ? *next_due : next_tick;
    auto finished = executor_.Step(wake);
    if (!finished) {
      (void)executor_.Stop(false);
      return Fail(finished.error());
    }
    // A finished run frees a max_active_runs slot: decide again now.
    for (const FinishedRun& f : *finished) RunFinished(f.dag_id);
    if (!finished->empty()) next_tick = clock_.Now();
  }
  return executor_.Stop(false);
}

}  // namespace dagctl
