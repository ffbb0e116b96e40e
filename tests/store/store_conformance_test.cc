// The store's contract, run against SQLite and against a real PostgreSQL
// server started on loopback for this program: every case runs on both.
#include <sqlite3.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <filesystem>
#include <set>
#include <thread>

#include "engine/clock.h"
#include "engine/store/sql_store.h"
#include "support/postgres.h"

using namespace dagctl;
using dagctl::testing::PostgresServer;
namespace fs = std::filesystem;
using namespace std::chrono;

namespace {

fs::path Scratch() {
  static fs::path dir = [] {
    fs::path d = fs::temp_directory_path() / ("dagctl_conformance_" + std::to_string(::getpid()));
    fs::remove_all(d);
    fs::create_directories(d);
    return d;
  }();
  return dir;
}

// One server for the whole program, stopped at exit.
PostgresServer& Server() {
  static PostgresServer server(Scratch());
  return server;
}

// A fresh, empty store of `backend` ("sqlite" or "postgres") for one case,
// with a URL any number of connections can open.
struct Backend {
  std::string name;
  std::string url;

  explicit Backend(const std::string& backend) : name(backend) {
    static int n = 0;
    std::string db = "case" + std::to_string(++n);
    if (backend == "sqlite") {
      url = "sqlite:///" + (Scratch() / (db + ".db")).string();
      return;
    }
    REQUIRE(Server().ok());
    REQUIRE(Server().CreateDatabase(db));
    url = Server().Url(db);
  }
  std::unique_ptr<Store> Open() const {
    static SystemClock clock;
    auto s = OpenStore(url, Scratch().string(), clock);
    if (!s) FAIL("cannot open " << url << ": " << s.error().message());
    return std::move(*s);
  }
};

DagRunRecord Run(const std::string& id, RunType type, const std::string& date) {
  DagRunRecord r;
  r.dag_id = "etl";
  r.run_id = id;
  r.run_type = type;
  r.logical_date = r.data_interval_start = ParseDateTime(date).value();
  r.data_interval_end = r.logical_date + hours(24);
  r.queued_at = r.logical_date;
  return r;
}

TaskInstanceRecord Ti(const std::string& run_id, const std::string& task) {
  TaskInstanceRecord t;
  t.dag_id = "etl";
  t.run_id = run_id;
  t.task_id = task;
  t.max_tries = 4;
  return t;
}

// A running run "r1" with `n` task instances t0..t(n-1) in state `state`.
void MakeRun(Store& s, int n, TaskState state) {
  DagRunRecord run = Run("r1", RunType::kManual, "2026-01-01");
  run.state = RunState::kRunning;
  std::vector<TaskInstanceRecord> tis;
  for (int i = 0; i < n; ++i) {
    TaskInstanceRecord t = Ti("r1", "t" + std::to_string(i));
    t.state = state;
    t.priority_weight = i;
    tis.push_back(t);
  }
  REQUIRE(s.CreateDagRun(run, tis));
}

ClaimSpec Claim(const std::string& worker, int limit) {
  return {worker, "host-" + worker, {}, limit, seconds(30), {}};
}

}  // namespace

TEST_CASE("runs, task instances, tries and XCom round-trip") {
  Backend b(GENERATE("sqlite", "postgres"));
  auto store = b.Open();
  Store& s = *store;
  REQUIRE(s.CreateDagRun(Run("r1", RunType::kManual, "2026-01-01"), {Ti("r1", "a"), Ti("r1", "b")}));
  auto tis = s.ListTaskInstances("etl", "r1");
  REQUIRE(tis);
  REQUIRE(tis->size() == 2);
  CHECK((*tis)[0].state == TaskState::kNone);
  CHECK((*tis)[0].max_tries == 4);
  CHECK((*tis)[0].queue == "default");

  TaskInstanceRecord a = (*tis)[0];
  a.state = TaskState::kUpForRetry;
  a.try_number = 1;
  REQUIRE(s.UpdateTaskInstance(a));
  TryRecord t{"etl", "r1", "a", -1, 1, TaskState::kFailed, ParseDateTime("2026-01-02T00:00:00").value()};
  t.exit_code = 3;
  t.error = "exit code 3";
  REQUIRE(s.PutTry(t));
  t.error = "exit code 3 (again)";
  REQUIRE(s.PutTry(t));  // an upsert
  auto tries = s.ListTries({"etl", "r1", "a", -1});
  REQUIRE(tries);
  REQUIRE(tries->size() == 1);
  CHECK((*tries)[0].exit_code == 3);
  CHECK((*tries)[0].error == "exit code 3 (again)");
  CHECK(s.ListTaskInstances("etl", "r1").value()[0].state == TaskState::kUpForRetry);

  REQUIRE(s.PutXCom("etl", "r1", {"a", "return_value", "42"}));
  CHECK(s.GetXCom("etl", "r1", "a", "return_value").value() == "42");
  auto missing = s.GetXCom("etl", "r1", "b", "return_value");
  REQUIRE_FALSE(missing);
  CHECK(missing.error().IsNotFound());
  REQUIRE(s.ClearXCom({"etl", "r1", "a", -1}));
  CHECK_FALSE(s.GetXCom("etl", "r1", "a", "return_value"));
}

TEST_CASE("at most one scheduled run per logical date, while manual runs are free") {
  Backend b(GENERATE("sqlite", "postgres"));
  auto store = b.Open();
  Store& s = *store;
  REQUIRE(s.CreateDagRun(Run("scheduled__1", RunType::kScheduled, "2026-01-01"), {}));
  auto dup = s.CreateDagRun(Run("scheduled__other", RunType::kScheduled, "2026-01-01"), {});
  REQUIRE_FALSE(dup);
  CHECK(dup.error().code() == Error::Code::kAlreadyExists);
  CHECK(s.CreateDagRun(Run("manual__1", RunType::kManual, "2026-01-01"), {}));
  CHECK(s.CreateDagRun(Run("manual__2", RunType::kManual, "2026-01-01"), {}));
  CHECK_FALSE(s.CreateDagRun(Run("manual__2", RunType::kManual, "2026-01-02"), {}));
  CHECK(s.CountDagRuns({.dag_id = "etl", .limit = 100}).value() == 3);
  CHECK(s.ListDagRuns({.dag_id = "etl", .limit = 2}).value().size() == 2);
  CHECK(s.ListDagRuns({.dag_id = "etl", .order_by = "id"}).value()[0].run_id == "scheduled__1");
}

TEST_CASE("a failed transaction leaves nothing behind, a failed inner one only its own part") {
  Backend b(GENERATE("sqlite", "postgres"));
  {
    auto store = b.Open();
    auto st = store->Transaction([&]() -> Status {
      if (auto r = store->CreateDagRun(Run("r1", RunType::kManual, "2026-01-01"), {}); !r) return r;
      return Fail(Error::Internal("boom"));
    });
    CHECK_FALSE(st);
    // An inner unit that fails (a duplicate run) is undone alone; the outer
    // transaction goes on and commits.
    auto outer = store->Transaction([&]() -> Status {
      if (auto r = store->CreateDagRun(Run("s1", RunType::kScheduled, "2026-01-01"), {}); !r)
        return r;
      CHECK_FALSE(store->CreateDagRun(Run("s2", RunType::kScheduled, "2026-01-01"), {}));
      return store->SetPaused("etl", true);
    });
    CHECK(outer);
  }
  auto store = b.Open();
  auto runs = store->ListDagRuns({.dag_id = "etl"}).value();
  REQUIRE(runs.size() == 1);
  CHECK(runs[0].run_id == "s1");
  CHECK(store->IsPaused("etl").value());
  CHECK_FALSE(store->IsPaused("other").value());
}

TEST_CASE("a run is held on a lease: claimed once, renewed, and taken over when it runs out") {
  Backend b(GENERATE("sqlite", "postgres"));
  auto one = b.Open(), two = b.Open();
  REQUIRE(one->CreateDagRun(Run("r1", RunType::kManual, "2026-01-01"), {}));
  auto fence = one->ClaimRun("etl", "r1", 0, "sched-a", seconds(30), RunState::kRunning);
  REQUIRE(fence);
  REQUIRE(*fence);
  CHECK(**fence == 1);
  // The second scheduler lost the race: same expected fence, no change.
  auto late = two->ClaimRun("etl", "r1", 0, "sched-b", seconds(30), RunState::kRunning);
  REQUIRE(late);
  CHECK_FALSE(*late);
  CHECK(two->ListClaimableRuns(10).value().empty());
  CHECK(one->HoldsRun("etl", "r1", "sched-a", 1).value());
  CHECK_FALSE(two->HoldsRun("etl", "r1", "sched-b", 1).value());
  auto held = one->RenewRunLeases("sched-a", seconds(30)).value();
  REQUIRE(held.size() == 1);
  CHECK(held[0].fence == 1);
  // A lease of nothing runs out at once: the run is free to take.
  REQUIRE(one->RenewRunLeases("sched-a", Duration(0)));
  std::this_thread::sleep_for(milliseconds(5));
  auto free = two->ListClaimableRuns(10).value();
  REQUIRE(free.size() == 1);
  CHECK(free[0].owner == "sched-a");
  auto taken = two->ClaimRun("etl", "r1", free[0].fence, "sched-b", seconds(30), std::nullopt);
  REQUIRE(taken);
  REQUIRE(*taken);
  CHECK(**taken == 2);
  // The first owner's writes are refused from now on.
  DagRunRecord r = one->GetDagRun("etl", "r1").value();
  r.owner = "sched-a";
  r.fence = 1;
  r.state = RunState::kSuccess;
  CHECK_FALSE(one->UpdateHeldRun(r, true).value());
  CHECK(two->GetDagRun("etl", "r1").value().state == RunState::kRunning);
  r.owner = "sched-b";
  r.fence = 2;
  CHECK(two->UpdateHeldRun(r, true).value());
  auto done = two->GetDagRun("etl", "r1").value();
  CHECK(done.state == RunState::kSuccess);
  CHECK(done.owner.empty());
}

TEST_CASE("queued task instances are claimed by exactly one worker, highest priority first") {
  Backend b(GENERATE("sqlite", "postgres"));
  auto setup = b.Open();
  MakeRun(*setup, 200, TaskState::kQueued);
  auto first = setup->ClaimTaskInstances(Claim("w0", 1)).value();
  REQUIRE(first.size() == 1);
  CHECK(first[0].task_id == "t199");
  CHECK(first[0].state == TaskState::kRunning);
  CHECK(first[0].worker == "w0");
  CHECK(first[0].fence == 1);
  CHECK(first[0].lease_until.has_value());
  // Four workers on their own connections take the rest at once.
  std::vector<std::vector<TaskInstanceRecord>> got(4);
  std::vector<std::thread> threads;
  std::atomic<int> errors{0};
  for (int w = 0; w < 4; ++w) {
    threads.emplace_back([&, w] {
      auto store = b.Open();
      for (int round = 0; round < 400; ++round) {
        auto claimed = store->ClaimTaskInstances(Claim("w" + std::to_string(w + 1), 3));
        if (!claimed) {
          if (!claimed.error().IsUnavailable()) ++errors;  // a busy SQLite may say so
          continue;
        }
        if (claimed->empty()) break;
        got[w].insert(got[w].end(), claimed->begin(), claimed->end());
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(errors == 0);
  std::multiset<std::string> all{"t199"};
  for (const auto& g : got)
    for (const auto& ti : g) all.insert(ti.task_id);
  CHECK(all.size() == 200);
  CHECK(std::set<std::string>(all.begin(), all.end()).size() == 200);
}

TEST_CASE("slots held per pool, DAG and task count queued and running task instances") {
  Backend b(GENERATE("sqlite", "postgres"));
  auto s = b.Open();
  DagRunRecord run = Run("r1", RunType::kManual, "2026-01-01");
  run.state = RunState::kRunning;
  std::vector<TaskInstanceRecord> tis;
  auto add = [&](const std::string& id, TaskState st, const std::string& pool, int slots) {
    TaskInstanceRecord t = Ti("r1", id);
    t.state = st;
    t.pool = pool;
    t.pool_slots = slots;
    tis.push_back(t);
  };
  add("a", TaskState::kRunning, "db", 2);
  add("b", TaskState::kQueued, "db", 1);
  add("c", TaskState::kScheduled, "db", 3);
  add("d", TaskState::kSuccess, "db", 5);
  add("e", TaskState::kUpForReschedule, "db", 7);
  add("f", TaskState::kRunning, "default_pool", 1);
  REQUIRE(s->CreateDagRun(run, tis));
  auto usage = s->CountPoolUsage().value();
  CHECK(usage["db"].running == 2);
  CHECK(usage["db"].queued == 1);
  CHECK(usage["db"].scheduled == 3);
  CHECK(usage["default_pool"].running == 1);
  auto active = s->CountActiveSlots().value();
  CHECK(active.pool["db"] == 3);
  CHECK(active.pool["default_pool"] == 1);
  CHECK(active.dag["etl"] == 3);
  CHECK(active.task[{"etl", "a"}] == 1);
  CHECK(active.task.count({"etl", "c"}) == 0);
  QueueExclusions none;
  auto sched = s->ListScheduled(10, none, {}).value();
  REQUIRE(sched.size() == 1);
  CHECK(sched[0].task_id == "c");
  QueueExclusions no_c;
  no_c.tasks.insert({"etl", "c"});
  CHECK(s->ListScheduled(10, no_c, {}).value().empty());
}

TEST_CASE("a mapped task's expansion replaces its rows only while none has a state; its XComs list by map index") {
  Backend b(GENERATE("sqlite", "postgres"));
  auto s = b.Open();
  DagRunRecord run = Run("r1", RunType::kManual, "2026-01-01");
  REQUIRE(s->CreateDagRun(run, {Ti("r1", "src"), Ti("r1", "each")}));
  std::vector<TaskInstanceRecord> rows;
  for (int k = 0; k < 3; ++k) {
    TaskInstanceRecord t = Ti("r1", "each");
    t.map_index = k;
    t.state = TaskState::kScheduled;
    t.map_values = "{\"n\":\"" + std::to_string(k) + "\"}";
    rows.push_back(t);
  }
  REQUIRE(s->ReplaceTaskInstances("etl", "r1", "each", rows).value());
  auto tis = s->ListTaskInstances("etl", "r1").value();
  REQUIRE(tis.size() == 4);
  CHECK(tis[0].task_id == "each");
  CHECK(tis[0].map_index == 0);
  CHECK(tis[2].map_values == "{\"n\":\"2\"}");
  CHECK(tis[3].task_id == "src");
  // Decided now: a second expansion is refused and changes nothing.
  REQUIRE(!s->ReplaceTaskInstances("etl", "r1", "each", {Ti("r1", "each")}).value());
  CHECK(s->ListTaskInstances("etl", "r1").value().size() == 4);

  REQUIRE(s->PutXCom("etl", "r1", {"each", "return_value", "two", 2}));
  REQUIRE(s->PutXCom("etl", "r1", {"each", "return_value", "zero", 0}));
  REQUIRE(s->PutXCom("etl", "r1", {"each", "other", "x", 1}));
  auto values = s->ListMappedXCom("etl", "r1", "each", "return_value").value();
  CHECK(values == std::vector<std::pair<int, std::string>>{{0, "zero"}, {2, "two"}});
  CHECK(s->ListMappedXCom("etl", "r1", "src", "return_value").value().empty());
}

TEST_CASE("a try's report is applied only under its claim, with its XCom, skips and version") {
  Backend b(GENERATE("sqlite", "postgres"));
  auto s = b.Open();
  MakeRun(*s, 3, TaskState::kNone);
  TaskInstanceRecord t0 = s->ListTaskInstances("etl", "r1").value()[0];
  t0.state = TaskState::kScheduled;
  REQUIRE(s->DecideTaskInstance(t0, TaskState::kNone).value());
  CHECK_FALSE(s->DecideTaskInstance(t0, TaskState::kNone).value());  // not none any more
  REQUIRE(s->QueueTaskInstance(t0.key(), true).value());
  CHECK_FALSE(s->QueueTaskInstance(t0.key(), true).value());
  auto claimed = s->ClaimTaskInstances(Claim("w1", 5)).value();
  REQUIRE(claimed.size() == 1);
  CHECK(claimed[0].try_number == 1);
  int64_t version = s->GetDagRun("etl", "r1").value().ti_version;

  TryReport rep;
  rep.ti = claimed[0];
  rep.ti.state = TaskState::kSuccess;
  rep.ti.worker.clear();
  rep.claim_worker = "w1";
  rep.try_record = {"etl", "r1", "t0", -1, 1, TaskState::kSuccess, claimed[0].start_date.value()};
  rep.xcom = {{"t0", "return_value", "7"}};
  rep.skip_task_ids = {"t2"};
  // A stale claim (another fence) changes nothing.
  TryReport stale = rep;
  stale.ti.fence = 0;
  CHECK_FALSE(s->ReportTry(stale).value());
  CHECK_FALSE(s->GetXCom("etl", "r1", "t0", "return_value"));
  // Nor does another worker's.
  TryReport other = rep;
  other.claim_worker = "w2";
  CHECK_FALSE(s->ReportTry(other).value());
  CHECK(s->ReportTry(rep).value());
  CHECK_FALSE(s->ReportTry(rep).value());  // only once
  auto changed = s->ChangedTaskInstances("etl", "r1", version).value();
  REQUIRE(changed.size() == 2);
  CHECK(changed[0].task_id == "t0");
  CHECK(changed[0].state == TaskState::kSuccess);
  CHECK(changed[1].task_id == "t2");
  CHECK(changed[1].state == TaskState::kSkipped);
  CHECK(s->GetXCom("etl", "r1", "t0", "return_value").value() == "7");
  CHECK(s->ListTries(t0.key()).value().at(0).state == TaskState::kSuccess);
}

TEST_CASE("assets: references, events with their report, the consumers' queue, consumed events") {
  Backend b(GENERATE("sqlite", "postgres"));
  auto s = b.Open();
  REQUIRE(s->EnsureDags({"report", "paused_report", "etl"}));
  REQUIRE(s->SetPaused("paused_report", true));
  REQUIRE(s->SyncAssetReferences({{"s3://wh/orders", "report", ""},
                                  {"s3://wh/orders", "paused_report", ""},
                                  {"s3://wh/orders", "etl", "t0"},
                                  {"s3://wh/old", "etl", "t1"}},
                                 true));
  // A full sync drops what is gone; the asset itself stays.
  REQUIRE(s->SyncAssetReferences({{"s3://wh/orders", "report", ""},
                                  {"s3://wh/orders", "paused_report", ""},
                                  {"s3://wh/orders", "etl", "t0"}},
                                 true));
  auto assets = s->ListAssets("", {}, "uri", 100, 0).value();
  REQUIRE(assets.size() == 2);
  CHECK(assets[0].uri == "s3://wh/old");
  CHECK(assets[0].producing_tasks.empty());
  CHECK(assets[1].consuming_dags == std::vector<std::string>{"paused_report", "report"});
  CHECK(assets[1].producing_tasks == std::vector<std::pair<std::string, std::string>>{{"etl", "t0"}});
  CHECK(s->ListAssets("ORDERS", {}, "", 100, 0).value().size() == 1);
  CHECK(s->CountAssets("", {"report"}).value() == 1);
  CHECK(s->ListAssets("", {}, "name", 100, 0).error().code() == Error::Code::kInvalidArgument);
  CHECK(s->GetAsset("s3://nothing").error().IsNotFound());

  // An event from outside needs a known asset; it queues the unpaused consumer once.
  AssetEventRecord unknown{.uri = "s3://nothing"};
  CHECK(s->RecordAssetEvent(unknown).error().IsNotFound());
  AssetEventRecord outside{.uri = "s3://wh/orders", .extra = R"({"rows":3})"};
  REQUIRE(s->RecordAssetEvent(outside));
  CHECK(outside.id > 0);
  CHECK(outside.asset_id == assets[1].id);

  // A try's success records its outlets' events in the same write.
  MakeRun(*s, 1, TaskState::kQueued);
  auto claimed = s->ClaimTaskInstances(Claim("w1", 1)).value();
  REQUIRE(claimed.size() == 1);
  TryReport rep;
  rep.ti = claimed[0];
  rep.ti.state = TaskState::kSuccess;
  rep.claim_worker = "w1";
  rep.try_record = {"etl", "r1", "t0", -1, 1, TaskState::kSuccess, claimed[0].start_date.value()};
  rep.asset_events = {{.uri = "s3://wh/orders", .source_dag_id = "etl", .source_task_id = "t0",
                       .source_run_id = "r1"}};
  TryReport stale = rep;
  stale.ti.fence = 0;
  CHECK_FALSE(s->ReportTry(stale).value());
  CHECK(s->CountAssetEvents({}).value() == 1);  // a report that lost its claim records nothing
  REQUIRE(s->ReportTry(rep).value());
  auto events = s->ListAssetEvents({.uris = {"s3://wh/orders"}}).value();
  REQUIRE(events.size() == 2);
  CHECK(events[0].extra == R"({"rows":3})");
  CHECK(events[0].source_dag_id.empty());
  CHECK(events[0].source_map_index == -1);
  CHECK(events[1].source_dag_id == "etl");
  CHECK(events[1].source_task_id == "t0");
  CHECK(events[1].source_run_id == "r1");
  CHECK(events[1].extra == "{}");
  CHECK(s->ListAssetEvents({.source_dag_id = "etl"}).value().size() == 1);
  CHECK(s->ListAssetEvents({.order_by = "-id"}).value()[0].id == events[1].id);
  CHECK(s->ListAssetEvents({.order_by = "color"}).error().code() == Error::Code::kInvalidArgument);

  auto queue = s->ListAssetQueue({}).value();
  REQUIRE(queue.size() == 1);  // two events, one entry; the paused consumer has none
  CHECK(queue[0].dag_id == "report");
  CHECK(queue[0].created_at == events[0].timestamp);

  CHECK(s->ListAssetQueue({.uri = "s3://wh/orders", .before = queue[0].created_at}).value().empty());
  CHECK(s->ListAssetQueue({.dag_id = "report", .uri = "s3://wh/orders"}).value().size() == 1);

  // A run consumes events and empties its DAG's queue.
  DagRunRecord run = Run("dataset_triggered__1", RunType::kDatasetTriggered, "2026-01-02");
  run.dag_id = "report";
  REQUIRE(s->CreateDagRun(run, {}));
  CHECK(s->GetDagRun("report", run.run_id).value().run_type == RunType::kDatasetTriggered);
  REQUIRE(s->ConsumeAssetEvents("report", run.run_id, {events[0].id, events[1].id}));
  CHECK(s->ListAssetQueue({.dag_id = "report"}).value().empty());
  auto consumed = s->ListConsumedAssetEvents("report", run.run_id).value();
  REQUIRE(consumed.size() == 2);
  CHECK(consumed[1].id == events[1].id);
  auto created = s->ListAssetEventRuns({events[0].id}).value();
  CHECK(created[events[0].id] == std::vector<std::pair<std::string, std::string>>{{"report", run.run_id}});
}

TEST_CASE("a try whose lease ran out is ended once, and its worker's renewal then fails") {
  Backend b(GENERATE("sqlite", "postgres"));
  auto s = b.Open();
  MakeRun(*s, 1, TaskState::kQueued);
  REQUIRE(s->ClaimRun("etl", "r1", 0, "sched", seconds(30), std::nullopt).value());
  auto claimed = s->ClaimTaskInstances({"w1", "h1", {}, 1, Duration(0), {}}).value();
  REQUIRE(claimed.size() == 1);
  std::this_thread::sleep_for(milliseconds(5));
  auto expired = s->ListExpiredTries("sched").value();
  REQUIRE(expired.size() == 1);
  CHECK(expired[0].worker == "w1");
  CHECK(expired[0].hostname == "h1");
  TaskInstanceRecord ended = expired[0];
  ended.state = TaskState::kUpForRetry;
  ended.worker.clear();
  TryRecord tr{"etl", "r1", "t0", -1, 1, TaskState::kFailed, claimed[0].start_date.value()};
  tr.error = "worker w1 on h1 stopped renewing its lease";
  CHECK(s->ExpireTry(ended, tr).value());
  CHECK_FALSE(s->ExpireTry(ended, tr).value());
  CHECK(s->RenewTryLeases("w1", {{claimed[0].key(), claimed[0].fence}}, seconds(30)).value().empty());
  CHECK(s->ListTaskInstances("etl", "r1").value()[0].state == TaskState::kUpForRetry);
}

TEST_CASE("pools, workers, callbacks, DAG versions and shipped logs") {
  Backend b(GENERATE("sqlite", "postgres"));
  auto s = b.Open();
  auto pools = s->ListPools().value();
  REQUIRE(pools.size() == 1);
  CHECK(pools[0].name == "default_pool");
  CHECK(pools[0].slots == 128);
  REQUIRE(s->SetPool({"db", 2, "the warehouse"}));
  CHECK(s->ListPools().value().size() == 2);
  CHECK(s->DeletePool("default_pool").error().code() == Error::Code::kInvalidArgument);
  CHECK(s->DeletePool("nope").error().IsNotFound());
  CHECK(s->CreatePool({"db", 5, ""}).error().code() == Error::Code::kAlreadyExists);
  REQUIRE(s->CreatePool({"spark", 4, ""}));
  CHECK(s->UpdatePool("spark", {"db", 4, ""}).error().code() == Error::Code::kAlreadyExists);
  CHECK(s->UpdatePool("nope", {"nope", 4, ""}).error().IsNotFound());
  REQUIRE(s->UpdatePool("spark", {"cluster", 6, "renamed"}));
  auto renamed = s->ListPools().value();
  REQUIRE(renamed.size() == 3);
  CHECK(renamed[0].name == "cluster");
  CHECK(renamed[0].slots == 6);
  CHECK(renamed[0].description == "renamed");
  REQUIRE(s->DeletePool("cluster"));
  REQUIRE(s->DeletePool("db"));

  Timestamp now = s->Now().value();
  REQUIRE(s->WorkerHeartbeat({"w1", "h1", {"default", "spark"}, 4, 1, now, now}));
  auto workers = s->ListWorkers(seconds(30)).value();
  REQUIRE(workers.size() == 1);
  CHECK(workers[0].queues == std::vector<std::string>{"default", "spark"});
  CHECK(workers[0].slots_used == 1);

  MakeRun(*s, 1, TaskState::kSuccess);
  REQUIRE(s->AddCallback(
      {0, "etl", "r1", "", -1, 1, "on_success", "success", "", "spark", "h", now, "success"}));
  CHECK(s->CountPendingCallbacks("etl", "r1").value() == 1);
  CHECK(s->ClaimCallbacks("w2", {"default"}, 5, {}).value().empty());
  auto cbs = s->ClaimCallbacks("w1", {"spark"}, 5, {}).value();
  REQUIRE(cbs.size() == 1);
  CHECK(cbs[0].event == "on_success");
  CHECK(cbs[0].reason == "success");
  CHECK(cbs[0].dag_hash == "h");
  CHECK(s->ClaimCallbacks("w1", {}, 5, {}).value().empty());
  REQUIRE(s->FinishCallback(cbs[0].id));
  CHECK(s->CountPendingCallbacks("etl", "r1").value() == 0);

  REQUIRE(s->PutDagVersion({"etl", "abc", "etl.yaml", "tasks: []\n", now}));
  REQUIRE(s->PutDagVersion({"etl", "abc", "other.yaml", "changed\n", now}));  // known: kept
  CHECK(s->GetDagVersion("etl", "abc").value().source == "tasks: []\n");
  CHECK(s->GetDagVersion("etl", "zzz").error().IsNotFound());
  REQUIRE(s->PutDagVersion({"etl", "def", "etl.yaml", "tasks: [x]\n", now}));
  REQUIRE(s->PutDagVersion({"other", "abc", "other.yaml", "tasks: []\n", now}));
  auto versions = s->ListDagVersions("etl").value();  // oldest first, without their text
  REQUIRE(versions.size() == 2);
  CHECK(versions[0].hash == "abc");
  CHECK(versions[0].path == "etl.yaml");
  CHECK(versions[1].hash == "def");
  CHECK(versions[0].created_at <= versions[1].created_at);
  CHECK(versions[1].source.empty());
  CHECK(s->ListDagVersions("nope").value().empty());

  TiKey k{"etl", "r1", "t0", -1};
  CHECK(s->ReadTryLog(k, 1, 0).error().IsNotFound());
  REQUIRE(s->AppendTryLog(k, 1, 0, "hello "));
  REQUIRE(s->AppendTryLog(k, 1, 6, "world\n"));
  REQUIRE(s->AppendTryLog(k, 1, 6, "world\n"));  // sent again: harmless
  REQUIRE(s->AppendTryLogLine(k, 1, "[dagctl] lost"));
  CHECK(s->ReadTryLog(k, 1, 0).value() == "hello world\n[dagctl] lost\n");
  CHECK(s->ReadTryLog(k, 1, 3).value() == "lo world\n[dagctl] lost\n");
  CHECK(s->ReadTryLog(k, 1, 100).value().empty());
}

TEST_CASE("any bytes a task prints can be stored") {
  Backend b(GENERATE("sqlite", "postgres"));
  auto s = b.Open();
  MakeRun(*s, 1, TaskState::kSuccess);
  std::string odd = std::string("ok \xff\xfe bad ") + '\0' + " end";
  REQUIRE(s->PutXCom("etl", "r1", {"t0", "return_value", odd}));
  std::string back = s->GetXCom("etl", "r1", "t0", "return_value").value();
  CHECK(back.size() == odd.size());
  if (b.name == "sqlite") CHECK(back == odd);
  // PostgreSQL's text holds UTF-8 only: what does not fit becomes '?'.
  if (b.name == "postgres") CHECK(back == "ok ?? bad ? end");
}

TEST_CASE("several processes opening a new database at once migrate it once") {
  Backend b(GENERATE("sqlite", "postgres"));
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int i = 0; i < 6; ++i)
    threads.emplace_back([&] {
      static SystemClock clock;
      auto s = OpenStore(b.url, Scratch().string(), clock);
      if (!s) {
        UNSCOPED_INFO(s.error().message());
        ++failures;
      }
    });
  for (auto& t : threads) t.join();
  CHECK(failures == 0);
  auto s = b.Open();
  CHECK(s->ListPools().value().size() == 1);  // the seed row was written once
}

TEST_CASE("a database from a newer dagctl is refused, not damaged") {
  Backend b(GENERATE("sqlite", "postgres"));
  { b.Open(); }
  if (b.name == "sqlite") {
    sqlite3* raw = nullptr;
    REQUIRE(sqlite3_open(b.url.substr(10).c_str(), &raw) == SQLITE_OK);
    sqlite3_exec(raw, "PRAGMA user_version = 999", nullptr, nullptr, nullptr);
    sqlite3_close(raw);
  } else {
    REQUIRE(Server().Psql("UPDATE dagctl_schema SET version = 999",
                          b.url.substr(b.url.rfind('/') + 1)) == 0);
  }
  static SystemClock clock;
  auto s = OpenStore(b.url, Scratch().string(), clock);
  REQUIRE_FALSE(s);
  CHECK(s.error().message().find("the database has schema version 999, newer than this dagctl") == 0);
}

TEST_CASE("a wrong URL, a refused connection and bad credentials are one clear line each") {
  static SystemClock clock;
  auto kind = OpenStore("mysql://x@y/z", "/tmp", clock);
  REQUIRE_FALSE(kind);
  CHECK(kind.error().message() ==
        "'mysql://x@y/z' is not a store dagctl knows: use sqlite:///PATH (sqlite:////abs/path.db) "
        "or postgresql://USER:PASSWORD@HOST:PORT/DB");
  auto refused = OpenStore("postgresql://etl:pw@127.0.0.1:1/db", "/tmp", clock);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().IsUnavailable());
  CHECK(refused.error().message().find(
            "cannot connect to the metadata database postgresql://etl:***@127.0.0.1:1/db: ") == 0);
  CHECK(refused.error().message().find('\n') == std::string::npos);
  REQUIRE(Server().ok());
  std::string bad = "postgresql://etl:wrong@127.0.0.1:" + std::to_string(Server().port()) + "/postgres";
  auto denied = OpenStore(bad, "/tmp", clock);
  REQUIRE_FALSE(denied);
  CHECK(denied.error().message().find("password authentication failed for user \"etl\"") !=
        std::string::npos);
  CHECK(denied.error().message().find("wrong") == std::string::npos);
  CHECK(denied.error().message().find('\n') == std::string::npos);
}

TEST_CASE("PostgreSQL restarted: a transaction in flight fails whole, the next call reconnects") {
  Backend b("postgres");
  auto s = b.Open();
  MakeRun(*s, 1, TaskState::kNone);
  auto st = s->Transaction([&]() -> Status {
    if (auto r = s->SetPaused("etl", true); !r) return r;
    Server().Stop();
    REQUIRE(Server().Start());
    return s->SetVariable("k", "v");  // on a connection the restart cut
  });
  REQUIRE_FALSE(st);
  CHECK(st.error().IsUnavailable());
  // The next call opens a new connection; nothing of the failed one landed.
  auto paused = s->IsPaused("etl");
  INFO((paused ? "" : paused.error().message()));
  REQUIRE(paused);
  CHECK_FALSE(*paused);
  CHECK(s->GetVariable("k").error().IsNotFound());
  REQUIRE(s->SetVariable("k", "v"));
  CHECK(s->GetVariable("k").value() == "v");
}

TEST_CASE("a run set by hand is taken from its holder; run lists filter on start and end dates") {
  Backend b(GENERATE("sqlite", "postgres"));
  auto store = b.Open();
  Store& s = *store;
  REQUIRE(s.CreateDagRun(Run("r1", RunType::kManual, "2026-01-01"), {}));
  REQUIRE(s.CreateDagRun(Run("r2", RunType::kScheduled, "2026-01-02"), {}));
  REQUIRE(s.ClaimRun("etl", "r1", 0, "sched-a", seconds(30), RunState::kRunning).value());
  DagRunRecord r = s.GetDagRun("etl", "r1").value();
  r.state = RunState::kFailed;
  r.start_date = ParseDateTime("2026-01-05T00:00:00Z").value();
  r.end_date = ParseDateTime("2026-01-05T01:00:00Z").value();
  REQUIRE(s.SetDagRunByHand(r));
  DagRunRecord after = s.GetDagRun("etl", "r1").value();
  CHECK(after.state == RunState::kFailed);
  CHECK(after.owner.empty());
  CHECK_FALSE(after.lease_until);
  CHECK(after.fence == r.fence + 1);
  CHECK_FALSE(s.HoldsRun("etl", "r1", "sched-a", r.fence).value());
  r.run_id = "nope";
  CHECK(s.SetDagRunByHand(r).error().IsNotFound());

  RunQuery q{.dag_id = "etl"};
  q.start_date_gte = ParseDateTime("2026-01-04T00:00:00Z").value();
  CHECK(s.CountDagRuns(q).value() == 1);  // r2 has not started: left out
  q = {.dag_id = "etl"};
  q.end_date_lte = ParseDateTime("2026-01-05T00:30:00Z").value();
  CHECK(s.CountDagRuns(q).value() == 0);
  q.end_date_lte.reset();
  q.end_date_gte = ParseDateTime("2026-01-05T00:30:00Z").value();
  CHECK(s.ListDagRuns(q).value().at(0).run_id == "r1");
  q = {.dag_id = "etl", .types = {RunType::kScheduled}};
  CHECK(s.ListDagRuns(q).value().at(0).run_id == "r2");
}

TEST_CASE("connections: created once, read, listed by id, replaced and deleted") {
  Backend b(GENERATE("sqlite", "postgres"));
  auto store = b.Open();
  Store& s = *store;
  ConnectionRecord c{"warehouse", "postgres", "the DW", "db", "dw", "etl", "pw", 5432, R"({"sslmode": "require"})"};
  REQUIRE(s.CreateConnection(c));
  CHECK(s.CreateConnection(c).error().code() == Error::Code::kAlreadyExists);
  REQUIRE(s.CreateConnection({.conn_id = "api", .conn_type = "http"}));
  auto got = s.GetConnection("warehouse").value();
  CHECK(got.password == "pw");
  CHECK(got.port == 5432);
  CHECK(got.extra == R"({"sslmode": "require"})");
  CHECK_FALSE(s.GetConnection("api").value().port);
  auto all = s.ListConnections().value();
  REQUIRE(all.size() == 2);
  CHECK(all[0].conn_id == "api");
  c.host = "db2";
  c.port.reset();
  REQUIRE(s.UpdateConnection(c));
  CHECK(s.GetConnection("warehouse").value().host == "db2");
  CHECK_FALSE(s.GetConnection("warehouse").value().port);
  CHECK(s.UpdateConnection({.conn_id = "nope"}).error().IsNotFound());
  REQUIRE(s.DeleteConnection("warehouse"));
  CHECK(s.DeleteConnection("warehouse").error().IsNotFound());
  CHECK(s.GetConnection("warehouse").error().IsNotFound());
}
