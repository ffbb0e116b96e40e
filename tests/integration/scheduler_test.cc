// The real scheduler process: triggers, crash recovery, graceful stop, hot
// reload, clear and backfill.
#include <catch2/catch.hpp>
#include <regex>
#include <sqlite3.h>

#include <nlohmann/json.hpp>

#include "integration/harness.h"

using dagctl::testing::Background;
using dagctl::testing::Output;
using dagctl::testing::Printed;
using dagctl::testing::ReadFile;
using dagctl::testing::Sandbox;
using dagctl::testing::WaitFor;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

// A DAGs folder of the test's own, with the scheduler fixtures copied in.
std::string DagsCopy(const Sandbox& sb) {
  fs::path dags = sb.work() / "dags";
  fs::create_directories(dags);
  for (const auto& f : fs::directory_iterator(FIXTURES_DIR "/sched"))
    fs::copy_file(f.path(), dags / f.path().filename());
  return dags.string();
}

json Runs(const Sandbox& sb, const std::string& dags, const std::string& dag) {
  Output o = sb.Dagctl("runs " + dag + " --json", dags);
  return o.exit_code == 0 ? json::parse(o.out)["dag_runs"] : json::array();
}

std::string RunState(const Sandbox& sb, const std::string& dags, const std::string& dag) {
  json runs = Runs(sb, dags, dag);
  return runs.empty() ? "" : runs[0]["state"].get<std::string>();
}

}  // namespace

TEST_CASE("a triggered run is picked up by the scheduler within a second and completes") {
  Sandbox sb;
  std::string dags = DagsCopy(sb);
  Background scheduler(sb, "scheduler", dags);
  Output t = sb.Dagctl("trigger quick --conf '{\"n\": 7}'", dags);
  REQUIRE(t.exit_code == 0);
  CHECK(t.out.rfind("queued manual__", 0) == 0);
  REQUIRE(WaitFor([&] { return RunState(sb, dags, "quick") == "success"; }, 5));
  std::string run_id = Runs(sb, dags, "quick")[0]["dag_run_id"];
  // Picked up within a second of being queued (the scheduler checks every 0.5 s).
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open((sb.home() / "dagctl.db").c_str(), &db) == SQLITE_OK);
  sqlite3_stmt* q = nullptr;
  sqlite3_prepare_v2(db, "SELECT start_date - queued_at FROM dag_run WHERE dag_id='quick'", -1, &q,
                     nullptr);
  REQUIRE(sqlite3_step(q) == SQLITE_ROW);
  CHECK(sqlite3_column_int64(q, 0) < 1'000'000);
  sqlite3_finalize(q);
  sqlite3_close(db);
  CHECK(Printed(sb.Dagctl("logs quick '" + run_id + "' hello", dags).out) == "hello n=7\n");
  CHECK(scheduler.Signal(SIGTERM) == 0);
}

TEST_CASE("trigger refuses conf that does not fit the params") {
  Sandbox sb;
  std::string dags = DagsCopy(sb);
  Output o = sb.Dagctl("trigger quick --conf '{\"m\": 1}'", dags);
  CHECK(o.exit_code == 2);
  CHECK(o.err == "dagctl: --conf: DAG 'quick' has no param 'm' (did you mean 'n'?)\n");
  o = sb.Dagctl("trigger quick --conf '{\"n\": \"seven\"}'", dags);
  CHECK(o.exit_code == 2);
  CHECK(o.err ==
        "dagctl: --conf: param 'n' must be an integer (its default is 1), not \"seven\"\n");
  o = sb.Dagctl("trigger quick --conf '[1]'", dags);
  CHECK(o.err == "dagctl: --conf: conf must be a JSON object, such as {\"n\": 3}\n");
}

TEST_CASE("after kill -9 a restarted scheduler finishes the run, retrying the lost try") {
  Sandbox sb;
  std::string dags = DagsCopy(sb);
  std::string marker = sb.work().string();
  // A short lease: the restarted scheduler takes the run over (and ends the
  // lost try) once the dead one's leases run out.
  auto scheduler = std::make_unique<Background>(sb, "scheduler --lease 2s", dags);
  REQUIRE(sb.Dagctl("trigger slow --conf '{\"marker_dir\": \"" + marker + "\"}'", dags).exit_code ==
          0);
  REQUIRE(WaitFor([&] { return fs::exists(sb.work() / "sleep_pid_1"); }, 5));
  std::this_thread::sleep_for(
      std::chrono::milliseconds(100));  // the pid is recorded just after the start
  CHECK(scheduler->Signal(SIGKILL) == -SIGKILL);
  CHECK(RunState(sb, dags, "slow") == "running");

  Background restarted(sb, "scheduler --lease 2s", dags);
  REQUIRE(WaitFor([&] { return RunState(sb, dags, "slow") == "success"; }, 15));
  CHECK(ReadFile(sb.work() / "attempts") == "try 1\ntry 2\n");
  CHECK(ReadFile(sb.work() / "done") == "done\n");
  std::string run_id = Runs(sb, dags, "slow")[0]["dag_run_id"];
  CHECK(Runs(sb, dags, "slow").size() == 1);
  json tis =
      json::parse(sb.Dagctl("tasks slow '" + run_id + "' --json", dags).out)["task_instances"];
  for (const json& ti : tis) {
    INFO(ti["task_id"]);
    CHECK(ti["state"] == "success");
    CHECK(ti["try_number"] == (ti["task_id"] == "wait_a_while" ? 2 : 1));
  }
  std::string log = sb.Dagctl("logs slow '" + run_id + "' wait_a_while --try 1", dags).out;
  CHECK(std::regex_search(log, std::regex("Z \\[dagctl\\] try 1 was lost: worker [^ ]+:[0-9]+ on [^ ]+ "
                                          "stopped renewing its lease\n")));
  // The lost try's process group (its 30 s sleep) was ended, not left running.
  std::string pid = ReadFile(sb.work() / "sleep_pid_1");
  pid.pop_back();
  std::string status = ReadFile("/proc/" + pid + "/status");
  CHECK((status.empty() || status.find("State:\tZ") != std::string::npos));
}

TEST_CASE("SIGTERM stops the scheduler gracefully and the next one resumes") {
  Sandbox sb;
  std::string dags = DagsCopy(sb);
  std::string marker = sb.work().string();
  auto scheduler = std::make_unique<Background>(sb, "scheduler", dags);
  Output trigger = sb.Dagctl("trigger slow --conf '{\"marker_dir\": \"" + marker + "\"}'", dags);
  INFO(trigger.err);
  REQUIRE(trigger.exit_code == 0);
  REQUIRE(WaitFor([&] { return fs::exists(sb.work() / "attempts"); }, 5));
  CHECK(scheduler->Signal(SIGTERM) == 0);
  CHECK(scheduler->Log().find("dagctl scheduler: stopped") != std::string::npos);
  std::string run_id = Runs(sb, dags, "slow")[0]["dag_run_id"];
  json tis =
      json::parse(sb.Dagctl("tasks slow '" + run_id + "' --json", dags).out)["task_instances"];
  for (const json& ti : tis)
    if (ti["task_id"] == "wait_a_while") CHECK(ti["state"] == "up_for_retry");
  Background restarted(sb, "scheduler --lease 2s", dags);
  REQUIRE(WaitFor([&] { return RunState(sb, dags, "slow") == "success"; }, 15));
  CHECK(ReadFile(sb.work() / "attempts") == "try 1\ntry 2\n");
}

TEST_CASE("new, changed and broken DAG files are picked up while the scheduler runs") {
  Sandbox sb;
  std::string dags = DagsCopy(sb);
  Background scheduler(sb, "scheduler", dags);
  std::ofstream(fs::path(dags) / "later.yaml") << "tasks:\n  - {id: t, command: echo v1}\n";
  std::ofstream(fs::path(dags) / "broken.yaml") << "tasks: [\n";
  std::this_thread::sleep_for(std::chrono::milliseconds(1200));
  REQUIRE(sb.Dagctl("trigger later", dags).exit_code == 0);
  REQUIRE(WaitFor([&] { return RunState(sb, dags, "later") == "success"; }, 5));
  // A broken file does not stop the others, and shows as an import error.
  Output list = sb.Dagctl("list", dags);
  CHECK(list.out.find("broken.yaml:2:1: error: invalid YAML: end of sequence flow not found") !=
        std::string::npos);
  // A change applies to runs created after it.
  std::ofstream(fs::path(dags) / "later.yaml") << "tasks:\n  - {id: t, command: echo v2}\n";
  std::this_thread::sleep_for(std::chrono::milliseconds(1200));
  REQUIRE(sb.Dagctl("trigger later", dags).exit_code == 0);
  REQUIRE(WaitFor(
      [&] {
        json runs = Runs(sb, dags, "later");
        return runs.size() == 2 && runs[0]["state"] == "success";
      },
      5));
  json runs = Runs(sb, dags, "later");
  CHECK(Printed(sb.Dagctl("logs later '" + runs[0]["dag_run_id"].get<std::string>() + "' t", dags).out) ==
        "v2\n");
  CHECK(Printed(sb.Dagctl("logs later '" + runs[1]["dag_run_id"].get<std::string>() + "' t", dags).out) ==
        "v1\n");
}

TEST_CASE("clear resets failed tasks and the scheduler runs them again") {
  Sandbox sb;
  std::string dags = DagsCopy(sb);
  std::string flag = (sb.work() / "ok").string();
  std::ofstream(fs::path(dags) / "gate.yaml")
      << "tasks:\n  - {id: check, retries: 0, command: 'test -f " << flag << "'}\n"
      << "  - {id: after, command: 'echo after', depends_on: check}\n";
  REQUIRE(sb.Dagctl("run gate", dags).exit_code == 1);
  std::string run_id = Runs(sb, dags, "gate")[0]["dag_run_id"];
  std::ofstream(flag) << "";
  // Without a terminal to ask on, clear says what it would clear and clears nothing.
  Output asked = sb.Dagctl("clear gate '" + run_id + "' --only-failed", dags);
  CHECK(asked.exit_code == 2);
  CHECK(asked.out == "2 task instances of " + run_id + " to clear: after, check\n");
  CHECK(asked.err == "dagctl: clear: add --yes to clear without being asked (stdin is not a terminal)\n");
  Output dry = sb.Dagctl("clear gate '" + run_id + "' --only-failed --dry-run", dags);
  CHECK(dry.exit_code == 0);
  CHECK(dry.out == asked.out);
  CHECK(RunState(sb, dags, "gate") == "failed");
  Output c = sb.Dagctl("clear gate '" + run_id + "' --only-failed --yes", dags);
  CHECK(c.exit_code == 0);
  CHECK(c.out == "2 task instances of " + run_id + " to clear: after, check\ncleared 2 task instances of " +
                     run_id + ": after, check; the run is queued for the scheduler\n");
  CHECK(RunState(sb, dags, "gate") == "queued");
  Background scheduler(sb, "scheduler", dags);
  REQUIRE(WaitFor([&] { return RunState(sb, dags, "gate") == "success"; }, 5));
  json tis =
      json::parse(sb.Dagctl("tasks gate '" + run_id + "' --json", dags).out)["task_instances"];
  CHECK(tis[1]["task_id"] == "check");
  CHECK(tis[1]["try_number"] == 2);

  // --task picks tasks; --downstream adds what depends on them.
  c = sb.Dagctl("clear gate '" + run_id + "' --task after --yes", dags);
  CHECK(c.out == "1 task instance of " + run_id + " to clear: after\ncleared 1 task instance of " +
                     run_id + ": after; the run is queued for the scheduler\n");
  REQUIRE(WaitFor([&] { return RunState(sb, dags, "gate") == "success"; }, 5));
  c = sb.Dagctl("clear gate '" + run_id + "' --task check --downstream --yes", dags);
  CHECK(c.out.find("\ncleared 2 task instances of " + run_id +
                   ": after, check; the run is queued for the scheduler\n") != std::string::npos);
  REQUIRE(WaitFor([&] { return RunState(sb, dags, "gate") == "success"; }, 5));
  c = sb.Dagctl("clear gate '" + run_id + "' --task nope --yes", dags);
  CHECK(c.exit_code == 2);
  CHECK(c.err == "dagctl: clear: DAG 'gate' has no task 'nope'\n");
}

TEST_CASE("backfill runs each interval once, keeps successes, and re-runs failures on request") {
  Sandbox sb;
  std::string dags = DagsCopy(sb);
  std::string flag = (sb.work() / "ok").string();
  std::ofstream(fs::path(dags) / "nightly.yaml")
      << "schedule: '0 3 * * *'\nstart_date: 2026-01-01\n"
      << "tasks:\n  - {id: t, retries: 0, command: 'test {{ ds }} != 2026-01-03 || test -f " << flag
      << "'}\n";
  Output o = sb.Dagctl("backfill nightly --from 2026-01-02 --to 2026-01-04", dags);
  CHECK(o.exit_code == 1);
  CHECK(o.out.find("backfill of nightly: 3 runs, 1 failed") != std::string::npos);
  json runs = Runs(sb, dags, "nightly");
  REQUIRE(runs.size() == 3);
  CHECK(runs[2]["dag_run_id"] == "backfill__2026-01-02T03:00:00+00:00");
  CHECK(runs[2]["run_type"] == "backfill");
  CHECK(runs[1]["state"] == "failed");
  CHECK(runs[1]["data_interval_end"] == "2026-01-04T03:00:00+00:00");

  std::ofstream(flag) << "";
  o = sb.Dagctl("backfill nightly --from 2026-01-02 --to 2026-01-04", dags);
  CHECK(o.exit_code == 0);
  CHECK(o.out == "backfill of nightly: 0 runs, 0 failed\n");
  o = sb.Dagctl("backfill nightly --from 2026-01-02 --to 2026-01-04 --rerun-failed", dags);
  CHECK(o.exit_code == 0);
  CHECK(Runs(sb, dags, "nightly").size() == 3);
  CHECK(Runs(sb, dags, "nightly")[1]["state"] == "success");
}

TEST_CASE("trigger_dag queues another DAG's run with conf and waits for it") {
  Sandbox sb;
  std::string dags = DagsCopy(sb);
  std::ofstream(fs::path(dags) / "parent.yaml") << R"(tasks:
  - id: kick
    operator: trigger_dag
    trigger_dag_id: quick
    conf: {n: "{{ params.n }}"}
    wait_for_completion: true
    poke_interval: 0.2
    timeout: 30s
  - {id: after, depends_on: kick, command: 'echo child={{ xcom.kick }}'}
params: {n: 5}
)";
  Background scheduler(sb, "scheduler", dags);
  REQUIRE(sb.Dagctl("trigger parent", dags).exit_code == 0);
  REQUIRE(WaitFor([&] { return RunState(sb, dags, "parent") == "success"; }, 20));
  json child = Runs(sb, dags, "quick")[0];
  CHECK(child["state"] == "success");
  CHECK(child["conf"] == json({{"n", 5}}));
  std::string child_run = child["dag_run_id"];
  CHECK(Printed(sb.Dagctl("logs quick '" + child_run + "' hello", dags).out) == "hello n=5\n");
  std::string parent_run = Runs(sb, dags, "parent")[0]["dag_run_id"];
  CHECK(Printed(sb.Dagctl("logs parent '" + parent_run + "' after", dags).out) == "child=" + child_run + "\n");
}

TEST_CASE(
    "dagrun_timeout: a run with a sleeping task fails in seconds, the sleep is gone, on_failure is "
    "told why") {
  Sandbox sb;
  fs::path dags = sb.work() / "dags";
  fs::create_directories(dags);
  std::string pid_file = (sb.work() / "sleep.pid").string();
  std::string told = (sb.work() / "told").string();
  std::ofstream(dags / "slow.yaml")
      << "dagrun_timeout: 2s\n"
         "on_failure:\n"
         "  command: 'echo \"$DAGCTL_CALLBACK_REASON:\" {{ exception | quote }} > "
      << told
      << "'\n"
         "tasks:\n"
         "  - id: nap\n"
         "    command: 'echo $$ > "
      << pid_file << "; exec sleep 60'\n";
  Background scheduler(sb, "scheduler", dags.string());
  auto triggered = std::chrono::steady_clock::now();
  REQUIRE(sb.Dagctl("trigger slow", dags.string()).exit_code == 0);
  REQUIRE(WaitFor([&] { return !ReadFile(pid_file).empty(); }, 5));
  pid_t sleep_pid = std::stoi(ReadFile(pid_file));
  REQUIRE(WaitFor([&] { return RunState(sb, dags.string(), "slow") == "failed"; }, 8));
  CHECK(std::chrono::steady_clock::now() - triggered < std::chrono::seconds(6));
  // The try's process is stopped through its lease, not left to sleep.
  CHECK(WaitFor([&] { return kill(sleep_pid, 0) != 0; }, 5));
  std::string why = "run timed out: still going 2s after it started (dagrun_timeout)";
  CHECK(WaitFor([&] { return ReadFile(told) == "timed_out: " + why + "\n"; }, 5));
  std::string run_id = Runs(sb, dags.string(), "slow")[0]["dag_run_id"];
  CHECK(scheduler.Log().find("run_id=" + run_id + " run failed: " + why + "\n") !=
        std::string::npos);
  CHECK(scheduler.Log().find("task_id=nap try=1 skipped: " + why + "\n") != std::string::npos);
  Output tasks = sb.Dagctl("tasks slow '" + run_id + "' --json", dags.string());
  CHECK(json::parse(tasks.out)["task_instances"][0]["state"] == "skipped");
  Output log = sb.Dagctl("logs slow '" + run_id + "' nap", dags.string());
  CHECK(log.out.find("[dagctl] try 1 stopped: " + why + "\n") != std::string::npos);
  CHECK(scheduler.Signal(SIGTERM) == 0);
}
