#include "engine/store/sqlite_store.h"

#include <fmt/format.h>
#include <sqlite3.h>

#include <map>
#include <utility>

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
  }
  return "manual";
}

std::optional<RunType> ParseRunType(const std::string& n) {
  if (n == "manual") return RunType::kManual;
  if (n == "scheduled") return RunType::kScheduled;
  if (n == "backfill") return RunType::kBackfill;
  return std::nullopt;
}

namespace {

int64_t Micros(Timestamp t) { return t.time_since_epoch().count(); }
Timestamp FromMicros(int64_t v) { return Timestamp(std::chrono::microseconds(v)); }

// A prepared statement, reset on each use. Owned by the store's cache.
class Stmt {
 public:
  Stmt(sqlite3* db, const char* sql) : db_(db) {
    if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s_, nullptr) != SQLITE_OK)
      error_ = sqlite3_errmsg(db);
  }
  ~Stmt() { sqlite3_finalize(s_); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  bool ok() const { return s_ != nullptr; }
  const std::string& error() const { return error_; }

  Stmt& Reset() {
    sqlite3_reset(s_);
    sqlite3_clear_bindings(s_);
    next_ = 1;
    return *this;
  }
  Stmt& Bind(const std::string& v) {
    sqlite3_bind_text(s_, next_++, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Stmt& Bind(const char* v) { return Bind(std::string(v)); }
  Stmt& Bind(int64_t v) {
    sqlite3_bind_int64(s_, next_++, v);
    return *this;
  }
  Stmt& Bind(int v) { return Bind(static_cast<int64_t>(v)); }
  Stmt& Bind(Timestamp t) { return Bind(Micros(t)); }
  template <typename T>
  Stmt& Bind(const std::optional<T>& v) {
    if (v) return Bind(*v);
    sqlite3_bind_null(s_, next_++);
    return *this;
  }
  Stmt& BindState(TaskState st) {
    if (st == TaskState::kNone) {
      sqlite3_bind_null(s_, next_++);
      return *this;
    }
    return Bind(TaskStateName(st));
  }

  /// SQLITE_ROW, SQLITE_DONE or an error code.
  int Step() { return sqlite3_step(s_); }

  std::string Text(int col) const {
    auto p = sqlite3_column_text(s_, col);
    return p ? std::string(reinterpret_cast<const char*>(p), sqlite3_column_bytes(s_, col)) : "";
  }
  int64_t Int(int col) const { return sqlite3_column_int64(s_, col); }
  bool IsNull(int col) const { return sqlite3_column_type(s_, col) == SQLITE_NULL; }
  std::optional<Timestamp> OptTime(int col) const {
    if (IsNull(col)) return std::nullopt;
    return FromMicros(Int(col));
  }

 private:
  sqlite3* db_;
  sqlite3_stmt* s_ = nullptr;
  std::string error_;
  int next_ = 1;
};

// A cached statement lent out for one use; reset when the use ends, so no
// half-read SELECT keeps a read transaction open (which would make a later
// write fail with "database is locked" instead of waiting).
class StmtRef {
 public:
  explicit StmtRef(Stmt* s) : s_(s) {}
  StmtRef(StmtRef&& o) noexcept : s_(std::exchange(o.s_, nullptr)) {}
  StmtRef& operator=(StmtRef&&) = delete;
  ~StmtRef() {
    if (s_) s_->Reset();
  }
  Stmt* operator->() const { return s_; }
  Stmt& operator*() const { return *s_; }

 private:
  Stmt* s_;
};

constexpr const char* kRunColumns =
    "dag_id, run_id, run_type, state, logical_date, data_interval_start, data_interval_end, "
    "queued_at, start_date, end_date, conf, dag_hash, owner";
constexpr const char* kTiColumns =
    "dag_id, run_id, task_id, state, try_number, max_tries, start_date, end_date, next_try_at, "
    "operator, priority_weight, pool, pid, first_poke_at";
constexpr const char* kTryColumns =
    "dag_id, run_id, task_id, try_number, state, start_date, end_date, exit_code, error, "
    "hostname, pid";

class SqliteStore : public Store {
 public:
  explicit SqliteStore(sqlite3* db) : db_(db) {}
  ~SqliteStore() override {
    cache_.clear();
    sqlite3_close_v2(db_);
  }

  Status Migrate();
  Result<int> SchemaVersion();

  Status Transaction(const std::function<Status()>& fn) override;
  Status CreateDagRun(const DagRunRecord& run,
                      const std::vector<TaskInstanceRecord>& tasks) override;
  Status UpdateDagRun(const DagRunRecord& run) override;
  Result<bool> ClaimRun(const std::string& dag_id, const std::string& run_id,
                        const std::string& expected_owner, const std::string& new_owner) override;
  Result<DagRunRecord> GetDagRun(const std::string& dag_id, const std::string& run_id) override;
  Result<std::vector<DagRunRecord>> ListDagRuns(const RunQuery& q) override;
  Result<int> CountDagRuns(const RunQuery& q) override;
  Status UpdateTaskInstance(const TaskInstanceRecord& ti) override;
  Result<std::vector<TaskInstanceRecord>> ListTaskInstances(const std::string& dag_id,
                                                            const std::string& run_id) override;
  Result<std::vector<TaskInstanceRecord>> ListTaskInstancesOfRuns(
      const std::string& dag_id, const std::vector<std::string>& run_ids) override;
  Status PutTry(const TryRecord& t) override;
  Result<std::vector<TryRecord>> ListTries(const std::string& dag_id, const std::string& run_id,
                                           const std::string& task_id) override;
  Status PutXCom(const std::string& dag_id, const std::string& run_id,
                 const XComRecord& x) override;
  Result<std::string> GetXCom(const std::string& dag_id, const std::string& run_id,
                              const std::string& task_id, const std::string& key) override;
  Status ClearXCom(const std::string& dag_id, const std::string& run_id,
                   const std::string& task_id) override;
  Result<std::optional<DagRunRecord>> LatestScheduledRun(const std::string& dag_id) override;
  Status ReplaceImportErrors(const std::vector<ImportErrorRecord>& errors) override;
  Result<std::vector<ImportErrorRecord>> ListImportErrors() override;
  Result<bool> IsPaused(const std::string& dag_id) override;
  Status SetPaused(const std::string& dag_id, bool paused) override;
  Result<std::set<std::string>> PausedDags() override;
  Status SetVariable(const std::string& key, const std::string& value) override;
  Result<std::string> GetVariable(const std::string& key) override;
  Result<std::vector<std::pair<std::string, std::string>>> ListVariables() override;
  Status DeleteVariable(const std::string& key) override;
  Status Heartbeat(const std::string& job_type, const std::string& owner, Timestamp at) override;
  Result<std::optional<Timestamp>> LatestHeartbeat(const std::string& job_type) override;

 private:
  Result<StmtRef> Prepare(const std::string& sql);
  Status Exec(const char* sql);
  Status Run(Stmt& s);  // steps a statement that returns no rows
  Error SqlError(const std::string& what) const {
    return Error::IOError(fmt::format("{}: {}", what, sqlite3_errmsg(db_)));
  }
  static DagRunRecord ReadRun(const Stmt& s);
  static TaskInstanceRecord ReadTi(const Stmt& s);
  static TryRecord ReadTry(const Stmt& s);
  std::string RunWhere(const RunQuery& q) const;
  static Result<std::string> RunOrder(const RunQuery& q);
  // Steps `s` to the end, reading each row with `read`.
  template <typename Read>
  auto Collect(Stmt& s, Read read, const char* what) -> Result<std::vector<decltype(read(s))>> {
    std::vector<decltype(read(s))> out;
    int rc;
    while ((rc = s.Step()) == SQLITE_ROW) out.push_back(read(s));
    if (rc != SQLITE_DONE) return Fail(SqlError(what));
    return out;
  }
  void BindRunQuery(Stmt& s, const RunQuery& q) const;

  sqlite3* db_;
  std::map<std::string, std::unique_ptr<Stmt>> cache_;
  int tx_depth_ = 0;
};

Result<StmtRef> SqliteStore::Prepare(const std::string& sql) {
  auto it = cache_.find(sql);
  if (it == cache_.end()) {
    auto stmt = std::make_unique<Stmt>(db_, sql.c_str());
    if (!stmt->ok()) return Fail(Error::Internal("preparing SQL: " + stmt->error()));
    it = cache_.emplace(sql, std::move(stmt)).first;
  }
  return StmtRef(&it->second->Reset());
}

Status SqliteStore::Exec(const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : "unknown error";
    sqlite3_free(err);
    return Fail(Error::IOError(msg));
  }
  return {};
}

Status SqliteStore::Run(Stmt& s) {
  int rc = s.Step();
  if (rc == SQLITE_DONE || rc == SQLITE_ROW) return {};
  if (rc == SQLITE_CONSTRAINT) return Fail(Error::AlreadyExists(sqlite3_errmsg(db_)));
  return Fail(SqlError("writing the metadata database"));
}

Result<int> SqliteStore::SchemaVersion() {
  Stmt v(db_, "PRAGMA user_version");
  if (v.Step() != SQLITE_ROW) return Fail(SqlError("reading the schema version"));
  return static_cast<int>(v.Int(0));
}

// Brings the schema up to date. The version is read again under the write
// lock, so processes opening a new database at once migrate it only once.
Status SqliteStore::Migrate() {
  const auto& migrations = SqliteMigrations();
  const int latest = static_cast<int>(migrations.size());
  auto st = Transaction([&]() -> Status {
    auto version = SchemaVersion();
    if (!version) return Fail(version.error());
    if (*version > latest)
      return Fail(Error::Corruption(fmt::format(
          "the database has schema version {}, newer than this dagctl knows ({}); upgrade dagctl",
          *version, latest)));
    for (int i = *version; i < latest; ++i) {
      if (auto r = Exec(migrations[static_cast<size_t>(i)]); !r)
        return Fail(Error::IOError(
            fmt::format("migrating the schema to version {}: {}", i + 1, r.error().message())));
    }
    if (*version == latest) return {};
    return Exec(fmt::format("PRAGMA user_version = {}", latest).c_str());
  });
  return st;
}

Status SqliteStore::Transaction(const std::function<Status()>& fn) {
  if (tx_depth_ > 0) return fn();
  if (auto r = Exec("BEGIN IMMEDIATE"); !r) return r;
  ++tx_depth_;
  Status st = fn();
  --tx_depth_;
  if (!st) {
    (void)Exec("ROLLBACK");
    return st;
  }
  if (auto r = Exec("COMMIT"); !r) {
    (void)Exec("ROLLBACK");
    return r;
  }
  return {};
}

Status SqliteStore::CreateDagRun(const DagRunRecord& run,
                                 const std::vector<TaskInstanceRecord>& tasks) {
  return Transaction([&]() -> Status {
    auto s = Prepare(
        fmt::format("INSERT INTO dag_run ({}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", kRunColumns));
    if (!s) return Fail(s.error());
    (*s)->Bind(run.dag_id)
        .Bind(run.run_id)
        .Bind(RunTypeName(run.run_type))
        .Bind(RunStateName(run.state))
        .Bind(run.logical_date)
        .Bind(run.data_interval_start)
        .Bind(run.data_interval_end)
        .Bind(run.queued_at)
        .Bind(run.start_date)
        .Bind(run.end_date)
        .Bind(run.conf)
        .Bind(run.dag_hash)
        .Bind(run.owner);
    if ((*s)->Step() == SQLITE_CONSTRAINT)
      return Fail(Error::AlreadyExists(
          fmt::format("DAG '{}' already has run '{}' or a run for logical date {}", run.dag_id,
                      run.run_id, FormatIso(run.logical_date))));
    auto ti = Prepare(fmt::format(
        "INSERT INTO task_instance ({}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)", kTiColumns));
    if (!ti) return Fail(ti.error());
    for (const TaskInstanceRecord& t : tasks) {
      (*ti)
          ->Reset()
          .Bind(t.dag_id)
          .Bind(t.run_id)
          .Bind(t.task_id)
          .BindState(t.state)
          .Bind(t.try_number)
          .Bind(t.max_tries)
          .Bind(t.start_date)
          .Bind(t.end_date)
          .Bind(t.next_try_at)
          .Bind(t.operator_name)
          .Bind(t.priority_weight)
          .Bind(t.pool)
          .Bind(t.pid)
          .Bind(t.first_poke_at);
      if (auto r = Run(**ti); !r) return r;
    }
    return {};
  });
}

Status SqliteStore::UpdateDagRun(const DagRunRecord& run) {
  auto s = Prepare(
      "UPDATE dag_run SET state=?, start_date=?, end_date=?, dag_hash=?, owner=? "
      "WHERE dag_id=? AND run_id=?");
  if (!s) return Fail(s.error());
  (*s)->Bind(RunStateName(run.state))
      .Bind(run.start_date)
      .Bind(run.end_date)
      .Bind(run.dag_hash)
      .Bind(run.owner)
      .Bind(run.dag_id)
      .Bind(run.run_id);
  return Run(**s);
}

Result<bool> SqliteStore::ClaimRun(const std::string& dag_id, const std::string& run_id,
                                   const std::string& expected_owner,
                                   const std::string& new_owner) {
  auto s = Prepare("UPDATE dag_run SET owner=? WHERE dag_id=? AND run_id=? AND owner=?");
  if (!s) return Fail(s.error());
  (*s)->Bind(new_owner).Bind(dag_id).Bind(run_id).Bind(expected_owner);
  if (auto st = Run(**s); !st) return Fail(st.error());
  return sqlite3_changes(db_) == 1;
}

DagRunRecord SqliteStore::ReadRun(const Stmt& s) {
  DagRunRecord r;
  r.dag_id = s.Text(0);
  r.run_id = s.Text(1);
  r.run_type = ParseRunType(s.Text(2)).value_or(RunType::kManual);
  r.state = ParseRunState(s.Text(3)).value_or(RunState::kQueued);
  r.logical_date = FromMicros(s.Int(4));
  r.data_interval_start = FromMicros(s.Int(5));
  r.data_interval_end = FromMicros(s.Int(6));
  r.queued_at = FromMicros(s.Int(7));
  r.start_date = s.OptTime(8);
  r.end_date = s.OptTime(9);
  r.conf = s.Text(10);
  r.dag_hash = s.Text(11);
  r.owner = s.Text(12);
  return r;
}

Result<DagRunRecord> SqliteStore::GetDagRun(const std::string& dag_id, const std::string& run_id) {
  auto s = Prepare(fmt::format("SELECT {} FROM dag_run WHERE dag_id=? AND run_id=?", kRunColumns));
  if (!s) return Fail(s.error());
  (*s)->Bind(dag_id).Bind(run_id);
  int rc = (*s)->Step();
  if (rc == SQLITE_ROW) return ReadRun(**s);
  if (rc == SQLITE_DONE)
    return Fail(Error::NotFound(fmt::format("DAG '{}' has no run '{}'", dag_id, run_id)));
  return Fail(SqlError("reading a DAG run"));
}

std::string SqliteStore::RunWhere(const RunQuery& q) const {
  auto in = [](const char* column, size_t n) {
    std::string marks;
    for (size_t i = 0; i < n; ++i) marks += i ? ",?" : "?";
    return fmt::format(" AND {} IN ({})", column, marks);
  };
  std::string where = " WHERE 1=1";
  if (!q.dag_id.empty()) where += " AND dag_id=?";
  if (!q.states.empty()) where += in("state", q.states.size());
  if (!q.types.empty()) where += in("run_type", q.types.size());
  if (q.logical_date_gte) where += " AND logical_date >= ?";
  if (q.logical_date_lte) where += " AND logical_date <= ?";
  return where;
}

// The ORDER BY clause for a RunQuery.
Result<std::string> SqliteStore::RunOrder(const RunQuery& q) {
  if (q.order_by.empty()) {
    const char* dir = q.oldest_first ? "ASC" : "DESC";
    return fmt::format("logical_date {}, queued_at {}", dir, dir);
  }
  static const std::map<std::string, std::string> kColumns = {
      {"id", "rowid"},           {"logical_date", "logical_date"},
      {"execution_date", "logical_date"}, {"start_date", "start_date"},
      {"end_date", "end_date"},  {"state", "state"},
      {"dag_run_id", "run_id"},  {"run_id", "run_id"},
      {"run_type", "run_type"},  {"queued_at", "queued_at"}};
  bool desc = q.order_by[0] == '-';
  auto it = kColumns.find(desc ? q.order_by.substr(1) : q.order_by);
  if (it == kColumns.end())
    return Fail(Error::InvalidArgument(fmt::format(
        "cannot order by '{}' (use id, logical_date, execution_date, start_date, end_date, state, "
        "dag_run_id or run_type, with '-' for descending)",
        q.order_by)));
  return fmt::format("{} {}, rowid {}", it->second, desc ? "DESC" : "ASC", desc ? "DESC" : "ASC");
}

void SqliteStore::BindRunQuery(Stmt& s, const RunQuery& q) const {
  if (!q.dag_id.empty()) s.Bind(q.dag_id);
  for (RunState st : q.states) s.Bind(RunStateName(st));
  for (RunType t : q.types) s.Bind(RunTypeName(t));
  if (q.logical_date_gte) s.Bind(*q.logical_date_gte);
  if (q.logical_date_lte) s.Bind(*q.logical_date_lte);
}

Result<std::vector<DagRunRecord>> SqliteStore::ListDagRuns(const RunQuery& q) {
  auto order = RunOrder(q);
  if (!order) return Fail(order.error());
  auto s = Prepare(fmt::format("SELECT {} FROM dag_run{} ORDER BY {} LIMIT ? OFFSET ?", kRunColumns,
                               RunWhere(q), *order));
  if (!s) return Fail(s.error());
  BindRunQuery(**s, q);
  (*s)->Bind(q.limit).Bind(q.offset);
  return Collect(**s, ReadRun, "listing DAG runs");
}

Result<int> SqliteStore::CountDagRuns(const RunQuery& q) {
  auto s = Prepare("SELECT COUNT(*) FROM dag_run" + RunWhere(q));
  if (!s) return Fail(s.error());
  BindRunQuery(**s, q);
  if ((*s)->Step() != SQLITE_ROW) return Fail(SqlError("counting DAG runs"));
  return static_cast<int>((*s)->Int(0));
}

Status SqliteStore::UpdateTaskInstance(const TaskInstanceRecord& t) {
  auto s = Prepare(
      "UPDATE task_instance SET state=?, try_number=?, max_tries=?, start_date=?, "
      "end_date=?, next_try_at=?, pid=?, first_poke_at=? WHERE dag_id=? AND run_id=? AND task_id=?");
  if (!s) return Fail(s.error());
  (*s)->BindState(t.state)
      .Bind(t.try_number)
      .Bind(t.max_tries)
      .Bind(t.start_date)
      .Bind(t.end_date)
      .Bind(t.next_try_at)
      .Bind(t.pid)
      .Bind(t.first_poke_at)
      .Bind(t.dag_id)
      .Bind(t.run_id)
      .Bind(t.task_id);
  return Run(**s);
}

TaskInstanceRecord SqliteStore::ReadTi(const Stmt& s) {
  TaskInstanceRecord t;
  t.dag_id = s.Text(0);
  t.run_id = s.Text(1);
  t.task_id = s.Text(2);
  t.state = s.IsNull(3) ? TaskState::kNone : ParseTaskState(s.Text(3)).value_or(TaskState::kNone);
  t.try_number = static_cast<int>(s.Int(4));
  t.max_tries = static_cast<int>(s.Int(5));
  t.start_date = s.OptTime(6);
  t.end_date = s.OptTime(7);
  t.next_try_at = s.OptTime(8);
  t.operator_name = s.Text(9);
  t.priority_weight = static_cast<int>(s.Int(10));
  t.pool = s.Text(11);
  t.pid = static_cast<int>(s.Int(12));
  t.first_poke_at = s.OptTime(13);
  return t;
}

Result<std::vector<TaskInstanceRecord>> SqliteStore::ListTaskInstances(const std::string& dag_id,
                                                                       const std::string& run_id) {
  auto s = Prepare(fmt::format(
      "SELECT {} FROM task_instance WHERE dag_id=? AND run_id=? ORDER BY task_id", kTiColumns));
  if (!s) return Fail(s.error());
  (*s)->Bind(dag_id).Bind(run_id);
  return Collect(**s, ReadTi, "listing task instances");
}

Result<std::vector<TaskInstanceRecord>> SqliteStore::ListTaskInstancesOfRuns(
    const std::string& dag_id, const std::vector<std::string>& run_ids) {
  if (run_ids.empty()) return std::vector<TaskInstanceRecord>{};
  std::string marks;
  for (size_t i = 0; i < run_ids.size(); ++i) marks += i ? ",?" : "?";
  auto s = Prepare(fmt::format("SELECT {} FROM task_instance WHERE dag_id=? AND run_id IN ({})",
                               kTiColumns, marks));
  if (!s) return Fail(s.error());
  (*s)->Bind(dag_id);
  for (const std::string& id : run_ids) (*s)->Bind(id);
  return Collect(**s, ReadTi, "listing task instances");
}

Status SqliteStore::PutTry(const TryRecord& t) {
  auto s = Prepare(fmt::format(
      "INSERT OR REPLACE INTO task_try ({}) VALUES (?,?,?,?,?,?,?,?,?,?,?)", kTryColumns));
  if (!s) return Fail(s.error());
  (*s)->Bind(t.dag_id)
      .Bind(t.run_id)
      .Bind(t.task_id)
      .Bind(t.try_number)
      .Bind(TaskStateName(t.state))
      .Bind(t.start_date)
      .Bind(t.end_date)
      .Bind(t.exit_code)
      .Bind(t.error)
      .Bind(t.hostname)
      .Bind(t.pid);
  return Run(**s);
}

TryRecord SqliteStore::ReadTry(const Stmt& s) {
  TryRecord t;
  t.dag_id = s.Text(0);
  t.run_id = s.Text(1);
  t.task_id = s.Text(2);
  t.try_number = static_cast<int>(s.Int(3));
  t.state = ParseTaskState(s.Text(4)).value_or(TaskState::kNone);
  t.start_date = FromMicros(s.Int(5));
  t.end_date = s.OptTime(6);
  if (!s.IsNull(7)) t.exit_code = static_cast<int>(s.Int(7));
  t.error = s.Text(8);
  t.hostname = s.Text(9);
  t.pid = static_cast<int>(s.Int(10));
  return t;
}

Result<std::vector<TryRecord>> SqliteStore::ListTries(const std::string& dag_id,
                                                      const std::string& run_id,
                                                      const std::string& task_id) {
  auto s =
      Prepare(fmt::format("SELECT {} FROM task_try WHERE dag_id=? AND run_id=? AND task_id=? "
                          "ORDER BY try_number",
                          kTryColumns));
  if (!s) return Fail(s.error());
  (*s)->Bind(dag_id).Bind(run_id).Bind(task_id);
  return Collect(**s, ReadTry, "listing tries");
}

Status SqliteStore::PutXCom(const std::string& dag_id, const std::string& run_id,
                            const XComRecord& x) {
  auto s = Prepare(
      "INSERT OR REPLACE INTO xcom (dag_id, run_id, task_id, key, value) "
      "VALUES (?,?,?,?,?)");
  if (!s) return Fail(s.error());
  (*s)->Bind(dag_id).Bind(run_id).Bind(x.task_id).Bind(x.key).Bind(x.value);
  return Run(**s);
}

Result<std::string> SqliteStore::GetXCom(const std::string& dag_id, const std::string& run_id,
                                         const std::string& task_id, const std::string& key) {
  auto s = Prepare("SELECT value FROM xcom WHERE dag_id=? AND run_id=? AND task_id=? AND key=?");
  if (!s) return Fail(s.error());
  (*s)->Bind(dag_id).Bind(run_id).Bind(task_id).Bind(key);
  int rc = (*s)->Step();
  if (rc == SQLITE_ROW) return (*s)->Text(0);
  if (rc == SQLITE_DONE)
    return Fail(Error::NotFound(fmt::format("task '{}' pushed no XCom '{}'", task_id, key)));
  return Fail(SqlError("reading XCom"));
}

Status SqliteStore::ClearXCom(const std::string& dag_id, const std::string& run_id,
                              const std::string& task_id) {
  auto s = Prepare("DELETE FROM xcom WHERE dag_id=? AND run_id=? AND task_id=?");
  if (!s) return Fail(s.error());
  (*s)->Bind(dag_id).Bind(run_id).Bind(task_id);
  return Run(**s);
}

Result<std::optional<DagRunRecord>> SqliteStore::LatestScheduledRun(const std::string& dag_id) {
  auto runs = ListDagRuns(
      {.dag_id = dag_id, .types = {RunType::kScheduled, RunType::kBackfill}, .limit = 1});
  if (!runs) return Fail(runs.error());
  if (runs->empty()) return std::optional<DagRunRecord>();
  return std::optional<DagRunRecord>(runs->front());
}

Status SqliteStore::ReplaceImportErrors(const std::vector<ImportErrorRecord>& errors) {
  return Transaction([&]() -> Status {
    if (auto st = Exec("DELETE FROM import_error"); !st) return st;
    auto s = Prepare("INSERT INTO import_error (filename, stack_trace, timestamp) VALUES (?,?,?)");
    if (!s) return Fail(s.error());
    for (const ImportErrorRecord& e : errors) {
      (*s)->Reset().Bind(e.filename).Bind(e.stack_trace).Bind(e.timestamp);
      if (auto st = Run(**s); !st) return st;
    }
    return {};
  });
}

Result<std::vector<ImportErrorRecord>> SqliteStore::ListImportErrors() {
  auto s = Prepare("SELECT filename, stack_trace, timestamp FROM import_error ORDER BY filename");
  if (!s) return Fail(s.error());
  return Collect(
      **s,
      [](const Stmt& r) {
        return ImportErrorRecord{r.Text(0), r.Text(1), FromMicros(r.Int(2))};
      },
      "listing import errors");
}

Result<bool> SqliteStore::IsPaused(const std::string& dag_id) {
  auto s = Prepare("SELECT is_paused FROM dag WHERE dag_id=?");
  if (!s) return Fail(s.error());
  (*s)->Bind(dag_id);
  int rc = (*s)->Step();
  if (rc == SQLITE_ROW) return (*s)->Int(0) != 0;
  if (rc == SQLITE_DONE) return false;
  return Fail(SqlError("reading the pause flag"));
}

Status SqliteStore::SetPaused(const std::string& dag_id, bool paused) {
  auto s = Prepare(
      "INSERT INTO dag (dag_id, is_paused) VALUES (?, ?) "
      "ON CONFLICT (dag_id) DO UPDATE SET is_paused = excluded.is_paused");
  if (!s) return Fail(s.error());
  (*s)->Bind(dag_id).Bind(paused ? 1 : 0);
  return Run(**s);
}

Status SqliteStore::Heartbeat(const std::string& job_type, const std::string& owner,
                              Timestamp at) {
  auto s = Prepare("INSERT INTO job (job_type, owner, latest_heartbeat) VALUES (?, ?, ?) "
                   "ON CONFLICT (job_type) DO UPDATE SET owner = excluded.owner, "
                   "latest_heartbeat = excluded.latest_heartbeat");
  if (!s) return Fail(s.error());
  (*s)->Bind(job_type).Bind(owner).Bind(at);
  return Run(**s);
}

Result<std::optional<Timestamp>> SqliteStore::LatestHeartbeat(const std::string& job_type) {
  auto s = Prepare("SELECT latest_heartbeat FROM job WHERE job_type=?");
  if (!s) return Fail(s.error());
  (*s)->Bind(job_type);
  int rc = (*s)->Step();
  if (rc == SQLITE_ROW) return std::optional<Timestamp>(FromMicros((*s)->Int(0)));
  if (rc == SQLITE_DONE) return std::optional<Timestamp>();
  return Fail(SqlError("reading a heartbeat"));
}

Status SqliteStore::SetVariable(const std::string& key, const std::string& value) {
  auto s = Prepare("INSERT INTO variable (key, val) VALUES (?, ?) "
                   "ON CONFLICT (key) DO UPDATE SET val = excluded.val");
  if (!s) return Fail(s.error());
  (*s)->Bind(key).Bind(value);
  return Run(**s);
}

Result<std::string> SqliteStore::GetVariable(const std::string& key) {
  auto s = Prepare("SELECT val FROM variable WHERE key=?");
  if (!s) return Fail(s.error());
  (*s)->Bind(key);
  int rc = (*s)->Step();
  if (rc == SQLITE_ROW) return (*s)->Text(0);
  if (rc == SQLITE_DONE) return Fail(Error::NotFound(fmt::format("variable '{}' is not set", key)));
  return Fail(SqlError("reading a variable"));
}

Result<std::vector<std::pair<std::string, std::string>>> SqliteStore::ListVariables() {
  auto s = Prepare("SELECT key, val FROM variable ORDER BY key");
  if (!s) return Fail(s.error());
  return Collect(**s, [](const Stmt& r) { return std::make_pair(r.Text(0), r.Text(1)); },
                 "listing variables");
}

Status SqliteStore::DeleteVariable(const std::string& key) {
  auto s = Prepare("DELETE FROM variable WHERE key=?");
  if (!s) return Fail(s.error());
  (*s)->Bind(key);
  if (auto st = Run(**s); !st) return st;
  if (sqlite3_changes(db_) == 0)
    return Fail(Error::NotFound(fmt::format("variable '{}' is not set", key)));
  return {};
}

Result<std::set<std::string>> SqliteStore::PausedDags() {
  auto s = Prepare("SELECT dag_id FROM dag WHERE is_paused != 0");
  if (!s) return Fail(s.error());
  auto ids = Collect(
      **s, [](const Stmt& r) { return r.Text(0); }, "listing paused DAGs");
  if (!ids) return Fail(ids.error());
  return std::set<std::string>(ids->begin(), ids->end());
}

}  // namespace

Result<std::unique_ptr<Store>> OpenSqliteStore(const std::string& path) {
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(
      path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close_v2(db);
    return Fail(Error::IOError(fmt::format("cannot open database {}: {}", path, msg)));
  }
  auto store = std::make_unique<SqliteStore>(db);
  sqlite3_busy_timeout(db, 10000);
  for (const char* pragma :
       {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL", "PRAGMA foreign_keys=ON"}) {
    if (sqlite3_exec(db, pragma, nullptr, nullptr, nullptr) != SQLITE_OK)
      return Fail(
          Error::IOError(fmt::format("cannot set up database {}: {}", path, sqlite3_errmsg(db))));
  }
  if (auto st = store->Migrate(); !st) return Fail(st.error());
  return std::unique_ptr<Store>(std::move(store));
}

int SqliteSchemaVersion() { return static_cast<int>(SqliteMigrations().size()); }

}  // namespace dagctl
