// The SQL store: what processes share besides runs and tries — callbacks,
// workers, DAG versions, shipped logs, pools, notifications, import errors,
// pause flags, heartbeats and variables.
#include <fmt/format.h>


#include "engine/store/sql_store_impl.h"
#include "engine/value.h"

namespace dagctl {

namespace {

int64_t Micros(Duration d) {
  return std::chrono::duration_cast<std::chrono::microseconds>(d).count();
}

std::string JoinQueues(const std::vector<std::string>& queues) {
  std::string out;
  for (const std::string& q : queues) out += (out.empty() ? "" : ",") + q;
  return out;
}


}  // namespace

// --- Callbacks -------------------------------------------------------------------

CallbackRecord SqlStore::ReadCallback(const SqlRows& r, size_t i) {
  CallbackRecord c;
  c.id = r.Int(i, 0);
  c.dag_id = r.Text(i, 1);
  c.run_id = r.Text(i, 2);
  c.task_id = r.Text(i, 3);
  c.map_index = static_cast<int>(r.Int(i, 4));
  c.try_number = static_cast<int>(r.Int(i, 5));
  c.event = r.Text(i, 6);
  c.state = r.Text(i, 7);
  c.error = r.Text(i, 8);
  c.queue = r.Text(i, 9);
  c.dag_hash = r.Text(i, 10);
  c.created_at = r.Time(i, 11);
  c.reason = r.Text(i, 12);
  return c;
}

Status SqlStore::AddCallback(const CallbackRecord& c) {
  auto r =
      Q("INSERT INTO callback_request (dag_id, run_id, task_id, map_index, try_number, event, "
        "state, error, queue, dag_hash, reason, created_at) VALUES "
        "(?,?,?,?,?,?,?,?,?,?,?,dagctl_now())",
        SqlArgs()
            .Add(c.dag_id)
            .Add(c.run_id)
            .Add(c.task_id)
            .Add(c.map_index)
            .Add(c.try_number)
            .Add(c.event)
            .Add(c.state)
            .Add(c.error)
            .Add(c.queue)
            .Add(c.dag_hash)
            .Add(c.reason));
  if (!r) return Fail(r.error());
  return Notify("dagctl_queued", "");
}

Result<std::vector<CallbackRecord>> SqlStore::ClaimCallbacks(
    const std::string& worker, const std::vector<std::string>& queues, int limit,
    const std::vector<std::pair<std::string, std::string>>& runs) {
  SqlArgs a;
  a.Add(worker);
  std::string filter;
  if (!queues.empty()) {
    filter = fmt::format(" AND queue IN ({})", SqlMarks(queues.size()));
    for (const std::string& q : queues) a.Add(q);
  }
  filter += RunsWhere(runs, "", a);
  a.Add(limit);
  auto r = Q(fmt::format("UPDATE callback_request SET status='running', worker=? WHERE id IN "
                         "(SELECT id FROM callback_request WHERE status='queued'{} ORDER BY id "
                         "LIMIT ?{}) RETURNING {}",
                         filter, SkipLocked(), kCallbackColumns),
             a);
  if (!r) return Fail(r.error());
  std::vector<CallbackRecord> out;
  for (size_t i = 0; i < r->size(); ++i) out.push_back(ReadCallback(*r, i));
  return out;
}

Status SqlStore::FinishCallback(int64_t id) {
  auto r = Q("UPDATE callback_request SET status='done' WHERE id=?", SqlArgs().Add(id));
  if (!r) return Fail(r.error());
  return {};
}

Result<int> SqlStore::CountPendingCallbacks(const std::string& dag_id, const std::string& run_id) {
  auto r = Q("SELECT COUNT(*) FROM callback_request WHERE dag_id=? AND run_id=? AND status != "
             "'done'",
             SqlArgs().Add(dag_id).Add(run_id));
  if (!r) return Fail(r.error());
  return static_cast<int>(r->Int(0, 0));
}

// --- Workers ----------------------------------------------------------------------

Status SqlStore::WorkerHeartbeat(const WorkerRecord& w) {
  auto r = Q("INSERT INTO worker (name, hostname, queues, slots, slots_used, started_at, "
             "heartbeat) VALUES (?,?,?,?,?,?,dagctl_now()) ON CONFLICT (name) DO UPDATE SET "
             "hostname=excluded.hostname, queues=excluded.queues, slots=excluded.slots, "
             "slots_used=excluded.slots_used, started_at=excluded.started_at, "
             "heartbeat=excluded.heartbeat",
             SqlArgs()
                 .Add(w.name)
                 .Add(w.hostname)
                 .Add(JoinQueues(w.queues))
                 .Add(w.slots)
                 .Add(w.slots_used)
                 .Add(w.started_at));
  if (!r) return Fail(r.error());
  return {};
}

Status SqlStore::RemoveWorker(const std::string& name) {
  auto r = Q("DELETE FROM worker WHERE name=?", SqlArgs().Add(name));
  if (!r) return Fail(r.error());
  return {};
}

Result<std::vector<WorkerRecord>> SqlStore::ListWorkers(Duration alive_within) {
  auto r = Q("SELECT name, hostname, queues, slots, slots_used, started_at, heartbeat FROM worker "
             "WHERE heartbeat >= dagctl_now() - ? ORDER BY name",
             SqlArgs().Add(Micros(alive_within)));
  if (!r) return Fail(r.error());
  std::vector<WorkerRecord> out;
  for (size_t i = 0; i < r->size(); ++i)
    out.push_back({r->Text(i, 0), r->Text(i, 1), SplitCommaList(r->Text(i, 2)),
                   static_cast<int>(r->Int(i, 3)), static_cast<int>(r->Int(i, 4)), r->Time(i, 5),
                   r->Time(i, 6)});
  return out;
}

// --- DAG versions and logs ------------------------------------------------------------

Status SqlStore::PutDagVersion(const DagVersionRecord& v) {
  auto r = Q("INSERT INTO dag_version (dag_id, hash, path, source, created_at) VALUES "
             "(?,?,?,?,dagctl_now()) ON CONFLICT (dag_id, hash) DO NOTHING",
             SqlArgs().Add(v.dag_id).Add(v.hash).Add(v.path).Add(v.source));
  if (!r) return Fail(r.error());
  return {};
}

Result<DagVersionRecord> SqlStore::GetDagVersion(const std::string& dag_id,
                                                 const std::string& hash) {
  auto r = Q("SELECT dag_id, hash, path, source, created_at FROM dag_version WHERE dag_id=? AND "
             "hash=?",
             SqlArgs().Add(dag_id).Add(hash));
  if (!r) return Fail(r.error());
  if (r->empty())
    return Fail(Error::NotFound(
        fmt::format("the store has no version {} of DAG '{}'", hash.empty() ? "(none)" : hash, dag_id)));
  return DagVersionRecord{r->Text(0, 0), r->Text(0, 1), r->Text(0, 2), r->Text(0, 3),
                          r->Time(0, 4)};
}

Result<std::vector<DagVersionRecord>> SqlStore::ListDagVersions(const std::string& dag_id) {
  auto r =
      Q("SELECT dag_id, hash, path, created_at FROM dag_version WHERE dag_id=? ORDER BY "
        "created_at, hash",
        SqlArgs().Add(dag_id));
  if (!r) return Fail(r.error());
  std::vector<DagVersionRecord> out;
  for (size_t i = 0; i < r->size(); ++i)
    out.push_back({r->Text(i, 0), r->Text(i, 1), r->Text(i, 2), "", r->Time(i, 3)});
  return out;
}

Status SqlStore::AppendTryLog(const TiKey& key, int try_number, int64_t offset,
                              const std::string& data) {
  if (data.empty()) return {};
  SqlArgs a;
  AddKey(a, key).Add(try_number).Add(offset).Add(offset + static_cast<int64_t>(data.size())).Add(data);
  auto r = Q("INSERT INTO task_log (dag_id, run_id, task_id, map_index, try_number, byte_offset, "
             "byte_end, data) VALUES (?,?,?,?,?,?,?,?) ON CONFLICT (dag_id, run_id, task_id, "
             "map_index, try_number, byte_offset) DO NOTHING",
             a);
  if (!r) return Fail(r.error());
  return {};
}

Status SqlStore::AppendTryLogLine(const TiKey& key, int try_number, const std::string& line) {
  return Atomic([&]() -> Status {
    SqlArgs a;
    AddKey(a, key).Add(try_number);
    auto r = Q(fmt::format("SELECT MAX(byte_end) FROM task_log WHERE {} AND try_number=?", kKeyWhere), a);
    if (!r) return Fail(r.error());
    return AppendTryLog(key, try_number, r->Int(0, 0), line + "\n");
  });
}

Result<std::string> SqlStore::ReadTryLog(const TiKey& key, int try_number, int64_t offset) {
  SqlArgs a;
  AddKey(a, key).Add(try_number).Add(offset);
  auto r = Q(fmt::format("SELECT byte_offset, data FROM task_log WHERE {} AND try_number=? AND "
                         "byte_end > ? ORDER BY byte_offset",
                         kKeyWhere),
             a);
  if (!r) return Fail(r.error());
  if (r->empty()) {
    SqlArgs b;
    AddKey(b, key).Add(try_number);
    auto any = Q(fmt::format("SELECT 1 FROM task_log WHERE {} AND try_number=? LIMIT 1", kKeyWhere), b);
    if (!any) return Fail(any.error());
    if (any->empty()) return Fail(Error::NotFound("no log shipped for this try"));
    return std::string();
  }
  std::string out;
  int64_t at = offset;
  for (size_t i = 0; i < r->size(); ++i) {
    int64_t start = r->Int(i, 0);
    std::string data = r->Text(i, 1);
    if (start > at) break;  // a gap: what follows has not arrived in order yet
    size_t skip = static_cast<size_t>(at - start);
    if (skip < data.size()) out += data.substr(skip);
    at = std::max(at, start + static_cast<int64_t>(data.size()));
  }
  return out;
}

// --- Pools ------------------------------------------------------------------------------

Result<std::vector<PoolRecord>> SqlStore::ListPools() {
  auto r = Q("SELECT name, slots, description FROM pool ORDER BY name");
  if (!r) return Fail(r.error());
  std::vector<PoolRecord> out;
  for (size_t i = 0; i < r->size(); ++i)
    out.push_back({r->Text(i, 0), static_cast<int>(r->Int(i, 1)), r->Text(i, 2)});
  return out;
}

Status SqlStore::SetPool(const PoolRecord& p) {
  auto r = Q("INSERT INTO pool (name, slots, description) VALUES (?,?,?) ON CONFLICT (name) DO "
             "UPDATE SET slots=excluded.slots, description=excluded.description",
             SqlArgs().Add(p.name).Add(p.slots).Add(p.description));
  if (!r) return Fail(r.error());
  return {};
}

Status SqlStore::CreatePool(const PoolRecord& p) {
  auto r = Write("INSERT INTO pool (name, slots, description) VALUES (?,?,?) ON CONFLICT (name) "
                 "DO NOTHING",
                 SqlArgs().Add(p.name).Add(p.slots).Add(p.description));
  if (!r) return Fail(r.error());
  if (*r == 0) return Fail(Error::AlreadyExists(fmt::format("Pool: {} already exists", p.name)));
  return {};
}

Status SqlStore::UpdatePool(const std::string& name, const PoolRecord& p) {
  return Atomic([&]() -> Status {
    if (p.name != name) {
      auto taken = Q("SELECT 1 FROM pool WHERE name=?", SqlArgs().Add(p.name));
      if (!taken) return Fail(taken.error());
      if (taken->size()) return Fail(Error::AlreadyExists(fmt::format("Pool: {} already exists", p.name)));
    }
    auto r = Write("UPDATE pool SET name=?, slots=?, description=? WHERE name=?",
                   SqlArgs().Add(p.name).Add(p.slots).Add(p.description).Add(name));
    if (!r) return Fail(r.error());
    if (*r == 0) return Fail(Error::NotFound(fmt::format("Pool with name:'{}' not found", name)));
    return {};
  });
}

Result<std::map<std::string, PoolUsage>> SqlStore::CountPoolUsage() {
  auto r = Q("SELECT pool, state, SUM(pool_slots) FROM task_instance WHERE state IN "
             "('scheduled', 'queued', 'running') GROUP BY pool, state");
  if (!r) return Fail(r.error());
  std::map<std::string, PoolUsage> out;
  for (size_t i = 0; i < r->size(); ++i) {
    PoolUsage& u = out[r->Text(i, 0)];
    std::string state = r->Text(i, 1);
    int n = static_cast<int>(r->Int(i, 2));
    (state == "running" ? u.running : state == "queued" ? u.queued : u.scheduled) = n;
  }
  return out;
}

Status SqlStore::DeletePool(const std::string& name) {
  if (name == "default_pool")
    return Fail(Error::InvalidArgument("default_pool cannot be deleted (set its slots instead)"));
  auto r = Write("DELETE FROM pool WHERE name=?", SqlArgs().Add(name));
  if (!r) return Fail(r.error());
  if (*r == 0) return Fail(Error::NotFound(fmt::format("there is no pool '{}'", name)));
  return {};
}

// --- Notifications ------------------------------------------------------------------------

Status SqlStore::Notify(const std::string& channel, const std::string& payload) {
  if (!postgres()) return {};
  auto r = Q("SELECT pg_notify(?, ?)", SqlArgs().Add(channel).Add(payload));
  if (!r) return Fail(r.error());
  return {};
}

Status SqlStore::Listen(const std::string& channel) { return conn_->Listen(channel); }

std::set<std::string> SqlStore::TakeNotifications() {
  std::set<std::string> channels;
  for (const SqlNotification& n : conn_->TakeNotifications()) channels.insert(n.channel);
  return channels;
}

// --- Import errors, DAGs, heartbeats, variables ---------------------------------------------

Status SqlStore::ReplaceImportErrors(const std::vector<ImportErrorRecord>& errors) {
  return Atomic([&]() -> Status {
    if (auto r = Q("DELETE FROM import_error"); !r) return Fail(r.error());
    for (const ImportErrorRecord& e : errors) {
      auto r = Q("INSERT INTO import_error (filename, stack_trace, timestamp) VALUES (?,?,?)",
                 SqlArgs().Add(e.filename).Add(e.stack_trace).Add(e.timestamp));
      if (!r) return Fail(r.error());
    }
    return {};
  });
}

Result<std::vector<ImportErrorRecord>> SqlStore::ListImportErrors() {
  auto r = Q("SELECT filename, stack_trace, timestamp FROM import_error ORDER BY filename");
  if (!r) return Fail(r.error());
  std::vector<ImportErrorRecord> out;
  for (size_t i = 0; i < r->size(); ++i)
    out.push_back({r->Text(i, 0), r->Text(i, 1), r->Time(i, 2)});
  return out;
}

Status SqlStore::EnsureDags(const std::vector<std::string>& dag_ids) {
  return Atomic([&]() -> Status {
    for (const std::string& id : dag_ids) {
      auto r = Q("INSERT INTO dag (dag_id, is_paused) VALUES (?, 0) ON CONFLICT (dag_id) DO NOTHING",
                 SqlArgs().Add(id));
      if (!r) return Fail(r.error());
    }
    return {};
  });
}

Result<bool> SqlStore::IsPaused(const std::string& dag_id) {
  auto r = Q("SELECT is_paused FROM dag WHERE dag_id=?", SqlArgs().Add(dag_id));
  if (!r) return Fail(r.error());
  return !r->empty() && r->Int(0, 0) != 0;
}

Status SqlStore::SetPaused(const std::string& dag_id, bool paused) {
  auto r = Q("INSERT INTO dag (dag_id, is_paused) VALUES (?, ?) ON CONFLICT (dag_id) DO UPDATE "
             "SET is_paused = excluded.is_paused",
             SqlArgs().Add(dag_id).Add(paused ? 1 : 0));
  if (!r) return Fail(r.error());
  return {};
}

Result<std::set<std::string>> SqlStore::PausedDags() {
  auto r = Q("SELECT dag_id FROM dag WHERE is_paused != 0");
  if (!r) return Fail(r.error());
  std::set<std::string> out;
  for (size_t i = 0; i < r->size(); ++i) out.insert(r->Text(i, 0));
  return out;
}

Status SqlStore::Heartbeat(const std::string& job_type, const std::string& owner, Timestamp at) {
  auto r = Q("INSERT INTO job (job_type, owner, latest_heartbeat) VALUES (?, ?, ?) ON CONFLICT "
             "(job_type, owner) DO UPDATE SET latest_heartbeat = excluded.latest_heartbeat",
             SqlArgs().Add(job_type).Add(owner).Add(at));
  if (!r) return Fail(r.error());
  return {};
}

Result<std::optional<Timestamp>> SqlStore::LatestHeartbeat(const std::string& job_type) {
  auto r = Q("SELECT MAX(latest_heartbeat) FROM job WHERE job_type=?", SqlArgs().Add(job_type));
  if (!r) return Fail(r.error());
  if (r->empty() || r->IsNull(0, 0)) return std::optional<Timestamp>();
  return std::optional<Timestamp>(r->Time(0, 0));
}

Status SqlStore::SetVariable(const std::string& key, const std::string& value) {
  auto r = Q("INSERT INTO variable (key, val) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET val = "
             "excluded.val",
             SqlArgs().Add(key).Add(value));
  if (!r) return Fail(r.error());
  return {};
}

Result<std::string> SqlStore::GetVariable(const std::string& key) {
  auto r = Q("SELECT val FROM variable WHERE key=?", SqlArgs().Add(key));
  if (!r) return Fail(r.error());
  if (r->empty()) return Fail(Error::NotFound(fmt::format("variable '{}' is not set", key)));
  return r->Text(0, 0);
}

Result<std::vector<std::pair<std::string, std::string>>> SqlStore::ListVariables() {
  auto r = Q("SELECT key, val FROM variable ORDER BY key");
  if (!r) return Fail(r.error());
  std::vector<std::pair<std::string, std::string>> out;
  for (size_t i = 0; i < r->size(); ++i) out.emplace_back(r->Text(i, 0), r->Text(i, 1));
  return out;
}

Status SqlStore::DeleteVariable(const std::string& key) {
  auto r = Write("DELETE FROM variable WHERE key=?", SqlArgs().Add(key));
  if (!r) return Fail(r.error());
  if (*r == 0) return Fail(Error::NotFound(fmt::format("variable '{}' is not set", key)));
  return {};
}

namespace {

constexpr const char* kConnColumns =
    "conn_id, conn_type, description, host, schema, login, password, port, extra";

ConnectionRecord ReadConnection(SqlRows& r, size_t i) {
  ConnectionRecord c;
  c.conn_id = r.Text(i, 0);
  c.conn_type = r.Text(i, 1);
  c.description = r.Text(i, 2);
  c.host = r.Text(i, 3);
  c.schema = r.Text(i, 4);
  c.login = r.Text(i, 5);
  c.password = r.Text(i, 6);
  if (!r.IsNull(i, 7)) c.port = static_cast<int>(r.Int(i, 7));
  c.extra = r.Text(i, 8);
  return c;
}

SqlArgs ConnectionFields(const ConnectionRecord& c) {
  return SqlArgs()
      .Add(c.conn_type)
      .Add(c.description)
      .Add(c.host)
      .Add(c.schema)
      .Add(c.login)
      .Add(c.password)
      .Add(c.port)
      .Add(c.extra);
}

}  // namespace

Result<std::vector<ConnectionRecord>> SqlStore::ListConnections() {
  auto r = Q(fmt::format("SELECT {} FROM connection ORDER BY conn_id", kConnColumns));
  if (!r) return Fail(r.error());
  std::vector<ConnectionRecord> out;
  for (size_t i = 0; i < r->size(); ++i) out.push_back(ReadConnection(*r, i));
  return out;
}

Result<ConnectionRecord> SqlStore::GetConnection(const std::string& conn_id) {
  auto r = Q(fmt::format("SELECT {} FROM connection WHERE conn_id=?", kConnColumns),
             SqlArgs().Add(conn_id));
  if (!r) return Fail(r.error());
  if (r->empty()) return Fail(Error::NotFound(fmt::format("connection '{}' is not defined", conn_id)));
  return ReadConnection(*r, 0);
}

Status SqlStore::CreateConnection(const ConnectionRecord& c) {
  auto r = Write("INSERT INTO connection (conn_type, description, host, schema, login, password, "
                 "port, extra, conn_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
                 "ON CONFLICT (conn_id) DO NOTHING",
                 ConnectionFields(c).Add(c.conn_id));
  if (!r) return Fail(r.error());
  if (*r == 0)
    return Fail(Error::AlreadyExists(fmt::format("connection '{}' already exists", c.conn_id)));
  return {};
}

Status SqlStore::UpdateConnection(const ConnectionRecord& c) {
  auto r = Write("UPDATE connection SET conn_type=?, description=?, host=?, schema=?, login=?, "
                 "password=?, port=?, extra=? WHERE conn_id=?",
                 ConnectionFields(c).Add(c.conn_id));
  if (!r) return Fail(r.error());
  if (*r == 0) return Fail(Error::NotFound(fmt::format("connection '{}' is not defined", c.conn_id)));
  return {};
}

Status SqlStore::DeleteConnection(const std::string& conn_id) {
  auto r = Write("DELETE FROM connection WHERE conn_id=?", SqlArgs().Add(conn_id));
  if (!r) return Fail(r.error());
  if (*r == 0) return Fail(Error::NotFound(fmt::format("connection '{}' is not defined", conn_id)));
  return {};
}

}  // namespace dagctl
