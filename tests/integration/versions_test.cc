// DAG versions through the real binary: a run keeps the version it was
// created from while the file changes, and `dagctl show` and the API's
// /dagSources give each version's text.
#include <httplib.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "integration/harness.h"

using dagctl::testing::Background;
using dagctl::testing::Encode;
using dagctl::testing::Output;
using dagctl::testing::PortOf;
using dagctl::testing::ReadFile;
using dagctl::testing::Sandbox;
using dagctl::testing::WaitFor;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

const char kV1[] =
    "tasks:\n"
    "  - {id: first, command: 'sleep 2'}\n"
    "  - {id: second, command: 'echo from-v1', depends_on: first}\n";
const char kV2[] =
    "description: the second version\n"
    "tasks:\n"
    "  - {id: first, command: 'sleep 2'}\n"
    "  - {id: second, command: 'echo from-version-2', depends_on: first}\n";

// GET `path` as JSON; null unless it answered 200.
json GetJson(httplib::Client& http, const std::string& path) {
  auto r = http.Get(path.c_str());
  return r && r->status == 200 ? json::parse(r->body) : json(nullptr);
}

}  // namespace

TEST_CASE(
    "versions: a run started before its file changed keeps its version; show and /dagSources give "
    "both") {
  Sandbox sb;
  fs::path dags = sb.work() / "dags";
  fs::create_directories(dags);
  std::ofstream(dags / "ver.yaml") << kV1;
  Background serve(sb, "serve --port 0 --quiet", dags.string());
  httplib::Client http("127.0.0.1", PortOf(serve));
  auto posted = http.Post("/api/v1/dags/ver/dagRuns", "{}", "application/json");
  REQUIRE(posted);
  REQUIRE(posted->status == 200);
  std::string run_id = json::parse(posted->body)["dag_run_id"];
  std::string run_path = "/api/v1/dags/ver/dagRuns/" + Encode(run_id);
  REQUIRE(WaitFor(
      [&] { return GetJson(http, run_path + "/taskInstances/first")["state"] == "running"; }, 10));
  std::ofstream(dags / "ver.yaml", std::ios::trunc) << kV2;
  REQUIRE(WaitFor([&] { return GetJson(http, run_path)["state"] == "success"; }, 15));

  // The run's second task ran the version the run was created from.
  CHECK(GetJson(http, run_path + "/taskInstances/second/logs/1")["content"] == "from-v1\n");
  Output shown = sb.Dagctl("show ver --run '" + run_id + "'", dags.string());
  CHECK(shown.exit_code == 0);
  CHECK(shown.out == kV1);
  Output current = sb.Dagctl("show ver", dags.string());
  CHECK(current.exit_code == 0);
  CHECK(current.out == kV2);
  Output unknown = sb.Dagctl("show ver --run nope", dags.string());
  CHECK(unknown.exit_code == 1);
  CHECK(unknown.err == "dagctl: DAG 'ver' has no run 'nope'\n");

  // The API: the DAG's file_token opens the current text; the run's, its own.
  REQUIRE(
      WaitFor([&] { return GetJson(http, "/api/v1/ui/versions/ver")["total_entries"] == 2; }, 5));
  REQUIRE(WaitFor(
      [&] { return GetJson(http, "/api/v1/dags/ver")["description"] == "the second version"; }, 5));
  std::string current_token = GetJson(http, "/api/v1/dags/ver")["file_token"];
  CHECK(GetJson(http, "/api/v1/dagSources/" + current_token)["content"] == kV2);
  json versions = GetJson(http, "/api/v1/ui/versions/ver?dag_run_id=" + Encode(run_id));
  CHECK(versions["dag_run"]["version_number"] == 1);
  CHECK(versions["current"]["version_number"] == 2);
  std::string run_token = versions["dag_run"]["file_token"];
  CHECK(GetJson(http, "/api/v1/dagSources/" + run_token)["content"] == kV1);
  auto text = http.Get(("/api/v1/dagSources/" + run_token).c_str(), {{"Accept", "text/plain"}});
  REQUIRE(text);
  CHECK(text->status == 200);
  CHECK(text->body == kV1);
  // A token names a stored version, never a path: nothing else can be read.
  for (const char* bad : {"%2E%2E%2Fetc%2Fpasswd", "..", "not-a-token"}) {
    auto garbled = http.Get((std::string("/api/v1/dagSources/") + bad).c_str());
    REQUIRE(garbled);
    CHECK(garbled->status == 404);
    CHECK(json::parse(garbled->body)["status"] == 404);
  }
  CHECK(serve.Signal(SIGTERM) == 0);
}
