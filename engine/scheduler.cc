#include "engine/scheduler.h"

#include <fmt/format.h>

#include <algorithm>

#include "engine/assets.h"
#include "engine/data_interval.h"
#include "engine/queueing.h"
#include "engine/runs.h"

namespace dagctl {

namespace {

template <typename D>
Timestamp After(Timestamp t, D d) {
  return t + std::chrono::duration_cast<std::chrono::microseconds>(d);
}

// At most this many scheduled tries are read per round of queueing.
constexpr int kQueueBatch = 512;

}  // namespace

Scheduler::Scheduler(Store& store, const Clock& clock, const OperatorRegistry& ops, DagCache& dags,
                     SchedulerOptions opts, RunObserver* observer)
    : store_(store),
      clock_(clock),
      ops_(ops),
      dags_(dags),
      opts_(std::move(opts)),
      observer_(observer),
      env_{store, clock, observer, opts_.logs_dir, opts_.ship_logs} {}

Scheduler::~Scheduler() = default;

RunDriver* Scheduler::Find(const std::string& dag_id, const std::string& run_id) {
  for (auto& d : drivers_)
    if (d->run().dag_id == dag_id && d->run().run_id == run_id) return d.get();
  return nullptr;
}

size_t Scheduler::ActiveRunsOf(const std::string& dag_id) const {
  size_t n = 0;
  for (const auto& d : drivers_) n += d->run().dag_id == dag_id;
  return n;
}

bool Scheduler::HasRun(const std::string& dag_id, const std::string& run_id) const {
  for (const auto& d : drivers_)
    if (d->run().dag_id == dag_id && d->run().run_id == run_id) return true;
  return false;
}

// --- Runs this process holds ---------------------------------------------------------

Status Scheduler::AddRun(std::shared_ptr<const Dag> dag, const std::string& run_id) {
  if (HasRun(dag->dag_id, run_id)) return {};
  dags_.Add(dag);
  auto run = store_.GetDagRun(dag->dag_id, run_id);
  if (!run) return Fail(run.error());
  dags_.Add(dag, run->dag_hash);  // what this process runs for it, whatever its version
  if (run->owner != opts_.owner) {
    auto fence = store_.ClaimRun(dag->dag_id, run_id, run->fence, opts_.owner, opts_.lease,
                                 RunState::kRunning);
    if (!fence) return Fail(fence.error());
    if (!*fence)
      return Fail(Error::AlreadyExists(
          fmt::format("run '{}' of '{}' is taken by another process", run_id, dag->dag_id)));
    run->owner = opts_.owner;
    run->fence = **fence;
  }
  auto driver = RunDriver::Load(env_, dag, *run);
  if (!driver) return Fail(driver.error());
  if (auto st = (*driver)->Begin(); !st) return st;
  drivers_.push_back(std::move(*driver));
  added_.insert({dag->dag_id, run_id});
  return {};
}

// The DAG a run executes: the version it was created from (from the store),
// or, for a run older than version keeping, the folder's current one.
std::shared_ptr<const Dag> Scheduler::DagFor(const DagRunRecord& run) {
  auto dag = dags_.Get(store_, run.dag_id, run.dag_hash);
  if (dag) return *dag;
  if (const Dag* current = bag_.Find(run.dag_id)) {
    for (const auto& d : bag_.dags)
      if (d.get() == current) return d;
  }
  if (opts_.verbose && warned_.insert(run.dag_id + "/" + run.run_id).second)
    fmt::print(stderr, "dagctl scheduler: dag_id={} run_id={}: cannot run here: {}\n", run.dag_id,
               run.run_id, dag.error().message());
  return nullptr;
}

// Starts driving a run this process now holds; a run that cannot be driven
// (its tasks changed under an unknown version) ends failed with the reason.
Status Scheduler::TakeRun(const DagRunRecord& run) {
  std::shared_ptr<const Dag> dag = DagFor(run);
  if (!dag) return {};
  auto driver = RunDriver::Load(env_, dag, run);
  if (!driver) {
    fmt::print(stderr, "dagctl scheduler: dag_id={} run_id={}: cannot start the run: {}\n",
               run.dag_id, run.run_id, driver.error().message());
    DagRunRecord failed = run;
    failed.state = RunState::kFailed;
    failed.end_date = clock_.Now();
    auto ok = store_.UpdateHeldRun(failed, true);
    if (!ok) return Fail(ok.error());
    return {};
  }
  if (auto st = (*driver)->Begin(); !st) return st;
  drivers_.push_back(std::move(*driver));
  return {};
}

// Renews (or just reads) the leases of the runs this process holds: drops
// drivers of runs it lost, loads drivers of held runs it does not drive
// (after a failed pass), and notes each run's ti_version.
Status Scheduler::FollowHeldRuns(bool renew) {
  // First the runs' rows, locked in key order (before anything else of them
  // is written: a worker reporting on them waits, and never the other way).
  auto held = store_.ListHeldRuns(opts_.owner);
  if (!held) return Fail(held.error());
  if (renew) {
    auto renewed = store_.RenewRunLeases(opts_.owner, opts_.lease);
    if (!renewed) return Fail(renewed.error());
  }
  held_versions_.clear();
  for (const HeldRun& h : *held) held_versions_[{h.dag_id, h.run_id}] = h.ti_version;
  std::erase_if(drivers_, [&](const auto& d) {
    return !held_versions_.count({d->run().dag_id, d->run().run_id});
  });
  std::map<std::pair<std::string, std::string>, int64_t> fences;
  for (const HeldRun& h : *held) fences[{h.dag_id, h.run_id}] = h.fence;
  for (auto& d : drivers_) d->Checked(fences.at({d->run().dag_id, d->run().run_id}));
  for (const HeldRun& h : *held) {
    if (Find(h.dag_id, h.run_id)) continue;
    // Without a folder, only the runs given to AddRun (a backfill holds its
    // later runs before it starts them).
    if (!folder_mode() && !added_.count({h.dag_id, h.run_id})) continue;
    auto run = store_.GetDagRun(h.dag_id, h.run_id);
    if (!run) return Fail(run.error());
    if (auto st = TakeRun(*run); !st) return st;
  }
  return {};
}

// Takes runs nobody holds: queued ones within their DAG's max_active_runs
// (counted under the DAG's row lock), and running ones whose owner's lease
// ran out (a scheduler that died or froze).
Status Scheduler::ClaimRuns() {
  auto claimable = store_.ListClaimableRuns(200);
  if (!claimable) return Fail(claimable.error());
  auto paused = store_.PausedDags();
  if (!paused) return Fail(paused.error());
  for (const ClaimableRun& c : *claimable) {
    if (HasRun(c.dag_id, c.run_id)) continue;
    const Dag* dag = bag_.Find(c.dag_id);
    std::optional<int64_t> fence;
    auto st = store_.Transaction([&]() -> Status {
      if (c.state == RunState::kQueued) {
        if (!dag || paused->count(c.dag_id)) return {};
        auto locked = store_.LockDag(c.dag_id);
        if (!locked) return Fail(locked.error());
        if (!*locked) return {};  // another scheduler is deciding for this DAG
        auto active = store_.CountDagRuns({.dag_id = c.dag_id, .states = {RunState::kRunning}});
        if (!active) return Fail(active.error());
        if (*active >= dag->max_active_runs) return {};
        // A backfill's own limit counts the DAG's running backfill runs.
        if (c.run_type == RunType::kBackfill && c.max_active_runs > 0) {
          auto backfilling = store_.CountDagRuns(
              {.dag_id = c.dag_id, .states = {RunState::kRunning}, .types = {RunType::kBackfill}});
          if (!backfilling) return Fail(backfilling.error());
          if (*backfilling >= c.max_active_runs) return {};
        }
      }
      auto claimed = store_.ClaimRun(c.dag_id, c.run_id, c.fence, opts_.owner, opts_.lease,
                                     RunState::kRunning);
      if (!claimed) return Fail(claimed.error());
      fence = *claimed;
      return {};
    });
    if (!st) return st;
    if (!fence) continue;
    auto run = store_.GetDagRun(c.dag_id, c.run_id);
    if (!run) return Fail(run.error());
    if (!c.owner.empty() && opts_.verbose)
      fmt::print(stderr,
                 "dagctl scheduler: dag_id={} run_id={}: took over run from {} (its lease ran out)\n",
                 c.dag_id, c.run_id, c.owner);
    if (auto s = TakeRun(*run); !s) return s;
  }
  return {};
}

// --- Creating runs ----------------------------------------------------------------------

// Reloads the whole folder when any DAG file was added, removed or changed;
// stores each new version's text. Runs already going keep their version.
Status Scheduler::ReloadIfChanged(Timestamp now) {
  DagFolderStamp stamp = StampDagFolder(opts_.dags_dir);
  if (loaded_ && stamp == stamps_) return {};
  DagBag bag = LoadDagFolder(opts_.dags_dir, ops_);
  std::vector<std::string> ids;
  for (const auto& dag : bag.dags) ids.push_back(dag->dag_id);
  auto st = store_.Transaction([&]() -> Status {
    if (auto s = store_.EnsureDags(ids); !s) return s;
    if (auto s = store_.SyncAssetReferences(AssetReferences(bag.dags), true); !s) return s;
    for (const auto& dag : bag.dags) {
      DagVersionRecord v{dag->dag_id, dag->file_hash, VersionPath(opts_.dags_dir, dag->file),
                         dag->source, now};
      if (auto s = store_.PutDagVersion(v); !s) return s;
    }
    std::vector<ImportErrorRecord> errors;
    for (const ImportError& e : bag.errors) {
      std::string trace;
      for (const Diagnostic& d : e.diagnostics) trace += d.ToString() + "\n";
      errors.push_back({e.file, trace, now});
    }
    return store_.ReplaceImportErrors(errors);
  });
  if (!st) return st;
  for (const auto& dag : bag.dags) dags_.Add(dag);
  bag_ = std::move(bag);
  stamps_ = std::move(stamp);
  loaded_ = true;
  due_.clear();  // every DAG is looked at again after a reload
  return {};
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
      created_ = created_ || run.has_value();
    } else if (!*last && *dag.start_date > now) {
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
    if (run) {
      --room;
      created_ = true;
    } else if (run.error().code() != Error::Code::kAlreadyExists)
      return Fail(run.error());
    next = IntervalStartingFrom(dag, next->end);
  }
  // Not due yet: wake then. Due but no room: a finished run brings us back.
  if (next && next->end > now) *next_due = next->end;
  return {};
}

Status Scheduler::CreateRuns(Timestamp now, const std::set<std::string>& paused) {
  for (const auto& dag : bag_.dags) {
    if (paused.count(dag->dag_id)) {
      due_.erase(dag->dag_id);  // looked at afresh once unpaused
      continue;
    }
    auto it = due_.find(dag->dag_id);
    // Known and not yet due (or waiting for a run to finish): nothing to do.
    if (it != due_.end() && (!it->second || *it->second > now)) continue;
    std::optional<Timestamp> dag_due;
    bool locked = false;
    // The DAG's row lock: one scheduler at a time creates its runs (the
    // unique index on (dag_id, logical_date) holds even without it).
    auto st = store_.Transaction([&]() -> Status {
      auto lock = store_.LockDag(dag->dag_id);
      if (!lock) return Fail(lock.error());
      locked = *lock;
      if (!locked) return {};
      return CreateDueRuns(*dag, now, &dag_due);
    });
    if (!st) return st;
    if (!locked) continue;  // another scheduler has it; look again next time
    due_[dag->dag_id] = dag_due;
  }
  return {};
}

// Airflow's dags_needing_dagruns for assets: a DAG whose every asset has a
// queue entry (a new event since its last dataset-triggered run) and that is
// not paused gets a run; a paused one keeps its queue for when it resumes.
Status Scheduler::CreateAssetTriggeredRuns(Timestamp now, const std::set<std::string>& paused) {
  auto queue = store_.ListAssetQueue({});
  if (!queue) return Fail(queue.error());
  for (const auto& dag : bag_.dags) {
    if (!IsAssetScheduled(*dag) || paused.count(dag->dag_id)) continue;
    if (!PlanAssetTriggeredRun(*dag, *queue, {})) continue;
    auto st = store_.Transaction([&]() -> Status {
      auto lock = store_.LockDag(dag->dag_id);
      if (!lock) return Fail(lock.error());
      if (!*lock) return {};  // another scheduler is creating this DAG's runs
      return CreateAssetTriggeredRun(*dag, now);
    });
    if (!st) return st;
  }
  return {};
}

// Under the DAG's lock: reads its queue again (another scheduler may have
// consumed it), creates the run with the events it consumes, empties the queue.
Status Scheduler::CreateAssetTriggeredRun(const Dag& dag, Timestamp now) {
  auto queue = store_.ListAssetQueue({.dag_id = dag.dag_id});
  if (!queue) return Fail(queue.error());
  auto due = PlanAssetTriggeredRun(dag, *queue, {});
  if (!due) return {};
  auto previous = store_.ListDagRuns(
      {.dag_id = dag.dag_id, .types = {RunType::kDatasetTriggered}, .limit = 1});
  if (!previous) return Fail(previous.error());
  AssetEventQuery q{.uris = dag.schedule_assets, .until = due->logical_date, .limit = 1000000};
  if (!previous->empty()) q.after = previous->front().logical_date;
  auto events = store_.ListAssetEvents(q);
  if (!events) return Fail(events.error());
  auto plan = PlanAssetTriggeredRun(dag, *queue, *events);
  if (!plan) return {};
  auto run = CreateRun(store_, dag,
                       {.type = RunType::kDatasetTriggered,
                        .logical_date = plan->logical_date,
                        .interval_end = plan->data_interval_end,
                        .interval_start = plan->data_interval_start,
                        .now = now});
  if (!run) return Fail(run.error());
  created_ = true;
  return store_.ConsumeAssetEvents(dag.dag_id, run->run_id, plan->event_ids);
}

// --- Following runs -----------------------------------------------------------------------

// Reads what changed in the runs this process's worker reported on, and in
// any run whose ti_version moved past what its driver knows.
Status Scheduler::SyncDrivers(const RunReports& reported) {
  for (size_t i = 0; i < drivers_.size(); ++i) {
    RunDriver& d = *drivers_[i];
    auto key = std::make_pair(d.run().dag_id, d.run().run_id);
    auto mine = reported.find(key);
    // This process's own worker reported, and nothing else changed the run:
    // follow it from what was written, without reading it back.
    if (mine != reported.end()) {
      auto followed = d.SyncReported(mine->second);
      if (!followed) return Fail(followed.error());
      if (*followed) {
        if (d.stale())
          if (auto st = Rebuild(i); !st) return st;
        continue;
      }
    }
    auto v = held_versions_.find(key);
    bool behind = v != held_versions_.end() && v->second > d.known_version();
    if (!behind && mine == reported.end()) continue;
    auto changed = store_.ChangedTaskInstances(key.first, key.second, d.known_version());
    if (!changed) return Fail(changed.error());
    if (changed->empty()) continue;
    auto followed = d.Sync(*changed);
    if (!followed) return Fail(followed.error());
    if (!*followed)
      if (auto st = Rebuild(i); !st) return st;
  }
  return {};
}

// Reads a run again from the store (it was cleared or marked by hand).
Status Scheduler::Rebuild(size_t i) {
  auto run = store_.GetDagRun(drivers_[i]->run().dag_id, drivers_[i]->run().run_id);
  if (!run) return Fail(run.error());
  auto driver = RunDriver::Load(env_, drivers_[i]->shared_dag(), *run);
  if (!driver) return Fail(driver.error());
  drivers_[i] = std::move(*driver);
  return drivers_[i]->Begin();
}

Status Scheduler::ReapLostTries() {
  auto expired = store_.ListExpiredTries(opts_.owner);
  if (!expired) return Fail(expired.error());
  std::map<std::pair<std::string, std::string>, std::vector<TaskInstanceRecord>> by_run;
  for (auto& ti : *expired) by_run[{ti.dag_id, ti.run_id}].push_back(ti);
  for (auto& [key, tis] : by_run)
    if (RunDriver* d = Find(key.first, key.second))
      if (auto st = d->Reap(tis); !st) return st;
  return {};
}

// Ends the runs whose tasks are all done, and those past their
// dagrun_timeout (a run whose tasks changed under its timeout is read again
// and looked at next pass).
Status Scheduler::FinishRuns() {
  for (size_t i = 0; i < drivers_.size(); ++i) {
    RunDriver& d = *drivers_[i];
    if (d.lost() || (!d.Done() && !d.TimedOut())) continue;
    auto state = d.Done() ? d.Finish() : d.TimeOut();
    if (!state) return Fail(state.error());
    if (d.stale()) {
      if (auto st = Rebuild(i); !st) return st;
      continue;
    }
    if (!d.lost()) finished_now_.push_back({d.run().dag_id, d.run().run_id, *state});
  }
  return {};
}

// --- Queueing ---------------------------------------------------------------------------------

// Airflow's critical section: under one lock for all schedulers, count the
// slots queued and running tries hold, then queue scheduled tries by
// priority while their pool and DAG have room.
Result<std::vector<TiKey>> Scheduler::QueueReady(LocalWorkerSlots local) {
  std::vector<TiKey> queued;
  if (opts_.local_only && (local.free <= 0 || drivers_.empty())) return queued;
  if (auto st = store_.LockQueueing(); !st) return Fail(st.error());
  Timestamp now = clock_.Now();
  if (!pools_read_ || now - *pools_read_ > std::chrono::seconds(1)) {
    auto pools = store_.ListPools();
    if (!pools) return Fail(pools.error());
    pool_slots_.clear();
    for (const PoolRecord& p : *pools) pool_slots_[p.name] = p.slots;
    pools_read_ = now;
  }
  auto slots = store_.CountActiveSlots();
  if (!slots) return Fail(slots.error());
  QueueLimits limits;
  limits.pool_slots = pool_slots_;
  auto add_limits = [&](const Dag& dag) {
    limits.max_active_tasks[dag.dag_id] = dag.max_active_tasks;
    for (size_t i : dag.capped_tasks) {
      const Task& t = dag.tasks[i];
      if (t.max_active_tis_per_dag) limits.per_dag_task[{dag.dag_id, t.id}] = t.max_active_tis_per_dag;
      if (t.max_active_tis_per_dagrun)
        limits.per_run_task[{dag.dag_id, t.id}] = t.max_active_tis_per_dagrun;
    }
  };
  for (const auto& dag : bag_.dags) add_limits(*dag);
  for (const auto& d : drivers_) add_limits(d->dag());
  std::vector<std::pair<std::string, std::string>> runs;
  if (opts_.local_only) {
    limits.budget = static_cast<size_t>(local.free);
    for (const auto& d : drivers_) runs.emplace_back(d->run().dag_id, d->run().run_id);
  }
  QueueExclusions excluded;
  for (int round = 0; round < 3 && limits.budget > 0; ++round) {
    // Local only, the drivers know every scheduled task of their runs; else
    // the store knows them, whoever's runs they are.
    auto candidates = opts_.local_only ? LocalReady(kQueueBatch)
                                       : store_.ListScheduled(kQueueBatch, excluded, runs);
    if (!candidates) return Fail(candidates.error());
    QueueChoice choice = ChooseToQueue(*candidates, limits, *slots);
    for (size_t i : choice.stuck) WarnStuck((*candidates)[i]);
    for (size_t i : choice.picked) {
      const TaskInstanceRecord& ti = (*candidates)[i];
      // Local only: this process's worker takes them as they are (hand-off).
      if (opts_.local_only) {
        queued.push_back(ti.key());
        if (RunDriver* d = Find(ti.dag_id, ti.run_id)) d->HandedOff(ti.key());
        continue;
      }
      // A sensor back from up_for_reschedule goes on with the same try.
      auto ok = store_.QueueTaskInstance(ti.key(), !ti.first_poke_at.has_value());
      if (!ok) return Fail(ok.error());
      if (*ok) queued.push_back(ti.key());
    }
    starved_ = choice.picked.size() < candidates->size();
    limits.budget -= std::min(limits.budget, choice.picked.size());
    size_t exclusions = excluded.size();
    excluded.pools.insert(choice.full.pools.begin(), choice.full.pools.end());
    excluded.dags.insert(choice.full.dags.begin(), choice.full.dags.end());
    excluded.tasks.insert(choice.full.tasks.begin(), choice.full.tasks.end());
    // Another round only if the batch was full and something new starves.
    if (candidates->size() < static_cast<size_t>(kQueueBatch) || excluded.size() == exclusions)
      break;
  }
  if (!queued.empty() && !opts_.local_only)
    if (auto st = store_.Notify("dagctl_queued", ""); !st) return Fail(st.error());
  return queued;
}

// Says once per task and pool why a try cannot start until the pools change.
void Scheduler::WarnStuck(const TaskInstanceRecord& ti) {
  if (!opts_.verbose || !warned_.insert(ti.dag_id + "/" + ti.task_id + "/pool/" + ti.pool).second)
    return;
  fmt::print(stderr, "dagctl scheduler: {}\n",
             PoolProblem(ti.dag_id, ti.task_id, ti.pool, ti.pool_slots, pool_slots_));
}

// The scheduled task instances of this process's runs, best first: higher
// priority_weight, then older logical date.
Result<std::vector<TaskInstanceRecord>> Scheduler::LocalReady(size_t limit) const {
  std::vector<std::pair<Timestamp, TaskInstanceRecord>> ready;
  for (const auto& d : drivers_) {
    std::vector<TaskInstanceRecord> tis;
    d->AppendReady(tis, limit);
    for (auto& ti : tis) ready.emplace_back(d->run().logical_date, std::move(ti));
  }
  std::stable_sort(ready.begin(), ready.end(), [](const auto& a, const auto& b) {
    if (a.second.priority_weight != b.second.priority_weight)
      return a.second.priority_weight > b.second.priority_weight;
    return a.first < b.first;
  });
  std::vector<TaskInstanceRecord> out;
  for (auto& [date, ti] : ready) {
    if (out.size() == limit) break;
    out.push_back(std::move(ti));
  }
  return out;
}

// --- One pass -----------------------------------------------------------------------------------

Result<std::vector<TiKey>> Scheduler::Pass(const std::set<std::string>& notes,
                                           const RunReports& reported, LocalWorkerSlots local) {
  // The shape of a pass: what the world says (folder, heartbeat, leases),
  // then new runs and runs to take, then each run's own progress, then
  // queueing what became ready.
  Timestamp now = clock_.Now();
  for (auto& d : drivers_) d->NewPass();
  bool poll = !next_poll_ || now >= *next_poll_ || resync_ || notes.count("dagctl_ti_done") ||
              notes.count("dagctl_run");
  if (poll) next_poll_ = After(now, opts_.poll_interval);
  if (folder_mode() && poll)
    if (auto st = ReloadIfChanged(now); !st) return Fail(st.error());
  if (folder_mode() && (!last_heartbeat_ || now - *last_heartbeat_ >= std::chrono::seconds(5))) {
    if (auto st = store_.Heartbeat("scheduler", opts_.owner, now); !st) return Fail(st.error());
    last_heartbeat_ = now;
  }
  bool renew = !next_renewal_ || now >= *next_renewal_ || resync_;
  if (renew || poll || !drivers_.empty()) {
    if (auto st = FollowHeldRuns(renew); !st) return Fail(st.error());
    if (renew) next_renewal_ = After(now, opts_.lease / 3);
  }
  resync_ = false;
  if (folder_mode()) {
    auto paused = store_.PausedDags();
    if (!paused) return Fail(paused.error());
    created_ = false;
    if (auto st = CreateRuns(now, *paused); !st) return Fail(st.error());
    if (poll)
      if (auto st = CreateAssetTriggeredRuns(now, *paused); !st) return Fail(st.error());
    // New runs are taken in the same pass: their first tasks start now.
    if (poll || created_)
      if (auto st = ClaimRuns(); !st) return Fail(st.error());
  }
  if (auto st = SyncDrivers(reported); !st) return Fail(st.error());
  if (!drivers_.empty() && (!next_reap_ || now >= *next_reap_)) {
    if (auto st = ReapLostTries(); !st) return Fail(st.error());
    next_reap_ = After(now, std::chrono::seconds(1));
  }
  for (size_t i = 0; i < drivers_.size(); ++i) {
    if (auto st = drivers_[i]->PromoteDue(); !st) return Fail(st.error());
    if (drivers_[i]->stale())
      if (auto st = Rebuild(i); !st) return Fail(st.error());
  }
  if (auto st = FinishRuns(); !st) return Fail(st.error());
  std::erase_if(drivers_, [&](const auto& d) {
    if (d->lost()) return true;
    for (const FinishedRun& f : finished_now_)
      if (f.dag_id == d->run().dag_id && f.run_id == d->run().run_id) return true;
    return false;
  });
  // Queueing only when something may be queued: a task became ready, a
  // slot was freed (a try ended here or anywhere), or the last round left
  // tries waiting and it is time to look again.
  bool ready = false;
  for (const auto& d : drivers_) ready = ready || d->HasReady();
  bool freed = !reported.empty() || notes.count("dagctl_ti_done");
  if (!ready && !freed && !(poll && starved_) && !resync_queue_) return std::vector<TiKey>{};
  resync_queue_ = false;
  return QueueReady(local);
}

void Scheduler::Committed() {
  for (const FinishedRun& f : finished_now_) {
    due_.erase(f.dag_id);  // its max_active_runs slot is free: look at the DAG again
    finished_.push_back(f);
  }
  finished_now_.clear();
}

void Scheduler::Aborted() {
  // What the drivers believe may be ahead of the store: read it all again.
  drivers_.clear();
  resync_queue_ = true;
  finished_now_.clear();
  resync_ = true;
}

std::vector<FinishedRun> Scheduler::TakeFinished() {
  std::vector<FinishedRun> out = std::move(finished_);
  finished_.clear();
  return out;
}

std::optional<Timestamp> Scheduler::NextRunDue() const {
  std::optional<Timestamp> next;
  for (const auto& [dag, due] : due_)
    if (due && (!next || *due < *next)) next = due;
  return next;
}

std::optional<Timestamp> Scheduler::NextWake() const {
  // Before the first pass: now.
  std::optional<Timestamp> wake = next_poll_ ? next_poll_ : std::optional<Timestamp>(clock_.Now());
  auto consider = [&](std::optional<Timestamp> t) {
    if (t && (!wake || *t < *wake)) wake = t;
  };
  if (!folder_mode() && drivers_.empty()) wake.reset();
  if (!drivers_.empty()) consider(next_renewal_);
  for (const auto& [dag, due] : due_) consider(due);
  for (const auto& d : drivers_) consider(d->NextWake());
  if (!drivers_.empty()) consider(next_reap_);
  return wake;
}

Status Scheduler::Stop(bool fail_runs) {
  for (auto& d : drivers_) {
    d->NewPass();
    if (fail_runs) {
      // What the worker just recorded (tries ended by the stop) decides
      // their downstream before the run ends.
      auto changed = store_.ChangedTaskInstances(d->run().dag_id, d->run().run_id, d->known_version());
      if (!changed) return Fail(changed.error());
      if (auto synced = d->Sync(*changed); !synced) return Fail(synced.error());
      auto state = d->Finish(true);
      if (!state) return Fail(state.error());
      finished_.push_back({d->run().dag_id, d->run().run_id, *state});
    } else if (auto st = d->Release(); !st) {
      return st;
    }
  }
  drivers_.clear();
  return {};
}

}  // namespace dagctl
