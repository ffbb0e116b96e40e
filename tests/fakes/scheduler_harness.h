// A scheduler on a DAGs folder with a worker in the same process, on a fake
// clock and a scripted runner, for tests of what the scheduler creates.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/dag_cache.h"
#include "engine/node.h"
#include "engine/scheduler.h"
#include "engine/store/sql_store.h"
#include "engine/worker.h"
#include "fakes/fake_try_runner.h"
#include "fakes/load.h"

namespace dagctl::testing {

// A scheduler on a DAGs folder with a worker in the same process, on a fake
// clock (the store's too) and a scripted runner: `serve` without processes.
class SchedulerHarness {
 public:
  /// `poll`: how often the scheduler looks at the store for runs to take.
  explicit SchedulerHarness(const std::string& now,
                            std::chrono::milliseconds poll = std::chrono::hours(1))
      : poll_(poll),
        dir_(std::filesystem::temp_directory_path() / ("dagctl_sched_" + std::to_string(::getpid()))),
        clock_(ParseDateTime(now).value()),
        runner_(clock_) {
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_ / "dags");
    store_ = std::move(OpenSqliteStore((dir_ / "db").string(), clock_).value());
  }
  ~SchedulerHarness() { std::filesystem::remove_all(dir_); }

  void AddDag(const std::string& name, const std::string& yaml) {
    std::ofstream(dir_ / "dags" / (name + ".yaml")) << yaml;
  }

  Node& node() {
    if (!node_) {
      dags_ = std::make_unique<DagCache>(Operators(), (dir_ / "dags").string());
      SchedulerOptions so;
      so.dags_dir = (dir_ / "dags").string();
      so.logs_dir = (dir_ / "logs").string();
      so.owner = "test-host:1";
      so.verbose = false;
      // Fake time jumps from one fire to the next, not by polls.
      so.poll_interval = poll_;
      scheduler_ = std::make_unique<Scheduler>(*store_, clock_, Operators(), *dags_, so);
      WorkerOptions wo;
      wo.name = "test-host:1";
      wo.hostname = "test-host";
      wo.queues = {};
      wo.logs_dir = so.logs_dir;
      wo.heartbeat = wo.poll = std::chrono::hours(1);
      worker_ = std::make_unique<Worker>(*store_, runner_, clock_, *dags_, wo);
      node_ = std::make_unique<Node>(*store_, runner_, clock_, scheduler_.get(), worker_.get(),
                                     "test");
    }
    return *node_;
  }

  /// One pass now (nothing is waited for); returns when the next scheduled run is due.
  std::optional<Timestamp> Tick() {
    node().Step(clock_.Now());
    return scheduler_->NextRunDue();
  }

  // Steps until no run is active and none is due before `until`.
  void RunUntilIdle(const std::string& until) {
    Timestamp end = ParseDateTime(until).value();
    for (int i = 0; i < 100000 && clock_.Now() < end; ++i) {
      auto next = Tick();
      auto active = store_->CountDagRuns({.states = {RunState::kQueued, RunState::kRunning}});
      if (*active == 0 && (!next || *next > end)) return;
      node().Step(end);
    }
  }

  std::vector<std::string> RunIds(const std::string& dag) {
    std::vector<std::string> ids;
    auto runs = store_->ListDagRuns({.dag_id = dag, .oldest_first = true}).value();
    for (const auto& r : runs) ids.push_back(r.run_id + " " + RunStateName(r.state));
    return ids;
  }

  std::string dags_dir() const { return (dir_ / "dags").string(); }
  FakeClock& clock() { return clock_; }
  Store& store() { return *store_; }
  FakeTryRunner& runner() { return runner_; }

 private:
  std::chrono::milliseconds poll_;
  std::filesystem::path dir_;
  FakeClock clock_;
  FakeTryRunner runner_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<DagCache> dags_;
  std::unique_ptr<Scheduler> scheduler_;
  std::unique_ptr<Worker> worker_;
  std::unique_ptr<Node> node_;
};

}  // namespace dagctl::testing
