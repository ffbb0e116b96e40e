// The Store on a SqlConnection. Internal to engine/store: the queries are in
// sql_store.cc (runs, schema), sql_store_tis.cc (task instances, queueing,
// tries, XCom) and sql_store_shared.cc (workers, callbacks, versions, logs,
// pools, notifications, the rest).
#pragma once

#include <memory>

#include "engine/store/sql_conn.h"
#include "engine/store/store.h"

namespace dagctl {

constexpr const char* kRunColumns =
    "dag_id, run_id, run_type, state, logical_date, data_interval_start, data_interval_end, "
    "queued_at, start_date, end_date, conf, dag_hash, owner, lease_until, fence, ti_version, "
    "max_active_runs";
constexpr const char* kTiColumns =
    "dag_id, run_id, task_id, map_index, state, try_number, max_tries, start_date, end_date, "
    "next_try_at, operator, priority_weight, pool, pool_slots, queue, queued_at, pid, "
    "first_poke_at, worker, hostname, lease_until, fence, version, map_values";
constexpr const char* kTryColumns =
    "dag_id, run_id, task_id, map_index, try_number, state, start_date, end_date, exit_code, "
    "error, hostname, pid, worker";
constexpr const char* kCallbackColumns =
    "id, dag_id, run_id, task_id, map_index, try_number, event, state, error, queue, dag_hash, "
    "created_at, reason";

/// "?,?,?" for `n` parameters.
std::string SqlMarks(size_t n);
/// " AND ((dag_id=? AND run_id=?) OR ...)" with `prefix` before the columns, or "".
std::string RunsWhere(const std::vector<std::pair<std::string, std::string>>& runs,
                      const std::string& prefix, SqlArgs& a);
/// `columns` with each name prefixed by `alias.`.
std::string Qualified(const std::string& columns, const std::string& alias);

class SqlStore : public Store {
 public:
  explicit SqlStore(std::unique_ptr<SqlConnection> conn) : conn_(std::move(conn)) {}

  Status Migrate();

  Status Transaction(const std::function<Status()>& fn) override;
  Result<Timestamp> Now() override;

  Status CreateDagRun(const DagRunRecord& run, const std::vector<TaskInstanceRecord>& tasks,
                      Duration lease) override;
  Status UpdateDagRun(const DagRunRecord& run) override;
  Status SetDagRunByHand(const DagRunRecord& run) override;
  Result<DagRunRecord> GetDagRun(const std::string& dag_id, const std::string& run_id) override;
  Result<std::vector<DagRunRecord>> ListDagRuns(const RunQuery& q) override;
  Result<int> CountDagRuns(const RunQuery& q) override;
  Result<std::optional<DagRunRecord>> LatestScheduledRun(const std::string& dag_id) override;

  Result<bool> LockDag(const std::string& dag_id) override;
  Result<std::vector<ClaimableRun>> ListClaimableRuns(int limit) override;
  Result<std::optional<int64_t>> ClaimRun(const std::string& dag_id, const std::string& run_id,
                                          int64_t expected_fence, const std::string& owner,
                                          Duration lease, std::optional<RunState> state) override;
  Result<std::vector<HeldRun>> RenewRunLeases(const std::string& owner, Duration lease) override;
  Result<std::vector<HeldRun>> ListHeldRuns(const std::string& owner) override;
  Result<bool> HoldsRun(const std::string& dag_id, const std::string& run_id,
                        const std::string& owner, int64_t fence) override;
  Result<bool> UpdateHeldRun(const DagRunRecord& run, bool release) override;

  Result<std::vector<TaskInstanceRecord>> ListTaskInstances(const std::string& dag_id,
                                                            const std::string& run_id) override;
  Result<std::vector<TaskInstanceRecord>> ListTaskInstancesOfRuns(
      const std::string& dag_id, const std::vector<std::string>& run_ids) override;
  Result<std::vector<TaskInstanceRecord>> ChangedTaskInstances(const std::string& dag_id,
                                                               const std::string& run_id,
                                                               int64_t since) override;
  Status UpdateTaskInstance(const TaskInstanceRecord& ti) override;
  Status AddTaskInstances(const std::vector<TaskInstanceRecord>& tis) override;
  Result<bool> DecideTaskInstance(const TaskInstanceRecord& ti, TaskState expected) override;
  Result<bool> ReplaceTaskInstances(const std::string& dag_id, const std::string& run_id,
                                    const std::string& task_id,
                                    const std::vector<TaskInstanceRecord>& rows) override;

  Status LockQueueing() override;
  Result<ActiveSlots> CountActiveSlots() override;
  Result<std::vector<TaskInstanceRecord>> ListScheduled(
      int limit, const QueueExclusions& excluded,
      const std::vector<std::pair<std::string, std::string>>& runs) override;
  Result<bool> QueueTaskInstance(const TiKey& key, bool new_try) override;

  Result<std::vector<TaskInstanceRecord>> ClaimTaskInstances(const ClaimSpec& spec) override;
  Result<std::vector<TaskInstanceRecord>> ClaimKeys(const ClaimSpec& spec);
  Result<std::vector<TaskInstanceRecord>> ListHeldTries(const std::string& worker) override;
  Result<std::vector<TaskInstanceRecord>> ListUnrecordedTries(const std::string& worker) override;
  Result<bool> AdoptTry(const TaskInstanceRecord& ti, const std::string& worker,
                        const std::string& hostname, Duration lease) override;
  Result<std::vector<TiKey>> RenewTryLeases(const std::string& worker,
                                            const std::vector<HeldTry>& tries,
                                            Duration lease) override;
  Result<bool> ReportTry(TryReport& report) override;
  Status RecordTryPid(const TiKey& key, int64_t fence, int try_number, int pid) override;
  Result<std::vector<TaskInstanceRecord>> ListExpiredTries(const std::string& owner) override;
  Result<bool> ExpireTry(const TaskInstanceRecord& ti, const TryRecord& ended) override;
  Status PutTry(const TryRecord& t) override;
  Result<std::vector<TryRecord>> ListTries(const TiKey& key) override;

  Status PutXCom(const std::string& dag_id, const std::string& run_id,
                 const XComRecord& x) override;
  Result<std::string> GetXCom(const std::string& dag_id, const std::string& run_id,
                              const std::string& task_id, const std::string& key,
                              int map_index) override;
  Result<std::vector<XComRecord>> ListXComs(const std::string& dag_id, const std::string& run_id,
                                            const std::string& task_id) override;
  Result<std::vector<std::pair<int, std::string>>> ListMappedXCom(
      const std::string& dag_id, const std::string& run_id, const std::string& task_id,
      const std::string& key) override;
  Status ClearXCom(const TiKey& key) override;

  Status AddCallback(const CallbackRecord& c) override;
  Result<std::vector<CallbackRecord>> ClaimCallbacks(
      const std::string& worker, const std::vector<std::string>& queues, int limit,
      const std::vector<std::pair<std::string, std::string>>& runs) override;
  Status FinishCallback(int64_t id) override;
  Result<int> CountPendingCallbacks(const std::string& dag_id, const std::string& run_id) override;

  Status WorkerHeartbeat(const WorkerRecord& w) override;
  Status RemoveWorker(const std::string& name) override;
  Result<std::vector<WorkerRecord>> ListWorkers(Duration alive_within) override;

  Status PutDagVersion(const DagVersionRecord& v) override;
  Result<DagVersionRecord> GetDagVersion(const std::string& dag_id,
                                         const std::string& hash) override;
  Result<std::vector<DagVersionRecord>> ListDagVersions(const std::string& dag_id) override;
  Status AppendTryLog(const TiKey& key, int try_number, int64_t offset,
                      const std::string& data) override;
  Status AppendTryLogLine(const TiKey& key, int try_number, const std::string& line) override;
  Result<std::vector<TryRecord>> ListTriesOfRun(const std::string& dag_id,
                                                const std::string& run_id) override;
  Result<std::vector<RunDayCount>> CountRunsByDay(const std::string& dag_id, Timestamp from,
                                                  Timestamp to) override;
  Result<std::string> ReadTryLog(const TiKey& key, int try_number, int64_t offset) override;

  Result<std::vector<PoolRecord>> ListPools() override;
  Status SetPool(const PoolRecord& p) override;
  Status CreatePool(const PoolRecord& p) override;
  Status UpdatePool(const std::string& name, const PoolRecord& p) override;
  Status DeletePool(const std::string& name) override;
  Result<std::map<std::string, PoolUsage>> CountPoolUsage() override;

  Status SyncAssetReferences(const std::vector<AssetReference>& refs, bool replace) override;
  Result<std::vector<AssetRecord>> ListAssets(const std::string& uri_pattern,
                                              const std::vector<std::string>& dag_ids,
                                              const std::string& order_by, int limit,
                                              int offset) override;
  Result<int> CountAssets(const std::string& uri_pattern,
                          const std::vector<std::string>& dag_ids) override;
  Result<AssetRecord> GetAsset(const std::string& uri) override;
  Status RecordAssetEvent(AssetEventRecord& event) override;
  Result<std::vector<AssetEventRecord>> ListAssetEvents(const AssetEventQuery& q) override;
  Result<int> CountAssetEvents(const AssetEventQuery& q) override;
  Result<std::vector<AssetQueueEntry>> ListAssetQueue(const AssetQueueQuery& q) override;
  Result<int> DeleteAssetQueue(const AssetQueueQuery& q) override;
  Status ConsumeAssetEvents(const std::string& dag_id, const std::string& run_id,
                            const std::vector<int64_t>& event_ids) override;
  Result<std::map<int64_t, std::vector<std::pair<std::string, std::string>>>> ListAssetEventRuns(
      const std::vector<int64_t>& event_ids) override;
  Result<std::vector<AssetEventRecord>> ListConsumedAssetEvents(const std::string& dag_id,
                                                                const std::string& run_id) override;

  Status Notify(const std::string& channel, const std::string& payload) override;
  Status Listen(const std::string& channel) override;
  int NotificationFd() override { return conn_->NotificationFd(); }
  std::set<std::string> TakeNotifications() override;

  Status ReplaceImportErrors(const std::vector<ImportErrorRecord>& errors) override;
  Result<std::vector<ImportErrorRecord>> ListImportErrors() override;
  Status EnsureDags(const std::vector<std::string>& dag_ids) override;
  Result<bool> IsPaused(const std::string& dag_id) override;
  Status SetPaused(const std::string& dag_id, bool paused) override;
  Result<std::set<std::string>> PausedDags() override;
  Status Heartbeat(const std::string& job_type, const std::string& owner, Timestamp at) override;
  Result<std::optional<Timestamp>> LatestHeartbeat(const std::string& job_type) override;
  Status SetVariable(const std::string& key, const std::string& value) override;
  Result<std::string> GetVariable(const std::string& key) override;
  Result<std::vector<std::pair<std::string, std::string>>> ListVariables() override;
  Status DeleteVariable(const std::string& key) override;
  Result<std::vector<ConnectionRecord>> ListConnections() override;
  Result<ConnectionRecord> GetConnection(const std::string& conn_id) override;
  Status CreateConnection(const ConnectionRecord& c) override;
  Status UpdateConnection(const ConnectionRecord& c) override;
  Status DeleteConnection(const std::string& conn_id) override;

 private:
  bool postgres() const { return conn_->dialect() == SqlDialect::kPostgres; }
  /// Runs `fn` in a transaction of its own, or as part of the caller's (no
  /// savepoint: for units whose failure fails the caller's transaction too).
  Status Atomic(const std::function<Status()>& fn) { return tx_depth_ > 0 ? fn() : Transaction(fn); }
  Result<SqlRows> Q(const std::string& sql, const SqlArgs& args = SqlArgs()) {
    return conn_->Query(sql, args);
  }
  /// Runs a write; returns the rows it changed.
  Result<int64_t> Write(const std::string& sql, const SqlArgs& args);
  Result<int> SchemaVersion();
  Status SetSchemaVersion(int version);
  static DagRunRecord ReadRun(SqlRows& r, size_t i);
  static TaskInstanceRecord ReadTi(SqlRows& r, size_t i);
  static TryRecord ReadTry(const SqlRows& r, size_t i);
  static CallbackRecord ReadCallback(const SqlRows& r, size_t i);
  static std::vector<TaskInstanceRecord> ReadTis(SqlRows& r);
  static void AddTi(SqlArgs& a, const TaskInstanceRecord& t);
  std::string RunWhere(const RunQuery& q, SqlArgs& args) const;
  Result<std::string> RunOrder(const RunQuery& q) const;
  /// Bumps the run's ti_version; returns the new one.
  Result<int64_t> BumpTiVersion(const std::string& dag_id, const std::string& run_id);
  /// " FOR UPDATE SKIP LOCKED" on PostgreSQL, "" on SQLite.
  const char* SkipLocked() const { return postgres() ? " FOR UPDATE SKIP LOCKED" : ""; }
  /// The asset's id, creating it at `now` when `create`; nullopt when it
  /// does not exist and `create` is false.
  Result<std::optional<int64_t>> AssetId(const std::string& uri, bool create, Timestamp now);
  Status ReadAssetReferences(std::vector<AssetRecord>& assets);
  std::string AssetEventWhere(const AssetEventQuery& q, SqlArgs& a) const;
  /// Inserts an event of asset `e.asset_id` at `e.timestamp` and queues its consumers.
  Status InsertAssetEvent(AssetEventRecord& e);
  /// `column IS ?` that also matches NULL against NULL.
  std::string IsEqual(const char* column) const;

  std::unique_ptr<SqlConnection> conn_;
  int tx_depth_ = 0;
};

/// Binds the key's four columns, for "dag_id=? AND run_id=? AND task_id=? AND map_index=?".
SqlArgs& AddKey(SqlArgs& a, const TiKey& k);
constexpr const char* kKeyWhere = "dag_id=? AND run_id=? AND task_id=? AND map_index=?";

}  // namespace dagctl
