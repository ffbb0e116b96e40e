// The executor driven by a scripted runner and a fake clock: retries, timing,
// limits, skips, XCom and templates, with no real process.
#include "engine/executor.h"

#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>

#include "engine/runs.h"
#include "engine/store/sql_store.h"
#include "fakes/fake_try_runner.h"
#include "fakes/load.h"

using namespace dagctl;
using namespace dagctl::testing;
using namespace std::chrono;
namespace fs = std::filesystem;

namespace {

// One DAG run in a fresh store, ready to execute.
class Harness {
 public:
  explicit Harness(const std::string& yaml)
      : dir_(fs::temp_directory_path() / ("dagctl_exec_" + std::to_string(::getpid()))),
        dag_(MustLoad(yaml)),
        clock_(ParseDateTime("2026-01-01T00:00:00").value()),
        runner_(clock_) {
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    store_ = std::move(OpenSqliteStore((dir_ / "db").string(), clock_).value());
    REQUIRE(CreateRun(*store_, *dag_,
                      {.logical_date = ParseDateTime("2026-01-01").value(),
                       .interval_end = ParseDateTime("2026-01-02").value(),
                       .run_id = "manual__1",
                       .now = clock_.Now()}));
  }
  ~Harness() { fs::remove_all(dir_); }

  RunState Run(int parallelism = 32) {
    ExecutorOptions opts;
    opts.parallelism = parallelism;
    opts.logs_dir = (dir_ / "logs").string();
    opts.owner = "test-host:1";
    Executor ex(*store_, runner_, clock_, opts);
    auto state = ex.Run(dag_, "manual__1");
    REQUIRE(state);
    return *state;
  }

  TaskInstanceRecord Ti(const std::string& task) {
    auto tis = store_->ListTaskInstances(dag_->dag_id, "manual__1").value();
    for (auto& ti : tis)
      if (ti.task_id == task) return ti;
    FAIL("no task " << task);
    return {};
  }
  std::vector<TryRecord> Tries(const std::string& task) {
    return store_->ListTries({dag_->dag_id, "manual__1", task, -1}).value();
  }
  // Seconds after the start at which each try of `task` started.
  std::vector<double> StartTimes(const std::string& task) {
    std::vector<double> out;
    for (const auto& s : runner_.started())
      if (s.task_id == task)
        out.push_back(
            duration<double>(s.at - ParseDateTime("2026-01-01T00:00:00").value()).count());
    return out;
  }
  // The log without each line's time (the stream marker and text stay).
  std::string Untimed(const std::string& task, int try_number) {
    std::istringstream in(LogText(task, try_number));
    std::string out;
    for (std::string l; std::getline(in, l);) out += (l.size() > 25 && l[23] == 'Z' ? l.substr(25) : l) + "\n";
    return out;
  }

  std::string LogText(const std::string& task, int try_number) {
    std::ifstream in(
        TryLogPath((dir_ / "logs").string(), dag_->dag_id, "manual__1", task, try_number));
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

  // A mapped task's instances, in map index order.
  std::vector<TaskInstanceRecord> Instances(const std::string& task) {
    std::vector<TaskInstanceRecord> out;
    auto tis = store_->ListTaskInstances(dag_->dag_id, "manual__1").value();
    for (auto& ti : tis)
      if (ti.task_id == task && ti.map_index >= 0) out.push_back(ti);
    return out;
  }
  // The bash commands the tries of `task` ran, in start order.
  std::vector<std::string> Commands(const std::string& task) {
    std::vector<std::string> out;
    for (const auto& s : runner_.started())
      if (s.task_id == task) out.push_back(s.request.launch.argv.back());
    return out;
  }
  std::vector<TaskState> States(const std::string& task) {
    std::vector<TaskState> out;
    for (const auto& ti : Instances(task)) out.push_back(ti.state);
    return out;
  }

  FakeTryRunner& runner() { return runner_; }
  Store& store() { return *store_; }

 private:
  fs::path dir_;
  std::shared_ptr<Dag> dag_;
  FakeClock clock_;
  FakeTryRunner runner_;
  std::unique_ptr<Store> store_;
};

}  // namespace

TEST_CASE("a failing task is retried after retry_delay until it succeeds") {
  Harness h(
      "tasks:\n  - {id: a, command: x, retry_delay: 30s}\n  - {id: b, command: x, depends_on: "
      "a}\n");
  h.runner().Script("a", {{1, milliseconds(10)}, {1, milliseconds(10)}, {0, milliseconds(10)}});
  CHECK(h.Run() == RunState::kSuccess);
  CHECK(h.StartTimes("a") == std::vector<double>{0.0, 30.01, 60.02});
  // Event-driven: b starts the instant a's last try ends.
  CHECK(h.StartTimes("b") == std::vector<double>{60.03});
  CHECK(h.Ti("a").try_number == 3);
  CHECK(h.Ti("a").state == TaskState::kSuccess);
  auto tries = h.Tries("a");
  REQUIRE(tries.size() == 3);
  CHECK(tries[0].state == TaskState::kFailed);
  CHECK(tries[0].error == "exit code 1");
  CHECK(tries[2].state == TaskState::kSuccess);
  std::string log = h.Untimed("a", 1);
  CHECK(log.rfind("[dagctl] try 1 of 4: dag_id=", 0) == 0);
  CHECK(log.find("\n[dagctl] try 1 failed: exit code 1\n[dagctl] end: exit code 1, duration ") != std::string::npos);
  CHECK(log.find(", state up_for_retry: will retry as try 2 of 4 at ") != std::string::npos);
}

TEST_CASE(
    "the default retries allow four tries, then the task fails and downstream is upstream_failed") {
  Harness h(
      "tasks:\n  - {id: a, command: x, retry_delay: 1s}\n  - {id: b, command: x, depends_on: a}\n");
  h.runner().Script("a", std::vector<ScriptedTry>(10, {2, milliseconds(0)}));
  CHECK(h.Run() == RunState::kFailed);
  CHECK(h.Ti("a").try_number == 4);
  CHECK(h.Ti("a").state == TaskState::kFailed);
  CHECK(h.Ti("b").state == TaskState::kUpstreamFailed);
  CHECK(h.Ti("b").try_number == 0);
  CHECK(h.StartTimes("b").empty());
}

TEST_CASE("exponential backoff doubles the wait up to max_retry_delay") {
  Harness h(
      "tasks:\n  - {id: a, command: x, retries: 4, retry_delay: 10s, retry_exponential_backoff: "
      "true, max_retry_delay: 30s}\n");
  h.runner().Script("a", std::vector<ScriptedTry>(5, {1, milliseconds(0)}));
  CHECK(h.Run() == RunState::kFailed);
  CHECK(h.StartTimes("a") == std::vector<double>{0, 10, 30, 60, 90});
}

TEST_CASE("a timed-out try fails with a message and is retried") {
  Harness h("tasks:\n  - {id: a, command: x, timeout: 5s, retries: 1, retry_delay: 1s}\n");
  h.runner().Script("a", {{-1, seconds(5), true}, {0, milliseconds(1)}});
  CHECK(h.Run() == RunState::kSuccess);
  CHECK(h.Tries("a")[0].error ==
        "timed out after 5s (the process group got SIGTERM, then SIGKILL)");
  CHECK(h.runner().started()[0].request.timeout == seconds(5));
}

TEST_CASE("max_active_tasks and parallelism cap concurrent tries") {
  std::string yaml = "max_active_tasks: 3\ntasks:\n  - {id: root, command: x}\n";
  for (int i = 0; i < 10; ++i)
    yaml += "  - {id: t" + std::to_string(i) + ", command: x, depends_on: root}\n";
  {
    Harness h(yaml);
    CHECK(h.Run() == RunState::kSuccess);
    CHECK(h.runner().max_running() == 3);
    CHECK(h.runner().started().size() == 11);
  }
  {
    Harness h(yaml);
    CHECK(h.Run(2) == RunState::kSuccess);
    CHECK(h.runner().max_running() == 2);
  }
}

TEST_CASE("exit 99 skips the task and its all_success downstream") {
  Harness h(
      "tasks:\n  - {id: a, command: x}\n  - {id: b, command: x, depends_on: a}\n"
      "  - {id: c, command: x, depends_on: a, trigger_rule: all_done}\n");
  h.runner().Script("a", {{99, milliseconds(1)}});
  CHECK(h.Run() == RunState::kSuccess);
  CHECK(h.Ti("a").state == TaskState::kSkipped);
  CHECK(h.Ti("b").state == TaskState::kSkipped);
  CHECK(h.Ti("c").state == TaskState::kSuccess);
}

TEST_CASE("XCom return_value flows into a downstream template") {
  Harness h(
      "tasks:\n  - {id: a, command: x}\n  - {id: b, command: 'echo {{ xcom.a }} {{ ds }}', "
      "depends_on: a}\n");
  h.runner().Script("a", {{0, milliseconds(1), false, "rows=42"}});
  CHECK(h.Run() == RunState::kSuccess);
  CHECK(h.store().GetXCom("test", "manual__1", "a", "return_value").value() == "rows=42");
  const auto& b = h.runner().started().back();
  CHECK(b.task_id == "b");
  CHECK(b.request.launch.argv ==
        std::vector<std::string>{"/bin/bash", "-c", "echo rows=42 2026-01-01"});
}

TEST_CASE("an unknown template name fails the try with a message naming it") {
  Harness h("tasks:\n  - {id: a, command: 'echo {{ params.nope }}', retries: 0}\n");
  CHECK(h.Run() == RunState::kFailed);
  CHECK(h.runner().started().empty());
  CHECK(h.Tries("a")[0].error == "'command': template '{{ params.nope }}': unknown param 'nope'");
  CHECK(h.Untimed("a", 1).find(
        "[dagctl] try 1 failed before start: 'command': template '{{ params.nope }}': unknown "
        "param 'nope'\n") != std::string::npos);
}

TEST_CASE(
    "XCom of tasks in groups: by full id, beside the reader, or under a key; a group has none") {
  Harness h(R"(tasks:
  - {id: users, group: load, command: x}
  - {id: count, group: load, command: 'echo {{ xcom.users }}', depends_on: users}
  - {id: report, command: 'echo {{ xcom.load.count }} {{ xcom.load.users.return_value }}', depends_on: load}
  - {id: bad, command: 'echo {{ xcom.load }}', depends_on: load, retries: 0}
)");
  h.runner().Script("load.users", {{0, milliseconds(1), false, "7"}});
  h.runner().Script("load.count", {{0, milliseconds(1), false, "rows=7"}});
  CHECK(h.Run() == RunState::kFailed);
  std::map<std::string, std::vector<std::string>> argv;
  for (const auto& s : h.runner().started()) argv[s.task_id] = s.request.launch.argv;
  CHECK(argv["load.count"] == std::vector<std::string>{"/bin/bash", "-c", "echo 7"});
  CHECK(argv["report"] == std::vector<std::string>{"/bin/bash", "-c", "echo rows=7 7"});
  CHECK(
      h.Tries("bad")[0].error ==
      "'command': template '{{ xcom.load }}': xcom: 'load' is a task group; name one of its tasks");
}

TEST_CASE("reading the XCom of a task that is not upstream is an error") {
  Harness h(
      "tasks:\n  - {id: a, command: x}\n  - {id: b, command: 'echo {{ xcom.a }}', retries: 0}\n");
  CHECK(h.Run() == RunState::kFailed);
  CHECK(h.Tries("b")[0].error ==
        "'command': template '{{ xcom.a }}': xcom: task 'a' is not upstream of 'b' (add it to "
        "depends_on)");
}

TEST_CASE("higher priority_weight starts first when slots are scarce") {
  Harness h(
      "max_active_tasks: 1\ntasks:\n  - {id: low, command: x}\n  - {id: high, command: x, "
      "priority_weight: 10}\n");
  CHECK(h.Run() == RunState::kSuccess);
  CHECK(h.runner().started()[0].task_id == "high");
}

TEST_CASE("a pool's slots cap its tries across the run and are freed however a try ends") {
  struct Case {
    const char* outcome;
    ScriptedTry end;
    TaskState state;
  };
  std::vector<Case> cases = {
      {"success", {0, seconds(1)}, TaskState::kSuccess},
      {"failure", {1, seconds(1)}, TaskState::kFailed},
      {"timeout", {-1, seconds(5), true}, TaskState::kFailed},
      {"killed by a signal", {-1, seconds(1), false, "", 9}, TaskState::kFailed},
  };
  for (const Case& c : cases) {
    INFO(c.outcome);
    std::string yaml = "tasks:\n";
    for (int i = 0; i < 6; ++i)
      yaml += "  - {id: t" + std::to_string(i) + ", command: x, pool: db, retries: 0, timeout: 5s}\n";
    Harness h(yaml);
    REQUIRE(h.store().SetPool({"db", 2, ""}));
    for (int i = 0; i < 6; ++i) h.runner().Script("t" + std::to_string(i), {c.end});
    CHECK(h.Run() == (c.state == TaskState::kSuccess ? RunState::kSuccess : RunState::kFailed));
    CHECK(h.runner().started().size() == 6);  // every slot came back
    CHECK(h.runner().max_running() == 2);
    for (int i = 0; i < 6; ++i) CHECK(h.Ti("t" + std::to_string(i)).state == c.state);
    // Three waves of two.
    double wave = c.end.duration.count() / 1000.0;
    CHECK(h.StartTimes("t4")[0] == Approx(2 * wave));
  }
}

TEST_CASE("pool_slots: a task taking the whole pool runs alone") {
  Harness h(
      "tasks:\n  - {id: big, command: x, pool: db, pool_slots: 3, priority_weight: 10}\n"
      "  - {id: s1, command: x, pool: db}\n  - {id: s2, command: x, pool: db}\n");
  REQUIRE(h.store().SetPool({"db", 3, ""}));
  h.runner().Script("big", {{0, seconds(1)}});
  CHECK(h.Run() == RunState::kSuccess);
  CHECK(h.StartTimes("big") == std::vector<double>{0.0});
  CHECK(h.StartTimes("s1") == std::vector<double>{1.0});
  CHECK(h.StartTimes("s2") == std::vector<double>{1.0});
}

TEST_CASE("weight_rule orders waiting tries: downstream (default), upstream, absolute") {
  // a -> b -> c and x alone; with one slot, the order shows the weights.
  std::string tasks =
      "  - {id: x, command: x, priority_weight: 2WR}\n"
      "  - {id: a, command: x WR}\n  - {id: b, command: x, depends_on: a WR}\n"
      "  - {id: c, command: x, depends_on: b WR}\n";
  auto order = [&](const std::string& rule) {
    std::string yaml = "max_active_tasks: 1\ntasks:\n" + tasks;
    std::string with = rule.empty() ? "" : ", weight_rule: " + rule;
    for (size_t p; (p = yaml.find("WR")) != std::string::npos;) yaml.replace(p, 2, with);
    Harness h(yaml);
    REQUIRE(h.Run() == RunState::kSuccess);
    std::string out;
    for (const auto& s : h.runner().started()) out += s.task_id;
    return out;
  };
  // downstream: a = 3 (a, b, c) beats x = 2.
  CHECK(order("") == "axbc");
  CHECK(order("downstream") == "axbc");
  // upstream and absolute: a = 1 loses to x = 2.
  CHECK(order("upstream") == "xabc");
  CHECK(order("absolute") == "xabc");
}

TEST_CASE("templates read connections and variables from the environment") {
  ::setenv("DAGCTL_CONN_WAREHOUSE", "postgres://etl:pw@db.local:5432/dw", 1);
  ::setenv("DAGCTL_VAR_region", "eu-west", 1);
  Harness h(
      "tasks:\n  - {id: a, command: 'load {{ conn.warehouse.host }}:{{ conn.warehouse.port }} {{ "
      "var.region }}'}\n");
  CHECK(h.Run() == RunState::kSuccess);
  CHECK(h.runner().started()[0].request.launch.argv[2] == "load db.local:5432 eu-west");
  ::unsetenv("DAGCTL_CONN_WAREHOUSE");
  ::unsetenv("DAGCTL_VAR_region");
}

TEST_CASE("a try whose process cannot start fails like any other and is retried") {
  Harness h(
      "tasks:\n  - {id: a, command: x, retries: 1, retry_delay: 1s}\n  - {id: b, command: x, "
      "depends_on: a, trigger_rule: all_done}\n");
  h.runner().FailStart("a");
  CHECK(h.Run() == RunState::kSuccess);
  CHECK(h.Ti("a").state == TaskState::kFailed);
  CHECK(h.Ti("a").try_number == 2);
  CHECK(h.Tries("a")[1].error == "cannot start: cannot start a process: out of pids");
  CHECK(h.Ti("b").state == TaskState::kSuccess);
}

TEST_CASE("the empty operator succeeds without starting a process") {
  Harness h("tasks:\n  - {id: a, operator: empty}\n  - {id: b, command: x, depends_on: a}\n  - {id: c, operator: empty, depends_on: b}\n");
  CHECK(h.Run() == RunState::kSuccess);
  CHECK(h.Ti("a").state == TaskState::kSuccess);
  CHECK(h.Ti("a").try_number == 1);
  CHECK(h.Ti("c").state == TaskState::kSuccess);
  REQUIRE(h.runner().started().size() == 1);
  CHECK(h.runner().started()[0].task_id == "b");
}

TEST_CASE("branch follows the printed task and skips the other direct downstream tasks") {
  Harness h(R"(tasks:
  - {id: choose, operator: branch, command: x}
  - {id: fast, command: x, depends_on: choose}
  - {id: slow, command: x, depends_on: choose}
  - {id: after_slow, command: x, depends_on: slow}
  - {id: join, command: x, depends_on: [fast, after_slow], trigger_rule: none_failed_min_one_success}
)");
  h.runner().Script("choose", {{0, milliseconds(1), false, "fast"}});
  CHECK(h.Run() == RunState::kSuccess);
  CHECK(h.Ti("choose").state == TaskState::kSuccess);
  CHECK(h.Ti("fast").state == TaskState::kSuccess);
  CHECK(h.Ti("slow").state == TaskState::kSkipped);
  CHECK(h.Ti("after_slow").state == TaskState::kSkipped);
  CHECK(h.Ti("join").state == TaskState::kSuccess);
  CHECK(h.StartTimes("slow").empty());
}

TEST_CASE(
    "branch naming a group follows the group's roots, as Airflow's branching to a TaskGroup") {
  Harness h(R"(task_groups:
  full: {depends_on: choose}
tasks:
  - {id: choose, operator: branch, command: x}
  - {id: users, group: full, command: x}
  - {id: orders, group: full, command: x, depends_on: users}
  - {id: quick, command: x, depends_on: choose}
)");
  h.runner().Script("choose", {{0, milliseconds(1), false, "full"}});
  CHECK(h.Run() == RunState::kSuccess);
  CHECK(h.Ti("full.users").state == TaskState::kSuccess);
  CHECK(h.Ti("full.orders").state == TaskState::kSuccess);
  CHECK(h.Ti("quick").state == TaskState::kSkipped);
}

TEST_CASE("branch naming a task skips a group it did not name") {
  Harness h(R"(task_groups:
  full: {depends_on: choose}
tasks:
  - {id: choose, operator: branch, command: x, retries: 0}
  - {id: users, group: full, command: x}
  - {id: quick, command: x, depends_on: choose}
)");
  h.runner().Script("choose", {{0, milliseconds(1), false, "quick"}});
  CHECK(h.Run() == RunState::kSuccess);
  CHECK(h.Ti("full.users").state == TaskState::kSkipped);
  CHECK(h.Ti("quick").state == TaskState::kSuccess);
}

TEST_CASE("branch naming a task that is not directly downstream fails the try") {
  Harness h("tasks:\n  - {id: choose, operator: branch, command: x, retries: 0}\n  - {id: a, command: x, depends_on: choose}\n");
  h.runner().Script("choose", {{0, milliseconds(1), false, "a, nope"}});
  CHECK(h.Run() == RunState::kFailed);
  CHECK(h.Tries("choose")[0].error == "branch: 'nope' is not a direct downstream task (they are: a)");
  CHECK(h.Ti("a").state == TaskState::kUpstreamFailed);
}

TEST_CASE("short_circuit skips everything downstream when its command exits 1") {
  std::string yaml = R"(tasks:
  - {id: gate, operator: short_circuit, command: x}
  - {id: a, command: x, depends_on: gate}
  - {id: b, command: x, depends_on: a, trigger_rule: all_done}
)";
  {
    Harness h(yaml);
    h.runner().Script("gate", {{1, milliseconds(1)}});
    CHECK(h.Run() == RunState::kSuccess);
    CHECK(h.Ti("gate").state == TaskState::kSuccess);
    CHECK(h.Ti("a").state == TaskState::kSkipped);
    CHECK(h.Ti("b").state == TaskState::kSkipped);
    CHECK(h.runner().started().size() == 1);
  }
  {
    Harness h(yaml);
    CHECK(h.Run() == RunState::kSuccess);
    CHECK(h.Ti("b").state == TaskState::kSuccess);
    CHECK(h.runner().started().size() == 3);
  }
}

TEST_CASE("a poke-mode sensor pokes every poke_interval, keeping its slot, in one try") {
  Harness h(R"(max_active_tasks: 1
tasks:
  - {id: wait, operator: file_sensor, filepath: /x, poke_interval: 10s, priority_weight: 9}
  - {id: other, command: x}
)");
  h.runner().Script("wait", {{100, milliseconds(0)}, {100, milliseconds(0)}, {0, milliseconds(0)}});
  CHECK(h.Run() == RunState::kSuccess);
  CHECK(h.StartTimes("wait") == std::vector<double>{0, 10, 20});
  // The sensor held the only slot between pokes.
  CHECK(h.StartTimes("other") == std::vector<double>{20});
  CHECK(h.Ti("wait").try_number == 1);
  CHECK(h.Tries("wait").size() == 1);
  CHECK(h.Tries("wait")[0].state == TaskState::kSuccess);
}

TEST_CASE("a reschedule-mode sensor frees its slot between pokes") {
  Harness h(R"(max_active_tasks: 1
tasks:
  - {id: wait, operator: file_sensor, filepath: /x, poke_interval: 10s, mode: reschedule, priority_weight: 9}
  - {id: other, command: x}
)");
  h.runner().Script("wait", {{100, milliseconds(0)}, {0, milliseconds(0)}});
  h.runner().Script("other", {{0, seconds(1)}});
  CHECK(h.Run() == RunState::kSuccess);
  CHECK(h.StartTimes("wait") == std::vector<double>{0, 10});
  CHECK(h.StartTimes("other") == std::vector<double>{0});
  CHECK(h.Ti("wait").try_number == 1);
}

TEST_CASE("a sensor that times out fails without retry, or is skipped with soft_fail") {
  std::string yaml = R"(tasks:
  - {id: wait, operator: file_sensor, filepath: /x, poke_interval: 10s, timeout: 25s, retries: 3, SOFT}
  - {id: after, command: x, depends_on: wait}
)";
  {
    Harness h(std::regex_replace(yaml, std::regex("SOFT"), "soft_fail: false"));
    h.runner().Script("wait", std::vector<ScriptedTry>(10, {100, milliseconds(0)}));
    CHECK(h.Run() == RunState::kFailed);
    CHECK(h.StartTimes("wait") == std::vector<double>{0, 10, 20});
    CHECK(h.Ti("wait").state == TaskState::kFailed);
    CHECK(h.Ti("wait").try_number == 1);
    CHECK(h.Tries("wait")[0].error == "sensor timed out after 25s without its condition being met");
    CHECK(h.Ti("after").state == TaskState::kUpstreamFailed);
  }
  {
    Harness h(std::regex_replace(yaml, std::regex("SOFT"), "soft_fail: true"));
    h.runner().Script("wait", std::vector<ScriptedTry>(10, {100, milliseconds(0)}));
    CHECK(h.Run() == RunState::kSuccess);
    CHECK(h.Ti("wait").state == TaskState::kSkipped);
    CHECK(h.Ti("after").state == TaskState::kSkipped);
  }
}

TEST_CASE("task callbacks run on failure, retry and success, with the failure in their templates") {
  Harness h(R"(tasks:
  - id: load
    command: x
    retries: 1
    retry_delay: 1s
    on_retry: {command: "retrying {{ task_id }} after {{ exception }}"}
    on_failure: {command: "alert {{ task_id }} {{ state }}: {{ exception }}"}
  - id: ok
    command: x
    on_success: {operator: empty}
)");
  h.runner().Script("load", {{1, milliseconds(1)}, {2, milliseconds(1)}});
  CHECK(h.Run() == RunState::kFailed);
  std::vector<std::string> commands;
  for (const auto& s : h.runner().started())
    if (s.task_id.find('.') != std::string::npos) commands.push_back(s.task_id + ": " + s.request.launch.argv[2]);
  CHECK(commands == std::vector<std::string>{"load.on_retry: retrying load after exit code 1",
                                             "load.on_failure: alert load failed: exit code 2"});
  // A callback changes no state, and the failing task keeps its two tries.
  CHECK(h.Ti("load").try_number == 2);
  CHECK(h.Ti("ok").state == TaskState::kSuccess);
}

TEST_CASE("the run's own on_failure callback runs once, after every task") {
  Harness h(R"(on_failure: {command: "run {{ run_id }} {{ state }}"}
on_success: {command: "never"}
tasks:
  - {id: a, command: x, retries: 0}
  - {id: b, command: x, depends_on: a}
)");
  h.runner().Script("a", {{1, milliseconds(1)}});
  h.runner().Script("dag.on_failure.on_failure", {{1, milliseconds(1)}});
  CHECK(h.Run() == RunState::kFailed);
  const auto& last = h.runner().started().back();
  CHECK(last.request.launch.argv[2] == "run manual__1 failed");
  CHECK(h.runner().started().size() == 2);
}

// --- Dynamic task mapping ------------------------------------------------------

TEST_CASE("mapping: one instance per element of a YAML list, each with its element and map_index") {
  Harness h(R"(tasks:
  - id: per_region
    expand: {region: [eu, us, ap]}
    command: 'echo {{ region }} {{ map_index }} {{ ds }}'
  - {id: after, depends_on: per_region, command: 'echo {{ xcom.per_region }}'}
)");
  h.runner().Script("per_region", {{0, milliseconds(5), false, "10"},
                                   {0, milliseconds(5), false, "20"},
                                   {0, milliseconds(5), false, "30"}});
  CHECK(h.Run() == RunState::kSuccess);
  CHECK(h.Commands("per_region") ==
        std::vector<std::string>{"echo eu 0 2026-01-01", "echo us 1 2026-01-01",
                                 "echo ap 2 2026-01-01"});
  auto inst = h.Instances("per_region");
  REQUIRE(inst.size() == 3);
  CHECK(inst[1].map_values == R"({"region":"us"})");
  CHECK(inst[1].state == TaskState::kSuccess);
  CHECK(inst[1].try_number == 1);
  // Downstream, the values are one JSON list in map index order.
  CHECK(h.Commands("after") == std::vector<std::string>{R"(echo ["10","20","30"])"});
  // The instances replace the task's unmapped row.
  auto tis = h.store().ListTaskInstances("test", "manual__1").value();
  for (const auto& ti : tis) CHECK((ti.task_id != "per_region" || ti.map_index >= 0));
}

TEST_CASE("mapping: over an upstream's XCom and a param, the cross product with the last name fastest") {
  Harness h(R"(params: {sizes: [s, m]}
tasks:
  - {id: list_files, command: x}
  - id: convert
    depends_on: list_files
    expand: {file: "{{ xcom.list_files }}", size: "{{ params.sizes }}"}
    command: 'convert {{ file }} {{ size }}'
)");
  h.runner().Script("list_files", {{0, milliseconds(1), false, R"(["a.csv", "b.csv"])"}});
  CHECK(h.Run() == RunState::kSuccess);
  CHECK(h.Commands("convert") ==
        std::vector<std::string>{"convert a.csv s", "convert a.csv m", "convert b.csv s",
                                 "convert b.csv m"});
  CHECK(h.Instances("convert")[2].map_values == R"({"file":"b.csv","size":"s"})");
}

TEST_CASE("mapping: an empty list skips the task; all_success downstream skips, all_done runs") {
  Harness h(R"(tasks:
  - {id: list_files, command: x}
  - {id: convert, depends_on: list_files, expand: {file: "{{ xcom.list_files }}"}, command: x}
  - {id: report, depends_on: convert, command: x}
  - {id: cleanup, depends_on: convert, trigger_rule: all_done, command: x}
)");
  h.runner().Script("list_files", {{0, milliseconds(1), false, "[]"}});
  CHECK(h.Run() == RunState::kSuccess);
  CHECK(h.Ti("convert").state == TaskState::kSkipped);
  CHECK(h.Ti("convert").map_index == -1);
  CHECK(h.Instances("convert").empty());
  CHECK(h.Ti("report").state == TaskState::kSkipped);
  CHECK(h.Ti("cleanup").state == TaskState::kSuccess);
  CHECK(h.Commands("convert").empty());
}

TEST_CASE("mapping: more elements than max_map_length, or no JSON list, fail the task before it runs") {
  const char* yaml = R"(tasks:
  - {id: list_files, command: x}
  - id: convert
    depends_on: list_files
    expand: {file: "{{ xcom.list_files }}"}
    max_map_length: 2
    command: x
  - {id: report, depends_on: convert, command: x}
)";
  SECTION("over the limit") {
    Harness h(yaml);
    h.runner().Script("list_files", {{0, milliseconds(1), false, "[1, 2, 3]"}});
    CHECK(h.Run() == RunState::kFailed);
    CHECK(h.Ti("convert").state == TaskState::kFailed);
    CHECK(h.Ti("report").state == TaskState::kUpstreamFailed);
    auto tries = h.Tries("convert");
    REQUIRE(tries.size() == 1);
    CHECK(tries[0].error == "expand: 3 file would make more task instances than max_map_length (2)");
    CHECK(h.Untimed("convert", 1).find(
          "[dagctl] try 1 failed before start: expand: 3 file would make more task instances "
          "than max_map_length (2)\n") != std::string::npos);
    CHECK(h.Commands("convert").empty());
  }
  SECTION("not a list") {
    Harness h(yaml);
    h.runner().Script("list_files", {{0, milliseconds(1), false, R"({"a": 1})"}});
    CHECK(h.Run() == RunState::kFailed);
    CHECK(h.Tries("convert")[0].error ==
          R"(expand: 'file' must render a JSON list, but '{{ xcom.list_files }}' rendered '{"a": 1}')");
  }
}

TEST_CASE("mapping: each instance retries on its own") {
  Harness h(R"(tasks:
  - {id: load, expand: {part: [1, 2, 3]}, command: 'load {{ part }}', retry_delay: 10s}
)");
  // Tries start in map index order: the second one (part 2) fails once.
  h.runner().Script("load", {{0, milliseconds(5)}, {1, milliseconds(5)}, {0, milliseconds(5)}});
  CHECK(h.Run() == RunState::kSuccess);
  CHECK(h.Commands("load") ==
        std::vector<std::string>{"load 1", "load 2", "load 3", "load 2"});
  auto inst = h.Instances("load");
  REQUIRE(inst.size() == 3);
  CHECK(inst[0].try_number == 1);
  CHECK(inst[1].try_number == 2);
  CHECK(inst[2].try_number == 1);
  auto tries = h.store().ListTries({"test", "manual__1", "load", 1}).value();
  REQUIRE(tries.size() == 2);
  CHECK(tries[0].state == TaskState::kFailed);
  CHECK(tries[1].state == TaskState::kSuccess);
  CHECK(h.StartTimes("load").back() == Approx(10.005));  // its end + retry_delay
}

TEST_CASE("mapping: trigger rules count every instance as an upstream") {
  Harness h(R"(tasks:
  - {id: check, expand: {n: [1, 2, 3]}, command: x, retries: 0}
  - {id: publish, depends_on: check, command: x}
  - {id: alert, depends_on: check, trigger_rule: one_failed, command: x}
  - {id: summary, depends_on: check, trigger_rule: all_done, command: x}
)");
  h.runner().Script("check", {{0, milliseconds(5)}, {1, milliseconds(5)}, {0, milliseconds(5)}});
  CHECK(h.Run() == RunState::kFailed);
  CHECK(h.States("check") ==
        std::vector<TaskState>{TaskState::kSuccess, TaskState::kFailed, TaskState::kSuccess});
  CHECK(h.Ti("publish").state == TaskState::kUpstreamFailed);
  CHECK(h.Ti("alert").state == TaskState::kSuccess);
  CHECK(h.Ti("summary").state == TaskState::kSuccess);
}

TEST_CASE("mapping: a mapped task over a mapped task's values") {
  Harness h(R"(tasks:
  - {id: split, expand: {day: [mon, tue]}, command: 'echo {{ day }}'}
  - {id: load, depends_on: split, expand: {chunk: "{{ xcom.split }}"}, command: 'load {{ chunk }}'}
)");
  h.runner().Script("split", {{0, milliseconds(5), false, "mon.csv"}, {0, milliseconds(5), false, "tue.csv"}});
  CHECK(h.Run() == RunState::kSuccess);
  CHECK(h.Commands("load") == std::vector<std::string>{"load mon.csv", "load tue.csv"});
}

TEST_CASE(
    "dagrun_timeout: every unfinished task is skipped, the running try stopped, on_failure told "
    "why") {
  Harness h(R"(dagrun_timeout: 1h
on_failure: {command: "{{ reason }}: {{ exception }}"}
tasks:
  - {id: long, command: x}
  - {id: after_long, command: x, depends_on: long}
  - {id: flaky, command: x, retries: 1, retry_delay: 2h}
  - {id: quick, command: x}
)");
  h.runner().Script("long", {{0, hours(5)}});
  h.runner().Script("flaky", {{1, minutes(1)}});
  CHECK(h.Run() == RunState::kFailed);
  std::string why = "run timed out: still going 1h after it started (dagrun_timeout)";
  struct Row {
    const char* task;
    TaskState state;
    int tries;
    TaskState last_try;  // kNone: no try
    std::string last_error;
  };
  for (const Row& row : std::vector<Row>{
           {"long", TaskState::kSkipped, 1, TaskState::kSkipped, why},            // was running
           {"after_long", TaskState::kSkipped, 0, TaskState::kNone, ""},          // never started
           {"flaky", TaskState::kSkipped, 1, TaskState::kFailed, "exit code 1"},  // up_for_retry
           {"quick", TaskState::kSuccess, 1, TaskState::kSuccess, ""},            // done in time
       }) {
    INFO(row.task);
    TaskInstanceRecord ti = h.Ti(row.task);
    CHECK(ti.state == row.state);
    CHECK(ti.try_number == row.tries);
    auto tries = h.Tries(row.task);
    CHECK(tries.size() == static_cast<size_t>(row.last_try == TaskState::kNone ? 0 : 1));
    if (tries.empty()) continue;
    CHECK(tries.back().state == row.last_try);
    CHECK(tries.back().error == row.last_error);
  }
  auto run = h.store().GetDagRun("test", "manual__1").value();
  CHECK(FormatIso(*run.end_date) == "2026-01-01T01:00:00+00:00");
  // The stopped try's process is gone, and its log says why.
  CHECK(h.runner().killed() == std::vector<std::string>{"long"});
  CHECK(h.runner().running() == 0);
  CHECK(h.LogText("long", 1).find("[dagctl] try 1 stopped: " + why + "\n") != std::string::npos);
  // The DAG's on_failure ran once, with Airflow's reason and the message.
  const auto& last = h.runner().started().back();
  CHECK(last.request.launch.argv[2] == "timed_out: " + why);
  CHECK(std::count(last.request.env.begin(), last.request.env.end(),
                   "DAGCTL_CALLBACK_REASON=timed_out") == 1);
  CHECK(h.StartTimes("long") == std::vector<double>{0});
}

TEST_CASE("dagrun_timeout: a run that ends in time succeeds, and its callback says success") {
  Harness h(R"(dagrun_timeout: 1h
on_success: {command: "{{ reason }}"}
tasks:
  - {id: a, command: x}
)");
  h.runner().Script("a", {{0, minutes(59)}});
  CHECK(h.Run() == RunState::kSuccess);
  CHECK(h.Ti("a").state == TaskState::kSuccess);
  CHECK(h.runner().started().back().request.launch.argv[2] == "success");
}

TEST_CASE("mapping: max_active_tis_per_dagrun caps a mapped task's running instances") {
  Harness h(R"(tasks:
  - {id: load, expand: {part: [1, 2, 3, 4, 5, 6]}, max_active_tis_per_dagrun: 2, command: x}
)");
  h.runner().Script("load", std::vector<ScriptedTry>(6, {0, milliseconds(100)}));
  CHECK(h.Run() == RunState::kSuccess);
  CHECK(h.runner().started().size() == 6);
  CHECK(h.runner().max_running() == 2);
  CHECK(h.StartTimes("load") == std::vector<double>{0.0, 0.0, 0.1, 0.1, 0.2, 0.2});
}
