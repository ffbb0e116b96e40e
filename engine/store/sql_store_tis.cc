// The SQL store: task instances, queueing, claims and reports of tries, XCom.
// Every change a process makes to a task instance it does not own says what
// it expects (state, worker, fence) and checks how many rows changed.
#include <fmt/format.h>

#include "engine/store/sql_store_impl.h"

namespace dagctl {

namespace {

int64_t Micros(Duration d) {
  return std::chrono::duration_cast<std::chrono::microseconds>(d).count();
}

std::string InList(const char* column, const std::vector<std::string>& values, bool negate,
                   SqlArgs& a) {
  if (values.empty()) return "";
  for (const std::string& v : values) a.Add(v);
  return fmt::format(" AND {} {}IN ({})", column, negate ? "NOT " : "", SqlMarks(values.size()));
}

// What claiming a try sets. A new try starts now; a sensor back from
// up_for_reschedule keeps its try's start and first poke (its timeout counts
// from there).
constexpr const char* kClaimSet =
    "state='running', worker=?, hostname=?, lease_until=dagctl_now() + ?, fence=fence + 1, "
    "start_date=CASE WHEN first_poke_at IS NULL THEN dagctl_now() ELSE start_date END, "
    "first_poke_at=COALESCE(first_poke_at, dagctl_now()), end_date=NULL, pid=0";

// A sentinel for "the guard did not hold": the transaction rolls back whole.
Error LostGuard() { return Error::Internal("dagctl: guard lost"); }
bool IsLostGuard(const Error& e) {
  return e.code() == Error::Code::kInternal && e.message() == "dagctl: guard lost";
}

}  // namespace

TaskInstanceRecord SqlStore::ReadTi(SqlRows& r, size_t i) {
  TaskInstanceRecord t;
  t.dag_id = r.TakeText(i, 0);
  t.run_id = r.TakeText(i, 1);
  t.task_id = r.TakeText(i, 2);
  t.map_index = static_cast<int>(r.Int(i, 3));
  t.state = r.IsNull(i, 4) ? TaskState::kNone
                           : ParseTaskState(r.Text(i, 4)).value_or(TaskState::kNone);
  t.try_number = static_cast<int>(r.Int(i, 5));
  t.max_tries = static_cast<int>(r.Int(i, 6));
  t.start_date = r.OptTime(i, 7);
  t.end_date = r.OptTime(i, 8);
  t.next_try_at = r.OptTime(i, 9);
  t.operator_name = r.TakeText(i, 10);
  t.priority_weight = static_cast<int>(r.Int(i, 11));
  t.pool = r.TakeText(i, 12);
  t.pool_slots = static_cast<int>(r.Int(i, 13));
  t.queue = r.TakeText(i, 14);
  t.queued_at = r.OptTime(i, 15);
  t.pid = static_cast<int>(r.Int(i, 16));
  t.first_poke_at = r.OptTime(i, 17);
  t.worker = r.TakeText(i, 18);
  t.hostname = r.TakeText(i, 19);
  t.lease_until = r.OptTime(i, 20);
  t.fence = r.Int(i, 21);
  t.version = r.Int(i, 22);
  t.map_values = r.TakeText(i, 23);
  return t;
}

std::vector<TaskInstanceRecord> SqlStore::ReadTis(SqlRows& r) {
  std::vector<TaskInstanceRecord> out;
  out.reserve(r.size());
  for (size_t i = 0; i < r.size(); ++i) out.push_back(ReadTi(r, i));
  return out;
}

Result<std::vector<TaskInstanceRecord>> SqlStore::ListTaskInstances(const std::string& dag_id,
                                                                    const std::string& run_id) {
  auto r = Q(fmt::format("SELECT {} FROM task_instance WHERE dag_id=? AND run_id=? "
                         "ORDER BY task_id, map_index",
                         kTiColumns),
             SqlArgs().Add(dag_id).Add(run_id));
  if (!r) return Fail(r.error());
  return ReadTis(*r);
}

Result<std::vector<TaskInstanceRecord>> SqlStore::ListTaskInstancesOfRuns(
    const std::string& dag_id, const std::vector<std::string>& run_ids) {
  if (run_ids.empty()) return std::vector<TaskInstanceRecord>{};
  SqlArgs a;
  a.Add(dag_id);
  for (const std::string& id : run_ids) a.Add(id);
  auto r = Q(fmt::format("SELECT run_id, task_id, map_index, state, try_number, start_date, end_date "
                         "FROM task_instance "
                         "WHERE dag_id=? AND run_id IN ({})",
                         SqlMarks(run_ids.size())),
             a);
  if (!r) return Fail(r.error());
  std::vector<TaskInstanceRecord> out(r->size());
  for (size_t i = 0; i < r->size(); ++i) {
    TaskInstanceRecord& t = out[i];
    t.dag_id = dag_id;
    t.run_id = r->TakeText(i, 0);
    t.task_id = r->TakeText(i, 1);
    t.map_index = static_cast<int>(r->Int(i, 2));
    t.state = r->IsNull(i, 3) ? TaskState::kNone
                              : ParseTaskState(r->Text(i, 3)).value_or(TaskState::kNone);
    t.try_number = static_cast<int>(r->Int(i, 4));
    t.start_date = r->OptTime(i, 5);
    t.end_date = r->OptTime(i, 6);
  }
  return out;
}

Result<std::vector<TaskInstanceRecord>> SqlStore::ChangedTaskInstances(const std::string& dag_id,
                                                                       const std::string& run_id,
                                                                       int64_t since) {
  auto r = Q(fmt::format("SELECT {} FROM task_instance WHERE dag_id=? AND run_id=? AND version > ? "
                         "ORDER BY version",
                         kTiColumns),
             SqlArgs().Add(dag_id).Add(run_id).Add(since));
  if (!r) return Fail(r.error());
  return ReadTis(*r);
}

namespace {

// The mutable fields of a task instance, for "UPDATE task_instance SET ...".
constexpr const char* kTiSet =
    "state=?, try_number=?, max_tries=?, start_date=?, end_date=?, next_try_at=?, queued_at=?, "
    "pid=?, first_poke_at=?, worker=?, hostname=?, lease_until=?";

SqlArgs& AddTiSet(SqlArgs& a, const TaskInstanceRecord& t) {
  if (t.state == TaskState::kNone)
    a.Null();
  else
    a.Add(TaskStateName(t.state));
  return a.Add(t.try_number)
      .Add(t.max_tries)
      .Add(t.start_date)
      .Add(t.end_date)
      .Add(t.next_try_at)
      .Add(t.queued_at)
      .Add(t.pid)
      .Add(t.first_poke_at)
      .Add(t.worker)
      .Add(t.hostname)
      .Add(t.lease_until);
}

}  // namespace

Status SqlStore::UpdateTaskInstance(const TaskInstanceRecord& t) {
  return Atomic([&]() -> Status {
    auto version = BumpTiVersion(t.dag_id, t.run_id);
    if (!version) return Fail(version.error());
    SqlArgs a;
    AddTiSet(a, t).Add(*version);
    AddKey(a, t.key());
    auto r = Write(fmt::format("UPDATE task_instance SET {}, version=? WHERE {}", kTiSet, kKeyWhere), a);
    if (!r) return Fail(r.error());
    return {};
  });
}

Result<bool> SqlStore::DecideTaskInstance(const TaskInstanceRecord& t, TaskState expected) {
  SqlArgs a;
  AddTiSet(a, t);
  AddKey(a, t.key());
  if (expected == TaskState::kNone)
    a.Null();
  else
    a.Add(TaskStateName(expected));
  auto r = Write(
      fmt::format("UPDATE task_instance SET {} WHERE {} AND {}", kTiSet, kKeyWhere, IsEqual("state")),
      a);
  if (!r) return Fail(r.error());
  return *r == 1;
}

Result<bool> SqlStore::ReplaceTaskInstances(const std::string& dag_id, const std::string& run_id,
                                            const std::string& task_id,
                                            const std::vector<TaskInstanceRecord>& rows) {
  bool replaced = false;
  auto st = Atomic([&]() -> Status {
    SqlArgs key = SqlArgs().Add(dag_id).Add(run_id).Add(task_id);
    auto decided = Q("SELECT COUNT(*) FROM task_instance WHERE dag_id=? AND run_id=? AND "
                     "task_id=? AND state IS NOT NULL",
                     key);
    if (!decided) return Fail(decided.error());
    if (decided->Int(0, 0) != 0) return {};
    auto gone = Write("DELETE FROM task_instance WHERE dag_id=? AND run_id=? AND task_id=?", key);
    if (!gone) return Fail(gone.error());
    if (auto st = AddTaskInstances(rows); !st) return st;
    replaced = true;
    return {};
  });
  if (!st) return Fail(st.error());
  return replaced;
}

// --- Queueing ------------------------------------------------------------------

Result<ActiveSlots> SqlStore::CountActiveSlots() {
  auto r = Q("SELECT dag_id, run_id, task_id, pool, pool_slots FROM task_instance "
             "WHERE state IN ('queued', 'running')");
  if (!r) return Fail(r.error());
  ActiveSlots slots;
  for (size_t i = 0; i < r->size(); ++i) {
    std::string dag = r->Text(i, 0), task = r->Text(i, 2);
    slots.pool[r->Text(i, 3)] += static_cast<int>(r->Int(i, 4));
    slots.dag[dag] += 1;
    slots.task[{dag, task}] += 1;
    slots.run_task[TiKey{dag, r->Text(i, 1), task, -1}] += 1;
  }
  return slots;
}

Result<std::vector<TaskInstanceRecord>> SqlStore::ListScheduled(
    int limit, const QueueExclusions& excluded,
    const std::vector<std::pair<std::string, std::string>>& runs) {
  SqlArgs a;
  std::string where =
      InList("ti.pool", {excluded.pools.begin(), excluded.pools.end()}, true, a) +
      InList("ti.dag_id", {excluded.dags.begin(), excluded.dags.end()}, true, a) +
      RunsWhere(runs, "ti.", a);
  for (const auto& [dag_id, task_id] : excluded.tasks) {
    where += " AND NOT (ti.dag_id = ? AND ti.task_id = ?)";
    a.Add(dag_id).Add(task_id);
  }
  a.Add(limit);
  // Only what queueing needs of each.
  auto r = Q(fmt::format("SELECT ti.dag_id, ti.run_id, ti.task_id, ti.map_index, ti.pool, "
                         "ti.pool_slots, ti.priority_weight, ti.first_poke_at FROM task_instance ti "
                         "JOIN dag_run r ON r.dag_id = ti.dag_id AND r.run_id = ti.run_id WHERE "
                         "ti.state = 'scheduled' AND r.state = 'running'{} ORDER BY "
                         "ti.priority_weight DESC, r.logical_date, ti.map_index LIMIT ?",
                         where),
             a);
  if (!r) return Fail(r.error());
  std::vector<TaskInstanceRecord> out(r->size());
  for (size_t i = 0; i < r->size(); ++i) {
    TaskInstanceRecord& t = out[i];
    t.dag_id = r->Text(i, 0);
    t.run_id = r->Text(i, 1);
    t.task_id = r->Text(i, 2);
    t.map_index = static_cast<int>(r->Int(i, 3));
    t.state = TaskState::kScheduled;
    t.pool = r->Text(i, 4);
    t.pool_slots = static_cast<int>(r->Int(i, 5));
    t.priority_weight = static_cast<int>(r->Int(i, 6));
    t.first_poke_at = r->OptTime(i, 7);
  }
  return out;
}

Result<bool> SqlStore::QueueTaskInstance(const TiKey& key, bool new_try) {
  SqlArgs a;
  a.Add(new_try ? 1 : 0);
  AddKey(a, key);
  auto r = Write(fmt::format("UPDATE task_instance SET state='queued', try_number=try_number + ?, "
                             "queued_at=dagctl_now() WHERE {} AND state='scheduled'",
                             kKeyWhere),
                 a);
  if (!r) return Fail(r.error());
  return *r == 1;
}

// --- Claims and reports of tries ---------------------------------------------------

Result<std::vector<TaskInstanceRecord>> SqlStore::ClaimTaskInstances(const ClaimSpec& spec) {
  if (!spec.only.empty()) return ClaimKeys(spec);
  SqlArgs set_args, pick_args;
  set_args.Add(spec.worker).Add(spec.hostname).Add(Micros(spec.lease));
  std::string filter = InList("queue", spec.queues, false, pick_args);
  pick_args.Add(spec.limit);
  const char* set = kClaimSet;
  std::string pick = fmt::format(
      "SELECT dag_id, run_id, task_id, map_index FROM task_instance WHERE state='queued'{} "
      "ORDER BY priority_weight DESC, queued_at LIMIT ?{}",
      filter, SkipLocked());
  // The picking query comes first in PostgreSQL's form, last in SQLite's:
  // the parameters follow the text.
  SqlArgs args;
  auto append = [&](const SqlArgs& more) {
    for (const SqlValue& v : more.values()) {
      if (const auto* n = std::get_if<int64_t>(&v)) args.Add(*n);
      else if (const auto* t = std::get_if<std::string>(&v)) args.Add(*t);
      else args.Null();
    }
  };
  std::string sql;
  if (postgres()) {
    sql = fmt::format("WITH picked AS ({}) UPDATE task_instance t SET {} FROM picked p WHERE "
                      "t.dag_id = p.dag_id AND t.run_id = p.run_id AND t.task_id = p.task_id "
                      "AND t.map_index = p.map_index RETURNING {}",
                      pick, set, Qualified(kTiColumns, "t"));
    append(pick_args);
    append(set_args);
  } else {
    sql = fmt::format("UPDATE task_instance SET {} WHERE (dag_id, run_id, task_id, map_index) "
                      "IN ({}) RETURNING {}",
                      set, pick, kTiColumns);
    append(set_args);
    append(pick_args);
  }
  auto r = Q(sql, args);
  if (!r) return Fail(r.error());
  return ReadTis(*r);
}

// Claims named task instances one by one through their keys (the process
// that queued them takes them in the same transaction: nobody else can).
Result<std::vector<TaskInstanceRecord>> SqlStore::ClaimKeys(const ClaimSpec& spec) {
  std::vector<TaskInstanceRecord> out;
  const std::string sql =
      spec.hand_off
          ? fmt::format("UPDATE task_instance SET {}, queued_at=dagctl_now(), try_number="
                        "try_number + CASE WHEN first_poke_at IS NULL THEN 1 ELSE 0 END WHERE {} "
                        "AND state='scheduled' RETURNING {}",
                        kClaimSet, kKeyWhere, kTiColumns)
          : fmt::format("UPDATE task_instance SET {} WHERE {} AND state='queued' RETURNING {}",
                        kClaimSet, kKeyWhere, kTiColumns);
  for (const TiKey& k : spec.only) {
    if (static_cast<int>(out.size()) >= spec.limit) break;
    SqlArgs a;
    a.Add(spec.worker).Add(spec.hostname).Add(Micros(spec.lease));
    AddKey(a, k);
    auto r = Q(sql, a);
    if (!r) return Fail(r.error());
    if (!r->empty()) out.push_back(ReadTi(*r, 0));
  }
  return out;
}

Result<std::vector<TaskInstanceRecord>> SqlStore::ListHeldTries(const std::string& worker) {
  auto r = Q(fmt::format("SELECT {} FROM task_instance WHERE state='running' AND worker=?", kTiColumns),
             SqlArgs().Add(worker));
  if (!r) return Fail(r.error());
  return ReadTis(*r);
}

Result<std::vector<TaskInstanceRecord>> SqlStore::ListUnrecordedTries(const std::string& worker) {
  auto r = Q(fmt::format("SELECT {} FROM task_instance WHERE state='running' AND (worker=? OR "
                         "lease_until < dagctl_now())",
                         kTiColumns),
             SqlArgs().Add(worker));
  if (!r) return Fail(r.error());
  return ReadTis(*r);
}

Result<bool> SqlStore::AdoptTry(const TaskInstanceRecord& ti, const std::string& worker,
                                const std::string& hostname, Duration lease) {
  SqlArgs a;
  a.Add(worker).Add(hostname).Add(Micros(lease));
  AddKey(a, ti.key()).Add(ti.fence).Add(ti.worker).Add(worker);
  auto r = Write(fmt::format("UPDATE task_instance SET worker=?, hostname=?, lease_until="
                             "dagctl_now() + ? WHERE {} AND state='running' AND fence=? AND "
                             "worker=? AND (lease_until < dagctl_now() OR worker=?)",
                             kKeyWhere),
                 a);
  if (!r) return Fail(r.error());
  return *r == 1;
}

Result<std::vector<TiKey>> SqlStore::RenewTryLeases(const std::string& worker,
                                                    const std::vector<HeldTry>& tries,
                                                    Duration lease) {
  std::vector<TiKey> held;
  auto st = Atomic([&]() -> Status {
    for (const HeldTry& t : tries) {
      SqlArgs a;
      a.Add(Micros(lease));
      AddKey(a, t.key).Add(worker).Add(t.fence);
      auto r = Write(fmt::format("UPDATE task_instance SET lease_until=dagctl_now() + ? WHERE {} "
                                 "AND state='running' AND worker=? AND fence=?",
                                 kKeyWhere),
                     a);
      if (!r) return Fail(r.error());
      if (*r == 1) held.push_back(t.key);
    }
    return {};
  });
  if (!st) return Fail(st.error());
  return held;
}

Result<bool> SqlStore::ReportTry(TryReport& rep) {
  TaskInstanceRecord& t = rep.ti;
  // No savepoint: when the guard does not hold, nothing but the run's
  // ti_version was written (a harmless bump: no task instance carries it).
  auto st = Atomic([&]() -> Status {
    // The run's row first (schedulers lock it in the same order).
    auto version = BumpTiVersion(t.dag_id, t.run_id);
    if (!version) return Fail(version.error());
    SqlArgs a;
    AddTiSet(a, t).Add(*version);
    AddKey(a, t.key()).Add(rep.claim_worker).Add(t.fence);
    auto r = Write(fmt::format("UPDATE task_instance SET {}, version=? WHERE {} AND "
                               "state='running' AND worker=? AND fence=?",
                               kTiSet, kKeyWhere),
                   a);
    if (!r) return Fail(r.error());
    if (*r != 1) return Fail(LostGuard());
    t.version = *version;
    if (auto s = PutTry(rep.try_record); !s) return s;
    for (const XComRecord& x : rep.xcom)
      if (auto s = PutXCom(t.dag_id, t.run_id, x); !s) return s;
    for (const std::string& task_id : rep.skip_task_ids) {
      auto skip = Write("UPDATE task_instance SET state='skipped', end_date=dagctl_now(), "
                        "version=? WHERE dag_id=? AND run_id=? AND task_id=? AND state IS NULL",
                        SqlArgs().Add(*version).Add(t.dag_id).Add(t.run_id).Add(task_id));
      if (!skip) return Fail(skip.error());
    }
    for (const CallbackRecord& c : rep.callbacks)
      if (auto s = AddCallback(c); !s) return s;
    for (AssetEventRecord& e : rep.asset_events)
      if (auto s = RecordAssetEvent(e); !s) return s;
    return Notify("dagctl_ti_done", "");
  });
  if (!st && IsLostGuard(st.error())) return false;
  if (!st) return Fail(st.error());
  return true;
}

Status SqlStore::RecordTryPid(const TiKey& key, int64_t fence, int try_number, int pid) {
  return Atomic([&]() -> Status {
    SqlArgs a;
    a.Add(pid);
    AddKey(a, key).Add(fence);
    auto r = Write(fmt::format("UPDATE task_instance SET pid=? WHERE {} AND fence=?", kKeyWhere), a);
    if (!r) return Fail(r.error());
    if (*r != 1) return {};
    SqlArgs b;
    b.Add(pid);
    AddKey(b, key).Add(try_number);
    auto t = Write(fmt::format("UPDATE task_try SET pid=? WHERE {} AND try_number=?", kKeyWhere), b);
    if (!t) return Fail(t.error());
    return {};
  });
}

Result<std::vector<TaskInstanceRecord>> SqlStore::ListExpiredTries(const std::string& owner) {
  auto r = Q(fmt::format("SELECT {} FROM task_instance ti JOIN dag_run r ON r.dag_id = ti.dag_id "
                         "AND r.run_id = ti.run_id WHERE r.owner = ? AND ti.state = 'running' AND "
                         "ti.lease_until < dagctl_now()",
                         Qualified(kTiColumns, "ti")),
             SqlArgs().Add(owner));
  if (!r) return Fail(r.error());
  return ReadTis(*r);
}

Result<bool> SqlStore::ExpireTry(const TaskInstanceRecord& t, const TryRecord& ended) {
  auto st = Atomic([&]() -> Status {
    SqlArgs a;
    AddTiSet(a, t);
    AddKey(a, t.key()).Add(t.fence);
    auto r = Write(fmt::format("UPDATE task_instance SET {} WHERE {} AND state='running' AND "
                               "fence=? AND lease_until < dagctl_now()",
                               kTiSet, kKeyWhere),
                   a);
    if (!r) return Fail(r.error());
    if (*r != 1) return Fail(LostGuard());
    return PutTry(ended);
  });
  if (!st && IsLostGuard(st.error())) return false;
  if (!st) return Fail(st.error());
  return true;
}

TryRecord SqlStore::ReadTry(const SqlRows& r, size_t i) {
  TryRecord t;
  t.dag_id = r.Text(i, 0);
  t.run_id = r.Text(i, 1);
  t.task_id = r.Text(i, 2);
  t.map_index = static_cast<int>(r.Int(i, 3));
  t.try_number = static_cast<int>(r.Int(i, 4));
  t.state = ParseTaskState(r.Text(i, 5)).value_or(TaskState::kNone);
  t.start_date = r.Time(i, 6);
  t.end_date = r.OptTime(i, 7);
  if (auto code = r.OptInt(i, 8)) t.exit_code = static_cast<int>(*code);
  t.error = r.Text(i, 9);
  t.hostname = r.Text(i, 10);
  t.pid = static_cast<int>(r.Int(i, 11));
  t.worker = r.Text(i, 12);
  return t;
}

Status SqlStore::PutTry(const TryRecord& t) {
  SqlArgs a;
  a.Add(t.dag_id).Add(t.run_id).Add(t.task_id).Add(t.map_index).Add(t.try_number);
  a.Add(TaskStateName(t.state)).Add(t.start_date).Add(t.end_date);
  if (t.exit_code)
    a.Add(*t.exit_code);
  else
    a.Null();
  a.Add(t.error).Add(t.hostname).Add(t.pid).Add(t.worker);
  auto r = Q(fmt::format("INSERT INTO task_try ({}) VALUES ({}) ON CONFLICT (dag_id, run_id, "
                         "task_id, map_index, try_number) DO UPDATE SET state=excluded.state, "
                         "start_date=excluded.start_date, end_date=excluded.end_date, "
                         "exit_code=excluded.exit_code, error=excluded.error, "
                         "hostname=excluded.hostname, pid=excluded.pid, worker=excluded.worker",
                         kTryColumns, SqlMarks(13)),
             a);
  if (!r) return Fail(r.error());
  return {};
}

Result<std::vector<TryRecord>> SqlStore::ListTries(const TiKey& key) {
  SqlArgs a;
  AddKey(a, key);
  auto r = Q(fmt::format("SELECT {} FROM task_try WHERE {} ORDER BY try_number", kTryColumns,
                         kKeyWhere),
             a);
  if (!r) return Fail(r.error());
  std::vector<TryRecord> out;
  for (size_t i = 0; i < r->size(); ++i) out.push_back(ReadTry(*r, i));
  return out;
}

Result<std::vector<TryRecord>> SqlStore::ListTriesOfRun(const std::string& dag_id,
                                                       const std::string& run_id) {
  auto r = Q(fmt::format("SELECT {} FROM task_try WHERE dag_id=? AND run_id=? "
                         "ORDER BY task_id, map_index, try_number",
                         kTryColumns),
             SqlArgs().Add(dag_id).Add(run_id));
  if (!r) return Fail(r.error());
  std::vector<TryRecord> out;
  for (size_t i = 0; i < r->size(); ++i) out.push_back(ReadTry(*r, i));
  return out;
}

// --- XCom ---------------------------------------------------------------------------

Status SqlStore::PutXCom(const std::string& dag_id, const std::string& run_id,
                         const XComRecord& x) {
  auto r = Q("INSERT INTO xcom (dag_id, run_id, task_id, map_index, key, value) VALUES "
             "(?,?,?,?,?,?) ON CONFLICT (dag_id, run_id, task_id, map_index, key) DO UPDATE SET "
             "value=excluded.value",
             SqlArgs().Add(dag_id).Add(run_id).Add(x.task_id).Add(x.map_index).Add(x.key).Add(
                 x.value));
  if (!r) return Fail(r.error());
  return {};
}

Result<std::string> SqlStore::GetXCom(const std::string& dag_id, const std::string& run_id,
                                      const std::string& task_id, const std::string& key,
                                      int map_index) {
  auto r = Q("SELECT value FROM xcom WHERE dag_id=? AND run_id=? AND task_id=? AND map_index=? "
             "AND key=?",
             SqlArgs().Add(dag_id).Add(run_id).Add(task_id).Add(map_index).Add(key));
  if (!r) return Fail(r.error());
  if (r->empty())
    return Fail(Error::NotFound(fmt::format("task '{}' pushed no XCom '{}'", task_id, key)));
  return r->Text(0, 0);
}

Result<std::vector<XComRecord>> SqlStore::ListXComs(const std::string& dag_id,
                                                    const std::string& run_id,
                                                    const std::string& task_id) {
  auto r = Q("SELECT key, value, map_index FROM xcom WHERE dag_id=? AND run_id=? AND task_id=? "
             "ORDER BY map_index, key",
             SqlArgs().Add(dag_id).Add(run_id).Add(task_id));
  if (!r) return Fail(r.error());
  std::vector<XComRecord> out;
  for (size_t i = 0; i < r->size(); ++i)
    out.push_back({task_id, r->TakeText(i, 0), r->TakeText(i, 1), static_cast<int>(r->Int(i, 2))});
  return out;
}

Result<std::vector<std::pair<int, std::string>>> SqlStore::ListMappedXCom(
    const std::string& dag_id, const std::string& run_id, const std::string& task_id,
    const std::string& key) {
  auto r = Q("SELECT map_index, value FROM xcom WHERE dag_id=? AND run_id=? AND task_id=? AND "
             "key=? AND map_index >= 0 ORDER BY map_index",
             SqlArgs().Add(dag_id).Add(run_id).Add(task_id).Add(key));
  if (!r) return Fail(r.error());
  std::vector<std::pair<int, std::string>> out;
  for (size_t i = 0; i < r->size(); ++i)
    out.emplace_back(static_cast<int>(r->Int(i, 0)), r->TakeText(i, 1));
  return out;
}

Status SqlStore::ClearXCom(const TiKey& key) {
  SqlArgs a;
  AddKey(a, key);
  auto r = Q(fmt::format("DELETE FROM xcom WHERE {}", kKeyWhere), a);
  if (!r) return Fail(r.error());
  return {};
}

}  // namespace dagctl
