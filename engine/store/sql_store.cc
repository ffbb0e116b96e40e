// The SQL store: opening and migrating, transactions, DAG runs and their leases.
#include "engine/store/sql_store.h"

#include <fmt/format.h>

#include <map>

#include "engine/clock.h"
#include "engine/store/sql_store_impl.h"
#include "engine/store/sqlite_schema.h"

namespace dagctl {

const char* RunTypeName(RunType t) {
  switch (t) {
    case RunType::kManual:
      return "manual";
    case RunType::kScheduled:
      return "scheduled";
    case RunType::kBackfill:
      return "backfill";
    case RunType::kDatasetTriggered:
      return "dataset_triggered";
  }
  return "manual";
}

std::optional<RunType> ParseRunType(const std::string& n) {
  if (n == "manual") return RunType::kManual;
  if (n == "scheduled") return RunType::kScheduled;
  if (n == "backfill") return RunType::kBackfill;
  if (n == "dataset_triggered") return RunType::kDatasetTriggered;
  return std::nullopt;
}

std::string SqlMarks(size_t n) {
  std::string marks;
  for (size_t i = 0; i < n; ++i) marks += i ? ",?" : "?";
  return marks;
}

std::string Qualified(const std::string& columns, const std::string& alias) {
  std::string out = alias + ".";
  for (char c : columns) {
    out += c;
    if (c == ' ') out += alias + ".";
  }
  return out;
}

std::string RunsWhere(const std::vector<std::pair<std::string, std::string>>& runs,
                      const std::string& prefix, SqlArgs& a) {
  if (runs.empty()) return "";
  std::string sql = " AND (";
  for (size_t i = 0; i < runs.size(); ++i) {
    sql += fmt::format("{}({}dag_id=? AND {}run_id=?)", i ? " OR " : "", prefix, prefix);
    a.Add(runs[i].first).Add(runs[i].second);
  }
  return sql + ")";
}

SqlArgs& AddKey(SqlArgs& a, const TiKey& k) {
  return a.Add(k.dag_id).Add(k.run_id).Add(k.task_id).Add(k.map_index);
}

namespace {

// The fields of a run its owner (or a person) changes.
constexpr const char* kRunSet = "state=?, start_date=?, end_date=?, dag_hash=?";
SqlArgs AddRunSet(SqlArgs a, const DagRunRecord& run) {
  return a.Add(RunStateName(run.state)).Add(run.start_date).Add(run.end_date).Add(run.dag_hash);
}

// Serializes schema migrations among PostgreSQL clients (an advisory lock id).
constexpr int64_t kMigrationLock = 0x64616763746c01;  // "dagctl" + 1
constexpr int64_t kQueueingLock = 0x64616763746c02;

int64_t Micros(Duration d) {
  return std::chrono::duration_cast<std::chrono::microseconds>(d).count();
}

}  // namespace

Result<int64_t> SqlStore::Write(const std::string& sql, const SqlArgs& args) {
  auto r = conn_->Query(sql, args);
  if (!r) return Fail(r.error());
  return r->changed();
}

std::string SqlStore::IsEqual(const char* column) const {
  return std::string(column) + (postgres() ? " IS NOT DISTINCT FROM ?" : " IS ?");
}

// --- Schema -------------------------------------------------------------------

Result<int> SqlStore::SchemaVersion() {
  if (!postgres()) {
    auto r = Q("PRAGMA user_version");
    if (!r) return Fail(r.error());
    return static_cast<int>(r->Int(0, 0));
  }
  auto made = conn_->ExecScript("CREATE TABLE IF NOT EXISTS dagctl_schema (version BIGINT NOT NULL)");
  if (!made) return Fail(made.error());
  auto r = Q("SELECT version FROM dagctl_schema");
  if (!r) return Fail(r.error());
  return r->empty() ? 0 : static_cast<int>(r->Int(0, 0));
}

Status SqlStore::SetSchemaVersion(int version) {
  if (!postgres()) return conn_->ExecScript(fmt::format("PRAGMA user_version = {}", version));
  if (auto st = conn_->ExecScript("DELETE FROM dagctl_schema"); !st) return st;
  return conn_->ExecScript(fmt::format("INSERT INTO dagctl_schema VALUES ({})", version));
}

// Brings the schema up to date. The version is read under the write lock
// (SQLite) or an advisory lock (PostgreSQL), so processes opening a new
// database at once migrate it only once.
Status SqlStore::Migrate() {
  const auto& migrations = postgres() ? PostgresMigrations() : SqliteMigrations();
  const int latest = static_cast<int>(migrations.size());
  return Transaction([&]() -> Status {
    if (postgres())
      if (auto r = Q(fmt::format("SELECT pg_advisory_xact_lock({})", kMigrationLock)); !r)
        return Fail(r.error());
    auto version = SchemaVersion();
    if (!version) return Fail(version.error());
    if (*version > latest)
      return Fail(Error::Corruption(fmt::format(
          "the database has schema version {}, newer than this dagctl knows ({}); upgrade dagctl",
          *version, latest)));
    for (int i = *version; i < latest; ++i) {
      if (auto r = conn_->ExecScript(migrations[static_cast<size_t>(i)]); !r)
        return Fail(Error(r.error().code(), fmt::format("migrating the schema to version {}: {}",
                                                        i + 1, r.error().message())));
    }
    if (*version == latest) return {};
    return SetSchemaVersion(latest);
  });
}

Status SqlStore::Transaction(const std::function<Status()>& fn) {
  if (tx_depth_ > 0) {
    // Nested: a savepoint, so a failing inner unit undoes only its own writes
    // (and, on PostgreSQL, leaves the outer transaction usable).
    // (SQLite keeps them as prepared statements: they come often.)
    std::string name = fmt::format("unit{}", tx_depth_);
    auto exec = [&](const std::string& sql) -> Status {
      if (postgres()) return conn_->ExecScript(sql);
      auto r = conn_->Query(sql);
      if (!r) return Fail(r.error());
      return {};
    };
    if (auto st = exec("SAVEPOINT " + name); !st) return st;
    ++tx_depth_;
    Status st = fn();
    --tx_depth_;
    if (!st) (void)exec("ROLLBACK TO SAVEPOINT " + name);
    if (auto r = exec("RELEASE SAVEPOINT " + name); !r && st) return r;
    return st;
  }
  if (auto st = conn_->Begin(); !st) return st;
  ++tx_depth_;
  Status st = fn();
  --tx_depth_;
  if (!st) {
    conn_->Rollback();
    return st;
  }
  if (auto c = conn_->Commit(); !c) {
    conn_->Rollback();
    return c;
  }
  return {};
}

Result<Timestamp> SqlStore::Now() {
  auto r = Q("SELECT dagctl_now()");
  if (!r) return Fail(r.error());
  return r->Time(0, 0);
}

// --- Runs -----------------------------------------------------------------------

void SqlStore::AddTi(SqlArgs& a, const TaskInstanceRecord& t) {
  a.Add(t.dag_id).Add(t.run_id).Add(t.task_id).Add(t.map_index);
  if (t.state == TaskState::kNone)
    a.Null();
  else
    a.Add(TaskStateName(t.state));
  a.Add(t.try_number).Add(t.max_tries).Add(t.start_date).Add(t.end_date).Add(t.next_try_at);
  a.Add(t.operator_name).Add(t.priority_weight).Add(t.pool).Add(t.pool_slots).Add(t.queue);
  a.Add(t.queued_at).Add(t.pid).Add(t.first_poke_at).Add(t.worker).Add(t.hostname);
  a.Add(t.lease_until).Add(t.fence).Add(t.version).Add(t.map_values);
}

Status SqlStore::CreateDagRun(const DagRunRecord& run,
                              const std::vector<TaskInstanceRecord>& tasks, Duration lease) {
  return Transaction([&]() -> Status {
    SqlArgs a;
    a.Add(run.dag_id).Add(run.run_id).Add(RunTypeName(run.run_type)).Add(RunStateName(run.state));
    a.Add(run.logical_date).Add(run.data_interval_start).Add(run.data_interval_end);
    a.Add(run.queued_at).Add(run.start_date).Add(run.end_date).Add(run.conf).Add(run.dag_hash);
    // lease_until: none without an owner, else the lease from now (store clock).
    a.Add(run.owner).Add(run.owner).Add(Micros(lease)).Add(run.fence).Add(run.ti_version);
    a.Add(run.max_active_runs);
    auto r = Q(fmt::format("INSERT INTO dag_run ({}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,"
                           "CASE WHEN ? = '' THEN NULL ELSE dagctl_now() + ? END,?,?,?)",
                           kRunColumns),
               a);
    if (!r) {
      if (r.error().code() != Error::Code::kAlreadyExists) return Fail(r.error());
      return Fail(Error::AlreadyExists(
          fmt::format("DAG '{}' already has run '{}' or a run for logical date {}", run.dag_id,
                      run.run_id, FormatIso(run.logical_date))));
    }
    return AddTaskInstances(tasks);
  });
}

Status SqlStore::AddTaskInstances(const std::vector<TaskInstanceRecord>& tis) {
  const std::string sql =
      fmt::format("INSERT INTO task_instance ({}) VALUES ({})", kTiColumns, SqlMarks(24));
  return Atomic([&]() -> Status {
    for (const TaskInstanceRecord& t : tis) {
      SqlArgs a;
      AddTi(a, t);
      if (auto r = Q(sql, a); !r) return Fail(r.error());
    }
    return {};
  });
}

Status SqlStore::UpdateDagRun(const DagRunRecord& run) {
  auto r = Write("UPDATE dag_run SET " + std::string(kRunSet) + " WHERE dag_id=? AND run_id=?",
                 AddRunSet(SqlArgs(), run).Add(run.dag_id).Add(run.run_id));
  if (!r) return Fail(r.error());
  return {};
}

Status SqlStore::SetDagRunByHand(const DagRunRecord& run) {
  auto r = Write(
      "UPDATE dag_run SET state=?, start_date=?, end_date=?, owner='', lease_until=NULL, "
      "fence=fence+1 WHERE dag_id=? AND run_id=?",
      SqlArgs()
          .Add(RunStateName(run.state))
          .Add(run.start_date)
          .Add(run.end_date)
          .Add(run.dag_id)
          .Add(run.run_id));
  if (!r) return Fail(r.error());
  if (*r == 0)
    return Fail(Error::NotFound(fmt::format("DAG '{}' has no run '{}'", run.dag_id, run.run_id)));
  return {};
}

DagRunRecord SqlStore::ReadRun(SqlRows& r, size_t i) {
  DagRunRecord run;
  run.dag_id = r.TakeText(i, 0);
  run.run_id = r.TakeText(i, 1);
  run.run_type = ParseRunType(r.Text(i, 2)).value_or(RunType::kManual);
  run.state = ParseRunState(r.Text(i, 3)).value_or(RunState::kQueued);
  run.logical_date = r.Time(i, 4);
  run.data_interval_start = r.Time(i, 5);
  run.data_interval_end = r.Time(i, 6);
  run.queued_at = r.Time(i, 7);
  run.start_date = r.OptTime(i, 8);
  run.end_date = r.OptTime(i, 9);
  run.conf = r.TakeText(i, 10);
  run.dag_hash = r.TakeText(i, 11);
  run.owner = r.TakeText(i, 12);
  run.lease_until = r.OptTime(i, 13);
  run.fence = r.Int(i, 14);
  run.ti_version = r.Int(i, 15);
  run.max_active_runs = static_cast<int>(r.Int(i, 16));
  return run;
}

Result<DagRunRecord> SqlStore::GetDagRun(const std::string& dag_id, const std::string& run_id) {
  auto r = Q(fmt::format("SELECT {} FROM dag_run WHERE dag_id=? AND run_id=?", kRunColumns),
             SqlArgs().Add(dag_id).Add(run_id));
  if (!r) return Fail(r.error());
  if (r->empty()) return Fail(Error::NotFound(fmt::format("DAG '{}' has no run '{}'", dag_id, run_id)));
  return ReadRun(*r, 0);
}

std::string SqlStore::RunWhere(const RunQuery& q, SqlArgs& args) const {
  std::string where = " WHERE 1=1";
  if (!q.dag_id.empty()) {
    where += " AND dag_id=?";
    args.Add(q.dag_id);
  }
  if (!q.states.empty()) {
    where += fmt::format(" AND state IN ({})", SqlMarks(q.states.size()));
    for (RunState st : q.states) args.Add(RunStateName(st));
  }
  if (!q.types.empty()) {
    where += fmt::format(" AND run_type IN ({})", SqlMarks(q.types.size()));
    for (RunType t : q.types) args.Add(RunTypeName(t));
  }
  if (q.logical_date_gte) {
    where += " AND logical_date >= ?";
    args.Add(*q.logical_date_gte);
  }
  if (q.logical_date_lte) {
    where += " AND logical_date <= ?";
    args.Add(*q.logical_date_lte);
  }
  for (auto [bound, cond] : {std::pair{&q.start_date_gte, " AND start_date >= ?"},
                             std::pair{&q.start_date_lte, " AND start_date <= ?"},
                             std::pair{&q.end_date_gte, " AND end_date >= ?"},
                             std::pair{&q.end_date_lte, " AND end_date <= ?"}}) {
    if (!*bound) continue;
    where += cond;
    args.Add(**bound);
  }
  return where;
}

// The ORDER BY clause for a RunQuery.
Result<std::string> SqlStore::RunOrder(const RunQuery& q) const {
  const char* creation = postgres() ? "id" : "rowid";
  if (q.order_by.empty()) {
    const char* dir = q.oldest_first ? "ASC" : "DESC";
    return fmt::format("logical_date {}, queued_at {}, {} {}", dir, dir, creation, dir);
  }
  static const std::map<std::string, std::string> kColumns = {
      {"logical_date", "logical_date"}, {"execution_date", "logical_date"},
      {"start_date", "start_date"},     {"end_date", "end_date"},
      {"state", "state"},               {"dag_run_id", "run_id"},
      {"run_id", "run_id"},             {"run_type", "run_type"},
      {"queued_at", "queued_at"}};
  bool desc = q.order_by[0] == '-';
  std::string field = desc ? q.order_by.substr(1) : q.order_by;
  auto it = kColumns.find(field);
  if (field != "id" && it == kColumns.end())
    return Fail(Error::InvalidArgument(fmt::format(
        "cannot order by '{}' (use id, logical_date, execution_date, start_date, end_date, state, "
        "dag_run_id or run_type, with '-' for descending)",
        q.order_by)));
  const char* dir = desc ? "DESC" : "ASC";
  std::string column = field == "id" ? creation : it->second;
  return fmt::format("{} {}, {} {}", column, dir, creation, dir);
}

Result<std::vector<DagRunRecord>> SqlStore::ListDagRuns(const RunQuery& q) {
  auto order = RunOrder(q);
  if (!order) return Fail(order.error());
  SqlArgs args;
  std::string where = RunWhere(q, args);
  args.Add(q.limit).Add(q.offset);
  auto r = Q(fmt::format("SELECT {} FROM dag_run{} ORDER BY {} LIMIT ? OFFSET ?", kRunColumns,
                         where, *order),
             args);
  if (!r) return Fail(r.error());
  std::vector<DagRunRecord> out;
  for (size_t i = 0; i < r->size(); ++i) out.push_back(ReadRun(*r, i));
  return out;
}

Result<int> SqlStore::CountDagRuns(const RunQuery& q) {
  SqlArgs args;
  std::string where = RunWhere(q, args);
  auto r = Q("SELECT COUNT(*) FROM dag_run" + where, args);
  if (!r) return Fail(r.error());
  return static_cast<int>(r->Int(0, 0));
}

Result<std::vector<RunDayCount>> SqlStore::CountRunsByDay(const std::string& dag_id,
                                                          Timestamp from, Timestamp to) {
  constexpr int64_t kDay = 86400LL * 1000000;  // timestamps are microseconds
  // Floor division: a day before 1970 starts below its timestamp too.
  auto r = Q(fmt::format("SELECT (logical_date - (((logical_date % {0}) + {0}) % {0})) AS day, "
                         "state, COUNT(*) FROM dag_run WHERE dag_id=? AND logical_date >= ? AND "
                         "logical_date < ? GROUP BY day, state ORDER BY day, state",
                         kDay),
             SqlArgs().Add(dag_id).Add(from).Add(to));
  if (!r) return Fail(r.error());
  std::vector<RunDayCount> out;
  for (size_t i = 0; i < r->size(); ++i)
    out.push_back({r->Time(i, 0), ParseRunState(r->Text(i, 1)).value_or(RunState::kQueued),
                   static_cast<int>(r->Int(i, 2))});
  return out;
}

Result<std::optional<DagRunRecord>> SqlStore::LatestScheduledRun(const std::string& dag_id) {
  auto runs = ListDagRuns(
      {.dag_id = dag_id, .types = {RunType::kScheduled, RunType::kBackfill}, .limit = 1});
  if (!runs) return Fail(runs.error());
  if (runs->empty()) return std::optional<DagRunRecord>();
  return std::optional<DagRunRecord>(runs->front());
}

// --- Run leases -------------------------------------------------------------------

Result<bool> SqlStore::LockDag(const std::string& dag_id) {
  if (!postgres()) return true;  // the transaction holds SQLite's write lock
  auto r = Q("SELECT dag_id FROM dag WHERE dag_id=? FOR UPDATE SKIP LOCKED", SqlArgs().Add(dag_id));
  if (!r) return Fail(r.error());
  return !r->empty();
}

Result<std::vector<ClaimableRun>> SqlStore::ListClaimableRuns(int limit) {
  auto r = Q(
      "SELECT dag_id, run_id, state, fence, owner, max_active_runs, run_type FROM dag_run "
      "WHERE state IN ('queued', 'running') AND (owner = '' OR lease_until IS NULL OR "
      "lease_until < dagctl_now()) "
      "ORDER BY CASE state WHEN 'running' THEN 0 ELSE 1 END, logical_date LIMIT ?",
      SqlArgs().Add(limit));
  if (!r) return Fail(r.error());
  std::vector<ClaimableRun> out;
  for (size_t i = 0; i < r->size(); ++i)
    out.push_back({r->Text(i, 0), r->Text(i, 1),
                   ParseRunState(r->Text(i, 2)).value_or(RunState::kQueued), r->Int(i, 3),
                   r->Text(i, 4), static_cast<int>(r->Int(i, 5)),
                   ParseRunType(r->Text(i, 6)).value_or(RunType::kManual)});
  return out;
}

Result<std::optional<int64_t>> SqlStore::ClaimRun(const std::string& dag_id,
                                                  const std::string& run_id,
                                                  int64_t expected_fence, const std::string& owner,
                                                  Duration lease, std::optional<RunState> state) {
  SqlArgs a;
  a.Add(owner).Add(Micros(lease));
  if (state)
    a.Add(RunStateName(*state));
  else
    a.Null();
  a.Add(dag_id).Add(run_id).Add(expected_fence).Add(owner);
  auto r = Q(
      "UPDATE dag_run SET owner=?, lease_until=dagctl_now() + ?, fence=fence + 1, "
      "state=COALESCE(?, state) WHERE dag_id=? AND run_id=? AND fence=? AND "
      "(owner = '' OR owner = ? OR lease_until IS NULL OR lease_until < dagctl_now()) "
      "RETURNING fence",
      a);
  if (!r) return Fail(r.error());
  if (r->empty()) return std::optional<int64_t>();
  return std::optional<int64_t>(r->Int(0, 0));
}

Result<std::vector<HeldRun>> SqlStore::RenewRunLeases(const std::string& owner, Duration lease) {
  auto r = Q(
      "UPDATE dag_run SET lease_until=dagctl_now() + ? WHERE owner=? AND state IN "
      "('queued', 'running') RETURNING dag_id, run_id, fence, ti_version",
      SqlArgs().Add(Micros(lease)).Add(owner));
  if (!r) return Fail(r.error());
  std::vector<HeldRun> out;
  for (size_t i = 0; i < r->size(); ++i)
    out.push_back({r->Text(i, 0), r->Text(i, 1), r->Int(i, 2), r->Int(i, 3)});
  return out;
}

Result<std::vector<HeldRun>> SqlStore::ListHeldRuns(const std::string& owner) {
  // Locked in key order (PostgreSQL): workers lock runs in that order too.
  auto r = Q(std::string("SELECT dag_id, run_id, fence, ti_version FROM dag_run WHERE owner=? AND "
                         "state IN ('queued', 'running') ORDER BY dag_id, run_id") +
                 (postgres() ? " FOR UPDATE" : ""),
             SqlArgs().Add(owner));
  if (!r) return Fail(r.error());
  std::vector<HeldRun> out;
  for (size_t i = 0; i < r->size(); ++i)
    out.push_back({r->Text(i, 0), r->Text(i, 1), r->Int(i, 2), r->Int(i, 3)});
  return out;
}

Result<bool> SqlStore::HoldsRun(const std::string& dag_id, const std::string& run_id,
                                const std::string& owner, int64_t fence) {
  auto r = Q(std::string("SELECT 1 FROM dag_run WHERE dag_id=? AND run_id=? AND owner=? AND "
                         "fence=?") +
                 (postgres() ? " FOR UPDATE" : ""),
             SqlArgs().Add(dag_id).Add(run_id).Add(owner).Add(fence));
  if (!r) return Fail(r.error());
  return !r->empty();
}

Result<bool> SqlStore::UpdateHeldRun(const DagRunRecord& run, bool release) {
  std::string set = release ? ", owner='', lease_until=NULL" : "";
  auto r = Write(fmt::format("UPDATE dag_run SET {}{} WHERE dag_id=? AND run_id=? AND owner=? AND "
                             "fence=?",
                             kRunSet, set),
                 AddRunSet(SqlArgs(), run).Add(run.dag_id).Add(run.run_id).Add(run.owner).Add(run.fence));
  if (!r) return Fail(r.error());
  return *r == 1;
}

Result<int64_t> SqlStore::BumpTiVersion(const std::string& dag_id, const std::string& run_id) {
  auto r = Q("UPDATE dag_run SET ti_version = ti_version + 1 WHERE dag_id=? AND run_id=? "
             "RETURNING ti_version",
             SqlArgs().Add(dag_id).Add(run_id));
  if (!r) return Fail(r.error());
  if (r->empty()) return Fail(Error::NotFound(fmt::format("DAG '{}' has no run '{}'", dag_id, run_id)));
  return r->Int(0, 0);
}

Status SqlStore::LockQueueing() {
  if (!postgres()) return {};
  auto r = Q(fmt::format("SELECT pg_advisory_xact_lock({})", kQueueingLock));
  if (!r) return Fail(r.error());
  return {};
}

// --- Opening ------------------------------------------------------------------------

namespace {

Result<std::unique_ptr<Store>> Finish(Result<std::unique_ptr<SqlConnection>> conn) {
  if (!conn) return Fail(conn.error());
  auto store = std::make_unique<SqlStore>(std::move(*conn));
  if (auto st = store->Migrate(); !st) return Fail(st.error());
  return std::unique_ptr<Store>(std::move(store));
}

const Clock& DefaultClock() {
  static SystemClock clock;
  return clock;
}

}  // namespace

bool IsPostgresUrl(const std::string& url) {
  return url.rfind("postgresql://", 0) == 0 || url.rfind("postgres://", 0) == 0;
}

Result<std::unique_ptr<Store>> OpenSqliteStore(const std::string& path, const Clock& clock) {
  return Finish(OpenSqliteConnection(path, clock));
}

Result<std::unique_ptr<Store>> OpenSqliteStore(const std::string& path) {
  return OpenSqliteStore(path, DefaultClock());
}

Result<std::unique_ptr<Store>> OpenStore(const std::string& url, const std::string& home,
                                         const Clock& clock) {
  if (url.empty()) return OpenSqliteStore(home + "/dagctl.db", clock);
  if (url.rfind("sqlite:///", 0) == 0 && url.size() > 10)
    return OpenSqliteStore(url.substr(10), clock);
  if (IsPostgresUrl(url)) return Finish(OpenPostgresConnection(url));
  return Fail(Error::InvalidArgument(fmt::format(
      "'{}' is not a store dagctl knows: use sqlite:///PATH (sqlite:////abs/path.db) or "
      "postgresql://USER:PASSWORD@HOST:PORT/DB",
      RedactUrl(url))));
}

int SqliteSchemaVersion() { return static_cast<int>(SqliteMigrations().size()); }

}  // namespace dagctl
