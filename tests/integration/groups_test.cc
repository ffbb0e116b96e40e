// Task groups through the real binary: a DAG with nested groups runs in
// dependency order, a group is cleared with `dagctl clear --task GROUP` and
// through the API's clearTaskInstances, and the scheduler runs it again.
#include <fmt/format.h>
#include <httplib.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "integration/harness.h"

using dagctl::testing::Background;
using dagctl::testing::Encode;
using dagctl::testing::FirstRunId;
using dagctl::testing::Output;
using dagctl::testing::PortOf;
using dagctl::testing::ReadFile;
using dagctl::testing::Sandbox;
using dagctl::testing::WaitFor;
using nlohmann::json;

namespace {

// `extract`, then the group `load` (its roots wait for extract), with
// `load.check` inside it after load.orders; `report` waits for the group's
// leaves. load.orders fails until the file `ready` exists; load.check.totals
// reads the XCom of load.check.rows beside it. Each task appends its id to
// `trace` when it runs.
std::string WriteDag(const Sandbox& sb) {
  std::filesystem::create_directories(sb.work() / "dags");
  std::string trace = (sb.work() / "trace").string(), ready = (sb.work() / "ready").string();
  auto step = [&](const std::string& id, const std::string& extra = "") {
    return fmt::format("command: 'echo {} >> {}{}'", id, trace, extra);
  };
  std::ofstream(sb.work() / "dags" / "grouped.yaml") << fmt::format(
      R"(task_groups:
  load: {{depends_on: extract, tooltip: Loads the warehouse}}
tasks:
  - {{id: extract, {}}}
  - {{id: users, group: load, {}}}
  - {{id: orders, group: load, retries: 0, {}}}
  - {{id: rows, group: load.check, depends_on: load.orders, {}}}
  - {{id: totals, group: load.check, depends_on: rows, {}}}
  - {{id: report, depends_on: load, {}}}
)",
      step("extract"), step("load.users"), step("load.orders", "; test -e " + ready),
      step("load.check.rows", "; echo 42 rows"),
      step("load.check.totals", "; echo got {{ xcom.rows }}"), step("report"));
  return (sb.work() / "dags").string();
}

std::vector<std::string> TraceLines(const Sandbox& sb) {
  std::vector<std::string> lines;
  std::istringstream in(ReadFile(sb.work() / "trace"));
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// Position of `id` in the trace from `from` on; -1 if it is not there.
long Where(const std::vector<std::string>& lines, const std::string& id, size_t from = 0) {
  auto it = std::find(lines.begin() + static_cast<long>(from), lines.end(), id);
  return it == lines.end() ? -1 : it - lines.begin();
}

std::map<std::string, std::string> States(const Sandbox& sb, const std::string& dags,
                                          const std::string& run_id) {
  Output o = sb.Dagctl("tasks grouped '" + run_id + "' --json", dags);
  REQUIRE(o.exit_code == 0);
  json tis = json::parse(o.out)["task_instances"];
  std::map<std::string, std::string> out;
  for (const json& ti : tis)
    out[ti["task_id"].get<std::string>()] =
        ti["state"].is_null() ? "none" : ti["state"].get<std::string>();
  return out;
}

}  // namespace

TEST_CASE(
    "groups: nested groups run in dependency order, and a group is cleared from the CLI and the "
    "API") {
  Sandbox sb;
  std::string dags = WriteDag(sb);
  Output graph = sb.Dagctl("graph grouped", dags);
  REQUIRE(graph.exit_code == 0);
  CHECK(graph.out.find("group load: load.users, load.orders, load.check.rows, load.check.totals\n"
                       "group load.check: load.check.rows, load.check.totals\n") !=
        std::string::npos);
  CHECK(graph.out.find("report <- load.users, load.check.totals [all_success]\n") !=
        std::string::npos);
  Output dot = sb.Dagctl("graph grouped --format dot", dags);
  CHECK(dot.out.find("  subgraph \"cluster_load\" {\n    label=\"load\";\n    \"load.users\" "
                     "[label=\"users\"];\n    \"load.orders\" [label=\"orders\"];\n    subgraph "
                     "\"cluster_load.check\" {\n      label=\"check\";\n") != std::string::npos);
  Output mermaid = sb.Dagctl("graph grouped --format mermaid", dags);
  CHECK(mermaid.out.find(
            "  subgraph g0 [\"load\"]\n    t1[\"users\"]\n    t2[\"orders\"]\n    subgraph "
            "g1 [\"check\"]\n      t3[\"rows\"]\n      t4[\"totals\"]\n    end\n  end\n") !=
        std::string::npos);

  // load.orders fails: what waits for it inside and after the group does not run.
  Output run = sb.Dagctl("run grouped", dags);
  CHECK(run.exit_code == 1);
  std::string run_id = FirstRunId(sb, "grouped", dags);
  CHECK(States(sb, dags, run_id) ==
        std::map<std::string, std::string>{{"extract", "success"},
                                           {"load.users", "success"},
                                           {"load.orders", "failed"},
                                           {"load.check.rows", "upstream_failed"},
                                           {"load.check.totals", "upstream_failed"},
                                           {"report", "upstream_failed"}});
  std::vector<std::string> first = TraceLines(sb);
  REQUIRE(first.size() == 3);
  CHECK(first[0] == "extract");

  Output typo = sb.Dagctl("clear grouped '" + run_id + "' --task lod --yes", dags);
  CHECK(typo.exit_code == 2);
  CHECK(typo.err ==
        "dagctl: clear: DAG 'grouped' has no task or group 'lod' (did you mean 'load'?)\n");

  // Clear the whole group (and what follows it) once load.orders can succeed.
  std::ofstream(sb.work() / "ready") << "";
  Output cleared = sb.Dagctl("clear grouped '" + run_id + "' --task load --downstream --yes", dags);
  REQUIRE(cleared.exit_code == 0);
  CHECK(cleared.out.find(fmt::format("\ncleared 5 task instances of {}: load.check.rows, "
                                     "load.check.totals, load.orders, load.users, report; the run "
                                     "is queued for the scheduler\n",
                                     run_id)) != std::string::npos);
  CHECK(States(sb, dags, run_id).at("extract") == "success");
  CHECK(States(sb, dags, run_id).at("load.users") == "none");

  Background serve(sb, "serve --port 0 --quiet", dags);
  httplib::Client http("127.0.0.1", PortOf(serve));
  std::string run_path = "/api/v1/dags/grouped/dagRuns/" + Encode(run_id);
  auto run_state = [&] {
    auto r = http.Get(run_path.c_str());
    return r && r->status == 200 ? json::parse(r->body)["state"].get<std::string>() : "";
  };
  REQUIRE(WaitFor([&] { return run_state() == "success"; }, 20));
  std::vector<std::string> second = TraceLines(sb);
  REQUIRE(second.size() == 3 + 5);
  CHECK(Where(second, "extract", 3) == -1);  // not cleared: not run again
  CHECK(Where(second, "load.orders", 3) < Where(second, "load.check.rows", 3));
  CHECK(Where(second, "load.check.rows", 3) < Where(second, "load.check.totals", 3));
  CHECK(Where(second, "load.check.totals", 3) < Where(second, "report", 3));
  CHECK(Where(second, "load.users", 3) < Where(second, "report", 3));
  auto log = http.Get((run_path + "/taskInstances/load.check.totals/logs/1").c_str(),
                      {{"Accept", "text/plain"}});
  REQUIRE(log);
  CHECK(log->body.find("got 42 rows\n") != std::string::npos);  // rows' XCom, named beside it

  // The API clears an inner group by its id, as Airflow's UI clears a group.
  auto posted = http.Post("/api/v1/dags/grouped/clearTaskInstances",
                          fmt::format(R"({{"dag_run_id": "{}", "task_ids": ["load.check"],
                                          "dry_run": false, "only_failed": false}})",
                                      run_id),
                          "application/json");
  REQUIRE(posted);
  REQUIRE(posted->status == 200);
  json items = json::parse(posted->body)["task_instances"];
  REQUIRE(items.size() == 2);
  CHECK(items[0]["task_id"] == "load.check.rows");
  CHECK(items[1]["task_id"] == "load.check.totals");
  REQUIRE(WaitFor([&] { return run_state() == "success"; }, 20));
  std::vector<std::string> third = TraceLines(sb);
  CHECK(std::vector<std::string>(third.begin() + 8, third.end()) ==
        std::vector<std::string>{"load.check.rows", "load.check.totals"});
  auto ti = http.Get((run_path + "/taskInstances/load.check.totals").c_str());
  REQUIRE(ti);
  CHECK(json::parse(ti->body)["try_number"] == 2);

  auto grid = http.Get("/api/v1/ui/grid/grouped");
  REQUIRE(grid);
  json groups = json::parse(grid->body)["group_instances"][run_id];
  CHECK(groups["load"]["state"] == "success");
  CHECK(groups["load.check"]["states"] == json({{"success", 2}}));
  CHECK(serve.Signal(SIGTERM) == 0);
}
