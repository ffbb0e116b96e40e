#include "engine/runs.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>

#include "engine/data_interval.h"
#include "engine/run_scope.h"
#include "engine/task_groups.h"
#include "engine/text.h"

namespace dagctl {

Result<DagRunRecord> CreateRun(Store& store, const Dag& dag, const NewRun& spec) {
  DagRunRecord run;
  run.dag_id = dag.dag_id;
  run.run_type = spec.type;
  run.state = spec.state;
  run.logical_date = spec.logical_date;
  run.data_interval_start = spec.interval_start.value_or(spec.logical_date);
  run.data_interval_end = spec.interval_end;
  run.queued_at = spec.now;
  run.conf = spec.conf.empty() ? "{}" : spec.conf;
  run.dag_hash = dag.file_hash;
  run.owner = spec.owner;
  run.max_active_runs = spec.max_active_runs;
  std::vector<TaskInstanceRecord> tis;
  for (const Task& t : dag.tasks) {
    TaskInstanceRecord ti;
    ti.dag_id = dag.dag_id;
    ti.task_id = t.id;
    ti.max_tries = t.retries + 1;
    ti.operator_name = t.operator_name;
    ti.priority_weight = t.priority_weight_total;
    ti.pool = t.pool;
    ti.pool_slots = t.pool_slots;
    ti.queue = t.queue;
    tis.push_back(ti);
  }
  std::string base = spec.run_id.empty()
                         ? fmt::format("{}__{}", RunTypeName(spec.type), FormatIso(spec.logical_date))
                         : spec.run_id;
  bool suffixes = spec.run_id.empty() && spec.type == RunType::kManual;
  for (int n = 1; n < 1000; ++n) {
    run.run_id = n == 1 ? base : fmt::format("{}_{}", base, n);
    for (auto& ti : tis) ti.run_id = run.run_id;
    auto st = store.CreateDagRun(run, tis);
    if (st) return run;
    if (st.error().code() != Error::Code::kAlreadyExists || !suffixes) return Fail(st.error());
  }
  return Fail(Error::AlreadyExists("too many manual runs for " + base));
}

Result<DagRunRecord> TriggerRun(Store& store, const Dag& dag, std::optional<Timestamp> logical,
                                const std::string& conf, const std::string& run_id, Timestamp now) {
  if (auto st = ValidateConf(dag, conf.empty() ? "{}" : conf); !st) return Fail(st.error());
  if (!run_id.empty() && !ValidRunId(run_id))
    return Fail(Error::InvalidArgument(fmt::format(
        "run id '{}' may only use letters, digits and '_', '.', ':', '+', '-' (at most 250)",
        Shorten(run_id))));
  DataInterval interval =
      ManualInterval(dag, logical.value_or(std::chrono::floor<std::chrono::seconds>(now)));
  auto run = CreateRun(store, dag,
                       {.type = RunType::kManual,
                        .logical_date = interval.start,
                        .interval_end = interval.end,
                        .conf = conf,
                        .run_id = run_id,
                        .now = now});
  if (run) (void)store.Notify("dagctl_run", "");  // a hint: schedulers also poll
  return run;
}

Result<std::vector<BackfillRun>> RecordBackfill(Store& store, const Dag& dag,
                                                const BackfillSpec& spec) {
  if (!dag.schedule || dag.schedule->once())
    return Fail(Error::InvalidArgument(
        fmt::format("DAG '{}' has no recurring schedule to backfill", dag.dag_id)));
  std::vector<DataInterval> intervals;
  for (auto i = IntervalStartingFrom(dag, spec.from); i && i->start <= spec.to;
       i = IntervalStartingFrom(dag, i->end)) {
    if (intervals.size() == spec.max_runs)
      return Fail(Error::InvalidArgument(fmt::format(
          "the range holds more than {} runs of {}: backfill a shorter range", spec.max_runs,
          dag.dag_id)));
    intervals.push_back(*i);
  }
  auto existing = store.ListDagRuns({.dag_id = dag.dag_id,
                                     .types = {RunType::kScheduled, RunType::kBackfill},
                                     .limit = static_cast<int>(intervals.size()) + 1,
                                     .logical_date_gte = spec.from,
                                     .logical_date_lte = spec.to});
  if (!existing) return Fail(existing.error());
  std::map<Timestamp, DagRunRecord> by_date;
  for (const auto& r : *existing) by_date[r.logical_date] = r;
  auto now = store.Now();
  if (!now) return Fail(now.error());
  std::vector<BackfillRun> out;
  for (const DataInterval& i : intervals) {
    auto it = by_date.find(i.start);
    if (it == by_date.end()) {
      auto run = CreateRun(store, dag,
                           {.type = RunType::kBackfill,
                            .logical_date = i.start,
                            .interval_end = i.end,
                            .owner = spec.owner,
                            .now = spec.now,
                            .max_active_runs = spec.max_active_runs});
      if (!run) return Fail(run.error());
      out.push_back({run->run_id, i.start, BackfillRun::Action::kCreated, RunState::kQueued});
      continue;
    }
    const DagRunRecord& r = it->second;
    BackfillRun b{r.run_id, r.logical_date, BackfillRun::Action::kKept, r.state};
    if (r.state == RunState::kFailed && spec.rerun_failed) {
      auto cleared = ClearRun(store, dag, r.run_id, {.only_failed = true});
      if (!cleared) return Fail(cleared.error());
      b.action = BackfillRun::Action::kRerun;
    } else if (r.state == RunState::kQueued &&
               (r.owner.empty() || !r.lease_until || *r.lease_until < *now)) {
      b.action = BackfillRun::Action::kQueued;
    }
    out.push_back(b);
  }
  if (!out.empty()) (void)store.Notify("dagctl_run", "");  // a hint: schedulers also poll
  return out;
}

namespace {

// Positions of `roots` plus, as asked, everything below and above them.
std::set<size_t> Reach(const Dag& dag, const std::vector<size_t>& roots, bool down, bool up) {
  std::set<size_t> out(roots.begin(), roots.end());
  for (bool downward : {true, false}) {
    if ((downward && !down) || (!downward && !up)) continue;
    std::vector<size_t> stack = roots;
    while (!stack.empty()) {
      size_t v = stack.back();
      stack.pop_back();
      for (size_t n : downward ? dag.graph.downstream[v] : dag.graph.upstream[v])
        if (out.insert(n).second) stack.push_back(n);
    }
  }
  return out;
}

}  // namespace

Result<std::vector<TiKey>> ClearRun(Store& store, const Dag& dag, const std::string& run_id,
                                          const ClearSpec& spec) {
  std::vector<size_t> roots;
  for (const std::string& id : spec.task_ids) {
    std::vector<size_t> named = dag.TasksNamed(id);  // a task, or a group's tasks
    if (named.empty()) return Fail(Error::InvalidArgument(NoSuchTaskMessage(dag, id)));
    roots.insert(roots.end(), named.begin(), named.end());
  }
  if (spec.task_ids.empty())
    for (size_t i = 0; i < dag.tasks.size(); ++i) roots.push_back(i);
  std::set<size_t> chosen = Reach(dag, roots, spec.downstream, spec.upstream);

  auto run = store.GetDagRun(dag.dag_id, run_id);
  if (!run) return Fail(run.error());
  auto tis = store.ListTaskInstances(dag.dag_id, run_id);
  if (!tis) return Fail(tis.error());
  std::vector<TiKey> cleared;
  auto st = store.Transaction([&]() -> Status {
    for (TaskInstanceRecord ti : *tis) {
      const Task* t = dag.FindTask(ti.task_id);
      if (!t || !chosen.count(dag.index.at(ti.task_id))) continue;
      bool failed = ti.state == TaskState::kFailed || ti.state == TaskState::kUpstreamFailed;
      if (spec.only_failed && !failed) continue;
      if (spec.only_running && ti.state != TaskState::kRunning) continue;
      cleared.push_back(ti.key());
      if (spec.dry_run) continue;
      ti.state = TaskState::kNone;
      ti.max_tries = ti.try_number + t->retries + 1;
      // A try still running loses its lease with this: its worker stops it.
      ti.ForgetTry();
      if (auto s = store.UpdateTaskInstance(ti); !s) return s;
      if (auto s = store.ClearXCom(ti.key()); !s) return s;
    }
    if (cleared.empty() || spec.dry_run || !spec.reset_run) return {};
    // The run goes again: its scheduler (if one holds it) reads the cleared
    // tasks through their version; otherwise any scheduler takes it.
    DagRunRecord r = *run;
    // A finished run starts again, as in Airflow: its dagrun_timeout counts
    // from that new start.
    if (IsFinished(r.state)) {
      r.state = RunState::kQueued;
      r.start_date.reset();
    }
    r.end_date.reset();
    if (auto s = store.UpdateDagRun(r); !s) return s;
    return store.Notify("dagctl_run", "");
  });
  if (!st) return Fail(st.error());
  return cleared;
}

Result<TryRecord> EndedTryRecord(Store& store, const TaskInstanceRecord& ti, TaskState state,
                                 const std::string& why, Timestamp now) {
  auto tries = store.ListTries(ti.key());
  if (!tries) return Fail(tries.error());
  TryRecord tr{ti.dag_id, ti.run_id, ti.task_id, ti.map_index, ti.try_number, state,
               ti.start_date.value_or(now)};
  tr.hostname = ti.hostname;
  tr.worker = ti.worker;
  tr.pid = ti.pid;
  for (const TryRecord& r : *tries)
    if (r.try_number == ti.try_number) tr = r;
  tr.state = state;
  tr.end_date = now;
  tr.error = why;
  return tr;
}

namespace {

// Sets `ti` to `state` by hand inside the caller's transaction, as Airflow's
// TaskInstance.set_state: a start and end date if it had none. A running try
// (or a sensor between pokes) ends in `state`: the task instance's worker
// and lease are dropped, so its worker finds the lease gone and kills the
// process; the try's record says why. True when a running try was stopped.
Result<bool> SetByHand(Store& store, TaskInstanceRecord ti, TaskState state, Timestamp now) {
  bool had_try = ti.state == TaskState::kRunning || ti.state == TaskState::kUpForReschedule ||
                 ti.state == TaskState::kQueued;
  std::string why = fmt::format("marked {} by hand", TaskStateName(state));
  if (had_try && ti.try_number > 0 && ti.state != TaskState::kQueued) {
    auto tr = EndedTryRecord(store, ti, state, why, now);
    if (!tr) return Fail(tr.error());
    if (auto st = store.PutTry(*tr); !st) return Fail(st.error());
  }
  bool was_running = ti.state == TaskState::kRunning;
  ti.state = state;
  if (!ti.start_date) ti.start_date = now;
  if (!ti.end_date || was_running) ti.end_date = now;
  ti.next_try_at.reset();
  ti.first_poke_at.reset();
  ti.lease_until.reset();
  ti.worker.clear();
  ti.pid = 0;
  if (auto st = store.UpdateTaskInstance(ti); !st) return Fail(st.error());
  return was_running;
}

// Every task instance of `task` in `tis` (a mapped task's instances and
// its own row), or only those with one of `map_indexes`.
bool Chosen(const TaskInstanceRecord& ti, const std::vector<int>& map_indexes) {
  return map_indexes.empty() ||
         std::find(map_indexes.begin(), map_indexes.end(), ti.map_index) != map_indexes.end();
}

// The run `run_id` and, as `spec` asks, the DAG's runs before or after it.
Result<std::vector<DagRunRecord>> RunsToMark(Store& store, const Dag& dag, const std::string& run_id,
                                             const MarkSpec& spec) {
  auto run = store.GetDagRun(dag.dag_id, run_id);
  if (!run) return Fail(run.error());
  if (!spec.future && !spec.past) return std::vector<DagRunRecord>{*run};
  RunQuery q{.dag_id = dag.dag_id, .limit = 100000, .oldest_first = true};
  if (!spec.past) q.logical_date_gte = run->logical_date;
  if (!spec.future) q.logical_date_lte = run->logical_date;
  return store.ListDagRuns(q);
}

// Clears the failed and upstream_failed task instances of `tis` whose task is
// in `below` but not in `marked`, as Airflow's set_task_instance_state does,
// so that the run goes on from the state set. True when one was cleared.
Result<bool> ClearFailuresBelow(Store& store, const Dag& dag, std::vector<TaskInstanceRecord> tis,
                                const std::set<size_t>& below, const std::set<size_t>& marked) {
  bool cleared = false;
  for (TaskInstanceRecord& ti : tis) {
    auto it = dag.index.find(ti.task_id);
    if (it == dag.index.end() || !below.count(it->second) || marked.count(it->second)) continue;
    if (ti.state != TaskState::kFailed && ti.state != TaskState::kUpstreamFailed) continue;
    ti.state = TaskState::kNone;
    ti.max_tries = ti.try_number + dag.tasks[it->second].retries + 1;
    ti.ForgetTry();
    if (auto s = store.UpdateTaskInstance(ti); !s) return Fail(s.error());
    if (auto s = store.ClearXCom(ti.key()); !s) return Fail(s.error());
    cleared = true;
  }
  return cleared;
}

}  // namespace

Result<std::vector<MarkedTi>> MarkTaskInstances(Store& store, const Dag& dag,
                                                const std::string& run_id, const MarkSpec& spec,
                                                Timestamp now) {
  if (spec.state != TaskState::kSuccess && spec.state != TaskState::kFailed &&
      spec.state != TaskState::kSkipped)
    return Fail(Error::InvalidArgument("a task instance can be marked success, failed or skipped"));
  std::vector<size_t> roots;
  for (const std::string& id : spec.task_ids) {
    std::vector<size_t> named = dag.TasksNamed(id);
    if (named.empty()) return Fail(Error::InvalidArgument(NoSuchTaskMessage(dag, id)));
    roots.insert(roots.end(), named.begin(), named.end());
  }
  std::set<size_t> root_set(roots.begin(), roots.end());
  std::set<size_t> chosen = Reach(dag, roots, spec.downstream, spec.upstream);
  std::set<size_t> below = Reach(dag, roots, true, false);
  auto runs = RunsToMark(store, dag, run_id, spec);
  if (!runs) return Fail(runs.error());
  std::vector<MarkedTi> marked;
  // Per run: set the chosen task instances, clear the failures below them,
  // and queue the run again if it had finished and something changed.
  auto st = store.Transaction([&]() -> Status {
    bool stopped = false;
    for (const DagRunRecord& r : *runs) {
      auto tis = store.ListTaskInstances(dag.dag_id, r.run_id);
      if (!tis) return Fail(tis.error());
      bool changed = false;
      for (const TaskInstanceRecord& ti : *tis) {
        auto it = dag.index.find(ti.task_id);
        if (it == dag.index.end() || !chosen.count(it->second) || ti.state == spec.state) continue;
        if (root_set.count(it->second) && !Chosen(ti, spec.map_indexes)) continue;
        marked.push_back({ti.key(), r.logical_date, ti.state, spec.state});
        if (spec.dry_run) continue;
        auto ran = SetByHand(store, ti, spec.state, now);
        if (!ran) return Fail(ran.error());
        stopped = stopped || *ran;
        changed = true;
      }
      if (spec.dry_run) continue;
      auto cleared = ClearFailuresBelow(store, dag, *tis, below, chosen);
      if (!cleared) return Fail(cleared.error());
      if ((changed || *cleared) && IsFinished(r.state)) {
        DagRunRecord again = r;  // the scheduler decides its state again
        again.state = RunState::kQueued;
        again.start_date.reset();
        again.end_date.reset();
        if (auto s = store.SetDagRunByHand(again); !s) return s;
      }
    }
    if (spec.dry_run || marked.empty()) return {};
    if (stopped)
      if (auto s = store.Notify("dagctl_stopped", ""); !s) return s;
    return store.Notify("dagctl_run", "");
  });
  if (!st) return Fail(st.error());
  return marked;
}

Result<std::vector<MarkedTi>> SetRunState(Store& store, const Dag& dag, const std::string& run_id,
                                          RunState state, bool dry_run, Timestamp now) {
  auto run = store.GetDagRun(dag.dag_id, run_id);
  if (!run) return Fail(run.error());
  std::vector<MarkedTi> changed;
  if (state == RunState::kQueued || state == RunState::kRunning) {
    ClearSpec clear{.dry_run = dry_run};
    auto tis = store.ListTaskInstances(dag.dag_id, run_id);
    if (!tis) return Fail(tis.error());
    std::map<TiKey, TaskState> before;
    for (const TaskInstanceRecord& ti : *tis) before[ti.key()] = ti.state;
    auto cleared = ClearRun(store, dag, run_id, clear);
    if (!cleared) return Fail(cleared.error());
    for (const TiKey& k : *cleared) changed.push_back({k, run->logical_date, before[k], TaskState::kNone});
    if (dry_run) return changed;
    DagRunRecord again = *run;
    again.state = RunState::kQueued;
    again.start_date.reset();
    again.end_date.reset();
    if (auto st = store.SetDagRunByHand(again); !st) return Fail(st.error());
    if (auto st = store.Notify("dagctl_run", ""); !st) return Fail(st.error());
    return changed;
  }
  auto tis = store.ListTaskInstances(dag.dag_id, run_id);
  if (!tis) return Fail(tis.error());
  auto st = store.Transaction([&]() -> Status {
    bool stopped = false;
    for (const TaskInstanceRecord& ti : *tis) {
      TaskState to = TaskState::kSuccess;
      if (state == RunState::kSuccess) {
        if (ti.state == TaskState::kSuccess) continue;
      } else if (ti.state == TaskState::kRunning) {
        to = TaskState::kFailed;
      } else if (!IsFinished(ti.state)) {
        to = TaskState::kSkipped;
      } else {
        continue;
      }
      changed.push_back({ti.key(), run->logical_date, ti.state, to});
      if (dry_run) continue;
      auto ran = SetByHand(store, ti, to, now);
      if (!ran) return Fail(ran.error());
      stopped = stopped || *ran;
    }
    if (dry_run) return {};
    DagRunRecord done = *run;
    done.state = state;
    if (!done.start_date) done.start_date = now;
    done.end_date = now;
    if (auto s = store.SetDagRunByHand(done); !s) return s;
    if (stopped)
      if (auto s = store.Notify("dagctl_stopped", ""); !s) return s;
    return {};
  });
  if (!st) return Fail(st.error());
  return changed;
}

bool ValidRunId(const std::string& id) {
  if (id.empty() || id.size() > 250 || id[0] == '.') return false;
  for (char c : id)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '.' && c != ':' &&
        c != '+' && c != '-')
      return false;
  return true;
}

}  // namespace dagctl
