// The loader: every problem reported, each with its exact text and place.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "fakes/load.h"

using dagctl::testing::LoadErrors;
using dagctl::testing::MustLoad;

TEST_CASE("a valid DAG loads with defaults and default_args applied") {
  auto dag = MustLoad(R"(
description: daily etl
tags: [etl, daily]
schedule: "0 2 * * *"
timezone: Asia/Seoul
start_date: 2026-01-01
default_args:
  retries: 1
  retry_delay: 5m
tasks:
  - id: extract
    command: echo hi
  - id: load
    depends_on: extract
    retries: 0
    timeout: 1h30m
    command: echo load
)");
  CHECK(dag->dag_id == "test");
  CHECK(dag->tags == std::vector<std::string>{"etl", "daily"});
  CHECK(dag->timezone.name() == "Asia/Seoul");
  CHECK(dagctl::FormatIso(*dag->start_date, dag->timezone) == "2026-01-01T00:00:00+09:00");
  CHECK(dag->max_active_tasks == 16);
  REQUIRE(dag->tasks.size() == 2);
  const auto& extract = dag->tasks[0];
  CHECK(extract.retries == 1);
  CHECK(extract.retry_delay == std::chrono::minutes(5));
  CHECK(extract.operator_name == "shell");
  CHECK(extract.trigger_rule == dagctl::TriggerRule::kAllSuccess);
  const auto& load = dag->tasks[1];
  CHECK(load.retries == 0);
  CHECK(load.timeout == std::chrono::minutes(90));
  CHECK(dag->graph.upstream[1] == std::vector<size_t>{0});
}

TEST_CASE("retries default to 3 and retry_delay to 30s") {
  auto dag = MustLoad("tasks:\n  - id: a\n    command: 'true'\n");
  CHECK(dag->tasks[0].retries == 3);
  CHECK(dag->tasks[0].retry_delay == std::chrono::seconds(30));
  CHECK(dag->tasks[0].max_retry_delay == std::chrono::hours(1));
}

TEST_CASE("every problem is reported with file, line and column") {
  std::string errors = LoadErrors(R"(schedule: "61 * * * *"
timezone: Mars/Base
start_date: 2026-01-01
schedule_interval: daily
tasks:
  - id: a
    command: echo a
    depend_on: b
  - id: a
    operator: shel
  - id: c
    depends_on: [extrct]
    trigger_rule: all_sucess
    retry_delay: 5x
)");
  CHECK(
      errors ==
      "dags/test.yaml:1:11: error: invalid cron expression '61 * * * *': minute field: 61 is "
      "out of range 0-59\n"
      "dags/test.yaml:2:11: error: unknown time zone 'Mars/Base' (use an IANA name such as "
      "'Asia/Seoul')\n"
      "dags/test.yaml:4:1: error: unknown key 'schedule_interval' (did you mean 'schedule'?)\n"
      "dags/test.yaml:8:5: error: tasks[0]: unknown key 'depend_on' (did you mean 'depends_on'?)\n"
      "dags/test.yaml:9:5: error: tasks[1]: duplicate task id 'a' (first defined at line 6)\n"
      "dags/test.yaml:10:15: error: tasks[1]: unknown operator 'shel' (did you mean 'shell'?)\n"
      "dags/test.yaml:11:5: error: tasks[2]: operator 'shell' needs key 'command'\n"
      "dags/test.yaml:12:17: error: tasks[2]: depends_on: unknown task 'extrct'\n"
      "dags/test.yaml:13:19: error: tasks[2]: unknown trigger rule 'all_sucess' (did you mean "
      "'all_success'?)\n"
      "dags/test.yaml:14:18: error: tasks[2]: 'retry_delay' is not a duration: '5x' (use e.g. "
      "45s, 5m, 1h30m, 2d or seconds, at most 3650d)\n");
}

TEST_CASE("a cycle is printed as its path") {
  std::string errors = LoadErrors(R"(tasks:
  - id: a
    depends_on: c
    command: x
  - id: b
    depends_on: a
    command: x
  - id: c
    depends_on: b
    command: x
)");
  CHECK(errors == "dags/test.yaml:2:5: error: cycle in task dependencies: a -> b -> c -> a\n");
}

TEST_CASE("a task depending on itself is a cycle") {
  CHECK(LoadErrors("tasks:\n  - id: a\n    depends_on: a\n    command: x\n") ==
        "dags/test.yaml:2:5: error: cycle in task dependencies: a -> a\n");
}

TEST_CASE("broken YAML is an error with its position, never a crash") {
  CHECK(LoadErrors("tasks:\n  - id: a\n   command: [\n") ==
        "dags/test.yaml:3:4: error: invalid YAML: end of sequence not found\n");
  CHECK(LoadErrors("- just\n- a list\n") ==
        "dags/test.yaml:1:1: error: a DAG file must be a map with at least 'tasks' (and "
        "optionally dag_id, schedule, ...)\n");
  CHECK(LoadErrors("") ==
        "dags/test.yaml:1:1: error: a DAG file must be a map with at least 'tasks' (and "
        "optionally dag_id, schedule, ...)\n");
}

TEST_CASE("duplicate keys are reported") {
  CHECK(LoadErrors("tasks:\n  - id: a\n    command: x\n    command: y\n") ==
        "dags/test.yaml:4:5: error: duplicate key 'command'\n");
}

TEST_CASE("wrong types of operator keys and task keys") {
  CHECK(LoadErrors("tasks:\n  - id: a\n    command: [x]\n    retries: many\n") ==
        "dags/test.yaml:3:14: error: tasks[0]: 'command' must be a string, not a list\n"
        "dags/test.yaml:4:14: error: tasks[0]: 'retries' must be a whole number from 0 to 1000, "
        "not 'many'\n");
}

TEST_CASE("schedule needs a start_date, and ids must be well formed") {
  CHECK(LoadErrors("schedule: '@daily'\ntasks:\n  - id: a b\n    command: x\n") ==
        "dags/test.yaml:1:1: error: 'start_date' is required when 'schedule' is set\n"
        "dags/test.yaml:3:9: error: tasks[0]: task id 'a b' may only use letters, digits, '_', "
        "'.' and '-'\n");
}

TEST_CASE("a DAG folder keeps loading past a broken file") {
  namespace fs = std::filesystem;
  fs::path dir = fs::temp_directory_path() / "dagctl_loader_folder";
  fs::remove_all(dir);
  fs::create_directories(dir / "sub");
  std::ofstream(dir / "good.yaml") << "tasks:\n  - id: a\n    command: x\n";
  std::ofstream(dir / "sub" / "nested.yml")
      << "dag_id: nested\ntasks:\n  - id: a\n    command: x\n";
  std::ofstream(dir / "broken.yaml") << "tasks: [\n";
  std::ofstream(dir / "z_dup.yaml") << "dag_id: good\ntasks:\n  - id: a\n    command: x\n";
  std::ofstream(dir / "notes.txt") << "not a dag";
  auto bag = dagctl::LoadDagFolder(dir.string(), dagctl::testing::Operators());
  REQUIRE(bag.dags.size() == 2);
  CHECK(bag.dags[0]->dag_id == "good");
  CHECK(bag.dags[1]->dag_id == "nested");
  REQUIRE(bag.errors.size() == 2);
  CHECK(fs::path(bag.errors[0].file).filename() == "broken.yaml");
  CHECK(fs::path(bag.errors[1].file).filename() == "z_dup.yaml");
  CHECK(bag.errors[1].diagnostics[0].message ==
        "dag_id 'good' is already used by " + (dir / "good.yaml").string());
  fs::remove_all(dir);
}

TEST_CASE("sensor keys are for sensors, and mode is poke or reschedule") {
  CHECK(LoadErrors("tasks:\n  - {id: a, command: x, poke_interval: 5s}\n") ==
        "dags/test.yaml:2:25: error: tasks[0]: 'poke_interval' is for sensors; operator 'shell' is "
        "not one\n");
  CHECK(LoadErrors("tasks:\n  - {id: a, operator: file_sensor, filepath: /x, mode: lazy}\n") ==
        "dags/test.yaml:2:56: error: tasks[0]: 'mode' must be poke or reschedule, not 'lazy'\n");
  auto dag = MustLoad("tasks:\n  - {id: a, operator: file_sensor, filepath: /x, mode: reschedule}\n");
  CHECK(dag->tasks[0].reschedule);
  CHECK(dag->tasks[0].poke_interval == std::chrono::seconds(60));
  CHECK(dag->tasks[0].timeout == std::chrono::hours(24 * 7));
}

TEST_CASE("expand: lists and templates load; bad names, values and sizes are errors") {
  auto dag = MustLoad(R"(tasks:
  - {id: src, command: x}
  - id: each
    depends_on: src
    expand: {file: "{{ xcom.src }}", region: [eu, 7, {a: 1}]}
    max_map_length: 10
    command: 'echo {{ file }} {{ region }} {{ map_index }}'
)");
  const dagctl::Task& t = dag->tasks[1];
  REQUIRE(t.expand.size() == 2);
  CHECK(t.expand[0].name == "file");
  CHECK(t.expand[0].source == "{{ xcom.src }}");
  CHECK(t.expand[1].literal == std::vector<std::string>{"eu", "7", R"({"a":"1"})"});
  CHECK(t.max_map_length == 10);
  CHECK(dag->tasks[0].expand.empty());
  CHECK(dag->tasks[0].max_map_length == 1024);

  struct Case {
    const char* task;
    const char* error;
  };
  const Case cases[] = {
      {"expand: [a, b]", "3:13: error: tasks[0]: 'expand' must be a map of NAME: a list, or a "
                         "template that renders a JSON list"},
      {"expand: {}", "3:13: error: tasks[0]: 'expand' must be a map of NAME: a list, or a template "
                     "that renders a JSON list"},
      {"expand: {ds: [a]}", "3:14: error: tasks[0]: expand: 'ds' is a built-in template name; "
                            "choose another"},
      {"expand: {map_index: [a]}", "3:14: error: tasks[0]: expand: 'map_index' is a built-in "
                                   "template name; choose another"},
      {"expand: {2x: [a]}", "3:14: error: tasks[0]: expand: '2x' is not a name (letters, digits "
                            "and _, not starting with a digit)"},
      {"expand: {f: plain}", "3:17: error: tasks[0]: expand: 'f' must be a list, or a template "
                             "that renders a JSON list (\"{{ xcom.TASK }}\"), not 'plain'"},
      {"expand: {f: [a, b, c], g: [1, 2]}\n    max_map_length: 5",
       "3:17: error: tasks[0]: expand makes 6 task instances, over max_map_length (5)"},
      {"max_map_length: 0", "3:21: error: tasks[0]: 'max_map_length' must be a whole number from "
                            "1 to 100000, not '0'"},
  };
  for (const Case& c : cases) {
    std::string yaml = std::string("tasks:\n  - id: a\n    ") + c.task + "\n    command: x\n";
    INFO(yaml);
    CHECK(LoadErrors(yaml) == std::string("dags/test.yaml:") + c.error + "\n");
  }
  CHECK(LoadErrors("default_args: {expand: {f: [a]}}\ntasks:\n  - {id: a, command: x}\n") ==
        "dags/test.yaml:1:24: error: 'expand' cannot be a default: map each task on its own\n");
}

TEST_CASE("dagrun_timeout is a duration longer than 0s, absent or null for no limit") {
  CHECK(MustLoad("dagrun_timeout: 1h30m\ntasks:\n  - {id: a, command: x}\n")->dagrun_timeout ==
        std::chrono::minutes(90));
  CHECK(!MustLoad("tasks:\n  - {id: a, command: x}\n")->dagrun_timeout);
  CHECK(!MustLoad("dagrun_timeout: null\ntasks:\n  - {id: a, command: x}\n")->dagrun_timeout);
  CHECK(LoadErrors("dagrun_timeout: 0s\ntasks:\n  - {id: a, command: x}\n") ==
        "dags/test.yaml:1:17: error: 'dagrun_timeout' must be longer than 0s (leave it out for no "
        "limit)\n");
  CHECK(LoadErrors("dagrun_timeout: soon\ntasks:\n  - {id: a, command: x}\n") ==
        "dags/test.yaml:1:17: error: 'dagrun_timeout' is not a duration: 'soon' (use e.g. 45s, 5m, "
        "1h30m, 2d or seconds, at most 3650d)\n");
  CHECK(LoadErrors("dag_run_timeout: 1h\ntasks:\n  - {id: a, command: x}\n") ==
        "dags/test.yaml:1:1: error: unknown key 'dag_run_timeout' (did you mean "
        "'dagrun_timeout'?)\n");
}
