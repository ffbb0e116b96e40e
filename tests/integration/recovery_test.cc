// A finished try is never run again: the engine is killed (SIGKILL) between a
// try's end and its record, and the process that takes over records the
// outcome the try's keeper left next to its log. A try still running when the
// engine dies is lost and retried.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "integration/harness.h"

using dagctl::testing::Background;
using dagctl::testing::ReadFile;
using dagctl::testing::Sandbox;
using dagctl::testing::WaitFor;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

// A DAGs folder holding one DAG `recover` whose task `work` runs `command`
// (after appending its try number to work/lines), and `after`, which writes
// what `work` returned to work/after.
std::string WriteDag(const Sandbox& sb, const std::string& command, int retries) {
  fs::path dags = sb.work() / "dags";
  fs::create_directories(dags);
  std::string lines = (sb.work() / "lines").string(), after = (sb.work() / "after").string();
  std::ofstream(dags / "recover.yaml") << fmt::format(
      "dag_id: recover\n"
      "tasks:\n"
      "  - id: work\n"
      "    retries: {}\n"
      "    retry_delay: 0s\n"
      "    command: |\n"
      "      echo \"try {{{{ try_number }}}}\" >> {}\n"
      "      {}\n"
      "  - id: after\n"
      "    depends_on: work\n"
      "    command: echo \"{{{{ xcom.work }}}}\" >> {}\n",
      retries, lines, command, after);
  return dags.string();
}

json Run(const Sandbox& sb, const std::string& dags) {
  auto o = sb.Dagctl("runs recover --json", dags);
  if (o.exit_code != 0) return json();
  json runs = json::parse(o.out)["dag_runs"];
  return runs.empty() ? json() : runs[0];
}

std::string RunState(const Sandbox& sb, const std::string& dags) {
  json r = Run(sb, dags);
  return r.is_null() ? "" : r["state"].get<std::string>();
}

json Work(const Sandbox& sb, const std::string& dags, const std::string& run_id) {
  json tis =
      json::parse(sb.Dagctl("tasks recover '" + run_id + "' --json", dags).out)["task_instances"];
  for (const json& ti : tis)
    if (ti["task_id"] == "work") return ti;
  return json();
}

// Starts a scheduler that pauses between a try's end and its record, waits
// for `work`'s first try to end, and kills the scheduler inside that window.
void KillInWindow(const Sandbox& sb, const std::string& dags, const std::string& env = "") {
  Background first(sb, "scheduler --lease 2s", dags, env + " DAGCTL_TEST_PAUSE_BEFORE_RECORD=60",
                   "first.log");
  REQUIRE(sb.Dagctl("trigger recover", dags, env).exit_code == 0);
  REQUIRE(WaitFor([&] { return first.Log().find("pausing 60 s") != std::string::npos; }, 10));
  CHECK(first.Signal(SIGKILL) == -SIGKILL);
  CHECK(RunState(sb, dags) == "running");
}

}  // namespace

TEST_CASE("a try that succeeded before the engine was killed is recorded, not run again") {
  Sandbox sb;
  std::string dags = WriteDag(sb, "echo value-{{ try_number }}", 2);
  KillInWindow(sb, dags);
  CHECK(ReadFile(sb.work() / "lines") == "try 1\n");
  Background second(sb, "scheduler --lease 2s", dags, "", "second.log");
  REQUIRE(WaitFor([&] { return RunState(sb, dags) == "success"; }, 20));
  CHECK(ReadFile(sb.work() / "lines") == "try 1\n");
  std::string run_id = Run(sb, dags)["dag_run_id"];
  json work = Work(sb, dags, run_id);
  CHECK(work["state"] == "success");
  CHECK(work["try_number"] == 1);
  // Its return value went to XCom as if the first scheduler had recorded it.
  CHECK(ReadFile(sb.work() / "after") == "value-1\n");
  std::string log = sb.Dagctl("logs recover '" + run_id + "' work --try 1", dags).out;
  CHECK_THAT(log, Catch::Contains("died before recording how try 1 ended; ") &&
                      Catch::Contains(" records it from attempt=1.outcome"));
}

TEST_CASE("an operator's try that succeeded before the engine was killed keeps what it pushed") {
  // The sql operator's body runs in the try's process and pushes its result
  // through its channel (it prints nothing on stdout): the value comes from
  // the outcome file's copy of that channel.
  Sandbox sb;
  fs::path dags = sb.work() / "dags";
  fs::create_directories(dags);
  std::string db = (sb.work() / "dw.sqlite").string(), after = (sb.work() / "after").string();
  std::ofstream(dags / "recover.yaml") << fmt::format(
      "dag_id: recover\n"
      "tasks:\n"
      "  - id: work\n"
      "    operator: sql\n"
      "    conn_id: dw\n"
      "    sql:\n"
      "      - CREATE TABLE IF NOT EXISTS ran (try INTEGER)\n"
      "      - INSERT INTO ran VALUES ({{{{ try_number }}}})\n"
      "      - SELECT 'pushed-' || group_concat(try) FROM ran\n"
      "  - id: after\n"
      "    depends_on: work\n"
      "    command: echo \"{{{{ xcom.work }}}}\" >> {}\n",
      after);
  std::string env = "DAGCTL_CONN_DW=sqlite://" + db;
  KillInWindow(sb, dags.string(), env);
  Background second(sb, "scheduler --lease 2s", dags.string(), env, "second.log");
  REQUIRE(WaitFor([&] { return RunState(sb, dags.string()) == "success"; }, 20));
  std::string run_id = Run(sb, dags.string())["dag_run_id"];
  json work = Work(sb, dags.string(), run_id);
  CHECK(work["try_number"] == 1);
  // Ran once (one row, from try 1), and its pushed value reached downstream.
  CHECK(ReadFile(sb.work() / "after") == "pushed-1\n");
  std::string log = sb.Dagctl("logs recover '" + run_id + "' work --try 1", dags.string()).out;
  CHECK_THAT(log, Catch::Contains(" records it from attempt=1.outcome"));
}

TEST_CASE("a try that failed before the engine was killed is recorded failed and retried") {
  Sandbox sb;
  std::string dags = WriteDag(sb, "exit 3", 1);
  KillInWindow(sb, dags);
  CHECK(ReadFile(sb.work() / "lines") == "try 1\n");
  CHECK(ReadFile(sb.work() / "lines") == "try 1\n");
  Background second(sb, "scheduler --lease 2s", dags, "", "second.log");
  REQUIRE(WaitFor([&] { return RunState(sb, dags) == "failed"; }, 20));
  // Try 1 ran once and was recorded as it ended (exit code 3); try 2 is the
  // retry the retry rule allows, not a second run of try 1.
  CHECK(ReadFile(sb.work() / "lines") == "try 1\ntry 2\n");
  std::string run_id = Run(sb, dags)["dag_run_id"];
  json work = Work(sb, dags, run_id);
  CHECK(work["state"] == "failed");
  CHECK(work["try_number"] == 2);
  std::string log = sb.Dagctl("logs recover '" + run_id + "' work --try 1", dags).out;
  CHECK_THAT(log, Catch::Contains("try 1 failed: exit code 3"));
  CHECK_THAT(log, !Catch::Contains("stopped renewing its lease"));
}

TEST_CASE("a try still running when the engine is killed is lost, stopped and retried") {
  Sandbox sb;
  std::string pid_file = (sb.work() / "pid").string();
  std::string dags = WriteDag(
      sb, "if [ {{ try_number }} -eq 1 ]; then echo $$ > " + pid_file +
          "; sleep 30; fi; echo value-{{ try_number }}",
      1);
  auto first = std::make_unique<Background>(sb, "scheduler --lease 2s", dags, "", "first.log");
  REQUIRE(sb.Dagctl("trigger recover", dags).exit_code == 0);
  REQUIRE(WaitFor([&] { return fs::exists(pid_file) && ReadFile(pid_file).size() > 1; }, 10));
  CHECK(first->Signal(SIGKILL) == -SIGKILL);
  // The try dies with the engine: it never runs beside its retry.
  std::string pid = ReadFile(pid_file);
  pid.pop_back();
  CHECK(WaitFor(
      [&] {
        std::string status = ReadFile("/proc/" + pid + "/status");
        return status.empty() || status.find("State:\tZ") != std::string::npos;
      },
      5));
  Background second(sb, "scheduler --lease 2s", dags, "", "second.log");
  REQUIRE(WaitFor([&] { return RunState(sb, dags) == "success"; }, 20));
  CHECK(ReadFile(sb.work() / "lines") == "try 1\ntry 2\n");
  std::string run_id = Run(sb, dags)["dag_run_id"];
  json work = Work(sb, dags, run_id);
  CHECK(work["state"] == "success");
  CHECK(work["try_number"] == 2);
  CHECK(ReadFile(sb.work() / "after") == "value-2\n");
  CHECK_THAT(sb.Dagctl("logs recover '" + run_id + "' work --try 1", dags).out,
             Catch::Contains("try 1 was lost: worker "));
  CHECK_FALSE(fs::exists(sb.home() / "logs/dag_id=recover" / ("run_id=" + run_id) /
                         "task_id=work/attempt=1.outcome"));
}
