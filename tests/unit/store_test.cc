// The SQLite store on a real file.
#include <sqlite3.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>

#include "engine/store/sqlite_store.h"

using namespace dagctl;
namespace fs = std::filesystem;

namespace {

struct TempDb {
  fs::path dir = fs::temp_directory_path() / ("dagctl_store_" + std::to_string(::getpid()));
  TempDb() {
    fs::remove_all(dir);
    fs::create_directories(dir);
  }
  ~TempDb() { fs::remove_all(dir); }
  std::string path() const { return (dir / "dagctl.db").string(); }
};

DagRunRecord Run(const std::string& id, RunType type, const std::string& date) {
  DagRunRecord r;
  r.dag_id = "etl";
  r.run_id = id;
  r.run_type = type;
  r.logical_date = r.data_interval_start = ParseDateTime(date).value();
  r.data_interval_end = r.logical_date + std::chrono::hours(24);
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

}  // namespace

TEST_CASE("runs, task instances, tries and XCom round-trip through SQLite") {
  TempDb db;
  auto store = OpenSqliteStore(db.path());
  REQUIRE(store);
  Store& s = **store;
  REQUIRE(
      s.CreateDagRun(Run("r1", RunType::kManual, "2026-01-01"), {Ti("r1", "a"), Ti("r1", "b")}));
  auto tis = s.ListTaskInstances("etl", "r1");
  REQUIRE(tis);
  REQUIRE(tis->size() == 2);
  CHECK((*tis)[0].state == TaskState::kNone);
  CHECK((*tis)[0].max_tries == 4);

  TaskInstanceRecord a = (*tis)[0];
  a.state = TaskState::kUpForRetry;
  a.try_number = 1;
  REQUIRE(s.UpdateTaskInstance(a));
  TryRecord t;
  t.dag_id = "etl";
  t.run_id = "r1";
  t.task_id = "a";
  t.try_number = 1;
  t.state = TaskState::kFailed;
  t.start_date = ParseDateTime("2026-01-02T00:00:00").value();
  t.exit_code = 3;
  t.error = "exit code 3";
  REQUIRE(s.PutTry(t));
  auto tries = s.ListTries("etl", "r1", "a");
  REQUIRE(tries);
  REQUIRE(tries->size() == 1);
  CHECK((*tries)[0].exit_code == 3);
  CHECK((*tries)[0].error == "exit code 3");
  CHECK(s.ListTaskInstances("etl", "r1").value()[0].state == TaskState::kUpForRetry);

  REQUIRE(s.PutXCom("etl", "r1", {"a", "return_value", "42"}));
  CHECK(s.GetXCom("etl", "r1", "a", "return_value").value() == "42");
  auto missing = s.GetXCom("etl", "r1", "b", "return_value");
  REQUIRE_FALSE(missing);
  CHECK(missing.error().IsNotFound());
  REQUIRE(s.ClearXCom("etl", "r1", "a"));
  CHECK_FALSE(s.GetXCom("etl", "r1", "a", "return_value"));
}

TEST_CASE("at most one scheduled run per logical date, while manual runs are free") {
  TempDb db;
  auto store = OpenSqliteStore(db.path());
  REQUIRE(store);
  Store& s = **store;
  REQUIRE(s.CreateDagRun(Run("scheduled__1", RunType::kScheduled, "2026-01-01"), {}));
  auto dup = s.CreateDagRun(Run("scheduled__other", RunType::kScheduled, "2026-01-01"), {});
  REQUIRE_FALSE(dup);
  CHECK(dup.error().code() == Error::Code::kAlreadyExists);
  CHECK(s.CreateDagRun(Run("manual__1", RunType::kManual, "2026-01-01"), {}));
  CHECK(s.CreateDagRun(Run("manual__2", RunType::kManual, "2026-01-01"), {}));
  CHECK_FALSE(s.CreateDagRun(Run("manual__2", RunType::kManual, "2026-01-02"), {}));
  CHECK(s.CountDagRuns({.dag_id = "etl", .limit = 100}).value() == 3);
  auto runs = s.ListDagRuns({.dag_id = "etl", .limit = 2});
  REQUIRE(runs);
  CHECK(runs->size() == 2);
}

TEST_CASE("a failed transaction leaves nothing behind, and data survives reopening") {
  TempDb db;
  {
    auto store = OpenSqliteStore(db.path());
    REQUIRE(store);
    auto st = (*store)->Transaction([&]() -> Status {
      if (auto r = (*store)->CreateDagRun(Run("r1", RunType::kManual, "2026-01-01"), {}); !r)
        return r;
      return Fail(Error::Internal("boom"));
    });
    CHECK_FALSE(st);
    REQUIRE((*store)->SetPaused("etl", true));
  }
  auto store = OpenSqliteStore(db.path());
  REQUIRE(store);
  CHECK((*store)->CountDagRuns({.dag_id = "etl", .limit = 100}).value() == 0);
  CHECK((*store)->IsPaused("etl").value());
  CHECK_FALSE((*store)->IsPaused("other").value());
}

TEST_CASE("a database from a newer dagctl is refused, not damaged") {
  TempDb db;
  { REQUIRE(OpenSqliteStore(db.path())); }
  {
    sqlite3* raw = nullptr;
    REQUIRE(sqlite3_open(db.path().c_str(), &raw) == SQLITE_OK);
    sqlite3_exec(raw, "PRAGMA user_version = 999", nullptr, nullptr, nullptr);
    sqlite3_close(raw);
  }
  auto store = OpenSqliteStore(db.path());
  REQUIRE_FALSE(store);
  CHECK(store.error().message() ==
        "the database has schema version 999, newer than this dagctl knows (" +
            std::to_string(SqliteSchemaVersion()) + "); upgrade dagctl");
}
