#include "engine/executor.h"

#include <fmt/format.h>

#include "engine/guardian.h"
#include "operators/operator.h"

namespace dagctl {

Executor::Executor(Store& store, TryRunner& runner, const Clock& clock, ExecutorOptions opts,
                   RunObserver* observer)
    : store_(store),
      no_ops_(std::make_unique<OperatorRegistry>()),
      dags_(*no_ops_, opts.dags_dir),
      dags_dir_(opts.dags_dir) {
  // A guardian kills this process's tries should it die; without one (no
  // fork possible) tries still die with it through PDEATHSIG.
  if (auto g = Guardian::Start()) guardian_ = std::move(*g);
  if (opts.owner.empty()) opts.owner = ThisProcessOwner();
  SchedulerOptions so;
  so.owner = opts.owner;
  so.lease = opts.lease;
  so.logs_dir = opts.logs_dir;
  so.ship_logs = opts.ship_logs;
  so.local_only = true;
  scheduler_ = std::make_unique<Scheduler>(store, clock, *no_ops_, dags_, so, observer);
  WorkerOptions wo;
  wo.name = opts.owner;
  wo.hostname = opts.hostname;
  wo.queues = {};  // every queue: this process runs its runs' tries itself
  wo.slots = opts.parallelism;
  wo.lease = opts.lease;
  wo.logs_dir = opts.logs_dir;
  wo.try_env = {opts.env, opts.home, opts.dags_dir, opts.store_url};
  wo.ship_logs = opts.ship_logs;
  wo.local_only = true;
  worker_ = std::make_unique<Worker>(store, runner, clock, dags_, wo, guardian_.get(), observer);
  node_ = std::make_unique<Node>(store, runner, clock, scheduler_.get(), worker_.get(), "run");
}

Executor::~Executor() = default;

Status Executor::AddRun(std::shared_ptr<const Dag> dag, const std::string& run_id) {
  auto st = store_.Transaction([&]() -> Status {
    // The version's path: this DAG's file, wherever it is (absolute when
    // outside the DAGs folder).
    DagVersionRecord v{dag->dag_id, dag->file_hash, VersionPath(dags_dir_, dag->file),
                       dag->source, {}};
    if (auto s = store_.PutDagVersion(v); !s) return s;
    return scheduler_->AddRun(dag, run_id);
  });
  if (!st) {
    // What the scheduler took on is not in the store: it reads it again.
    scheduler_->Aborted();
    return st;
  }
  runs_.emplace_back(dag->dag_id, run_id);
  worker_->SetRunFilter(runs_);
  return {};
}

std::vector<FinishedRun> Executor::Step(std::optional<Timestamp> deadline) {
  return node_->Step(deadline);
}

Status Executor::Stop(bool fail_runs) { return node_->Stop(fail_runs); }

Result<bool> Executor::CallbacksDone(const std::string& dag_id, const std::string& run_id) {
  auto pending = store_.CountPendingCallbacks(dag_id, run_id);
  if (!pending) return Fail(pending.error());
  return *pending == 0;
}

Result<RunState> Executor::Run(std::shared_ptr<const Dag> dag, const std::string& run_id) {
  // The store may fail for a while (busy, unreachable, a full disk): taking
  // the run on is tried again, as the loop's passes are.
  while (true) {
    auto st = AddRun(dag, run_id);
    if (st) break;
    if (!IsStoreFault(st.error()) || !node_->BackOff(st.error())) return Fail(st.error());
  }
  std::optional<RunState> state;
  while (true) {
    if (node_->StopRequested()) {
      if (auto st = Stop(true); !st) return Fail(st.error());
      break;
    }
    for (const FinishedRun& f : Step(std::nullopt))
      if (f.dag_id == dag->dag_id && f.run_id == run_id) state = f.state;
    if (!state) continue;
    // The run's callbacks (on_success, on_failure ...) run before we return.
    auto done = CallbacksDone(dag->dag_id, run_id);
    if (!done && IsStoreFault(done.error())) node_->BackOff(done.error());
    if (done && *done && worker_->Idle()) return *state;
  }
  auto run = store_.GetDagRun(dag->dag_id, run_id);
  if (!run) return Fail(run.error());
  return run->state;
}

}  // namespace dagctl
