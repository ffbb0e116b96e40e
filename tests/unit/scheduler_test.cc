// The scheduler on a fake clock and a scripted runner: when runs are created,
// which intervals they cover, and how limits, pause and recovery behave.
#include "engine/runs.h"
#include "engine/scheduler.h"
#include "engine/node.h"
#include "engine/worker.h"

#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "engine/store/sql_store.h"
#include "fakes/fake_try_runner.h"
#include "fakes/load.h"
#include "fakes/scheduler_harness.h"

using namespace dagctl;
using namespace dagctl::testing;
namespace fs = std::filesystem;

namespace {

const char* kWeeklySeoul = R"(schedule: "0 2 * * 0"
timezone: Asia/Seoul
start_date: 2026-11-01
tasks:
  - {id: crawl, command: x}
)";

}  // namespace

TEST_CASE("a weekly Seoul DAG gets its run at Sunday 02:00 KST for the week before") {
  SchedulerHarness h("2026-11-22T02:00:30+09:00");
  h.AddDag("weekly", kWeeklySeoul);
  auto next = h.Tick();
  auto runs = h.store().ListDagRuns({.dag_id = "weekly"}).value();
  REQUIRE(runs.size() == 1);
  CHECK(runs[0].run_id == "scheduled__2026-11-14T17:00:00+00:00");
  CHECK(runs[0].run_type == RunType::kScheduled);
  CHECK(FormatIso(runs[0].data_interval_start, TimeZone::Locate("Asia/Seoul").value()) ==
        "2026-11-15T02:00:00+09:00");
  CHECK(FormatIso(runs[0].data_interval_end) == "2026-11-21T17:00:00+00:00");
  REQUIRE(next);
  CHECK(FormatIso(*next) == "2026-11-28T17:00:00+00:00");
  // Ticking again creates nothing new for the same interval.
  h.Tick();
  CHECK(h.store().CountDagRuns({.dag_id = "weekly"}).value() == 1);
}

TEST_CASE("nothing is created before the first interval has ended") {
  SchedulerHarness h("2026-11-08T01:59:00+09:00");
  h.AddDag("weekly", kWeeklySeoul);
  auto next = h.Tick();
  CHECK(h.store().CountDagRuns({.dag_id = "weekly"}).value() == 0);
  REQUIRE(next);
  // The first interval is [Nov 1 02:00, Nov 8 02:00): due at Nov 8 02:00 KST.
  CHECK(FormatIso(*next) == "2026-11-07T17:00:00+00:00");
}

TEST_CASE("catchup creates every missed interval in order and max_active_runs at a time") {
  SchedulerHarness h("2026-11-05T12:00:00Z");
  h.AddDag("daily",
           "schedule: '@daily'\nstart_date: 2026-11-01\ncatchup: true\nmax_active_runs: 2\n"
           "tasks:\n  - {id: t, command: x}\n");
  h.Tick();
  CHECK(h.RunIds("daily") ==
        std::vector<std::string>{"scheduled__2026-11-01T00:00:00+00:00 running",
                                 "scheduled__2026-11-02T00:00:00+00:00 running"});
  h.RunUntilIdle("2026-11-05T13:00:00Z");
  CHECK(h.RunIds("daily") ==
        std::vector<std::string>{"scheduled__2026-11-01T00:00:00+00:00 success",
                                 "scheduled__2026-11-02T00:00:00+00:00 success",
                                 "scheduled__2026-11-03T00:00:00+00:00 success",
                                 "scheduled__2026-11-04T00:00:00+00:00 success"});
}

TEST_CASE("without catchup only the latest interval runs and later fires follow") {
  SchedulerHarness h("2026-11-05T12:00:00Z");
  h.AddDag("daily",
           "schedule: '@daily'\nstart_date: 2026-11-01\ntasks:\n  - {id: t, command: x}\n");
  h.RunUntilIdle("2026-11-07T00:30:00Z");
  CHECK(h.RunIds("daily") ==
        std::vector<std::string>{"scheduled__2026-11-04T00:00:00+00:00 success",
                                 "scheduled__2026-11-05T00:00:00+00:00 success",
                                 "scheduled__2026-11-06T00:00:00+00:00 success"});
}

TEST_CASE("a run is created at its fire time, not before") {
  SchedulerHarness h("2026-11-05T23:59:00Z");
  h.AddDag("daily",
           "schedule: '@daily'\nstart_date: 2026-11-05\ntasks:\n  - {id: t, command: x}\n");
  auto next = h.Tick();
  CHECK(h.store().CountDagRuns({.dag_id = "daily"}).value() == 0);
  REQUIRE(next);
  h.clock().Set(*next);
  h.Tick();
  auto runs = h.store().ListDagRuns({.dag_id = "daily"}).value();
  REQUIRE(runs.size() == 1);
  CHECK(runs[0].queued_at == *next);
}

TEST_CASE("paused DAGs get no runs and end_date stops scheduling and @once runs once") {
  SchedulerHarness h("2026-11-05T12:00:00Z");
  h.AddDag("paused",
           "schedule: '@daily'\nstart_date: 2026-11-01\ntasks:\n  - {id: t, command: x}\n");
  h.AddDag("ended",
           "schedule: '@daily'\nstart_date: 2026-10-01\nend_date: 2026-10-03\ncatchup: true\n"
           "tasks:\n  - {id: t, command: x}\n");
  h.AddDag("once", "schedule: '@once'\nstart_date: 2026-11-02\ntasks:\n  - {id: t, command: x}\n");
  REQUIRE(h.store().SetPaused("paused", true));
  h.RunUntilIdle("2026-11-05T12:10:00Z");
  CHECK(h.RunIds("paused").empty());
  CHECK(h.RunIds("ended") ==
        std::vector<std::string>{"scheduled__2026-10-01T00:00:00+00:00 success",
                                 "scheduled__2026-10-02T00:00:00+00:00 success",
                                 "scheduled__2026-10-03T00:00:00+00:00 success"});
  CHECK(h.RunIds("once") ==
        std::vector<std::string>{"scheduled__2026-11-02T00:00:00+00:00 success"});
}

TEST_CASE("a run whose owner stopped renewing its lease is taken over and its lost try retried") {
  SchedulerHarness h("2026-11-05T12:00:00Z", std::chrono::seconds(1));
  const char* yaml =
      "tasks:\n  - {id: a, command: x, retry_delay: 1s}\n  - {id: b, command: x, depends_on: a}\n";
  h.AddDag("manual", yaml);
  auto dag = MustLoad(yaml);
  dag->dag_id = "manual";
  auto run = CreateRun(h.store(), *dag,
                       {.logical_date = h.clock().Now(),
                        .interval_end = h.clock().Now() + std::chrono::hours(24),
                        .state = RunState::kRunning,
                        .owner = "gone-host:42",
                        .now = h.clock().Now()});
  REQUIRE(run);
  // Its task was running on a worker that vanished with it.
  auto tis = h.store().ListTaskInstances("manual", run->run_id).value();
  tis[0].state = TaskState::kRunning;
  tis[0].try_number = 1;
  tis[0].start_date = h.clock().Now();
  tis[0].worker = "gone-worker";
  tis[0].hostname = "gone-host";
  tis[0].lease_until = h.clock().Now() + std::chrono::seconds(30);
  REQUIRE(h.store().UpdateTaskInstance(tis[0]));
  // While both leases hold, nobody touches the run.
  h.Tick();
  CHECK(h.RunIds("manual") == std::vector<std::string>{run->run_id + " running"});
  CHECK(h.runner().started().empty());
  h.clock().Advance(std::chrono::seconds(31));
  h.RunUntilIdle("2026-11-05T12:05:00Z");
  CHECK(h.RunIds("manual") == std::vector<std::string>{run->run_id + " success"});
  auto a = h.store().ListTaskInstances("manual", run->run_id).value()[0];
  CHECK(a.try_number == 2);
  auto tries = h.store().ListTries({"manual", run->run_id, "a", -1}).value();
  REQUIRE(tries.size() == 2);
  CHECK(tries[0].error == "worker gone-worker on gone-host stopped renewing its lease");
  CHECK(tries[1].state == TaskState::kSuccess);
}

TEST_CASE("a run another process holds on a live lease is left alone") {
  SchedulerHarness h("2026-11-05T12:00:00Z");
  h.AddDag("manual", "tasks:\n  - {id: a, command: x}\n");
  auto dag = MustLoad("tasks:\n  - {id: a, command: x}\n");
  dag->dag_id = "manual";
  auto run = CreateRun(h.store(), *dag,
                       {.logical_date = h.clock().Now(),
                        .interval_end = h.clock().Now() + std::chrono::hours(24),
                        .owner = "other-host:7",
                        .now = h.clock().Now()});
  REQUIRE(run);
  h.Tick();
  h.clock().Advance(std::chrono::seconds(20));
  h.Tick();
  CHECK(h.RunIds("manual") == std::vector<std::string>{run->run_id + " queued"});
}

TEST_CASE(
    "dagrun_timeout fails manual, scheduled and backfill runs alike, from when they started") {
  for (RunType type : {RunType::kManual, RunType::kScheduled, RunType::kBackfill}) {
    INFO(RunTypeName(type));
    SchedulerHarness h("2026-11-05T12:00:00Z");
    const char* yaml =
        "dagrun_timeout: 30m\ntasks:\n  - {id: a, command: x}\n  - {id: b, command: x, depends_on: "
        "a}\n";
    h.AddDag("slow", yaml);
    h.runner().Script("a", {{0, std::chrono::hours(5)}});
    auto dag = MustLoad(yaml);
    dag->dag_id = "slow";
    auto run = CreateRun(h.store(), *dag,
                         {.type = type,
                          .logical_date = ParseDateTime("2026-11-04").value(),
                          .interval_end = ParseDateTime("2026-11-05").value(),
                          .now = h.clock().Now()});
    REQUIRE(run);
    h.RunUntilIdle("2026-11-05T18:00:00Z");
    auto ended = h.store().GetDagRun("slow", run->run_id).value();
    CHECK(ended.state == RunState::kFailed);
    REQUIRE(ended.start_date);
    REQUIRE(ended.end_date);
    CHECK(*ended.end_date - *ended.start_date == std::chrono::minutes(30));
    auto tis = h.store().ListTaskInstances("slow", run->run_id).value();
    CHECK(tis[0].state == TaskState::kSkipped);
    CHECK(tis[1].state == TaskState::kSkipped);
    CHECK(h.runner().killed() == std::vector<std::string>{"a"});  // its worker stopped the try
  }
}

TEST_CASE("a run that timed out frees its max_active_runs slot: the next run starts at once") {
  SchedulerHarness h("2026-11-03T00:00:00Z");
  h.AddDag("daily",
           "schedule: '@daily'\nstart_date: 2026-11-01\ncatchup: true\nmax_active_runs: 1\n"
           "dagrun_timeout: 1h\ntasks:\n  - {id: a, command: x}\n");
  h.runner().Script("a", {{0, std::chrono::hours(5)}, {0, std::chrono::hours(5)}});
  h.RunUntilIdle("2026-11-03T02:30:00Z");
  CHECK(h.RunIds("daily") ==
        std::vector<std::string>{"scheduled__2026-11-01T00:00:00+00:00 failed",
                                 "scheduled__2026-11-02T00:00:00+00:00 failed"});
  auto second = h.store().GetDagRun("daily", "scheduled__2026-11-02T00:00:00+00:00").value();
  CHECK(FormatIso(*second.start_date) == "2026-11-03T01:00:00+00:00");
  CHECK(FormatIso(*second.end_date) == "2026-11-03T02:00:00+00:00");
}

TEST_CASE("versions: a run keeps the version it was created from, whenever the file changes") {
  const std::string v1 =
      "tasks:\n  - {id: a, command: echo v1-a}\n  - {id: b, command: echo v1-b, depends_on: a}\n";
  const std::string v2 =
      "tasks:\n  - {id: a, command: echo version2-a}\n  - {id: b, command: echo version2-b, "
      "depends_on: a}\n";
  enum class Change { kBeforeTheRun, kWhileQueued, kWhileItsFirstTaskRuns };
  struct Row {
    const char* name;
    Change change;
    std::string b_runs;
  };
  for (const Row& row : std::vector<Row>{
           {"changed before the run was created", Change::kBeforeTheRun, "echo version2-b"},
           {"changed while the run waited in the queue", Change::kWhileQueued, "echo v1-b"},
           {"changed while its first task ran", Change::kWhileItsFirstTaskRuns, "echo v1-b"},
       }) {
    INFO(row.name);
    SchedulerHarness h("2026-11-05T12:00:00Z", std::chrono::seconds(1));
    h.runner().Script("a", {{0, std::chrono::minutes(10)}});
    h.AddDag("ver", v1);
    h.Tick();  // the scheduler stores version 1
    auto change = [&] {
      h.AddDag("ver", v2);
      h.clock().Advance(std::chrono::seconds(2));  // the next look at the folder
      h.Tick();
    };
    if (row.change == Change::kBeforeTheRun) change();
    auto dag = MustLoad(row.change == Change::kBeforeTheRun ? v2 : v1);
    dag->dag_id = "ver";
    auto run = CreateRun(h.store(), *dag,
                         {.logical_date = h.clock().Now(),
                          .interval_end = h.clock().Now() + std::chrono::hours(24),
                          .now = h.clock().Now()});
    REQUIRE(run);
    if (row.change == Change::kWhileQueued) change();
    if (row.change == Change::kWhileItsFirstTaskRuns) {
      h.clock().Advance(std::chrono::seconds(2));
      h.Tick();
      REQUIRE(h.runner().started().size() == 1);
      change();
    }
    h.RunUntilIdle("2026-11-05T13:00:00Z");
    CHECK(h.RunIds("ver") == std::vector<std::string>{run->run_id + " success"});
    REQUIRE(h.runner().started().size() == 2);
    CHECK(h.runner().started()[1].request.launch.argv[2] == row.b_runs);
    // The store keeps both versions' text, and the run's among them.
    auto versions = h.store().ListDagVersions("ver").value();
    CHECK(versions.size() == 2);
    auto kept = h.store().GetDagVersion("ver", h.store().GetDagRun("ver", run->run_id)->dag_hash);
    REQUIRE(kept);
    CHECK(kept->source == (row.b_runs == "echo v1-b" ? v1 : v2));
  }
}

TEST_CASE("a backfill's runs run oldest first, at most its own max_active_runs at a time") {
  SchedulerHarness h("2026-11-05T12:00:00Z");
  const char* text =
      "schedule: '@daily'\nstart_date: 2026-11-01\ncatchup: false\nmax_active_runs: 4\n"
      "tasks:\n  - {id: t, command: x}\n";
  h.AddDag("daily", text);
  auto dag = MustLoad(text);
  dag->dag_id = "daily";
  auto plan = RecordBackfill(h.store(), *dag,
                        {.from = ParseDateTime("2026-11-01T00:00:00Z").value(),
                         .to = ParseDateTime("2026-11-03T00:00:00Z").value(),
                         .now = h.clock().Now(),
                         .max_active_runs = 1});
  REQUIRE(plan);
  REQUIRE(plan->size() == 3);
  h.Tick();
  // The scheduler's own latest run, and one backfill run of three.
  CHECK(h.RunIds("daily") ==
        std::vector<std::string>{"backfill__2026-11-01T00:00:00+00:00 running",
                                 "backfill__2026-11-02T00:00:00+00:00 queued",
                                 "backfill__2026-11-03T00:00:00+00:00 queued",
                                 "scheduled__2026-11-04T00:00:00+00:00 running"});
  // Each next one once the one before has ended (queued runs are claimed on
  // the scheduler's next pass).
  h.RunUntilIdle("2026-11-05T13:00:00Z");
  CHECK(h.RunIds("daily") ==
        std::vector<std::string>{"backfill__2026-11-01T00:00:00+00:00 success",
                                 "backfill__2026-11-02T00:00:00+00:00 running",
                                 "backfill__2026-11-03T00:00:00+00:00 queued",
                                 "scheduled__2026-11-04T00:00:00+00:00 success"});
  h.RunUntilIdle("2026-11-05T14:00:00Z");
  h.RunUntilIdle("2026-11-05T15:00:00Z");
  CHECK(h.RunIds("daily") ==
        std::vector<std::string>{"backfill__2026-11-01T00:00:00+00:00 success",
                                 "backfill__2026-11-02T00:00:00+00:00 success",
                                 "backfill__2026-11-03T00:00:00+00:00 success",
                                 "scheduled__2026-11-04T00:00:00+00:00 success"});
}
