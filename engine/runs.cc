#include "engine/runs.h"

#include <fmt/format.h>

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
      cleared.push_back(ti.key());
      if (spec.dry_run) continue;
      ti.state = TaskState::kNone;
      ti.max_tries = ti.try_number + t->retries + 1;
      // A try still running loses its lease with this: its worker stops it.
      ti.ForgetTry();
      if (auto s = store.UpdateTaskInstance(ti); !s) return s;
      if (auto s = store.ClearXCom(ti.key()); !s) return s;
    }
    if (cleared.empty() || spec.dry_run) return {};
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

bool ValidRunId(const std::string& id) {
  if (id.empty() || id.size() > 250 || id[0] == '.') return false;
  for (char c : id)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '.' && c != ':' &&
        c != '+' && c != '-')
      return false;
  return true;
}

}  // namespace dagctl
