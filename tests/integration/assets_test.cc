// Assets through the real binary: a producer run with `dagctl run` records
// its outlet's event, `dagctl assets event` records another from outside, and
// a scheduler in the background (`dagctl serve`) creates the consumer's
// dataset-triggered run, whose log shows {{ triggering_asset_events }}; the
// API's dataset endpoints answer over HTTP.
#include <fmt/format.h>
#include <httplib.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <nlohmann/json.hpp>

#include "integration/harness.h"

using dagctl::testing::Background;
using dagctl::testing::Encode;
using dagctl::testing::Output;
using dagctl::testing::PortOf;
using dagctl::testing::Sandbox;
using dagctl::testing::WaitFor;
using nlohmann::json;

namespace {

std::string WriteDags(const Sandbox& sb) {
  std::filesystem::path dags = sb.work() / "dags";
  std::filesystem::create_directories(dags);
  std::ofstream(dags / "producer.yaml") << R"(tasks:
  - {id: load, command: 'echo loaded', retries: 0, outlets: [s3://wh/orders]}
)";
  std::ofstream(dags / "report.yaml") << R"(schedule:
  assets: [s3://wh/orders, "file:///exports/users.csv"]
tasks:
  - {id: report, command: 'echo events: {{ triggering_asset_events | quote }}'}
)";
  return dags.string();
}

// The report DAG's runs, as `dagctl runs --json` lists them, oldest first.
json ReportRuns(const Sandbox& sb, const std::string& dags) {
  Output o = sb.Dagctl("runs report --json", dags);
  if (o.exit_code != 0) return json::array();
  json runs = json::parse(o.out)["dag_runs"];
  std::reverse(runs.begin(), runs.end());
  return runs;
}

}  // namespace

TEST_CASE("assets: a producer's run and a CLI event trigger the consumer, seen by CLI and API") {
  Sandbox sb;
  std::string dags = WriteDags(sb);

  Output next = sb.Dagctl("next report", dags);
  CHECK(next.exit_code == 0);
  CHECK(next.out == "DAG 'report' runs on asset events: once each of s3://wh/orders, "
                    "file:///exports/users.csv has a new event\n");
  Output unknown = sb.Dagctl("assets event s3://nobody/x", dags);
  CHECK(unknown.exit_code == 1);
  CHECK(unknown.err == "dagctl: no DAG declares asset 's3://nobody/x' (name it in a task's "
                       "'outlets' or a DAG's 'schedule: {assets: [...]}'; see dagctl assets list)\n");
  CHECK(sb.Dagctl("assets event airflow://x", dags).err ==
        "dagctl: the asset URI scheme 'airflow' is reserved\n");
  Output bad_extra = sb.Dagctl("assets event s3://wh/orders --extra '[1]'", dags);
  CHECK(bad_extra.exit_code == 2);
  CHECK(bad_extra.err == "dagctl: --extra must be a JSON object\n");

  // The producer succeeds: its outlet has an event; the report still waits for users.csv.
  REQUIRE(sb.Dagctl("run producer", dags).exit_code == 0);
  Output list = sb.Dagctl("assets list", dags);
  REQUIRE(list.exit_code == 0);
  CHECK(std::regex_search(list.out, std::regex(R"(\nfile:///exports/users\.csv +report *\n)")));
  CHECK(std::regex_search(list.out,
                          std::regex(R"(\ns3://wh/orders +producer\.load +report +\d{4}-\d\d-\d\d )")));
  json listed = json::parse(sb.Dagctl("assets list --json", dags).out);
  REQUIRE(listed["total_entries"] == 2);
  CHECK(listed["datasets"][1]["uri"] == "s3://wh/orders");
  CHECK(listed["datasets"][1]["producing_tasks"][0]["task_id"] == "load");

  Background serve(sb, "serve --port 0 --quiet", dags);
  httplib::Client http("127.0.0.1", PortOf(serve));
  std::this_thread::sleep_for(std::chrono::milliseconds(700));  // a scheduler pass or two
  CHECK(ReportRuns(sb, dags).empty());

  Output event = sb.Dagctl("assets event file:///exports/users.csv --extra '{\"rows\": 12}'", dags);
  REQUIRE(event.exit_code == 0);
  CHECK(event.out.starts_with("Recorded event 2 of file:///exports/users.csv at "));
  REQUIRE(WaitFor([&] {
    json runs = ReportRuns(sb, dags);
    return runs.size() == 1 && runs[0]["state"] == "success";
  }, 20));
  json run = ReportRuns(sb, dags)[0];
  std::string run_id = run["dag_run_id"];
  CHECK(run["run_type"] == "dataset_triggered");
  CHECK(run_id == "dataset_triggered__" + run["logical_date"].get<std::string>());
  Output log = sb.Dagctl("logs report '" + run_id + "' report", dags);
  REQUIRE(log.exit_code == 0);
  std::string printed = dagctl::testing::Printed(log.out);
  auto at = printed.find("events: ");
  REQUIRE(at != std::string::npos);
  json triggering = json::parse(printed.substr(at + 8, printed.find('\n', at) - at - 8));
  CHECK(triggering["s3://wh/orders"][0]["source_dag_id"] == "producer");
  CHECK(triggering["s3://wh/orders"][0]["source_task_id"] == "load");
  CHECK(triggering["file:///exports/users.csv"][0]["extra"] == json{{"rows", 12}});
  CHECK(triggering["file:///exports/users.csv"][0]["source_dag_id"].is_null());

  // Over HTTP: the datasets, one by its encoded URI, the events, the run's upstream events.
  auto get = [&](const std::string& path) {
    auto r = http.Get(("/api/v1" + path).c_str());
    REQUIRE(r);
    INFO(path << " -> " << r->body);
    REQUIRE(r->status == 200);
    return json::parse(r->body);
  };
  CHECK(get("/datasets")["total_entries"] == 2);
  json orders = get("/datasets/" + Encode("s3://wh/orders"));
  CHECK(orders["consuming_dags"][0]["dag_id"] == "report");
  auto missing = http.Get(("/api/v1/datasets/" + Encode("s3://wh/none")).c_str());
  REQUIRE(missing);
  CHECK(missing->status == 404);
  json events = get("/datasets/events?order_by=id");
  REQUIRE(events["total_entries"] == 2);
  CHECK(events["dataset_events"][0]["created_dagruns"][0]["run_id"] == run_id);
  json upstream =
      get("/dags/report/dagRuns/" + Encode(run_id) + "/upstreamDatasetEvents");
  CHECK(upstream["total_entries"] == 2);

  // Events through the API: both assets again make a second run.
  for (const char* uri : {"s3://wh/orders", "file:///exports/users.csv"}) {
    auto posted = http.Post("/api/v1/datasets/events", json{{"dataset_uri", uri}}.dump(),
                            "application/json");
    REQUIRE(posted);
    REQUIRE(posted->status == 200);
    CHECK(json::parse(posted->body)["extra"] == json{{"from_rest_api", true}});
  }
  REQUIRE(WaitFor([&] {
    json runs = ReportRuns(sb, dags);
    return runs.size() == 2 && runs[1]["state"] == "success";
  }, 20));
  CHECK(serve.Signal(SIGTERM) == 0);
}
