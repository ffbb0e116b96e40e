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

// ---- task groups -------------------------------------------------------------

namespace {

// Each task's id and its upstream tasks' ids, in the graph's order.
std::vector<std::string> Edges(const dagctl::Dag& dag) {
  std::vector<std::string> out;
  for (size_t v = 0; v < dag.tasks.size(); ++v) {
    std::string ups;
    for (size_t u : dag.graph.upstream[v]) ups += (ups.empty() ? "" : ", ") + dag.tasks[u].id;
    out.push_back(dag.tasks[v].id + " <- " + ups);
  }
  return out;
}

std::vector<std::string> Ids(const dagctl::Dag& dag, const std::vector<size_t>& positions) {
  std::vector<std::string> out;
  for (size_t p : positions) out.push_back(dag.tasks[p].id);
  return out;
}

}  // namespace

TEST_CASE(
    "groups: a task's id gets its group's prefix, and depends_on names siblings, full ids and "
    "groups") {
  struct Case {
    const char* name;
    const char* yaml;
    std::vector<std::string> edges;
  };
  const std::string tasks = R"(
  - {id: extract, command: x}
  - {id: users, group: load, command: x}
  - {id: orders, group: load, command: x, depends_on: users}
  - {id: a, group: load.check, command: x}
  - {id: b, group: load.check, command: x, depends_on: a}
  - {id: report, command: x, depends_on: load}
)";
  const std::vector<Case> cases = {
      {"a task waits for a group's leaves",
       "",
       {"extract <- ", "load.users <- ", "load.orders <- load.users", "load.check.a <- ",
        "load.check.b <- load.check.a", "report <- load.orders, load.check.b"}},
      {"a group's depends_on is upstream of its roots",
       "task_groups:\n  load: {depends_on: extract, tooltip: Loads}\n",
       {"extract <- ", "load.users <- extract", "load.orders <- load.users",
        "load.check.a <- extract", "load.check.b <- load.check.a",
        "report <- load.orders, load.check.b"}},
      {"an inner group names its siblings as its tasks do; the outer group's ends follow",
       "task_groups:\n  load: {depends_on: extract}\n  load.check: {depends_on: orders}\n",
       {"extract <- ", "load.users <- extract", "load.orders <- load.users",
        "load.check.a <- load.orders", "load.check.b <- load.check.a", "report <- load.check.b"}},
      {"a group waits for another group's leaves",
       "task_groups:\n  load.check: {depends_on: load.users}\n",
       {"extract <- ", "load.users <- ", "load.orders <- load.users", "load.check.a <- load.users",
        "load.check.b <- load.check.a", "report <- load.orders, load.check.b"}},
  };
  for (const Case& c : cases) {
    SECTION(c.name) {
      auto dag = MustLoad(std::string(c.yaml) + "tasks:" + tasks);
      CHECK(Edges(*dag) == c.edges);
    }
  }
}

TEST_CASE("groups: the model keeps each task's group, and each group's tasks, roots and leaves") {
  auto dag = MustLoad(R"(task_groups:
  load: {depends_on: extract, tooltip: Loads the warehouse}
tasks:
  - {id: extract, command: x}
  - {id: users, group: load, command: x}
  - {id: orders, group: load, command: x, depends_on: users}
  - {id: a, group: load.check, command: x}
  - {id: b, group: load.check, command: x, depends_on: [a, load.users]}
)");
  CHECK(dag->tasks[1].group == "load");
  CHECK(dag->tasks[3].group == "load.check");
  CHECK(dag->tasks[0].group.empty());
  REQUIRE(dag->groups.size() == 2);
  const dagctl::TaskGroup& load = *dag->FindGroup("load");
  CHECK(load.parent.empty());
  CHECK(load.tooltip == "Loads the warehouse");
  CHECK(load.depends_on == std::vector<std::string>{"extract"});
  CHECK(Ids(*dag, load.tasks) ==
        std::vector<std::string>{"load.users", "load.orders", "load.check.a", "load.check.b"});
  CHECK(Ids(*dag, load.roots) == std::vector<std::string>{"load.users", "load.check.a"});
  CHECK(Ids(*dag, load.leaves) == std::vector<std::string>{"load.orders", "load.check.b"});
  const dagctl::TaskGroup& check = *dag->FindGroup("load.check");
  CHECK(check.parent == "load");
  CHECK(check.Label() == "check");
  CHECK(Ids(*dag, check.roots) == std::vector<std::string>{"load.check.a"});
  CHECK(Ids(*dag, check.leaves) == std::vector<std::string>{"load.check.b"});
  CHECK(Ids(*dag, dag->TasksNamed("load.check")) ==
        std::vector<std::string>{"load.check.a", "load.check.b"});
  CHECK(Ids(*dag, dag->TasksNamed("extract")) == std::vector<std::string>{"extract"});
  CHECK(dag->TasksNamed("nope").empty());
}

TEST_CASE("groups: every bad group, id and reference is an error with its place") {
  struct Case {
    const char* name;
    const char* yaml;
    const char* errors;
  };
  const std::vector<Case> cases = {
      {"a group id with a bad character or an empty part",
       "tasks:\n  - {id: a, group: 'a b', command: x}\n  - {id: b, group: 'x..y', command: x}\n",
       "dags/test.yaml:2:20: error: tasks[0]: group 'a b' may only use letters, digits, '_' and "
       "'-', "
       "with '.' between nested groups\n"
       "dags/test.yaml:3:20: error: tasks[1]: group 'x..y' may only use letters, digits, '_' and "
       "'-', with '.' between nested groups\n"},
      {"a dotted task id in a group", "tasks:\n  - {id: x.y, group: g, command: x}\n",
       "dags/test.yaml:2:5: error: tasks[0]: task id 'x.y' in group 'g' cannot contain '.' (nest "
       "groups instead: 'group: g.x', 'id: y')\n"},
      {"a group with a task's id",
       "tasks:\n  - {id: load, command: x}\n  - {id: users, group: load, command: x}\n",
       "dags/test.yaml:3:24: error: tasks[1]: group 'load' has the id of task 'load' (line 2); a "
       "group and a task cannot share an id\n"},
      {"a nested group with a prefixed task's id",
       "tasks:\n  - {id: b, group: a, command: x}\n  - {id: c, group: a.b, command: x}\n",
       "dags/test.yaml:3:20: error: tasks[1]: group 'a.b' has the id of task 'a.b' (line 2); a "
       "group "
       "and a task cannot share an id\n"},
      {"an unknown name, with the full id of a task of that name in another group",
       "tasks:\n  - {id: users, group: load, command: x}\n  - {id: r, group: rep, command: x, "
       "depends_on: users}\n  - {id: s, command: x, depends_on: lod}\n",
       "dags/test.yaml:3:49: error: tasks[1]: depends_on: unknown task or group 'users' (did you "
       "mean 'load.users'?)\n"
       "dags/test.yaml:4:37: error: tasks[2]: depends_on: unknown task or group 'lod' (did you "
       "mean "
       "'load'?)\n"},
      {"a task waiting for its own group",
       "tasks:\n  - {id: a, group: g.h, command: x, depends_on: g}\n",
       "dags/test.yaml:2:49: error: tasks[0]: depends_on: 'g' is a group this task is in (a task "
       "cannot wait for its own group)\n"},
      {"a name both beside the task and a full id",
       "tasks:\n  - {id: x, command: x}\n  - {id: x, group: g, command: x}\n"
       "  - {id: y, group: g, command: x, depends_on: x}\n",
       "dags/test.yaml:4:47: error: tasks[2]: depends_on: 'x' names both 'g.x' (in the same group) "
       "and 'x'; rename one of them\n"},
      {"task_groups naming a group without tasks, and an unknown key",
       "task_groups:\n  lod: {}\n  load: {depend_on: x, tooltip: [a]}\n"
       "tasks:\n  - {id: a, group: load, command: x}\n",
       "dags/test.yaml:2:3: error: task_groups: no task is in group 'lod' (did you mean 'load'?)\n"
       "dags/test.yaml:3:10: error: task_groups.load: unknown key 'depend_on' (did you mean "
       "'depends_on'?)\n"
       "dags/test.yaml:3:33: error: task_groups.load: 'tooltip' must be a string, not a list\n"},
      {"a group waiting for its own task, for a group it is in, or for itself",
       "task_groups:\n  g: {depends_on: g.a}\n  g.h: {depends_on: g}\n  k: {depends_on: k}\n"
       "tasks:\n  - {id: a, group: g, command: x}\n  - {id: b, group: g.h, command: x}\n"
       "  - {id: c, group: k, command: x}\n",
       "dags/test.yaml:2:19: error: task_groups.g: depends_on: 'g.a' is inside this group (a group "
       "cannot wait for itself, its own tasks or a group it is in)\n"
       "dags/test.yaml:3:21: error: task_groups.g.h: depends_on: 'g' contains this group (a group "
       "cannot wait for itself, its own tasks or a group it is in)\n"
       "dags/test.yaml:4:19: error: task_groups.k: depends_on: 'k' is inside this group (a group "
       "cannot wait for itself, its own tasks or a group it is in)\n"},
      {"Airflow's task_group keyword, and a callback in a group",
       "tasks:\n  - {id: a, task_group: g, command: x}\n"
       "  - {id: b, command: x, on_failure: {command: y, group: g}}\n",
       "dags/test.yaml:2:13: error: tasks[0]: unknown key 'task_group' (did you mean 'group'?)\n"
       "dags/test.yaml:3:37: error: tasks[1]: 'on_failure': a callback cannot have a group\n"},
      {"a cycle through a group is printed as its tasks' path",
       "tasks:\n  - {id: a, command: x, depends_on: g}\n  - {id: b, group: g, command: x, "
       "depends_on: a}\n",
       "dags/test.yaml:2:5: error: cycle in task dependencies: a -> g.b -> a\n"},
  };
  for (const Case& c : cases) {
    SECTION(c.name) { CHECK(LoadErrors(c.yaml) == c.errors); }
  }
}

// ---- assets --------------------------------------------------------------------

TEST_CASE("assets: outlets and an asset schedule load; no cron, no start_date needed") {
  auto dag = MustLoad(R"(schedule:
  assets: [s3://wh/orders, "postgres://db/public/users", s3://wh/orders]
catchup: true
tasks:
  - {id: a, command: x, outlets: [file:///data/report.csv]}
)");
  CHECK(dag->schedule_assets == std::vector<std::string>{"s3://wh/orders", "postgres://db/public/users"});
  CHECK(!dag->schedule);
  CHECK(!dag->start_date);
  CHECK(dag->tasks[0].outlets == std::vector<std::string>{"file:///data/report.csv"});
}

TEST_CASE("assets: every bad URI, list and schedule map is an error with its place") {
  struct Case {
    std::string yaml;
    std::string errors;
  };
  const std::string long_uri(3001, 'x');
  const std::vector<Case> cases = {
      {"schedule: {assets: ['']}\n", "1:21: error: 'schedule.assets': an asset URI cannot be empty"},
      {"schedule: {assets: ['   ']}\n",
       "1:21: error: 'schedule.assets': an asset URI cannot be only whitespace"},
      {"schedule: {assets: ['" + long_uri + "']}\n",
       "1:21: error: 'schedule.assets': an asset URI is at most 3000 characters long; this one has "
       "3001"},
      {"schedule: {assets: ['airflow://dag/x']}\n",
       "1:21: error: 'schedule.assets': the asset URI scheme 'airflow' is reserved"},
      {"schedule: {assets: ['s3://wh/é']}\n",
       "1:21: error: 'schedule.assets': an asset URI may only use ASCII characters"},
      {"schedule: {assets: []}\n", "1:20: error: 'schedule.assets' must list at least one asset URI"},
      {"schedule: {assets: s3://wh/a}\n",
       "1:20: error: 'schedule.assets' must be a list of asset URIs, not a scalar"},
      {"schedule: {asets: [s3://wh/a]}\n",
       "1:12: error: 'schedule': unknown key 'asets' (did you mean 'assets'?) (a schedule map "
       "takes 'assets: [URI, ...]')"},
      {"schedule: {}\n", "1:11: error: 'schedule' as a map must have 'assets: [URI, ...]'"},
      {"schedule: {assets: [{uri: x}]}\n",
       "1:21: error: 'schedule.assets' items must be URI strings, not a map"},
  };
  for (const Case& c : cases) {
    INFO(c.yaml);
    CHECK(LoadErrors(c.yaml + "tasks:\n  - {id: a, command: x}\n") ==
          "dags/test.yaml:" + c.errors + "\n");
  }
  CHECK(LoadErrors("tasks:\n  - {id: a, command: x, outlets: ['airflow://x', '']}\n") ==
        "dags/test.yaml:2:35: error: tasks[0]: 'outlets': the asset URI scheme 'airflow' is "
        "reserved\n"
        "dags/test.yaml:2:50: error: tasks[0]: 'outlets': an asset URI cannot be empty\n");
  CHECK(LoadErrors("tasks:\n  - {id: a, command: x, outlets: s3://wh/a}\n") ==
        "dags/test.yaml:2:34: error: tasks[0]: 'outlets' must be a list of asset URIs, not a "
        "scalar\n");
}
