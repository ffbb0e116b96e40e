#include "engine/node.h"

#include <fmt/format.h>

#include <thread>

namespace dagctl {

Node::Node(Store& store, TryRunner& runner, const Clock& clock, Scheduler* scheduler,
           Worker* worker, std::string name)
    : store_(store),
      runner_(runner),
      clock_(clock),
      scheduler_(scheduler),
      worker_(worker),
      name_(std::move(name)) {}

void Node::Failed(const Error& e) {
  // A transaction that lost to another (PostgreSQL broke a deadlock) is done
  // again at once, quietly.
  if (e.code() == Error::Code::kAborted) {
    ++aborted_;
    retry_at_.reset();
    return;
  }
  // Back off from 100 ms to 2 s; say what is wrong once, not every pass.
  ++failures_;
  auto wait = std::chrono::milliseconds(std::min(2000, 100 << std::min(failures_ - 1, 5)));
  retry_at_ = clock_.Now() + std::chrono::duration_cast<std::chrono::microseconds>(wait);
  if (e.message() != last_error_)
    fmt::print(stderr, "dagctl {}: {}; trying again\n", name_, e.message());
  last_error_ = e.message();
}

bool Node::BackOff(const Error& e) {
  Failed(e);
  if (retry_at_) {
    std::vector<TryResult> ended = runner_.Wait(retry_at_);
    if (worker_) worker_->Ended(std::move(ended));
  }
  return !StopRequested();
}

// One pass in one transaction; false when it failed (and was rolled back).
bool Node::Pass(const std::set<std::string>& notes) {
  std::vector<TiKey> queued;
  auto st = store_.Transaction([&]() -> Status {
    if (worker_)
      if (auto s = worker_->Report(); !s) return s;
    std::optional<std::vector<TiKey>> only;
    if (scheduler_) {
      static const RunReports kNone;
      LocalWorkerSlots local{worker_ ? worker_->FreeSlots() : 0};
      auto keys = scheduler_->Pass(notes, worker_ ? worker_->reported() : kNone, local);
      if (!keys) return Fail(keys.error());
      queued = std::move(*keys);
    }
    if (!worker_) return {};
    if (scheduler_ && worker_->options().local_only) only = queued;
    if (!queued.empty()) worker_->WakeClaims();
    if (scheduler_ && scheduler_->callbacks_added() != callbacks_seen_) {
      callbacks_seen_ = scheduler_->callbacks_added();
      worker_->WakeCallbacks();
    }
    if (scheduler_ && scheduler_->tries_stopped() != stopped_seen_) {
      stopped_seen_ = scheduler_->tries_stopped();
      worker_->RenewLeasesNow();
    }
    return worker_->Claim(only);
  });
  if (!st) {
    if (worker_) worker_->Aborted();
    if (scheduler_) scheduler_->Aborted();
    Failed(st.error());
    return false;
  }
  if (worker_) worker_->Committed();
  if (scheduler_) scheduler_->Committed();
  if (worker_)
    if (auto s = worker_->StartClaimed(); !s) {
      Failed(s.error());
      return false;
    }
  if (failures_ > 0) fmt::print(stderr, "dagctl {}: the metadata database answers again\n", name_);
  failures_ = 0;
  last_error_.clear();
  retry_at_.reset();
  return true;
}

std::vector<FinishedRun> Node::Step(std::optional<Timestamp> deadline) {
  if (worker_) worker_->EnforceDeadlines();
  std::optional<Timestamp> wake = deadline;
  auto consider = [&](std::optional<Timestamp> t) {
    if (t && (!wake || *t < *wake)) wake = t;
  };
  if (retry_at_) {
    consider(retry_at_);
  } else {
    if (scheduler_) consider(scheduler_->NextWake());
    if (worker_) consider(worker_->NextWake());
  }
  // Notifications that came in with the last pass's answers are already
  // read off the socket: waiting on it would miss them.
  std::set<std::string> notes = store_.TakeNotifications();
  if (notes.empty() && (!wake || *wake > clock_.Now())) {
    std::vector<TryResult> ended = runner_.Wait(wake, store_.NotificationFd());
    // The worker keeps them until a pass that reports them commits.
    if (worker_) worker_->Ended(std::move(ended));
    notes = store_.TakeNotifications();
  }
  if (worker_ && notes.count("dagctl_queued")) worker_->WakeClaims();
  if (worker_ && notes.count("dagctl_stopped")) worker_->RenewLeasesNow();
  if (retry_at_ && clock_.Now() < *retry_at_) return {};
  if (!Pass(notes)) return {};
  return scheduler_ ? scheduler_->TakeFinished() : std::vector<FinishedRun>{};
}

Status Node::Run() {
  while (!runner_.StopRequested()) Step(std::nullopt);
  return Stop(false);
}

Status Node::Stop(bool fail_runs) {
  // Several tries: the store may be down right now; the tries are ended
  // either way (a worker must not leave them running).
  Status st;
  for (int attempt = 0; attempt < 20; ++attempt) {
    st = worker_ ? worker_->Stop(fail_runs ? "terminated: dagctl was asked to stop"
                                           : "terminated: the worker shut down",
                                 !fail_runs)
                 : Status();
    if (st) st = store_.Transaction([&]() -> Status {
      return scheduler_ ? scheduler_->Stop(fail_runs) : Status();
    });
    if (st || !st.error().IsUnavailable()) return st;
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  return st;
}

}  // namespace dagctl
