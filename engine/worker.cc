#include "engine/worker.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <string.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <thread>

#include "engine/try_log.h"
#include "engine/guardian.h"
#include "engine/log_file.h"
#include "engine/mapping.h"
#include "engine/retry.h"
#include "engine/run_scope.h"
#include "engine/task_groups.h"
#include "operators/operator.h"

namespace dagctl {

namespace {

using Steady = std::chrono::steady_clock;

std::string DescribeExit(const TryResult& r, const Task& task) {
  if (r.timed_out)
    return fmt::format("timed out after {} (the process group got SIGTERM, then SIGKILL)",
                       FormatDuration(*task.timeout));
  if (r.term_signal)
    return fmt::format("killed by signal {} ({})", r.term_signal, strsignal(r.term_signal));
  return fmt::format("exit code {}", r.exit_code);
}

template <typename D>
Timestamp After(Timestamp t, D d) {
  return t + std::chrono::duration_cast<std::chrono::microseconds>(d);
}

// How long before its lease runs out a try that could not be renewed is
// stopped: a quarter of the lease, at most 5 s.
Duration KillMargin(Duration lease) { return std::min<Duration>(lease / 4, std::chrono::seconds(5)); }

}  // namespace

// A try this worker holds (claimed, running, or a poke-mode sensor between pokes).
struct Worker::Held {
  TaskInstanceRecord ti;  // as claimed: fence, try number, first poke
  std::shared_ptr<const Dag> dag;
  const Task* task = nullptr;
  DagRunRecord run;
  std::map<std::string, std::string> params;
  std::string folder;
  TryRecord try_record;
  enum class Phase { kClaimed, kRunning, kPokeWait } phase = Phase::kClaimed;
  uint64_t runner_id = 0;
  int pid = 0;
  bool pid_recorded = true;
  std::optional<Timestamp> next_poke;
  Steady::time_point kill_by;  // stop the try unless its lease is renewed before
  bool lost = false;
  std::string start_error;  // why the try could not start, reported as its failure
  bool sensor_timed_out = false;  // a sensor past its timeout (between pokes or in one)
  std::optional<TryReport> pending_report;  // what Report() adds to ReportEnd()'s write
  int64_t shipped = 0;      // bytes of the log copied into the store
  // This pass, until it commits:
  bool claimed_now = false;
  bool renewed_now = false;
  bool pid_recording_now = false;
  bool discard_now = false;
  std::optional<TryResult> reporting;
  TaskState reported_state = TaskState::kNone;
  std::string reported_error;
};

// A callback this worker claimed.
struct Worker::Callback {
  CallbackRecord record;
  std::string log;
  uint64_t runner_id = 0;
  bool claimed_now = false;
  bool finished_now = false;
};

Worker::Worker(Store& store, TryRunner& runner, const Clock& clock, DagCache& dags,
               WorkerOptions opts, Guardian* guardian, RunObserver* observer)
    : store_(store),
      runner_(runner),
      clock_(clock),
      dags_(dags),
      opts_(std::move(opts)),
      guardian_(guardian),
      observer_(observer),
      started_at_(clock.Now()) {}

Worker::~Worker() = default;

int Worker::FreeSlots() const {
  // A try reported as ended in this pass frees its slot already.
  int taken = static_cast<int>(callbacks_.size() + new_callbacks_.size());
  for (const auto& [key, h] : held_) {
    bool ending = h->discard_now || (h->reporting && h->reported_state != TaskState::kNone &&
                                     h->reported_state != TaskState::kRunning);
    taken += !ending;
  }
  for (const auto& [id, c] : callbacks_) taken -= c->finished_now;
  return opts_.slots - taken;
}

std::string Worker::LogPath(const TiKey& k, int try_number) const {
  return TryLogPath(opts_.logs_dir, k, try_number);
}

Worker::Held* Worker::Find(uint64_t runner_id) {
  for (auto& [key, h] : held_)
    if (h->runner_id == runner_id && h->phase == Held::Phase::kRunning) return h.get();
  return nullptr;
}

// --- One pass ------------------------------------------------------------------

void Worker::Ended(std::vector<TryResult> ended) {
  // A fault hook for the tests: the window between a try's end and its
  // record, held open so that a test can kill the engine inside it.
  if (const char* pause = getenv("DAGCTL_TEST_PAUSE_BEFORE_RECORD"); pause && !ended.empty()) {
    fmt::print(stderr, "dagctl: test: {} tries ended; pausing {} s before recording them\n",
               ended.size(), pause);
    std::this_thread::sleep_for(std::chrono::duration<double>(atof(pause)));
  }
  // Kept until a pass that reports them commits.
  unreported_.insert(unreported_.end(), std::make_move_iterator(ended.begin()),
                     std::make_move_iterator(ended.end()));
}

Status Worker::Report() {
  // A pass reports what ended (and what earlier failed passes could not),
  // renews leases and the heartbeat when due, then fills its free slots.
  if (auto st = AdoptEnded(); !st) return st;
  std::vector<TryResult> results = unreported_;
  if (!results.empty()) poll_now_ = true;  // slots were freed
  // In run order: reports lock their runs' rows, and every process locks
  // runs in (dag_id, run_id) order, so two never wait for each other.
  auto run_of = [&](const TryResult& r) {
    Held* h = Find(r.id);
    return h ? std::make_pair(h->ti.dag_id, h->ti.run_id) : std::make_pair(std::string(), std::string());
  };
  std::stable_sort(results.begin(), results.end(),
                   [&](const TryResult& a, const TryResult& b) { return run_of(a) < run_of(b); });
  for (const TryResult& r : results) {
    if (Held* h = Find(r.id)) {
      if (h->lost) {
        AppendLogLine(LogPath(h->ti.key(), h->ti.try_number),
                      fmt::format("result discarded ({}): this worker no longer holds the try's "
                                  "lease",
                                  h->task ? DescribeExit(r, *h->task) : "no task"));
        h->discard_now = true;
        continue;
      }
      if (auto st = Report(*h, r); !st) return st;
    } else if (auto it = callbacks_.find(r.id); it != callbacks_.end()) {
      if (auto st = EndCallback(*it->second, r); !st) return st;
    }
  }
  for (auto& [key, h] : held_) {
    if (h->pid_recorded || h->pid <= 0 || h->reporting || h->lost) continue;
    if (auto st = store_.RecordTryPid(h->ti.key(), h->ti.fence, h->ti.try_number, h->pid); !st)
      return st;
    h->pid_recording_now = true;
  }
  Timestamp now = clock_.Now();
  if (!next_heartbeat_ || now >= *next_heartbeat_) {
    WorkerRecord w{opts_.name, opts_.hostname, opts_.queues, opts_.slots,
                   opts_.slots - FreeSlots(), started_at_, now};
    if (auto st = store_.WorkerHeartbeat(w); !st) return st;
  }
  if (auto st = RenewLeases(now); !st) return st;
  if (opts_.ship_logs)
    for (auto& [key, h] : held_)
      if (h->phase == Held::Phase::kRunning && !h->reporting) ShipLog(*h);
  return {};
}

void Worker::Committed() {
  Timestamp now = clock_.Now();
  reconcile_ = false;
  unreported_.clear();
  reported_.clear();
  if (!next_heartbeat_ || now >= *next_heartbeat_) next_heartbeat_ = After(now, opts_.heartbeat);
  for (auto it = held_.begin(); it != held_.end();) {
    Held& h = *it->second;
    h.claimed_now = false;
    if (h.pid_recording_now) h.pid_recorded = true;
    h.pid_recording_now = false;
    if (h.renewed_now) {
      h.renewed_now = false;
      h.kill_by = Steady::now() + opts_.lease - KillMargin(opts_.lease);
      if (guardian_ && h.pid > 0 && h.phase == Held::Phase::kRunning) guardian_->Extend(h.pid, h.kill_by);
    }
    bool done = h.discard_now || (h.reporting && h.reported_state != TaskState::kRunning);
    if (h.reporting && observer_ && !h.lost)
      observer_->TryEnded(h.ti.key(), h.ti.try_number, h.reported_state, h.reported_error);
    if (done) {
      if (guardian_ && h.pid > 0) guardian_->Forget(h.pid);
      it = held_.erase(it);
      continue;
    }
    h.reporting.reset();
    h.reported_state = TaskState::kNone;
    ++it;
  }
  for (auto it = callbacks_.begin(); it != callbacks_.end();)
    it = it->second->finished_now ? callbacks_.erase(it) : std::next(it);
  for (auto& c : new_callbacks_) c->claimed_now = false;
}

void Worker::Aborted() {
  reported_.clear();
  // A commit that failed may have landed all the same: look next time.
  reconcile_ = true;
  for (auto it = held_.begin(); it != held_.end();) {
    Held& h = *it->second;
    if (h.claimed_now) {
      it = held_.erase(it);  // the claim did not happen
      continue;
    }
    h.renewed_now = h.pid_recording_now = false;
    h.discard_now = h.lost && h.phase != Held::Phase::kRunning;  // nothing to report for those
    h.reporting.reset();
    h.reported_state = TaskState::kNone;
    ++it;
  }
  for (auto& [id, c] : callbacks_) c->finished_now = false;
  std::erase_if(new_callbacks_, [](const auto& c) { return c->claimed_now; });
}

// --- Reporting how a try ended -----------------------------------------------------

Status Worker::Report(Held& h, const TryResult& r) {
  h.reporting = r;
  if (!h.start_error.empty())
    return ReportEnd(h, TaskState::kFailed, std::nullopt, h.start_error, true);
  const Task& t = *h.task;
  std::optional<int> code;
  if (r.exit_code >= 0) code = r.exit_code;
  // A try that exited by itself is read by its operator; a killed one failed.
  TryOutcome outcome;
  outcome.kind = TryOutcome::Kind::kFailed;
  if (!r.timed_out && r.term_signal == 0) {
    size_t self = h.dag->index.at(t.id);
    outcome = t.op ? t.op->Interpret(r.exit_code, r.return_value, BranchTargets(*h.dag, self))
                   : StandardOutcome(r.exit_code);
    outcome.skip_downstream = BranchSkips(*h.dag, self, outcome.skip_downstream);
  }
  if (outcome.kind == TryOutcome::Kind::kSuccess) {
    std::vector<XComRecord> xcom;
    bool pushed = false;
    for (const auto& [key, value] : r.xcom) {
      xcom.push_back({t.id, key, value, h.ti.map_index});
      pushed = pushed || key == "return_value";
    }
    // A value the operator pushed itself wins over its last stdout line.
    if (!r.return_value.empty() && !pushed)
      xcom.push_back({t.id, "return_value", r.return_value, h.ti.map_index});
    h.try_record.exit_code = code;
    TryReport rep;
    rep.xcom = std::move(xcom);
    // Branches not taken are skipped in the same write as this success.
    rep.skip_task_ids = outcome.skip_downstream;
    if (outcome.skip_all_downstream) {
      size_t self = h.dag->index.at(t.id);
      std::vector<bool> below(h.dag->tasks.size());
      below[self] = true;
      for (size_t v : h.dag->graph.topo_order)
        for (size_t u : h.dag->graph.upstream[v])
          if (below[u]) below[v] = true;
      for (size_t v : h.dag->graph.topo_order)
        if (v != self && below[v]) rep.skip_task_ids.push_back(h.dag->tasks[v].id);
    }
    h.pending_report = std::move(rep);
    return ReportEnd(h, TaskState::kSuccess, code, "", false);
  }
  if (outcome.kind == TryOutcome::Kind::kSkipped)
    return ReportEnd(h, TaskState::kSkipped, code, "", false);
  if (outcome.kind == TryOutcome::Kind::kNotYet || (r.timed_out && t.op && t.op->IsSensor()))
    return WaitForPoke(h, r);
  std::string why = outcome.error.empty() || r.timed_out || r.term_signal ? DescribeExit(r, t)
                                                                          : outcome.error;
  AppendLogLine(LogPath(h.ti.key(), h.ti.try_number),
                fmt::format("try {} failed: {}", h.ti.try_number, why));
  return ReportEnd(h, TaskState::kFailed, code, why, true);
}

// Writes the try's end: the task instance's new state (up_for_retry when the
// retry rule allows another try), the try, XCom, skips and callbacks, all
// only if this worker still holds the try.
Status Worker::ReportEnd(Held& h, TaskState state, std::optional<int> exit_code,
                         const std::string& error, bool may_retry) {
  // Without its task (its DAG version did not load here) a try retries
  // after the default retry_delay, with no callbacks.
  static const Task kUnknownTask;
  const Task& t = h.task ? *h.task : kUnknownTask;
  Timestamp now = clock_.Now();
  TryReport rep = h.pending_report ? std::move(*h.pending_report) : TryReport();
  h.pending_report.reset();
  TaskInstanceRecord& ti = rep.ti;
  ti = h.ti;
  if (state == TaskState::kFailed && may_retry && ti.try_number < ti.max_tries) {
    // Tries since the task was last cleared decide the backoff.
    int attempt = h.task ? std::max(1, ti.try_number - (ti.max_tries - t.retries - 1)) : 1;
    state = TaskState::kUpForRetry;
    ti.next_try_at = After(now, RetryDelay(t, attempt));
  } else {
    ti.next_try_at.reset();
  }
  ti.state = state;
  ti.end_date = now;
  ti.pid = 0;
  ti.worker.clear();
  ti.lease_until.reset();
  ti.first_poke_at.reset();
  rep.ti.worker = "";
  TryRecord& tr = rep.try_record;
  tr = h.try_record;
  tr.state = state == TaskState::kUpForRetry ? TaskState::kFailed : state;
  tr.end_date = now;
  tr.exit_code = exit_code;
  tr.error = error;
  tr.pid = h.pid;
  const char* event = state == TaskState::kFailed      ? "on_failure"
                      : state == TaskState::kSuccess   ? "on_success"
                      : state == TaskState::kUpForRetry ? "on_retry"
                                                        : nullptr;
  if (event && t.callbacks.count(event))
    rep.callbacks.push_back({0, ti.dag_id, ti.run_id, ti.task_id, ti.map_index, ti.try_number,
                             event, TaskStateName(state), error, ti.queue, h.run.dag_hash, now});
  if (!rep.callbacks.empty()) callbacks_now_ = true;
  WriteFooter(h, rep.ti, exit_code, !may_retry && state == TaskState::kFailed);
  // A success records an event of each outlet with it (never a failure).
  if (state == TaskState::kSuccess)
    for (const std::string& uri : t.outlets)
      rep.asset_events.push_back({.uri = uri,
                                  .source_dag_id = ti.dag_id,
                                  .source_task_id = ti.task_id,
                                  .source_run_id = ti.run_id,
                                  .source_map_index = ti.map_index});
  if (opts_.ship_logs) ShipLog(h);
  // The guard: the worker and fence of the claim.
  rep.claim_worker = opts_.name;
  rep.ti.fence = h.ti.fence;
  auto applied = store_.ReportTry(rep);
  if (!applied) return Fail(applied.error());
  if (!*applied) {
    AppendLogLine(LogPath(h.ti.key(), h.ti.try_number),
                  "result discarded: this worker no longer holds the try's lease");
    h.lost = true;
    h.discard_now = true;
    return {};
  }
  h.reported_state = state;
  h.reported_error = error;
  reported_[{h.ti.dag_id, h.ti.run_id}].push_back({rep.ti, rep.skip_task_ids});
  return {};
}

// A sensor's condition is not met: poke again after poke_interval, holding
// the slot (mode poke) or not (mode reschedule: up_for_reschedule); past its
// timeout it fails without retry, or ends skipped with soft_fail.
Status Worker::WaitForPoke(Held& h, const TryResult& r) {
  const Task& t = *h.task;
  Timestamp now = clock_.Now();
  Timestamp first = h.ti.first_poke_at.value_or(now);
  Timestamp next = After(now, t.poke_interval);
  bool out_of_time = r.timed_out || (t.timeout && next - first >= *t.timeout);
  if (out_of_time) {
    std::string why = fmt::format("sensor timed out after {} without its condition being met",
                                  FormatDuration(*t.timeout));
    AppendLogLine(LogPath(h.ti.key(), h.ti.try_number),
                  why + (t.soft_fail ? " (soft_fail: skipped)" : ""));
    h.sensor_timed_out = true;
    return ReportEnd(h, t.soft_fail ? TaskState::kSkipped : TaskState::kFailed, std::nullopt, why,
                     false);
  }
  if (!t.reschedule) {
    // Still running as far as anyone can see: the slot and the lease are kept.
    h.reporting.reset();
    h.phase = Held::Phase::kPokeWait;
    h.next_poke = next;
    if (guardian_ && h.pid > 0) guardian_->Forget(h.pid);
    h.pid = 0;
    return {};
  }
  TryReport rep;
  rep.ti = h.ti;
  rep.ti.state = TaskState::kUpForReschedule;
  rep.ti.next_try_at = next;
  rep.ti.end_date = now;
  rep.ti.pid = 0;
  rep.ti.worker.clear();
  rep.ti.lease_until.reset();
  rep.try_record = h.try_record;
  rep.try_record.state = TaskState::kUpForReschedule;
  rep.claim_worker = opts_.name;
  if (opts_.ship_logs) ShipLog(h);
  auto applied = store_.ReportTry(rep);
  if (!applied) return Fail(applied.error());
  h.reported_state = TaskState::kUpForReschedule;
  if (!*applied) {
    h.lost = h.discard_now = true;
    return {};
  }
  reported_[{h.ti.dag_id, h.ti.run_id}].push_back({rep.ti, {}});
  return {};
}

// The closing line of a try's log: how it ended, after how long, and what
// comes next.
void Worker::WriteFooter(const Held& h, const TaskInstanceRecord& ti, std::optional<int> exit_code,
                         bool no_retry) {
  TryFooter f;
  const TryResult r = h.reporting.value_or(TryResult{});
  f.exit_code = exit_code;
  f.term_signal = r.term_signal;
  if ((r.timed_out || h.sensor_timed_out) && h.task && h.task->timeout)
    f.timed_out_after = *h.task->timeout;
  if (h.sensor_timed_out) f.sensor_timeout = "sensor's condition not met";
  f.duration = std::chrono::duration_cast<Duration>(clock_.Now() - h.try_record.start_date);
  f.state = ti.state;
  f.try_number = ti.try_number;
  f.max_tries = ti.max_tries;
  f.retry_at = ti.next_try_at;
  f.no_retry_by_rule = no_retry;
  AppendLogLine(LogPath(ti.key(), ti.try_number), TryFooterLine(f));
}

// --- Leases and claims -----------------------------------------------------------------

Status Worker::RenewLeases(Timestamp now) {
  if (next_renewal_ && now < *next_renewal_) return {};
  next_renewal_ = After(now, opts_.lease / 4);
  std::vector<HeldTry> tries;
  for (auto& [key, h] : held_)
    if (!h->lost && !h->claimed_now && !h->reporting) tries.push_back({key.first, h->ti.fence});
  if (tries.empty()) return {};
  auto kept = store_.RenewTryLeases(opts_.name, tries, opts_.lease);
  if (!kept) return Fail(kept.error());
  std::set<TiKey> still(kept->begin(), kept->end());
  for (const HeldTry& t : tries) {
    Held& h = *held_.at({t.key, t.fence});
    if (still.count(t.key)) {
      h.renewed_now = true;
      continue;
    }
    KillLost(h, LostLeaseMessage(h));
  }
  return {};
}

// Why this worker no longer holds a try: whoever ended it (a run that timed
// out) wrote the reason into the try's record; else another process took it.
std::string Worker::LostLeaseMessage(const Held& h) {
  auto tries = store_.ListTries(h.ti.key());
  if (tries)
    for (const TryRecord& r : *tries)
      if (r.try_number == h.ti.try_number && r.end_date && !r.error.empty())
        return fmt::format("try {} stopped: {}", h.ti.try_number, r.error);
  return fmt::format("lease lost: another process took try {} over; stopping it", h.ti.try_number);
}

void Worker::KillLost(Held& h, const std::string& why) {
  if (h.lost) return;
  h.lost = true;
  AppendLogLine(LogPath(h.ti.key(), h.ti.try_number), why);
  if (h.phase == Held::Phase::kRunning && h.runner_id) {
    runner_.Kill(h.runner_id);  // its result, when it comes, is discarded
  } else {
    h.discard_now = true;
  }
}

void Worker::EnforceDeadlines() {
  auto now = Steady::now();
  for (auto& [key, h] : held_)
    if (!h->lost && h->kill_by.time_since_epoch().count() && now >= h->kill_by)
      KillLost(*h, "the lease could not be renewed in time (the metadata database did not "
                   "answer); stopping the try before another worker takes it over");
  std::erase_if(held_, [](const auto& kv) { return kv.second->discard_now && kv.second->phase != Held::Phase::kRunning; });
}

// After a pass whose commit failed, the store may hold claims this worker
// forgot (the commit landed, its answer was lost): take them on, they never
// started.
Status Worker::Reconcile() {
  if (!reconcile_) return {};
  auto mine = store_.ListHeldTries(opts_.name);
  if (!mine) return Fail(mine.error());
  for (TaskInstanceRecord& ti : *mine) {
    if (held_.count({ti.key(), ti.fence})) continue;
    auto h = std::make_unique<Held>();
    h->ti = ti;
    h->claimed_now = true;
    h->kill_by = Steady::now() + opts_.lease - KillMargin(opts_.lease);
    h->try_record = {ti.dag_id,      ti.run_id, ti.task_id,   ti.map_index,
                     ti.try_number,  TaskState::kRunning,    ti.start_date.value_or(clock_.Now()),
                     std::nullopt,   std::nullopt,           "",
                     opts_.hostname, 0,         opts_.name};
    held_[{ti.key(), ti.fence}] = std::move(h);
  }
  return {};
}

// Tries whose process ended (its keeper wrote the outcome file next to the
// log, on this machine) while the process that held them died before
// recording it: this worker takes them over and records that outcome, the
// same way as its own tries'. Looked for every pass, before the scheduler
// of the same pass would count them lost.
Status Worker::AdoptEnded() {
  if (opts_.local_only) return {};  // dagctl run: its own runs only
  auto orphans = store_.ListUnrecordedTries(opts_.name);
  if (!orphans) return Fail(orphans.error());
  for (TaskInstanceRecord& ti : *orphans) {
    if (held_.count({ti.key(), ti.fence})) continue;  // ours, and we live
    std::string path = TryOutcomePath(LogPath(ti.key(), ti.try_number));
    auto outcome = ReadTryOutcome(path);
    if (!outcome || outcome->tag != TryOutcomeTag(ti)) continue;
    if (auto st = Adopt(std::move(ti), *outcome, path); !st) return st;
  }
  return {};
}

Status Worker::Adopt(TaskInstanceRecord ti, const TryOutcomeFile& outcome, const std::string& path) {
  auto h = std::make_unique<Held>();
  h->ti = ti;
  if (!Load(*h)) return {};  // its DAG version is not here: the scheduler ends it as lost
  auto taken = store_.AdoptTry(ti, opts_.name, opts_.hostname, opts_.lease);
  if (!taken) return Fail(taken.error());
  if (!*taken) return {};
  std::string dead = ti.worker;
  h->ti.worker = opts_.name;
  h->ti.hostname = opts_.hostname;
  h->claimed_now = true;
  h->phase = Held::Phase::kRunning;
  h->runner_id = next_id_++;
  h->kill_by = Steady::now() + opts_.lease - KillMargin(opts_.lease);
  h->try_record = {ti.dag_id,      ti.run_id, ti.task_id,   ti.map_index,
                   ti.try_number,  TaskState::kRunning,    ti.start_date.value_or(clock_.Now()),
                   std::nullopt,   std::nullopt,           "",
                   ti.hostname,    ti.pid,    dead};
  AppendLogLine(LogPath(ti.key(), ti.try_number),
                fmt::format("{} died before recording how try {} ended; {} records it from {}",
                            dead, ti.try_number, opts_.name,
                            std::filesystem::path(path).filename().string()));
  TryResult r;
  r.id = h->runner_id;
  r.exit_code = outcome.exit_code;
  r.term_signal = outcome.term_signal;
  r.return_value = outcome.return_value;
  r.xcom = outcome.xcom;
  Held& ref = *h;
  held_[{ti.key(), ti.fence}] = std::move(h);
  return Report(ref, r);
}

Status Worker::Claim(const std::optional<std::vector<TiKey>>& only) {
  if (auto st = Reconcile(); !st) return st;
  Timestamp now = clock_.Now();
  bool timer = !next_poll_ || now >= *next_poll_;
  bool tries_due = only || poll_now_ || timer;
  bool callbacks_due = callbacks_now_ || timer;
  poll_now_ = callbacks_now_ = false;
  if (timer) next_poll_ = After(now, opts_.poll);
  int free = FreeSlots();
  if (free <= 0) return {};
  if (!tries_due || (only && only->empty())) return callbacks_due ? ClaimCallbacks() : Status();
  ClaimSpec spec{opts_.name, opts_.hostname, opts_.queues, free, opts_.lease,
                 only.value_or(std::vector<TiKey>{}), only.has_value()};
  auto claimed = store_.ClaimTaskInstances(spec);
  if (!claimed) return Fail(claimed.error());
  for (TaskInstanceRecord& ti : *claimed) {
    auto h = std::make_unique<Held>();
    h->ti = ti;
    h->claimed_now = true;
    h->kill_by = Steady::now() + opts_.lease - KillMargin(opts_.lease);
    h->try_record = {ti.dag_id,        ti.run_id, ti.task_id,      ti.map_index,
                     ti.try_number,    TaskState::kRunning,        ti.start_date.value_or(now),
                     std::nullopt,     std::nullopt,               "",
                     opts_.hostname,   0,         opts_.name};
    // The try's row is written when it ends (or is found lost): the task
    // instance says meanwhile who runs it.
    if (ti.try_number > 1 && !ti.first_poke_at)
      if (auto st = store_.ClearXCom(ti.key()); !st) return st;
    held_[{ti.key(), ti.fence}] = std::move(h);
  }
  return callbacks_due ? ClaimCallbacks() : Status();
}

Status Worker::ClaimCallbacks() {
  int free = FreeSlots();
  if (free <= 0) return {};
  auto claimed = store_.ClaimCallbacks(opts_.name, opts_.queues, free, runs_);
  if (!claimed) return Fail(claimed.error());
  for (CallbackRecord& r : *claimed) {
    auto c = std::make_unique<Callback>();
    c->record = std::move(r);
    c->claimed_now = true;
    new_callbacks_.push_back(std::move(c));
  }
  return {};
}

// --- Starting processes ----------------------------------------------------------------

// Loads what a try needs to run here: its run, its DAG's version, its task.
Status Worker::Load(Held& h) {
  if (h.task) return {};
  auto cached = runs_cache_.find({h.ti.dag_id, h.ti.run_id});
  if (cached == runs_cache_.end()) {
    auto run = store_.GetDagRun(h.ti.dag_id, h.ti.run_id);
    if (!run) return Fail(run.error());
    auto dag = dags_.Get(store_, h.ti.dag_id, run->dag_hash);
    if (!dag) return Fail(dag.error());
    auto params = ResolveParams(**dag, run->conf);
    if (!params) return Fail(params.error());
    if (runs_cache_.size() > 1000) runs_cache_.clear();
    std::string folder = std::filesystem::absolute((*dag)->file).parent_path().string();
    cached = runs_cache_.emplace(std::make_pair(h.ti.dag_id, h.ti.run_id),
                                 RunInfo{std::move(*run), std::move(*params), std::move(folder)})
                 .first;
  }
  h.run = cached->second.run;
  h.params = cached->second.params;
  h.folder = cached->second.folder;
  auto dag = dags_.Get(store_, h.ti.dag_id, h.run.dag_hash);
  if (!dag) return Fail(dag.error());
  h.dag = *dag;
  h.task = h.dag->FindTask(h.ti.task_id);
  if (!h.task)
    return Fail(Error::NotFound(fmt::format("DAG '{}' (version {}) has no task '{}'",
                                            h.ti.dag_id, h.run.dag_hash, h.ti.task_id)));
  return {};
}

Result<TryRequest> Worker::Prepare(Held& h) {
  if (auto st = Load(h); !st) return Fail(st.error());
  const Task& t = *h.task;
  TryCall call{*h.dag, h.run, h.params, t, t, h.ti.try_number};
  call.extra = InstanceNames(h.ti.map_values, h.ti.map_index);
  call.folder = h.folder;
  auto req = PrepareCall(call, store_, opts_.try_env);
  if (!req) return req;
  if (t.op && t.op->IsSensor() && t.timeout && h.ti.first_poke_at) {
    // A poke may take at most what is left of the sensor's timeout.
    auto used = std::chrono::duration_cast<Duration>(clock_.Now() - *h.ti.first_poke_at);
    req->timeout = std::max(Duration(1), *t.timeout - used);
  }
  return req;
}

// The opening lines of a try's log (a sensor's later pokes add one line).
void Worker::WriteHeader(const Held& h, const TryRequest* req, bool repoke) {
  std::string log = LogPath(h.ti.key(), h.ti.try_number);
  if (repoke) {
    AppendLogLine(log, fmt::format("poke: pid={}", h.pid));
    return;
  }
  TryHeader header{h.ti.key(), h.ti.try_number, h.ti.max_tries, opts_.hostname, opts_.name,
                   h.task ? h.task->operator_name : "", {}, h.pid, h.try_record.start_date};
  if (req) header.argv = req->launch.argv;
  std::vector<std::string> lines = TryHeaderLines(header);
  // The rendered command may hold a password, masked as in the output.
  if (req)
    for (std::string& line : lines)
      for (const std::string& secret : req->secrets)
        if (secret.size() >= 3)
          for (size_t at = line.find(secret); at != std::string::npos; at = line.find(secret, at + 3))
            line.replace(at, secret.size(), "***");
  AppendLogLines(log, lines);
}

Status Worker::StartTry(Held& h) {
  bool repoke = h.phase == Held::Phase::kPokeWait;
  std::string log = LogPath(h.ti.key(), h.ti.try_number);
  auto req = Prepare(h);
  // The store failed while the try was prepared (its run, its XCom): not
  // the try's fault. It starts with a later pass.
  if (!req && IsStoreFault(req.error())) return Fail(req.error());
  h.phase = Held::Phase::kRunning;
  h.next_poke.reset();
  h.runner_id = next_id_++;
  if (!req) {
    h.start_error = req.error().message();
    WriteHeader(h, nullptr, repoke);
    AppendLogLine(log, fmt::format("try {} failed before start: {}", h.ti.try_number, h.start_error));
  } else if (req->launch.argv.empty() && !req->launch.body) {
    // Nothing to run (the empty operator): the try succeeds at once.
    WriteHeader(h, &*req, repoke);
  } else {
    req->id = h.runner_id;
    req->log_path = log;
    req->outcome_path = TryOutcomePath(log);
    req->outcome_tag = TryOutcomeTag(h.ti);
    auto pid = runner_.Start(*req);
    if (!pid) {
      h.start_error = "cannot start: " + pid.error().message();
      WriteHeader(h, &*req, repoke);
      AppendLogLine(log, h.start_error);
    } else {
      h.pid = *pid;
      h.pid_recorded = false;
      // Before the runner reads the process's first output.
      WriteHeader(h, &*req, repoke);
      if (guardian_) guardian_->Watch(h.pid, h.kill_by);
      if (observer_ && !repoke) observer_->TryStarted(h.ti.key(), h.ti.try_number, opts_.name);
      return {};
    }
  }
  // No process: the result is known now and reported with the next pass.
  TryResult done;
  done.id = h.runner_id;
  done.exit_code = h.start_error.empty() ? 0 : -1;
  if (observer_ && !repoke && h.start_error.empty())
    observer_->TryStarted(h.ti.key(), h.ti.try_number, opts_.name);
  unreported_.push_back(done);
  return {};
}

Status Worker::StartCallback(Callback& c) {
  const CallbackRecord& r = c.record;
  c.runner_id = next_id_++;
  auto fail = [&](const std::string& why) {
    AppendLogLine(c.log, fmt::format("{} callback could not start: {}", r.event, why));
    TryResult done;
    done.id = c.runner_id;
    done.exit_code = -1;
    unreported_.push_back(done);
    return Status();
  };
  // The store failing is not the callback's fault: it starts with a later pass.
  auto run = store_.GetDagRun(r.dag_id, r.run_id);
  if (!run && IsStoreFault(run.error())) return Fail(run.error());
  if (!run) return fail(run.error().message());
  auto dag = dags_.Get(store_, r.dag_id, r.dag_hash.empty() ? run->dag_hash : r.dag_hash);
  if (!dag && IsStoreFault(dag.error())) return Fail(dag.error());
  if (!dag) return fail(dag.error().message());
  const Dag& d = **dag;
  bool whole_run = r.task_id.empty();
  bool after = r.event == "after_downstream";
  const Task* scope = whole_run ? nullptr : d.FindTask(r.task_id);
  const Task* cb = nullptr;
  if (whole_run && d.callbacks.count(r.event)) cb = d.callbacks.at(r.event).get();
  if (scope && after) cb = scope;
  if (scope && !after && scope->callbacks.count(r.event)) cb = scope->callbacks.at(r.event).get();
  c.log = whole_run ? fmt::format("{}/dag_id={}/run_id={}/callback={}.log", opts_.logs_dir,
                                  r.dag_id, r.run_id, r.event)
                    : LogPath({r.dag_id, r.run_id, r.task_id, r.map_index}, r.try_number);
  if (!cb) return fail(fmt::format("this version of '{}' has no {} callback", r.dag_id, r.event));
  AppendLogLine(c.log, fmt::format("{} callback {}: starting", r.event, cb->id));
  auto params = ResolveParams(d, run->conf);
  if (!params) return fail(params.error().message());
  std::string value;
  if (after) {
    auto x = store_.GetXCom(r.dag_id, r.run_id, r.task_id, "return_value", r.map_index);
    if (!x && IsStoreFault(x.error())) return Fail(x.error());
    if (x) value = *x;
  }
  TryCall call{d, *run, *params, *cb, whole_run ? *cb : *scope, r.try_number,
               {{"exception", r.error}, {"event", r.event}, {"state", r.state}},
               after ? &value : nullptr};
  if (r.map_index >= 0) call.extra["map_index"] = std::to_string(r.map_index);
  // A run's callback also says why it runs, in Airflow's words (timed_out ...).
  if (whole_run) call.extra["reason"] = r.reason;
  auto req = PrepareCall(call, store_, opts_.try_env);
  if (!req && IsStoreFault(req.error())) return Fail(req.error());
  if (!req) return fail(req.error().message());
  req->env.push_back("DAGCTL_CALLBACK=" + r.event);
  if (whole_run) req->env.push_back("DAGCTL_CALLBACK_REASON=" + r.reason);
  req->id = c.runner_id;
  req->log_path = c.log;
  if (req->launch.argv.empty() && !req->launch.body) {
    TryResult done;
    done.id = c.runner_id;
    done.exit_code = 0;
    unreported_.push_back(done);
    return {};
  }
  auto pid = runner_.Start(*req);
  if (!pid) return fail(pid.error().message());
  return {};
}

Status Worker::EndCallback(Callback& c, const TryResult& r) {
  std::string how = r.timed_out      ? "timed out"
                    : r.term_signal  ? fmt::format("was killed by signal {}", r.term_signal)
                    : r.exit_code == 0 ? "succeeded"
                                       : fmt::format("failed with exit code {}", r.exit_code);
  if (auto st = store_.FinishCallback(c.record.id); !st) return st;
  if (!c.finished_now) AppendLogLine(c.log, "callback " + how);
  c.finished_now = true;
  return {};
}

Status Worker::StartClaimed() {
  Timestamp now = clock_.Now();
  for (auto& [key, h] : held_) {
    if (h->lost || h->discard_now) continue;
    bool due = h->phase == Held::Phase::kClaimed ||
               (h->phase == Held::Phase::kPokeWait && h->next_poke && *h->next_poke <= now);
    if (due)
      if (auto st = StartTry(*h); !st) return st;
  }
  for (size_t i = 0; i < new_callbacks_.size(); ++i) {
    if (auto st = StartCallback(*new_callbacks_[i]); !st) {
      // Those started are kept; the rest start with a later pass.
      new_callbacks_.erase(new_callbacks_.begin(), new_callbacks_.begin() + static_cast<long>(i));
      return st;
    }
    callbacks_[new_callbacks_[i]->runner_id] = std::move(new_callbacks_[i]);
  }
  new_callbacks_.clear();
  // The process groups are written with the next pass (for people: the
  // guardian, not the store, ends what a dead worker leaves behind).
  if (guardian_) guardian_->Flush();
  return {};
}

// Copies what the try's log file holds beyond what the store has.
void Worker::ShipLog(Held& h) {
  std::string path = LogPath(h.ti.key(), h.ti.try_number);
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  std::string data(1 << 20, '\0');
  ssize_t n = pread(fd, data.data(), data.size(), h.shipped);
  close(fd);
  if (n <= 0) return;
  data.resize(static_cast<size_t>(n));
  if (store_.AppendTryLog(h.ti.key(), h.ti.try_number, h.shipped, data)) h.shipped += n;
}

std::optional<Timestamp> Worker::NextWake() const {
  std::optional<Timestamp> wake;
  auto consider = [&](std::optional<Timestamp> t) {
    if (t && (!wake || *t < *wake)) wake = t;
  };
  consider(next_heartbeat_ ? next_heartbeat_ : std::optional<Timestamp>(clock_.Now()));
  if (!held_.empty()) consider(next_renewal_.value_or(clock_.Now()));
  if (FreeSlots() > 0) consider(next_poll_ ? next_poll_ : std::optional<Timestamp>(clock_.Now()));
  if (!unreported_.empty()) consider(clock_.Now());
  auto steady_now = Steady::now();
  Timestamp now = clock_.Now();
  for (const auto& [key, h] : held_) {
    consider(h->next_poke);
    if (h->kill_by.time_since_epoch().count())
      consider(now + std::chrono::duration_cast<std::chrono::microseconds>(h->kill_by - steady_now));
    if (opts_.ship_logs && h->phase == Held::Phase::kRunning) consider(After(now, std::chrono::seconds(1)));
  }
  return wake;
}

Status Worker::Stop(const std::string& why, bool may_retry) {
  std::vector<TryResult> ended = runner_.TerminateAll();
  unreported_.insert(unreported_.end(), ended.begin(), ended.end());
  auto st = store_.Transaction([&]() -> Status {
    for (const TryResult& r : unreported_) {
      Held* h = Find(r.id);
      if (!h) {
        if (auto it = callbacks_.find(r.id); it != callbacks_.end())
          if (auto s = EndCallback(*it->second, r); !s) return s;
        continue;
      }
      if (h->lost || !h->task) continue;
      h->reporting = r;
      AppendLogLine(LogPath(h->ti.key(), h->ti.try_number), why);
      if (auto s = ReportEnd(*h, TaskState::kFailed, std::nullopt, why, may_retry); !s) return s;
    }
    // Sensors between pokes hold a slot but no process: they end the same way.
    for (auto& [key, h] : held_) {
      if (h->phase != Held::Phase::kPokeWait || h->lost || h->reporting) continue;
      h->reporting = TryResult{};
      if (auto s = ReportEnd(*h, TaskState::kFailed, std::nullopt, why, may_retry); !s) return s;
    }
    return store_.RemoveWorker(opts_.name);
  });
  if (!st) {
    Aborted();
    return st;
  }
  Committed();
  held_.clear();
  return {};
}

}  // namespace dagctl
