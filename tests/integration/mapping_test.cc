// Dynamic task mapping through the real binary: `dagctl run`, `tasks`,
// `logs --map-index`, a clear that expands the task again through the
// scheduler, and the API's mapped instances over HTTP.
#include <catch2/catch.hpp>
#include <httplib.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>

#include "integration/harness.h"

using dagctl::testing::Background;
using dagctl::testing::Output;
using dagctl::testing::Printed;
using dagctl::testing::ReadFile;
using dagctl::testing::Sandbox;
using dagctl::testing::WaitFor;
using nlohmann::json;

namespace {

// A DAG whose first task prints the JSON list in work/files.json; each file
// is converted per region, and `total` gets every instance's value.
std::string WriteDag(const Sandbox& sb, const std::string& files) {
  std::ofstream(sb.work() / "files.json") << files << "\n";
  std::ofstream(sb.work() / "dags" / "convert.yaml") << "tasks:\n"
      "  - {id: list_files, command: 'cat " << (sb.work() / "files.json").string() << "'}\n"
      "  - id: convert\n"
      "    depends_on: list_files\n"
      "    expand: {file: \"{{ xcom.list_files }}\", region: [eu, us]}\n"
      "    command: 'echo {{ file }}-{{ region }}'\n"
      "  - {id: total, depends_on: convert, command: \"echo '{{ xcom.convert }}'\"}\n";
  return (sb.work() / "dags").string();
}

std::string RunState(const Sandbox& sb, const std::string& dags, const std::string& run_id) {
  json runs = json::parse(sb.Dagctl("runs convert --json", dags).out);
  for (const auto& r : runs["dag_runs"])
    if (r["dag_run_id"] == run_id) return r["state"];
  return "";
}

}  // namespace

TEST_CASE("mapping: run, list, read logs per instance, and clear to expand again") {
  Sandbox sb;
  std::filesystem::create_directories(sb.work() / "dags");
  std::string dags = WriteDag(sb, R"(["a", "b"])");
  Output run = sb.Dagctl("run convert", dags);
  INFO(run.out << run.err);
  REQUIRE(run.exit_code == 0);
  CHECK(run.out.find("convert[3]  success  1") != std::string::npos);
  CHECK(run.out.find("(6 success)") != std::string::npos);
  std::string run_id = dagctl::testing::FirstRunId(sb, "convert", dags);

  CHECK(Printed(sb.Dagctl("logs convert '" + run_id + "' total", dags).out) == R"(["a-eu","a-us","b-eu","b-us"])" "\n");
  CHECK(Printed(sb.Dagctl("logs convert '" + run_id + "' convert --map-index 2", dags).out) == "b-eu\n");
  Output whole = sb.Dagctl("logs convert '" + run_id + "' convert", dags);
  CHECK(whole.exit_code == 1);
  CHECK(whole.err == "dagctl: task 'convert' is mapped (4 instances in run '" + run_id +
                         "'): add --map-index N (0 to 3)\n");
  json tis = json::parse(sb.Dagctl("tasks convert '" + run_id + "' --json", dags).out);
  CHECK(tis["total_entries"] == 6);

  // One file now: clearing from list_files makes two instances, whose tries go on counting.
  WriteDag(sb, R"(["x"])");
  Output cleared = sb.Dagctl("clear convert '" + run_id + "' --task list_files --downstream --yes", dags);
  CHECK(cleared.out.find("cleared 6 task instances") != std::string::npos);
  {
    Background scheduler(sb, "scheduler", dags);
    REQUIRE(WaitFor([&] { return RunState(sb, dags, run_id) == "success"; }, 15));
  }
  std::string tasks = sb.Dagctl("tasks convert '" + run_id + "'", dags).out;
  CHECK(tasks.find("convert[0]  success  2") != std::string::npos);
  CHECK(tasks.find("convert[1]  success  2") != std::string::npos);
  CHECK(tasks.find("convert[2]") == std::string::npos);
  CHECK(Printed(sb.Dagctl("logs convert '" + run_id + "' total", dags).out) == R"(["x-eu","x-us"])" "\n");

  // No file: the mapped task is skipped, and so is its all_success downstream.
  WriteDag(sb, "[]");
  sb.Dagctl("clear convert '" + run_id + "' --task list_files --downstream --yes", dags);
  {
    Background scheduler(sb, "scheduler", dags);
    REQUIRE(WaitFor([&] { return RunState(sb, dags, run_id) == "success"; }, 15));
  }
  tasks = sb.Dagctl("tasks convert '" + run_id + "'", dags).out;
  INFO(tasks);
  CHECK(std::regex_search(tasks, std::regex(R"(\nconvert +skipped)")));
  CHECK(std::regex_search(tasks, std::regex(R"(\ntotal +skipped)")));
}

TEST_CASE("mapping: serve answers listMapped, one instance and its log over HTTP") {
  Sandbox sb;
  std::filesystem::create_directories(sb.work() / "dags");
  std::string dags = WriteDag(sb, R"(["a"])");
  Background serve(sb, "serve --port 0 --quiet", dags);
  httplib::Client http("127.0.0.1", dagctl::testing::PortOf(serve));
  auto posted = http.Post("/api/v1/dags/convert/dagRuns", R"({"dag_run_id": "r1"})", "application/json");
  REQUIRE(posted);
  REQUIRE(posted->status == 200);
  std::string base = "/api/v1/dags/convert/dagRuns/r1/taskInstances/convert";
  REQUIRE(WaitFor([&] {
    auto r = http.Get("/api/v1/dags/convert/dagRuns/r1");
    return r && json::parse(r->body)["state"] == "success";
  }, 15));
  auto list = http.Get((base + "/listMapped").c_str());
  REQUIRE(list);
  json l = json::parse(list->body);
  REQUIRE(l["total_entries"] == 2);
  CHECK(l["task_instances"][1]["rendered_map_index"] == "file=a, region=us");
  auto one = http.Get((base + "/1").c_str());
  REQUIRE(one);
  CHECK(json::parse(one->body)["state"] == "success");
  auto log = http.Get((base + "/logs/1?map_index=1").c_str(), {{"Accept", "text/plain"}});
  REQUIRE(log);
  CHECK(dagctl::testing::Printed(log->body) == "a-us\n");
  auto whole = http.Get(base.c_str());
  REQUIRE(whole);
  CHECK(whole->status == 404);
  CHECK(serve.Signal(SIGTERM) == 0);
}
