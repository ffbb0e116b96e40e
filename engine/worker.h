// A worker: claims queued tries of its queues from the store, runs each in
// its own process group through the TryRunner, holds it on a lease renewed
// while it runs, and reports how it ended with a guarded update. The same
// code runs in `dagctl worker` on any machine and inside `serve`, `scheduler`
// and `dagctl run` (STYLE 14: one try lifecycle).
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "engine/clock.h"
#include "engine/dag_cache.h"
#include "engine/run_observer.h"
#include "engine/store/store.h"
#include "engine/try_outcome.h"
#include "engine/try_prep.h"
#include "engine/try_runner.h"

namespace dagctl {

class Guardian;

struct WorkerOptions {
  std::string name;      ///< Unique among live workers (default "HOST:PID").
  std::string hostname;  ///< This machine.
  std::vector<std::string> queues{"default"};  ///< Empty = every queue.
  int slots = 32;                              ///< Tries (and callbacks) at once.
  Duration lease = std::chrono::seconds(30);
  Duration heartbeat = std::chrono::seconds(2);
  /// How often a worker with free slots looks for queued tries when no
  /// notification wakes it (PostgreSQL's NOTIFY is a hint; this is the fallback).
  Duration poll = std::chrono::seconds(1);
  std::string logs_dir;
  TryEnvironment try_env;
  /// Copy each try's log into the store as it grows (several machines).
  bool ship_logs = false;
  /// Claims only what this process's own scheduler queued for it in the
  /// same pass (`dagctl run`, `backfill`).
  bool local_only = false;
};

/// Not thread-safe: one thread drives a worker, with its TryRunner.
class Worker {
 public:
  /// Everything must outlive the worker; `guardian` and `observer` may be null.
  Worker(Store& store, TryRunner& runner, const Clock& clock, DagCache& dags, WorkerOptions opts,
         Guardian* guardian = nullptr, RunObserver* observer = nullptr);
  ~Worker();

  /// Tries that ended (from the TryRunner): kept until a pass that reports
  /// them commits, whatever happens to the store meanwhile.
  void Ended(std::vector<TryResult> ended);
  /// The store work of one pass, inside the caller's transaction: reports
  /// the tries that ended (and those whose start failed), beats the
  /// heartbeat and renews leases when due, copies logs.
  Status Report();
  /// Then claims queued tries (and callbacks) for the free slots — or, when
  /// given, exactly `only`: still scheduled, chosen for it by this process's
  /// scheduler under the queueing lock (dagctl run, backfill).
  Status Claim(const std::optional<std::vector<TiKey>>& only);
  /// What this pass reported, by run (the scheduler of this process follows
  /// its runs from it without reading it back).
  const RunReports& reported() const { return reported_; }
  /// Callbacks are taken only of these runs (dagctl run); empty = any.
  void SetRunFilter(std::vector<std::pair<std::string, std::string>> runs) { runs_ = std::move(runs); }
  /// The pass's transaction committed: what it did is now true.
  void Committed();
  /// It failed: forget what it did (results are reported again next pass).
  void Aborted();
  /// Starts the processes of what the last committed pass claimed (and the
  /// sensors due for another poke); records their process groups.
  Status StartClaimed();

  /// Stops tries whose lease could not be renewed in time (the store did
  /// not answer): call every loop, even when the store is unreachable.
  void EnforceDeadlines();
  /// Look for queued tries (and callbacks) in the next pass: a notification
  /// or this process's scheduler said there are.
  void WakeClaims() { poll_now_ = callbacks_now_ = true; }
  /// Look for callbacks in the next pass.
  void WakeCallbacks() { callbacks_now_ = true; }
  /// Renew the leases in the next pass: a try may have been stopped (its run
  /// timed out), and losing its lease is how the worker learns it.
  void RenewLeasesNow() { next_renewal_.reset(); }

  /// When the worker next needs a pass without anything ending.
  std::optional<Timestamp> NextWake() const;
  /// Slots not taken by a held try or a running callback.
  int FreeSlots() const;
  /// True when it holds nothing.
  bool Idle() const { return held_.empty() && callbacks_.empty(); }
  const WorkerOptions& options() const { return opts_; }

  /// Ends every running try (SIGTERM, then SIGKILL) and reports it failed
  /// with `why`; `may_retry` lets the retry rule apply. Leaves the registry.
  Status Stop(const std::string& why, bool may_retry);

 private:
  struct Held;
  struct Callback;
  Status Report(Held& h, const TryResult& r);
  Status ReportEnd(Held& h, TaskState state, std::optional<int> exit_code,
                   const std::string& error, bool may_retry);
  Status WaitForPoke(Held& h, const TryResult& r);
  Status RenewLeases(Timestamp now);
  Status ClaimCallbacks();
  Status Reconcile();
  Status AdoptEnded();
  Status Adopt(TaskInstanceRecord ti, const TryOutcomeFile& outcome, const std::string& path);
  Status EndCallback(Callback& c, const TryResult& r);
  Status Load(Held& h);
  Result<TryRequest> Prepare(Held& h);
  Status StartTry(Held& h);
  void WriteHeader(const Held& h, const TryRequest* req, bool repoke);
  void WriteFooter(const Held& h, const TaskInstanceRecord& ti, std::optional<int> exit_code,
                   bool no_retry);
  Status StartCallback(Callback& c);
  void ShipLog(Held& h);
  void KillLost(Held& h, const std::string& why);
  std::string LostLeaseMessage(const Held& h);
  std::string LogPath(const TiKey& k, int try_number) const;
  Held* Find(uint64_t runner_id);

  Store& store_;
  TryRunner& runner_;
  const Clock& clock_;
  DagCache& dags_;
  WorkerOptions opts_;
  Guardian* guardian_;
  RunObserver* observer_;
  // By claim (key and fence): a try reported in a pass and its next try
  // claimed in the same pass are two entries.
  std::map<std::pair<TiKey, int64_t>, std::unique_ptr<Held>> held_;
  std::map<uint64_t, std::unique_ptr<Callback>> callbacks_;  // by runner id, started
  std::vector<std::unique_ptr<Callback>> new_callbacks_;     // claimed, not yet started
  std::vector<TryResult> unreported_;  // ended, waiting for a pass that commits
  std::optional<Timestamp> next_heartbeat_;
  std::optional<Timestamp> next_renewal_;
  std::optional<Timestamp> next_poll_;
  bool poll_now_ = false;
  bool reconcile_ = false;  // a pass failed: the store may hold claims we forgot
  bool callbacks_now_ = false;
  // The runs whose tries this worker runs, with their params (conf is fixed).
  struct RunInfo {
    DagRunRecord run;
    std::map<std::string, std::string> params;
    std::string folder;  // the DAG file's folder, absolute
  };
  std::map<std::pair<std::string, std::string>, RunInfo> runs_cache_;
  RunReports reported_;
  std::vector<std::pair<std::string, std::string>> runs_;
  Timestamp started_at_;
  uint64_t next_id_ = 1;
};

}  // namespace dagctl
