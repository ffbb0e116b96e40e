// The CLI's answers to good and bad input: exit codes and exact messages.
#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "integration/harness.h"

using dagctl::testing::FirstRunId;
using dagctl::testing::Output;
using dagctl::testing::Printed;
using dagctl::testing::Sandbox;
using nlohmann::json;

TEST_CASE("validate prints every error and exits 2, a clean folder exits 0") {
  Sandbox sb;
  Output bad = sb.Dagctl("validate " FIXTURES_DIR "/broken");
  CHECK(bad.exit_code == 2);
  CHECK(bad.err == FIXTURES_DIR
        "/broken/bad.yaml:5:5: error: tasks[0]: unknown key 'depend_on' (did you mean "
        "'depends_on'?)\n");
  Output good = sb.Dagctl("validate");
  CHECK(good.exit_code == 0);
  CHECK(good.out == "OK: 3 DAGs, 10 tasks\n");
}

TEST_CASE("list shows DAGs and import errors, and --json uses Airflow names") {
  Sandbox sb;
  Output o = sb.Dagctl("list", FIXTURES_DIR "/broken");
  CHECK(o.exit_code == 0);
  CHECK(o.out.find("good ") != std::string::npos);
  CHECK(o.out.find("1 import error:") != std::string::npos);
  json j = json::parse(sb.Dagctl("list --json", FIXTURES_DIR "/broken").out);
  CHECK(j["total_entries"] == 1);
  CHECK(j["dags"][0]["dag_id"] == "good");
  CHECK(j["dags"][0]["is_paused"] == false);
  CHECK(j["import_errors"][0]["filename"] == FIXTURES_DIR "/broken/bad.yaml");
}

TEST_CASE("dagctl --version and dagctl version print its version") {
  Sandbox sb;
  Output v = sb.Dagctl("--version");
  CHECK(v.exit_code == 0);
  CHECK(v.out == std::string("dagctl ") + DAGCTL_VERSION + "\n");
  CHECK(sb.Dagctl("version").out == v.out);
}

TEST_CASE("bad usage exits 2 with a hint") {
  Sandbox sb;
  Output o = sb.Dagctl("rnu pipeline");
  CHECK(o.exit_code == 2);
  CHECK(o.err ==
        "dagctl: unknown command 'rnu' (did you mean 'run'?)\nRun 'dagctl help' for the list.\n");
  o = sb.Dagctl("run pipeline --dat 2026-01-01");
  CHECK(o.exit_code == 2);
  CHECK(o.err ==
        "dagctl run: unknown option '--dat' (did you mean '--date'?)\n"
        "usage: dagctl run DAG [--date D] [--param K=V]...\n");
  o = sb.Dagctl("run pipelin");
  CHECK(o.exit_code == 2);
  CHECK(o.err == "dagctl: no DAG 'pipelin' in " FIXTURES_DIR "/dags (did you mean 'pipeline'?)\n");
  o = sb.Dagctl("run pipeline --date yesterday");
  CHECK(o.exit_code == 2);
  CHECK(o.err ==
        "dagctl: --date: 'yesterday' is not a date or date-time (expected YYYY-MM-DD or "
        "YYYY-MM-DDTHH:MM:SS)\n");
  o = sb.Dagctl("run pipeline --param nope=1");
  CHECK(o.exit_code == 2);
  CHECK(o.err == "dagctl: --param: DAG 'pipeline' has no param 'nope'\n");
}

TEST_CASE("graph prints the resolved graph as text, dot and mermaid") {
  Sandbox sb;
  Output text = sb.Dagctl("graph pipeline");
  CHECK(text.out ==
        "layer 0: extract\n"
        "layer 1: transform, optional\n"
        "layer 2: after_optional, load\n"
        "transform <- extract [all_success]\n"
        "optional <- extract [all_success]\n"
        "after_optional <- optional [all_success]\n"
        "load <- transform [all_success]\n");
  Output dot = sb.Dagctl("graph pipeline --format dot");
  CHECK(dot.out.find("\"extract\" -> \"transform\";") != std::string::npos);
  Output mermaid = sb.Dagctl("graph pipeline --format mermaid");
  CHECK(mermaid.out.rfind("flowchart LR\n", 0) == 0);
  CHECK(sb.Dagctl("graph pipeline --format svg").exit_code == 2);
}

TEST_CASE("logs of an unknown task or try say so") {
  Sandbox sb;
  REQUIRE(
      sb.Dagctl("run pipeline --date 2026-03-01 --param out_dir=" + sb.work().string()).exit_code ==
      0);
  Output o = sb.Dagctl("logs pipeline manual__2026-03-01T00:00:00+00:00 nope");
  CHECK(o.exit_code == 1);
  CHECK(o.err ==
        "dagctl: run 'manual__2026-03-01T00:00:00+00:00' of 'pipeline' has no task 'nope'\n");
  o = sb.Dagctl("logs pipeline manual__2026-03-01T00:00:00+00:00 extract --try 2");
  CHECK(o.exit_code == 1);
  CHECK(o.err == "dagctl: task 'extract' has 1 try in run 'manual__2026-03-01T00:00:00+00:00'\n");
}

TEST_CASE("variables are set, read by templates, listed and deleted") {
  Sandbox sb;
  REQUIRE(sb.Dagctl("variables set region eu-west").exit_code == 0);
  CHECK(sb.Dagctl("variables get region").out == "eu-west\n");
  CHECK(sb.Dagctl("variables list --json").out.find("\"key\": \"region\"") != std::string::npos);
  std::ofstream(sb.work() / "vars.yaml")
      << "tasks:\n  - {id: start, operator: empty}\n"
      << "  - {id: use, command: 'echo {{ var.region }}', depends_on: start}\n";
  REQUIRE(sb.Dagctl("run " + (sb.work() / "vars.yaml").string()).exit_code == 0);
  std::string run_id = FirstRunId(sb, "vars");
  CHECK(Printed(sb.Dagctl("logs vars '" + run_id + "' use").out) == "eu-west\n");
  CHECK(sb.Dagctl("variables delete region").exit_code == 0);
  Output gone = sb.Dagctl("variables get region");
  CHECK(gone.exit_code == 1);
  CHECK(gone.err == "dagctl: variable 'region' is not set\n");
  Output bad = sb.Dagctl("variables frob");
  CHECK(bad.exit_code == 2);
}

TEST_CASE("pools: set, list and delete from the CLI, and a pool of one slot runs its tasks one at a time") {
  Sandbox sb;
  Output list = sb.Dagctl("pools list");
  REQUIRE(list.exit_code == 0);
  CHECK(list.out.find("default_pool  128    0        0       0          128   Default pool") !=
        std::string::npos);
  Output bad = sb.Dagctl("pools set narrow many");
  CHECK(bad.exit_code == 2);
  CHECK(bad.err.find("pool slots must be a whole number from 0, not 'many'") != std::string::npos);

  std::string trace = (sb.work() / "trace").string();
  std::string step = fmt::format("command: 'echo start >> {0}; sleep 0.3; echo end >> {0}'", trace);
  std::ofstream(sb.work() / "pooled.yaml") << fmt::format(
      "tasks:\n  - {{id: a, pool: narrow, {0}}}\n  - {{id: b, pool: narrow, {0}}}\n"
      "  - {{id: c, pool: narrow, {0}}}\n",
      step);
  std::string dag = (sb.work() / "pooled.yaml").string();
  // Without its pool, the run would wait for ever: `run` says so and starts nothing.
  Output missing = sb.Dagctl("run " + dag);
  CHECK(missing.exit_code == 1);
  CHECK(missing.err ==
        "dagctl: task a of pooled waits for pool 'narrow', which does not exist (create it: "
        "dagctl pools set narrow SLOTS)\n");
  CHECK(sb.Dagctl("runs pooled --json").out.find("dag_run_id") == std::string::npos);

  Output set = sb.Dagctl("pools set narrow 1 --description 'one at a time'");
  REQUIRE(set.exit_code == 0);
  CHECK(sb.Dagctl("pools list").out.find("narrow        1      0        0       0          1     one at a time") !=
        std::string::npos);
  REQUIRE(sb.Dagctl("run " + dag).exit_code == 0);
  // One slot: every task ended before the next started.
  CHECK(dagctl::testing::ReadFile(sb.work() / "trace") == "start\nend\nstart\nend\nstart\nend\n");

  json pools = json::parse(sb.Dagctl("pools list --json").out);
  REQUIRE(pools["pools"].size() == 2);
  CHECK(pools["pools"][1]["name"] == "narrow");
  CHECK(pools["pools"][1]["slots"] == 1);
  CHECK(pools["pools"][1]["open_slots"] == 1);
  CHECK(sb.Dagctl("pools delete narrow").exit_code == 0);
  Output again = sb.Dagctl("pools delete narrow");
  CHECK(again.exit_code == 1);
  CHECK(again.err.find("narrow") != std::string::npos);
  Output keep = sb.Dagctl("pools delete default_pool");
  CHECK(keep.exit_code == 1);
}
