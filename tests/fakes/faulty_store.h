// A Store that wraps a real one and fails on command: the N-th write call
// (counting every call that changes the store, and every commit) and, for a
// persistent fault, every write after it until the fault is cleared. The
// error is the one the real store gives for the fault (a busy database or a
// lost connection: Unavailable; a full disk or an I/O error: IOError), and a
// failure inside Transaction() rolls the whole transaction back, as on the
// real store.
#pragma once

#include <fmt/format.h>

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "engine/store/store.h"

namespace dagctl::testing {

enum class StoreFault { kBusy, kDropped, kDiskFull, kIOError };

inline const char* StoreFaultName(StoreFault f) {
  switch (f) {
    case StoreFault::kBusy:
      return "busy";
    case StoreFault::kDropped:
      return "dropped connection";
    case StoreFault::kDiskFull:
      return "disk full";
    case StoreFault::kIOError:
      return "I/O error";
  }
  return "?";
}

/// The message the real stores give for each fault.
inline Error StoreFaultError(StoreFault f, const std::string& call) {
  switch (f) {
    case StoreFault::kBusy:
      return Error::Unavailable(
          fmt::format("the metadata database (faulty.db): database is locked [{}]", call));
    case StoreFault::kDropped:
      return Error::Unavailable(fmt::format(
          "lost the connection to the metadata database postgresql://faulty: server closed the "
          "connection unexpectedly [{}]",
          call));
    case StoreFault::kDiskFull:
      return Error::IOError(
          fmt::format("the metadata database (faulty.db): database or disk is full [{}]", call));
    case StoreFault::kIOError:
      return Error::IOError(
          fmt::format("the metadata database (faulty.db): disk I/O error [{}]", call));
  }
  return Error::Internal("unknown fault");
}

class FaultyStore : public Store {
 public:
  explicit FaultyStore(Store& inner) : inner_(inner) {}

  /// Fails write number `n` (1-based, from now on) with `fault`; with
  /// `persistent` every later write fails too, until Clear() or until
  /// `clear_after` writes have failed.
  void FailWrite(int n, StoreFault fault, bool persistent, int clear_after = 1 << 30) {
    fail_at_ = writes_ + n;
    fault_ = fault;
    persistent_ = persistent;
    clear_after_ = failed_ + clear_after;
  }
  /// Called before write number `n` (counted from the store's start), as
  /// `call`: to do something real to the database then (cut its connection).
  std::function<void(int n, const char* call)> before_write;
  /// Called after every transaction that committed (outside it).
  std::function<void()> after_commit;
  /// Counts reads as well as writes (a lost connection fails whatever comes next).
  void CountReads(bool on) { count_reads_ = on; }
  /// The fault clears (the disk has room again, the server is back).
  void Clear() {
    fail_at_.reset();
    failing_ = false;
  }
  bool failing() const { return failing_; }
  /// Writes so far, and the calls they were (in order).
  int writes() const { return writes_; }
  const std::vector<std::string>& calls() const { return calls_; }
  /// Writes that failed.
  int failed() const { return failed_; }
  /// The call whose write failed first since FailWrite().
  const std::string& failed_call() const { return failed_call_; }

  Status Transaction(const std::function<Status()>& fn) override {
    if (in_tx_) return fn();
    in_tx_ = true;
    auto st = inner_.Transaction([&]() -> Status {
      if (auto s = fn(); !s) return s;
      // A commit that fails (the journal cannot grow): the transaction is rolled back.
      if (auto e = Fault("commit")) return Fail(*e);
      return {};
    });
    in_tx_ = false;
    if (st && after_commit) after_commit();
    return st;
  }

  Result<Timestamp> Now() override {
    if (auto e = Fault("Now", false)) return Fail(*e);
    return inner_.Now();
  }
  Status CreateDagRun(const DagRunRecord& run, const std::vector<TaskInstanceRecord>& tasks, Duration lease) override {
    if (auto e = Fault("CreateDagRun")) return Fail(*e);
    return inner_.CreateDagRun(run, tasks, lease);
  }
  Status UpdateDagRun(const DagRunRecord& run) override {
    if (auto e = Fault("UpdateDagRun")) return Fail(*e);
    return inner_.UpdateDagRun(run);
  }
  Result<DagRunRecord> GetDagRun(const std::string& dag_id, const std::string& run_id) override {
    if (auto e = Fault("GetDagRun", false)) return Fail(*e);
    return inner_.GetDagRun(dag_id, run_id);
  }
  Result<std::vector<DagRunRecord>> ListDagRuns(const RunQuery& q) override {
    if (auto e = Fault("ListDagRuns", false)) return Fail(*e);
    return inner_.ListDagRuns(q);
  }
  Result<int> CountDagRuns(const RunQuery& q) override {
    if (auto e = Fault("CountDagRuns", false)) return Fail(*e);
    return inner_.CountDagRuns(q);
  }
  Result<std::optional<DagRunRecord>> LatestScheduledRun(const std::string& dag_id) override {
    if (auto e = Fault("LatestScheduledRun", false)) return Fail(*e);
    return inner_.LatestScheduledRun(dag_id);
  }
  Result<bool> LockDag(const std::string& dag_id) override {
    if (auto e = Fault("LockDag")) return Fail(*e);
    return inner_.LockDag(dag_id);
  }
  Result<std::vector<ClaimableRun>> ListClaimableRuns(int limit) override {
    if (auto e = Fault("ListClaimableRuns", false)) return Fail(*e);
    return inner_.ListClaimableRuns(limit);
  }
  Result<std::optional<int64_t>> ClaimRun(const std::string& dag_id, const std::string& run_id, int64_t expected_fence, const std::string& owner, Duration lease, std::optional<RunState> state) override {
    if (auto e = Fault("ClaimRun")) return Fail(*e);
    return inner_.ClaimRun(dag_id, run_id, expected_fence, owner, lease, state);
  }
  Result<std::vector<HeldRun>> RenewRunLeases(const std::string& owner, Duration lease) override {
    if (auto e = Fault("RenewRunLeases")) return Fail(*e);
    return inner_.RenewRunLeases(owner, lease);
  }
  Result<std::vector<HeldRun>> ListHeldRuns(const std::string& owner) override {
    if (auto e = Fault("ListHeldRuns", false)) return Fail(*e);
    return inner_.ListHeldRuns(owner);
  }
  Result<bool> HoldsRun(const std::string& dag_id, const std::string& run_id, const std::string& owner, int64_t fence) override {
    if (auto e = Fault("HoldsRun", false)) return Fail(*e);
    return inner_.HoldsRun(dag_id, run_id, owner, fence);
  }
  Result<bool> UpdateHeldRun(const DagRunRecord& run, bool release) override {
    if (auto e = Fault("UpdateHeldRun")) return Fail(*e);
    return inner_.UpdateHeldRun(run, release);
  }
  Result<std::vector<TaskInstanceRecord>> ListTaskInstances(const std::string& dag_id, const std::string& run_id) override {
    if (auto e = Fault("ListTaskInstances", false)) return Fail(*e);
    return inner_.ListTaskInstances(dag_id, run_id);
  }
  Result<std::vector<TaskInstanceRecord>> ListTaskInstancesOfRuns(const std::string& dag_id, const std::vector<std::string>& run_ids) override {
    if (auto e = Fault("ListTaskInstancesOfRuns", false)) return Fail(*e);
    return inner_.ListTaskInstancesOfRuns(dag_id, run_ids);
  }
  Result<std::vector<TaskInstanceRecord>> ChangedTaskInstances(const std::string& dag_id, const std::string& run_id, int64_t since) override {
    if (auto e = Fault("ChangedTaskInstances", false)) return Fail(*e);
    return inner_.ChangedTaskInstances(dag_id, run_id, since);
  }
  Status UpdateTaskInstance(const TaskInstanceRecord& ti) override {
    if (auto e = Fault("UpdateTaskInstance")) return Fail(*e);
    return inner_.UpdateTaskInstance(ti);
  }
  Status AddTaskInstances(const std::vector<TaskInstanceRecord>& tis) override {
    if (auto e = Fault("AddTaskInstances")) return Fail(*e);
    return inner_.AddTaskInstances(tis);
  }
  Result<bool> ReplaceTaskInstances(const std::string& dag_id, const std::string& run_id, const std::string& task_id, const std::vector<TaskInstanceRecord>& rows) override {
    if (auto e = Fault("ReplaceTaskInstances")) return Fail(*e);
    return inner_.ReplaceTaskInstances(dag_id, run_id, task_id, rows);
  }
  Result<bool> DecideTaskInstance(const TaskInstanceRecord& ti, TaskState expected) override {
    if (auto e = Fault("DecideTaskInstance")) return Fail(*e);
    return inner_.DecideTaskInstance(ti, expected);
  }
  Status LockQueueing() override {
    if (auto e = Fault("LockQueueing")) return Fail(*e);
    return inner_.LockQueueing();
  }
  Result<ActiveSlots> CountActiveSlots() override {
    if (auto e = Fault("CountActiveSlots", false)) return Fail(*e);
    return inner_.CountActiveSlots();
  }
  Result<std::vector<TaskInstanceRecord>> ListScheduled(int limit, const QueueExclusions& excluded, const std::vector<std::pair<std::string, std::string>>& runs) override {
    if (auto e = Fault("ListScheduled", false)) return Fail(*e);
    return inner_.ListScheduled(limit, excluded, runs);
  }
  Result<bool> QueueTaskInstance(const TiKey& key, bool new_try) override {
    if (auto e = Fault("QueueTaskInstance")) return Fail(*e);
    return inner_.QueueTaskInstance(key, new_try);
  }
  Result<std::vector<TaskInstanceRecord>> ClaimTaskInstances(const ClaimSpec& spec) override {
    if (auto e = Fault("ClaimTaskInstances")) return Fail(*e);
    return inner_.ClaimTaskInstances(spec);
  }
  Result<std::vector<TaskInstanceRecord>> ListHeldTries(const std::string& worker) override {
    if (auto e = Fault("ListHeldTries", false)) return Fail(*e);
    return inner_.ListHeldTries(worker);
  }
  Result<std::vector<TiKey>> RenewTryLeases(const std::string& worker, const std::vector<HeldTry>& tries, Duration lease) override {
    if (auto e = Fault("RenewTryLeases")) return Fail(*e);
    return inner_.RenewTryLeases(worker, tries, lease);
  }
  Result<bool> ReportTry(TryReport& report) override {
    if (auto e = Fault("ReportTry")) return Fail(*e);
    return inner_.ReportTry(report);
  }
  Status RecordTryPid(const TiKey& key, int64_t fence, int try_number, int pid) override {
    if (auto e = Fault("RecordTryPid")) return Fail(*e);
    return inner_.RecordTryPid(key, fence, try_number, pid);
  }
  Result<std::vector<TaskInstanceRecord>> ListExpiredTries(const std::string& owner) override {
    if (auto e = Fault("ListExpiredTries", false)) return Fail(*e);
    return inner_.ListExpiredTries(owner);
  }
  Result<bool> ExpireTry(const TaskInstanceRecord& ti, const TryRecord& ended) override {
    if (auto e = Fault("ExpireTry")) return Fail(*e);
    return inner_.ExpireTry(ti, ended);
  }
  Status PutTry(const TryRecord& t) override {
    if (auto e = Fault("PutTry")) return Fail(*e);
    return inner_.PutTry(t);
  }
  Result<std::vector<TryRecord>> ListTries(const TiKey& key) override {
    if (auto e = Fault("ListTries", false)) return Fail(*e);
    return inner_.ListTries(key);
  }
  Status PutXCom(const std::string& dag_id, const std::string& run_id, const XComRecord& x) override {
    if (auto e = Fault("PutXCom")) return Fail(*e);
    return inner_.PutXCom(dag_id, run_id, x);
  }
  Result<std::string> GetXCom(const std::string& dag_id, const std::string& run_id, const std::string& task_id, const std::string& key, int map_index) override {
    if (auto e = Fault("GetXCom", false)) return Fail(*e);
    return inner_.GetXCom(dag_id, run_id, task_id, key, map_index);
  }
  Result<std::vector<XComRecord>> ListXComs(const std::string& dag_id, const std::string& run_id, const std::string& task_id) override {
    if (auto e = Fault("ListXComs", false)) return Fail(*e);
    return inner_.ListXComs(dag_id, run_id, task_id);
  }
  Result<std::vector<std::pair<int, std::string>>> ListMappedXCom(const std::string& dag_id, const std::string& run_id, const std::string& task_id, const std::string& key) override {
    if (auto e = Fault("ListMappedXCom", false)) return Fail(*e);
    return inner_.ListMappedXCom(dag_id, run_id, task_id, key);
  }
  Status ClearXCom(const TiKey& key) override {
    if (auto e = Fault("ClearXCom")) return Fail(*e);
    return inner_.ClearXCom(key);
  }
  Status AddCallback(const CallbackRecord& c) override {
    if (auto e = Fault("AddCallback")) return Fail(*e);
    return inner_.AddCallback(c);
  }
  Result<std::vector<CallbackRecord>> ClaimCallbacks(const std::string& worker, const std::vector<std::string>& queues, int limit, const std::vector<std::pair<std::string, std::string>>& runs) override {
    if (auto e = Fault("ClaimCallbacks")) return Fail(*e);
    return inner_.ClaimCallbacks(worker, queues, limit, runs);
  }
  Status FinishCallback(int64_t id) override {
    if (auto e = Fault("FinishCallback")) return Fail(*e);
    return inner_.FinishCallback(id);
  }
  Result<int> CountPendingCallbacks(const std::string& dag_id, const std::string& run_id) override {
    if (auto e = Fault("CountPendingCallbacks", false)) return Fail(*e);
    return inner_.CountPendingCallbacks(dag_id, run_id);
  }
  Status WorkerHeartbeat(const WorkerRecord& w) override {
    if (auto e = Fault("WorkerHeartbeat")) return Fail(*e);
    return inner_.WorkerHeartbeat(w);
  }
  Status RemoveWorker(const std::string& name) override {
    if (auto e = Fault("RemoveWorker")) return Fail(*e);
    return inner_.RemoveWorker(name);
  }
  Result<std::vector<WorkerRecord>> ListWorkers(Duration alive_within) override {
    if (auto e = Fault("ListWorkers", false)) return Fail(*e);
    return inner_.ListWorkers(alive_within);
  }
  Status PutDagVersion(const DagVersionRecord& v) override {
    if (auto e = Fault("PutDagVersion")) return Fail(*e);
    return inner_.PutDagVersion(v);
  }
  Result<DagVersionRecord> GetDagVersion(const std::string& dag_id, const std::string& hash) override {
    if (auto e = Fault("GetDagVersion", false)) return Fail(*e);
    return inner_.GetDagVersion(dag_id, hash);
  }
  Result<std::vector<DagVersionRecord>> ListDagVersions(const std::string& dag_id) override {
    if (auto e = Fault("ListDagVersions", false)) return Fail(*e);
    return inner_.ListDagVersions(dag_id);
  }
  Status AppendTryLog(const TiKey& key, int try_number, int64_t offset, const std::string& data) override {
    if (auto e = Fault("AppendTryLog")) return Fail(*e);
    return inner_.AppendTryLog(key, try_number, offset, data);
  }
  Status AppendTryLogLine(const TiKey& key, int try_number, const std::string& line) override {
    if (auto e = Fault("AppendTryLogLine")) return Fail(*e);
    return inner_.AppendTryLogLine(key, try_number, line);
  }
  Result<std::string> ReadTryLog(const TiKey& key, int try_number, int64_t offset) override {
    if (auto e = Fault("ReadTryLog", false)) return Fail(*e);
    return inner_.ReadTryLog(key, try_number, offset);
  }
  Result<std::vector<PoolRecord>> ListPools() override {
    if (auto e = Fault("ListPools", false)) return Fail(*e);
    return inner_.ListPools();
  }
  Status SetPool(const PoolRecord& p) override {
    if (auto e = Fault("SetPool")) return Fail(*e);
    return inner_.SetPool(p);
  }
  Status CreatePool(const PoolRecord& p) override {
    if (auto e = Fault("CreatePool")) return Fail(*e);
    return inner_.CreatePool(p);
  }
  Status UpdatePool(const std::string& name, const PoolRecord& p) override {
    if (auto e = Fault("UpdatePool")) return Fail(*e);
    return inner_.UpdatePool(name, p);
  }
  Status DeletePool(const std::string& name) override {
    if (auto e = Fault("DeletePool")) return Fail(*e);
    return inner_.DeletePool(name);
  }
  Result<std::map<std::string, PoolUsage>> CountPoolUsage() override {
    if (auto e = Fault("CountPoolUsage", false)) return Fail(*e);
    return inner_.CountPoolUsage();
  }
  Status SyncAssetReferences(const std::vector<AssetReference>& refs, bool replace) override {
    if (auto e = Fault("SyncAssetReferences")) return Fail(*e);
    return inner_.SyncAssetReferences(refs, replace);
  }
  Result<std::vector<AssetRecord>> ListAssets(const std::string& uri_pattern, const std::vector<std::string>& dag_ids, const std::string& order_by, int limit, int offset) override {
    if (auto e = Fault("ListAssets", false)) return Fail(*e);
    return inner_.ListAssets(uri_pattern, dag_ids, order_by, limit, offset);
  }
  Result<int> CountAssets(const std::string& uri_pattern, const std::vector<std::string>& dag_ids) override {
    if (auto e = Fault("CountAssets", false)) return Fail(*e);
    return inner_.CountAssets(uri_pattern, dag_ids);
  }
  Result<AssetRecord> GetAsset(const std::string& uri) override {
    if (auto e = Fault("GetAsset", false)) return Fail(*e);
    return inner_.GetAsset(uri);
  }
  Status RecordAssetEvent(AssetEventRecord& event) override {
    if (auto e = Fault("RecordAssetEvent")) return Fail(*e);
    return inner_.RecordAssetEvent(event);
  }
  Result<std::vector<AssetEventRecord>> ListAssetEvents(const AssetEventQuery& q) override {
    if (auto e = Fault("ListAssetEvents", false)) return Fail(*e);
    return inner_.ListAssetEvents(q);
  }
  Result<int> CountAssetEvents(const AssetEventQuery& q) override {
    if (auto e = Fault("CountAssetEvents", false)) return Fail(*e);
    return inner_.CountAssetEvents(q);
  }
  Result<std::vector<AssetQueueEntry>> ListAssetQueue(const AssetQueueQuery& q) override {
    if (auto e = Fault("ListAssetQueue", false)) return Fail(*e);
    return inner_.ListAssetQueue(q);
  }
  Result<int> DeleteAssetQueue(const AssetQueueQuery& q) override {
    if (auto e = Fault("DeleteAssetQueue")) return Fail(*e);
    return inner_.DeleteAssetQueue(q);
  }
  Status ConsumeAssetEvents(const std::string& dag_id, const std::string& run_id, const std::vector<int64_t>& event_ids) override {
    if (auto e = Fault("ConsumeAssetEvents")) return Fail(*e);
    return inner_.ConsumeAssetEvents(dag_id, run_id, event_ids);
  }
  Result<std::map<int64_t, std::vector<std::pair<std::string, std::string>>>> ListAssetEventRuns(const std::vector<int64_t>& event_ids) override {
    if (auto e = Fault("ListAssetEventRuns", false)) return Fail(*e);
    return inner_.ListAssetEventRuns(event_ids);
  }
  Result<std::vector<AssetEventRecord>> ListConsumedAssetEvents(const std::string& dag_id, const std::string& run_id) override {
    if (auto e = Fault("ListConsumedAssetEvents", false)) return Fail(*e);
    return inner_.ListConsumedAssetEvents(dag_id, run_id);
  }
  Status Notify(const std::string& channel, const std::string& payload) override {
    if (auto e = Fault("Notify")) return Fail(*e);
    return inner_.Notify(channel, payload);
  }
  Status Listen(const std::string& channel) override {
    if (auto e = Fault("Listen", false)) return Fail(*e);
    return inner_.Listen(channel);
  }
  int NotificationFd() override {
    return inner_.NotificationFd();
  }
  std::set<std::string> TakeNotifications() override {
    return inner_.TakeNotifications();
  }
  Status ReplaceImportErrors(const std::vector<ImportErrorRecord>& errors) override {
    if (auto e = Fault("ReplaceImportErrors")) return Fail(*e);
    return inner_.ReplaceImportErrors(errors);
  }
  Result<std::vector<ImportErrorRecord>> ListImportErrors() override {
    if (auto e = Fault("ListImportErrors", false)) return Fail(*e);
    return inner_.ListImportErrors();
  }
  Status EnsureDags(const std::vector<std::string>& dag_ids) override {
    if (auto e = Fault("EnsureDags")) return Fail(*e);
    return inner_.EnsureDags(dag_ids);
  }
  Result<bool> IsPaused(const std::string& dag_id) override {
    if (auto e = Fault("IsPaused", false)) return Fail(*e);
    return inner_.IsPaused(dag_id);
  }
  Status SetPaused(const std::string& dag_id, bool paused) override {
    if (auto e = Fault("SetPaused")) return Fail(*e);
    return inner_.SetPaused(dag_id, paused);
  }
  Result<std::set<std::string>> PausedDags() override {
    if (auto e = Fault("PausedDags", false)) return Fail(*e);
    return inner_.PausedDags();
  }
  Status Heartbeat(const std::string& job_type, const std::string& owner, Timestamp at) override {
    if (auto e = Fault("Heartbeat")) return Fail(*e);
    return inner_.Heartbeat(job_type, owner, at);
  }
  Result<std::optional<Timestamp>> LatestHeartbeat(const std::string& job_type) override {
    if (auto e = Fault("LatestHeartbeat", false)) return Fail(*e);
    return inner_.LatestHeartbeat(job_type);
  }
  Status SetVariable(const std::string& key, const std::string& value) override {
    if (auto e = Fault("SetVariable")) return Fail(*e);
    return inner_.SetVariable(key, value);
  }
  Result<std::string> GetVariable(const std::string& key) override {
    if (auto e = Fault("GetVariable", false)) return Fail(*e);
    return inner_.GetVariable(key);
  }
  Result<std::vector<std::pair<std::string, std::string>>> ListVariables() override {
    if (auto e = Fault("ListVariables", false)) return Fail(*e);
    return inner_.ListVariables();
  }
  Status DeleteVariable(const std::string& key) override {
    if (auto e = Fault("DeleteVariable")) return Fail(*e);
    return inner_.DeleteVariable(key);
  }
  Status SetDagRunByHand(const DagRunRecord& run) override {
    if (auto e = Fault("SetDagRunByHand")) return Fail(*e);
    return inner_.SetDagRunByHand(run);
  }
  Result<std::vector<RunDayCount>> CountRunsByDay(const std::string& dag_id, Timestamp from, Timestamp to) override {
    if (auto e = Fault("CountRunsByDay", false)) return Fail(*e);
    return inner_.CountRunsByDay(dag_id, from, to);
  }
  Result<std::vector<TryRecord>> ListTriesOfRun(const std::string& dag_id, const std::string& run_id) override {
    if (auto e = Fault("ListTriesOfRun", false)) return Fail(*e);
    return inner_.ListTriesOfRun(dag_id, run_id);
  }
  Result<std::vector<ConnectionRecord>> ListConnections() override {
    if (auto e = Fault("ListConnections", false)) return Fail(*e);
    return inner_.ListConnections();
  }
  Result<ConnectionRecord> GetConnection(const std::string& conn_id) override {
    if (auto e = Fault("GetConnection", false)) return Fail(*e);
    return inner_.GetConnection(conn_id);
  }
  Status CreateConnection(const ConnectionRecord& conn) override {
    if (auto e = Fault("CreateConnection")) return Fail(*e);
    return inner_.CreateConnection(conn);
  }
  Status UpdateConnection(const ConnectionRecord& conn) override {
    if (auto e = Fault("UpdateConnection")) return Fail(*e);
    return inner_.UpdateConnection(conn);
  }
  Status DeleteConnection(const std::string& conn_id) override {
    if (auto e = Fault("DeleteConnection")) return Fail(*e);
    return inner_.DeleteConnection(conn_id);
  }
  Result<std::vector<TaskInstanceRecord>> ListUnrecordedTries(const std::string& worker) override {
    if (auto e = Fault("ListUnrecordedTries", false)) return Fail(*e);
    return inner_.ListUnrecordedTries(worker);
  }
  Result<bool> AdoptTry(const TaskInstanceRecord& ti, const std::string& worker, const std::string& hostname,
                       Duration lease) override {
    if (auto e = Fault("AdoptTry")) return Fail(*e);
    return inner_.AdoptTry(ti, worker, hostname, lease);
  }

 private:
  std::optional<Error> Fault(const char* call, bool write = true) {
    if (!write && !count_reads_) return std::nullopt;
    ++writes_;
    calls_.push_back(call);
    if (failing_ && failed_ >= clear_after_) Clear();
    if (before_write) before_write(writes_, call);
    if (fail_at_ && (writes_ == *fail_at_ || (persistent_ && writes_ > *fail_at_))) {
      if (!failing_) failed_call_ = call;
      failing_ = persistent_;
      if (!persistent_) fail_at_.reset();
      ++failed_;
      return StoreFaultError(fault_, call);
    }
    return std::nullopt;
  }

  Store& inner_;
  bool in_tx_ = false;
  int writes_ = 0;
  int failed_ = 0;
  std::optional<int> fail_at_;
  StoreFault fault_ = StoreFault::kBusy;
  bool persistent_ = false;
  bool failing_ = false;
  int clear_after_ = 0;
  bool count_reads_ = false;
  std::string failed_call_;
  std::vector<std::string> calls_;
};

}  // namespace dagctl::testing
