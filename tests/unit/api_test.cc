// The REST API answered in-process, every response checked against Airflow's
// OpenAPI document (../shared/airflow-v1.yaml, loaded as data).
#include <fmt/format.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <regex>
#include <filesystem>
#include <fstream>
#include <algorithm>
#include <map>
#include <regex>
#include <set>
#include <tuple>

#include "api/api_service.h"
#include "engine/connection.h"
#include "engine/executor.h"
#include "engine/log_file.h"
#include "engine/text.h"
#include "engine/try_log.h"
#include "engine/runs.h"
#include "engine/store/sql_store.h"
#include "fakes/fake_try_runner.h"
#include "fakes/load.h"
#include "fakes/openapi.h"

using namespace dagctl;
using namespace dagctl::testing;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

const OpenApi& Spec() {
  static OpenApi spec(AIRFLOW_SPEC);
  return spec;
}

class ApiHarness {
 public:
  /// `extra_dags`: more DAG files (name -> text) beside the usual three.
  explicit ApiHarness(const std::map<std::string, std::string>& extra_dags = {})
      : dir_(fs::temp_directory_path() / ("dagctl_api_" + std::to_string(::getpid()))),
        clock_(ParseDateTime("2026-03-10T12:00:00Z").value()) {
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "dags");
    std::ofstream(dir_ / "dags" / "etl.yaml") << R"(description: "<b>etl</b>"
tags: [daily, core]
schedule: "0 2 * * *"
start_date: 2026-03-01
params: {n: 1}
tasks:
  - {id: extract, command: 'echo {{ params.n }}'}
  - {id: load, command: x, depends_on: extract, retries: 0}
)";
    std::ofstream(dir_ / "dags" / "other.yaml")
        << "dagrun_timeout: 1h30m\ntasks:\n  - {id: t, command: x}\n"
        << "  - {id: each, depends_on: t, expand: {n: [a, b, c]}, retries: 0, command: 'echo {{ n }}'}\n";
    std::ofstream(dir_ / "dags" / "broken.yaml") << "tasks: [\n";
    for (const auto& [name, text] : extra_dags) std::ofstream(dir_ / "dags" / name) << text;
    store_ = std::move(OpenSqliteStore((dir_ / "db").string()).value());
    dags_ = std::make_unique<api::DagSource>((dir_ / "dags").string(), Operators());
    service_ = std::make_unique<api::ApiService>(
        api::ApiContext{[this] { return store_.get(); }, dags_.get(), (dir_ / "logs").string(), &clock_});
  }
  ~ApiHarness() { fs::remove_all(dir_); }

  // Sends a request; checks the reply against the spec for `path_template`.
  json Call(const std::string& method, const std::string& path, const std::string& path_template,
            int want_status, const std::string& body = "") {
    api::ApiRequest req{method, path.substr(0, path.find('?')), {}, body};
    if (auto q = path.find('?'); q != std::string::npos) {
      std::stringstream in(path.substr(q + 1));
      for (std::string kv; std::getline(in, kv, '&');)
        req.query.emplace(kv.substr(0, kv.find('=')), kv.substr(kv.find('=') + 1));
    }
    api::ApiResponse resp = service_->Handle(req);
    INFO(method << " " << path << " -> " << resp.status << " " << resp.body);
    REQUIRE(resp.status == want_status);
    if (want_status == 204) {
      CHECK(resp.body.empty());
      return nullptr;
    }
    json j = json::parse(resp.body);
    if (path_template.empty()) return j;  // dagctl's own endpoints: not in Airflow's spec
    std::string lower = method;
    for (char& c : lower) c = static_cast<char>(std::tolower(c));
    auto errors = Spec().Check(Spec().ResponseSchema(path_template, lower, want_status), j);
    std::string all;
    for (const auto& e : errors) all += e + "\n";
    INFO("schema violations:\n" << all);
    CHECK(errors.empty());
    return j;
  }

  // Sends a request as is; the raw response.
  api::ApiResponse Raw(const std::string& method, const std::string& path, const std::string& body) {
    return service_->Handle(api::ApiRequest{method, path, {}, body});
  }

  // Sends a GET with an Accept header; the raw response.
  api::ApiResponse Get(const std::string& path, const std::string& accept) {
    api::ApiRequest req{"GET", path, {}, ""};
    req.accept = accept;
    req.wants_text = accept.find("text/plain") != std::string::npos &&
                     accept.find("application/json") == std::string::npos;
    return service_->Handle(req);
  }

  std::string DagText(const std::string& name) {
    std::ifstream in(dir_ / "dags" / name);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

  // Runs `run_id` of a DAG (etl unless said) to its end with scripted tries.
  void Execute(const std::string& run_id, FakeTryRunner& runner, const std::string& dag_id = "etl") {
    ExecutorOptions opts;
    opts.logs_dir = (dir_ / "logs").string();
    Executor ex(*store_, runner, clock_, opts);
    for (const auto& dag : dags_->Get()->dags)
      if (dag->dag_id == dag_id) REQUIRE(ex.Run(dag, run_id));
  }

  FakeClock& clock() { return clock_; }
  Store& store() { return *store_; }
  fs::path logs() const { return dir_ / "logs"; }

 private:
  fs::path dir_;
  FakeClock clock_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<api::DagSource> dags_;
  std::unique_ptr<api::ApiService> service_;
};

}  // namespace

TEST_CASE("api: health, DAG list with paging and filters, DAG, tasks, import errors") {
  ApiHarness h;
  json health = h.Call("GET", "/health", "/health", 200);
  CHECK(health["metadatabase"]["status"] == "healthy");
  CHECK(health["scheduler"]["status"] == "unhealthy");
  REQUIRE(h.store().Heartbeat("scheduler", "me:1", h.clock().Now()));
  CHECK(h.Call("GET", "/health", "/health", 200)["scheduler"]["status"] == "healthy");

  json version = h.Call("GET", "/version", "/version", 200);
  CHECK(version["version"] == DAGCTL_VERSION);
  CHECK(version["git_version"] == nullptr);
  h.Call("POST", "/version", "", 405);

  json dags = h.Call("GET", "/dags", "/dags", 200);
  CHECK(dags["total_entries"] == 2);
  CHECK(dags["dags"][0]["dag_id"] == "etl");
  CHECK(dags["dags"][0]["description"] == "<b>etl</b>");
  CHECK(dags["dags"][0]["schedule_interval"]["value"] == "0 2 * * *");
  CHECK(dags["dags"][0]["next_dagrun"] == "2026-03-10T02:00:00+00:00");
  CHECK(dags["dags"][0]["next_dagrun_create_after"] == "2026-03-11T02:00:00+00:00");
  json page = h.Call("GET", "/dags?limit=1&offset=1", "/dags", 200);
  CHECK(page["dags"].size() == 1);
  CHECK(page["dags"][0]["dag_id"] == "other");
  CHECK(page["total_entries"] == 2);
  CHECK(h.Call("GET", "/dags?tags=core", "/dags", 200)["total_entries"] == 1);
  CHECK(h.Call("GET", "/dags?order_by=-dag_id", "/dags", 200)["dags"][0]["dag_id"] == "other");

  json paused = h.Call("PATCH", "/dags/etl", "/dags/{dag_id}", 200, R"({"is_paused": true})");
  CHECK(paused["is_paused"] == true);
  CHECK(h.store().IsPaused("etl").value());
  CHECK(h.Call("GET", "/dags?paused=true", "/dags", 200)["dags"][0]["dag_id"] == "etl");

  json tasks = h.Call("GET", "/dags/etl/tasks", "/dags/{dag_id}/tasks", 200);
  CHECK(tasks["total_entries"] == 2);
  CHECK(tasks["tasks"][0]["task_id"] == "extract");
  CHECK(tasks["tasks"][0]["downstream_task_ids"] == json::array({"load"}));
  CHECK(tasks["tasks"][1]["retries"] == 0);

  json errors = h.Call("GET", "/importErrors", "/importErrors", 200);
  CHECK(errors["total_entries"] == 1);
  CHECK(errors["import_errors"][0]["stack_trace"].get<std::string>().find("invalid YAML") !=
        std::string::npos);
}

TEST_CASE("api: trigger, list and read runs and task instances, logs, clear") {
  ApiHarness h;
  json run = h.Call("POST", "/dags/etl/dagRuns", "/dags/{dag_id}/dagRuns", 200,
                    R"({"conf": {"n": 5}, "logical_date": "2026-03-05T00:00:00Z"})");
  CHECK(run["dag_run_id"] == "manual__2026-03-05T00:00:00+00:00");
  CHECK(run["state"] == "queued");
  CHECK(run["conf"] == json({{"n", 5}}));
  CHECK(run["data_interval_end"] == "2026-03-05T02:00:00+00:00");
  h.Call("POST", "/dags/etl/dagRuns", "/dags/{dag_id}/dagRuns", 200, R"({"dag_run_id": "mine"})");
  json dup = h.Call("POST", "/dags/etl/dagRuns", "/dags/{dag_id}/dagRuns", 409, R"({"dag_run_id": "mine"})");
  CHECK(dup["status"] == 409);
  json bad = h.Call("POST", "/dags/etl/dagRuns", "/dags/{dag_id}/dagRuns", 400, R"({"conf": {"m": 1}})");
  CHECK(bad["detail"] == "DAG 'etl' has no param 'm' (did you mean 'n'?)");
  h.Call("POST", "/dags/etl/dagRuns", "/dags/{dag_id}/dagRuns", 400, R"({"state": "success"})");
  h.Call("POST", "/dags/etl/dagRuns", "/dags/{dag_id}/dagRuns", 400, "{not json");
  h.Call("POST", "/dags/etl/dagRuns", "/dags/{dag_id}/dagRuns", 400, R"({"dag_run_id": "../x"})");

  FakeTryRunner runner(h.clock());
  runner.Script("load", {{1, std::chrono::milliseconds(5)}});
  h.Execute("manual__2026-03-05T00:00:00+00:00", runner);
  AppendLogLine(TryLogPath(h.logs().string(), "etl", "manual__2026-03-05T00:00:00+00:00", "extract", 1),
                "hello <script>");

  json runs = h.Call("GET", "/dags/etl/dagRuns?order_by=-execution_date", "/dags/{dag_id}/dagRuns", 200);
  CHECK(runs["total_entries"] == 2);
  CHECK(runs["dag_runs"][0]["dag_run_id"] == "mine");
  CHECK(h.Call("GET", "/dags/etl/dagRuns?state=failed", "/dags/{dag_id}/dagRuns", 200)["total_entries"] == 1);
  CHECK(h.Call("GET", "/dags/~/dagRuns?limit=1", "/dags/{dag_id}/dagRuns", 200)["dag_runs"].size() == 1);
  h.Call("GET", "/dags/etl/dagRuns?limit=abc", "/dags/{dag_id}/dagRuns", 400);
  h.Call("GET", "/dags/etl/dagRuns?order_by=color", "/dags/{dag_id}/dagRuns", 400);
  h.Call("GET", "/dags/nope/dagRuns", "/dags/{dag_id}/dagRuns", 404);

  std::string rid = "manual__2026-03-05T00:00:00+00:00";
  json one = h.Call("GET", "/dags/etl/dagRuns/" + rid, "/dags/{dag_id}/dagRuns/{dag_run_id}", 200);
  CHECK(one["state"] == "failed");
  h.Call("GET", "/dags/etl/dagRuns/nope", "/dags/{dag_id}/dagRuns/{dag_run_id}", 404);
  json tis = h.Call("GET", "/dags/etl/dagRuns/" + rid + "/taskInstances",
                    "/dags/{dag_id}/dagRuns/{dag_run_id}/taskInstances", 200);
  CHECK(tis["total_entries"] == 2);
  json ti = h.Call("GET", "/dags/etl/dagRuns/" + rid + "/taskInstances/load",
                   "/dags/{dag_id}/dagRuns/{dag_run_id}/taskInstances/{task_id}", 200);
  CHECK(ti["state"] == "failed");
  CHECK(ti["try_number"] == 1);
  std::string log_path = "/dags/{dag_id}/dagRuns/{dag_run_id}/taskInstances/{task_id}/logs/{task_try_number}";
  json log = h.Call("GET", "/dags/etl/dagRuns/" + rid + "/taskInstances/extract/logs/1", log_path, 200);
  // The try's header and footer, then the line written here, each with its time.
  CHECK(std::regex_search(log["content"].get<std::string>(),
                          std::regex(R"(^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z \[dagctl\] try 1 of \d+: )")));
  CHECK(std::regex_search(log["content"].get<std::string>(), std::regex(R"(Z \[dagctl\] hello <script>\n$)")));
  h.Call("GET", "/dags/etl/dagRuns/" + rid + "/taskInstances/extract/logs/2", log_path, 404);
  h.Call("GET", "/dags/etl/dagRuns/" + rid + "/taskInstances/extract/logs/x", log_path, 400);

  std::string clear_path = "/dags/{dag_id}/clearTaskInstances";
  json dry = h.Call("POST", "/dags/etl/clearTaskInstances", clear_path, 200,
                    R"({"dag_run_id": ")" + rid + R"("})");
  CHECK(dry["task_instances"].size() == 1);
  CHECK(dry["task_instances"][0]["task_id"] == "load");
  CHECK(h.store().GetDagRun("etl", rid).value().state == RunState::kFailed);
  json done = h.Call("POST", "/dags/etl/clearTaskInstances", clear_path, 200,
                     R"({"dag_run_id": ")" + rid + R"(", "dry_run": false, "only_failed": false,
                         "task_ids": ["extract"], "include_downstream": true})");
  CHECK(done["task_instances"].size() == 2);
  CHECK(h.store().GetDagRun("etl", rid).value().state == RunState::kQueued);
  h.Call("POST", "/dags/etl/clearTaskInstances", clear_path, 400, R"({"dry_run": "no"})");
}

TEST_CASE("api: unknown paths, wrong methods and ids answer with problem JSON") {
  ApiHarness h;
  json e = h.Call("GET", "/dags/nope", "/dags/{dag_id}", 404);
  CHECK(e["title"] == "DAG not found");
  CHECK(e["detail"] == "DAG with dag_id: 'nope' not found");
  h.Call("DELETE", "/dags/etl/dagRuns", "/dags/{dag_id}", 405);
  h.Call("GET", "/no/such/thing", "/dags/{dag_id}", 404);
  h.Call("PATCH", "/dags/etl", "/dags/{dag_id}", 400, R"({"is_paused": "yes"})");
  h.Call("PATCH", "/dags/etl?update_mask=description", "/dags/{dag_id}", 400, R"({"is_paused": true})");
}

TEST_CASE("api: DAG details with params, and the dashboard's grid and graph views") {
  ApiHarness h;
  json details = h.Call("GET", "/dags/etl/details", "/dags/{dag_id}/details", 200);
  CHECK(details["params"]["n"]["value"] == 1);
  CHECK(details["timezone"] == "UTC");
  CHECK(details["catchup"] == false);

  for (const char* date : {"2026-03-01T00:00:00Z", "2026-03-02T00:00:00Z", "2026-03-03T00:00:00Z"})
    h.Call("POST", "/dags/etl/dagRuns", "/dags/{dag_id}/dagRuns", 200,
           std::string(R"({"logical_date": ")") + date + "\"}");
  FakeTryRunner runner(h.clock());
  runner.Script("load", {{1, std::chrono::milliseconds(1)}});
  h.Execute("manual__2026-03-02T00:00:00+00:00", runner);
  json grid = h.Call("GET", "/ui/grid/etl?limit=2", "", 200);
  CHECK(grid["tasks"] == json::array({"extract", "load"}));
  CHECK(grid["total_entries"] == 3);
  REQUIRE(grid["dag_runs"].size() == 2);
  CHECK(grid["dag_runs"][0]["dag_run_id"] == "manual__2026-03-03T00:00:00+00:00");
  json cells = grid["task_instances"]["manual__2026-03-02T00:00:00+00:00"];
  CHECK(cells["extract"]["state"] == "success");
  CHECK(cells["load"]["state"] == "failed");
  CHECK(grid["task_instances"]["manual__2026-03-03T00:00:00+00:00"]["load"]["state"] == nullptr);

  json graph = h.Call("GET", "/ui/graph/etl", "", 200);
  CHECK(graph["nodes"][1] == json({{"id", "load"},
                                   {"kind", "task"},
                                   {"label", "load"},
                                   {"group", nullptr},
                                   {"layer", 1},
                                   {"order", 0},
                                   {"operator", "shell"},
                                   {"trigger_rule", "all_success"}}));
  CHECK(graph["groups"] == json::array());
  CHECK(graph["edges"] == json::array({json::array({"extract", "load"})}));
  h.Call("GET", "/ui/grid/nope", "", 404);
}

TEST_CASE("api: the workers view lists the workers with a recent heartbeat") {
  ApiHarness h;
  CHECK(h.Call("GET", "/ui/workers", "", 200)["total_entries"] == 0);
  Timestamp now = h.store().Now().value();
  REQUIRE(h.store().WorkerHeartbeat({"w1", "node-a", {"default", "spark"}, 8, 3, now, now}));
  json w = h.Call("GET", "/ui/workers", "", 200);
  REQUIRE(w["total_entries"] == 1);
  CHECK(w["workers"][0]["name"] == "w1");
  CHECK(w["workers"][0]["hostname"] == "node-a");
  CHECK(w["workers"][0]["queues"] == json::array({"default", "spark"}));
  CHECK(w["workers"][0]["slots_used"] == 3);
  CHECK(w["workers"][0]["slots"] == 8);
  h.Call("POST", "/ui/workers", "", 405);
}

TEST_CASE("api: pools are created, listed, read, updated and deleted as Airflow's /pools does") {
  ApiHarness h;
  json list = h.Call("GET", "/pools", "/pools", 200);
  REQUIRE(list["total_entries"] == 1);
  CHECK(list["pools"][0]["name"] == "default_pool");
  CHECK(list["pools"][0]["slots"] == 128);
  CHECK(list["pools"][0]["open_slots"] == 128);

  json made = h.Call("POST", "/pools", "/pools", 200,
                     R"({"name": "warehouse", "slots": 2, "description": "one load at a time"})");
  CHECK(made["name"] == "warehouse");
  CHECK(made["slots"] == 2);
  CHECK(made["description"] == "one load at a time");
  CHECK(made["occupied_slots"] == 0);
  CHECK(h.Call("POST", "/pools", "/pools", 409, R"({"name": "warehouse", "slots": 1})")["detail"] ==
        "Pool: warehouse already exists");
  CHECK(h.Call("POST", "/pools", "/pools", 400, R"({"slots": 1})")["detail"] ==
        "Missing required property(ies): ['name']");
  h.Call("POST", "/pools", "/pools", 400, R"({"name": "x", "slots": -1})");
  h.Call("POST", "/pools", "/pools", 400, R"({"name": "x", "slots": "many"})");

  CHECK(h.Call("GET", "/pools/warehouse", "/pools/{pool_name}", 200)["slots"] == 2);
  CHECK(h.Call("GET", "/pools/nope", "/pools/{pool_name}", 404)["detail"] ==
        "Pool with name:'nope' not found");

  json patched = h.Call("PATCH", "/pools/warehouse?update_mask=slots", "/pools/{pool_name}", 200,
                        R"({"name": "ignored", "slots": 5})");
  CHECK(patched["name"] == "warehouse");
  CHECK(patched["slots"] == 5);
  CHECK(patched["description"] == "one load at a time");
  json renamed = h.Call("PATCH", "/pools/warehouse", "/pools/{pool_name}", 200,
                        R"({"name": "dwh", "slots": 3})");
  CHECK(renamed["name"] == "dwh");
  CHECK(renamed["slots"] == 3);
  h.Call("GET", "/pools/warehouse", "/pools/{pool_name}", 404);
  CHECK(h.Call("PATCH", "/pools/dwh?update_mask=colour", "/pools/{pool_name}", 400, R"({"slots": 1})")["detail"] ==
        "Invalid field: colour in update mask");
  CHECK(h.Call("PATCH", "/pools/default_pool", "/pools/{pool_name}", 400, R"({"name": "x", "slots": 1})")["detail"] ==
        "Default Pool's name can't be modified");
  CHECK(h.Call("PATCH", "/pools/default_pool?update_mask=slots", "/pools/{pool_name}", 200,
               R"({"slots": 64})")["slots"] == 64);

  list = h.Call("GET", "/pools?order_by=-slots", "/pools", 200);
  REQUIRE(list["pools"].size() == 2);
  CHECK(list["pools"][0]["name"] == "default_pool");
  CHECK(list["pools"][1]["name"] == "dwh");
  list = h.Call("GET", "/pools?limit=1&offset=1", "/pools", 200);
  CHECK(list["total_entries"] == 2);
  REQUIRE(list["pools"].size() == 1);
  CHECK(list["pools"][0]["name"] == "dwh");

  CHECK(h.Call("DELETE", "/pools/default_pool", "/pools/{pool_name}", 400)["detail"] ==
        "Default Pool can't be deleted");
  h.Call("DELETE", "/pools/dwh", "/pools/{pool_name}", 204);
  h.Call("DELETE", "/pools/dwh", "/pools/{pool_name}", 404);
  CHECK(h.Call("GET", "/pools", "/pools", 200)["total_entries"] == 1);
}

TEST_CASE("api: a mapped task's instances: listMapped, one by map index, its logs, the grid") {
  ApiHarness h;
  json task = h.Call("GET", "/dags/other/tasks/each", "/dags/{dag_id}/tasks/{task_id}", 200);
  CHECK(task["is_mapped"] == true);
  h.Call("POST", "/dags/other/dagRuns", "/dags/{dag_id}/dagRuns", 200, R"({"dag_run_id": "r1"})");
  std::string base = "/dags/other/dagRuns/r1/taskInstances";
  std::string ti_path = "/dags/{dag_id}/dagRuns/{dag_run_id}/taskInstances/{task_id}";
  std::string list_path = ti_path + "/listMapped";
  // Not expanded yet: the task's one row.
  CHECK(h.Call("GET", base + "/each", ti_path, 200)["map_index"] == -1);

  FakeTryRunner runner(h.clock());
  runner.Script("each", {{0, std::chrono::milliseconds(5), false, "one"},
                         {1, std::chrono::milliseconds(5)},
                         {0, std::chrono::milliseconds(5), false, "three"}});
  h.Execute("r1", runner, "other");
  AppendLogLine(TryLogPath(h.logs().string(), "other", "r1", "each", 1, 2), "third");

  json all = h.Call("GET", base, "/dags/{dag_id}/dagRuns/{dag_run_id}/taskInstances", 200);
  CHECK(all["total_entries"] == 4);  // t, and each's three instances
  json whole = h.Call("GET", base + "/each", ti_path, 404);
  CHECK(whole["detail"] == "Task instance is mapped, add the map_index value to the URL");

  json list = h.Call("GET", base + "/each/listMapped", list_path, 200);
  REQUIRE(list["total_entries"] == 3);
  CHECK(list["task_instances"][0]["map_index"] == 0);
  CHECK(list["task_instances"][0]["rendered_map_index"] == "n=a");
  CHECK(list["task_instances"][1]["state"] == "failed");
  CHECK(list["task_instances"][2]["state"] == "success");
  CHECK(h.Call("GET", base + "/each/listMapped?state=success", list_path, 200)["total_entries"] == 2);
  json page = h.Call("GET", base + "/each/listMapped?order_by=-map_index&limit=1", list_path, 200);
  CHECK(page["total_entries"] == 3);
  CHECK(page["task_instances"][0]["map_index"] == 2);
  h.Call("GET", base + "/each/listMapped?order_by=state", list_path, 400);
  CHECK(h.Call("GET", base + "/t/listMapped", list_path, 404)["detail"] == "Task id t is not mapped");
  CHECK(h.Call("GET", base + "/nope/listMapped", list_path, 404)["detail"] == "Task id nope not found");

  std::string one_path = ti_path + "/{map_index}";
  json one = h.Call("GET", base + "/each/2", one_path, 200);
  CHECK(one["map_index"] == 2);
  CHECK(one["rendered_map_index"] == "n=c");
  h.Call("GET", base + "/each/7", one_path, 404);
  h.Call("GET", base + "/each/-3", one_path, 400);

  std::string log_path = ti_path + "/logs/{task_try_number}";
  CHECK(std::regex_search(h.Call("GET", base + "/each/logs/1?map_index=2", log_path, 200)["content"].get<std::string>(),
                          std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z \[dagctl\] third\n$)")));
  h.Call("GET", base + "/each/logs/1", log_path, 404);

  json grid = h.Call("GET", "/ui/grid/other", "", 200);
  json cell = grid["task_instances"]["r1"]["each"];
  CHECK(cell["mapped"] == 3);
  CHECK(cell["state"] == "failed");  // what matters most of success, failed, success
}

TEST_CASE("api: variables are created, listed, read, updated and deleted as Airflow's /variables") {
  ApiHarness h;
  CHECK(h.Call("GET", "/variables", "/variables", 200)["total_entries"] == 0);
  json made = h.Call("POST", "/variables", "/variables", 200, R"({"key": "region", "value": "eu"})");
  CHECK(made == json({{"key", "region"}, {"value", "eu"}, {"description", nullptr}}));
  h.Call("POST", "/variables", "/variables", 200, R"({"key": "bucket", "value": "s3://b"})");
  CHECK(h.Call("POST", "/variables", "/variables", 400, R"({"key": "x"})")["detail"] ==
        "{'value': ['Missing data for required field.']}");
  h.Call("POST", "/variables", "/variables", 400, R"({"key": "x", "value": 3})");
  json list = h.Call("GET", "/variables", "/variables", 200);
  CHECK(list["total_entries"] == 2);
  CHECK(list["variables"][0] == json({{"key", "bucket"}, {"description", nullptr}}));  // no value in lists
  CHECK(h.Call("GET", "/variables?order_by=-key&limit=1", "/variables", 200)["variables"][0]["key"] == "region");
  h.Call("GET", "/variables?order_by=value", "/variables", 400);

  std::string one = "/variables/{variable_key}";
  CHECK(h.Call("GET", "/variables/region", one, 200)["value"] == "eu");
  CHECK(h.Call("GET", "/variables/nope", one, 404)["detail"] == "Variable does not exist: nope");
  CHECK(h.Call("PATCH", "/variables/region?update_mask=value", one, 200,
               R"({"key": "region", "value": "us"})")["value"] == "us");
  CHECK(h.store().GetVariable("region").value() == "us");
  CHECK(h.Call("PATCH", "/variables/region", one, 400, R"({"key": "other", "value": "us"})")["detail"] ==
        "key from request body doesn't match uri parameter");
  h.Call("PATCH", "/variables/region?update_mask=key", one, 400, R"({"key": "region", "value": "us"})");
  h.Call("PATCH", "/variables/nope", one, 404, R"({"key": "nope", "value": "x"})");
  h.Call("DELETE", "/variables/region", one, 204);
  h.Call("DELETE", "/variables/region", one, 404);
  CHECK(h.Call("GET", "/variables", "/variables", 200)["total_entries"] == 1);
}

TEST_CASE("api: a task instance's XCom entries, listed without values and read one by one") {
  ApiHarness h;
  h.Call("POST", "/dags/other/dagRuns", "/dags/{dag_id}/dagRuns", 200, R"({"dag_run_id": "r1"})");
  FakeTryRunner runner(h.clock());
  runner.Script("t", {{0, std::chrono::milliseconds(5), false, "rows=3"}});
  runner.Script("each", {{0, std::chrono::milliseconds(5), false, "A"},
                         {0, std::chrono::milliseconds(5), false, "B"},
                         {0, std::chrono::milliseconds(5), false, "C"}});
  h.Execute("r1", runner, "other");
  REQUIRE(h.store().PutXCom("other", "r1", {"t", "extra", "more", -1}));
  std::string base = "/dags/other/dagRuns/r1/taskInstances";
  std::string list_path = "/dags/{dag_id}/dagRuns/{dag_run_id}/taskInstances/{task_id}/xcomEntries";
  json list = h.Call("GET", base + "/t/xcomEntries", list_path, 200);
  REQUIRE(list["total_entries"] == 2);
  CHECK(list["xcom_entries"][0]["key"] == "extra");
  CHECK(list["xcom_entries"][1]["key"] == "return_value");
  CHECK(!list["xcom_entries"][1].contains("value"));
  CHECK(list["xcom_entries"][1]["map_index"] == -1);
  CHECK(list["xcom_entries"][1]["timestamp"].is_string());
  CHECK(h.Call("GET", base + "/t/xcomEntries?xcom_key=extra", list_path, 200)["total_entries"] == 1);
  CHECK(h.Call("GET", base + "/each/xcomEntries", list_path, 200)["total_entries"] == 3);
  json second = h.Call("GET", base + "/each/xcomEntries?map_index=1", list_path, 200);
  REQUIRE(second["total_entries"] == 1);
  CHECK(second["xcom_entries"][0]["map_index"] == 1);

  std::string one_path = list_path + "/{xcom_key}";
  json value = h.Call("GET", base + "/t/xcomEntries/return_value", one_path, 200);
  CHECK(value["value"] == "rows=3");
  CHECK(value["task_id"] == "t");
  CHECK(h.Call("GET", base + "/each/xcomEntries/return_value?map_index=2", one_path, 200)["value"] == "C");
  h.Call("GET", base + "/each/xcomEntries/return_value", one_path, 404);  // which instance?
  h.Call("GET", base + "/t/xcomEntries/nope", one_path, 404);
  h.Call("GET", base + "/t/xcomEntries?map_index=x", list_path, 400);
  h.Call("GET", "/dags/other/dagRuns/nope/taskInstances/t/xcomEntries", list_path, 404);
}

TEST_CASE("api: a log over 16 MiB comes back as its last 16 MiB, after a line saying so") {
  ApiHarness h;
  h.Call("POST", "/dags/etl/dagRuns", "/dags/{dag_id}/dagRuns", 200, R"({"dag_run_id": "big"})");
  FakeTryRunner runner(h.clock());
  h.Execute("big", runner);
  std::string line = std::string(99, 'x') + "\n";  // 100 bytes
  {
    fs::path file = TryLogPath(h.logs().string(), "etl", "big", "extract", 1);
    fs::create_directories(file.parent_path());
    std::ofstream log(file, std::ios::trunc);
    for (int i = 0; i < 180'000; ++i) log << line;  // 18,000,000 bytes
  }
  std::string path =
      "/dags/{dag_id}/dagRuns/{dag_run_id}/taskInstances/{task_id}/logs/{task_try_number}";
  std::string content =
      h.Call("GET", "/dags/etl/dagRuns/big/taskInstances/extract/logs/1", path, 200)["content"];
  std::string note =
      "[dagctl] this log is 18000000 bytes; here are its last 16777200 ('dagctl logs' prints all "
      "of it)\n";
  CHECK(content.substr(0, note.size()) == note);
  CHECK(content.size() == note.size() + 16'777'200);
  CHECK(content.substr(note.size(), line.size()) == line);  // from a line start
}

TEST_CASE("api: a log is read on from the continuation_token; full_content reads a big log in chunks") {
  ApiHarness h;
  h.Call("POST", "/dags/etl/dagRuns", "/dags/{dag_id}/dagRuns", 200, R"({"dag_run_id": "big"})");
  FakeTryRunner runner(h.clock());
  h.Execute("big", runner);
  std::string path =
      "/dags/{dag_id}/dagRuns/{dag_run_id}/taskInstances/{task_id}/logs/{task_try_number}";
  std::string url = "/dags/etl/dagRuns/big/taskInstances/extract/logs/1";
  fs::path file = TryLogPath(h.logs().string(), "etl", "big", "extract", 1);
  std::string first = ReadFileLimited(file.string(), 1 << 20).value();
  json a = h.Call("GET", url, path, 200);
  CHECK(a["content"] == first);
  CHECK(a["end_of_log"] == true);  // the try has ended
  // What is added later comes from the token on, and only that.
  AppendLogLine(file.string(), "a line added later");
  json b = h.Call("GET", url + "?token=" + a["continuation_token"].get<std::string>(), path, 200);
  CHECK(std::regex_match(b["content"].get<std::string>(), std::regex(R"(\S+Z \[dagctl\] a line added later\n)")));
  json c = h.Call("GET", url + "?token=" + b["continuation_token"].get<std::string>(), path, 200);
  CHECK(c["content"] == "");
  CHECK(c["end_of_log"] == true);
  CHECK(h.Call("GET", url + "?token=garbled", path, 400)["detail"] ==
        "Bad Signature. Please use only the tokens provided by the API.");
  h.Call("GET", url + "?full_content=maybe", path, 400);

  // 18,000,000 bytes: full_content returns it from the start in chunks of at
  // most 16 MiB that end on a line, end_of_log only with the last.
  std::string line = std::string(99, 'x') + "\n";
  {
    std::ofstream log(file, std::ios::trunc);
    for (int i = 0; i < 180'000; ++i) log << line;
  }
  json d = h.Call("GET", url + "?full_content=true", path, 200);
  std::string part1 = d["content"];
  CHECK(part1.size() == 16'777'200);
  CHECK(d["end_of_log"] == false);
  json e = h.Call("GET", url + "?token=" + d["continuation_token"].get<std::string>(), path, 200);
  CHECK(e["content"].get<std::string>().size() == 18'000'000 - 16'777'200);
  CHECK(e["end_of_log"] == true);
}

TEST_CASE("api: a DAG's file_token opens its source at /dagSources, as JSON or text/plain") {
  ApiHarness h;
  std::string token = h.Call("GET", "/dags/etl", "/dags/{dag_id}", 200)["file_token"];
  CHECK(h.Call("GET", "/dags/etl/details", "/dags/{dag_id}/details", 200)["file_token"] == token);
  CHECK(h.Call("GET", "/dags?limit=1", "/dags", 200)["dags"][0]["file_token"] == token);
  // URL-safe: it goes into a path segment as it is.
  CHECK(
      token.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") ==
      std::string::npos);
  std::string source_path = "/dagSources/{file_token}";
  json source = h.Call("GET", "/dagSources/" + token, source_path, 200);
  CHECK(source["content"] == h.DagText("etl.yaml"));

  api::ApiResponse text = h.Get("/dagSources/" + token, "text/plain");
  CHECK(text.status == 200);
  CHECK(text.content_type == "text/plain; charset=utf-8");
  CHECK(text.body == h.DagText("etl.yaml"));
  CHECK(
      json::parse(h.Get("/dagSources/" + token, "application/json, text/plain").body)["content"] ==
      h.DagText("etl.yaml"));
  api::ApiResponse refused = h.Get("/dagSources/" + token, "image/png");
  CHECK(refused.status == 406);
  CHECK(json::parse(refused.body)["detail"] ==
        "cannot answer with 'image/png': a DAG's source comes as application/json or text/plain");
}

TEST_CASE("api: /dagSources serves every stored version; unknown and garbled tokens are 404") {
  ApiHarness h;
  // An older version of etl, kept by a scheduler before the file changed.
  Timestamp now = h.clock().Now();
  REQUIRE(h.store().PutDagVersion({"etl", "00000000000000aa", "etl.yaml", "tasks: [old]\n", now}));
  std::string old_token = h.Call("GET", "/ui/versions/etl", "", 200)["versions"][0]["file_token"];
  std::string source_path = "/dagSources/{file_token}";
  CHECK(h.Call("GET", "/dagSources/" + old_token, source_path, 200)["content"] == "tasks: [old]\n");

  json unknown = h.Call("GET", "/dagSources/ZXRsOjAwMDAwMDAwMDAwMDAwYmI", source_path, 404);
  CHECK(unknown["title"] == "Dag source not found");
  CHECK(unknown["detail"] == "the store has no version 00000000000000bb of DAG 'etl'");
  for (const char* garbled : {"not*a*token", "abc", "ZXRs", "bm8tY29sb24tYXQtYWxs", "ZXRsOnh5eg"}) {
    INFO(garbled);
    json e = h.Call("GET", std::string("/dagSources/") + garbled, source_path, 404);
    CHECK(e["title"] == "Dag source not found");
    CHECK(e["detail"] ==
          std::string("'") + garbled +
              "' is not a file token of this server (take one from a DAG's file_token)");
  }
}

TEST_CASE("api: the versions view numbers a DAG's versions and names the current one and a run's") {
  ApiHarness h;
  Timestamp now = h.clock().Now();
  REQUIRE(h.store().PutDagVersion({"etl", "00000000000000aa", "etl.yaml", "tasks: [old]\n", now}));
  json dag = h.Call("GET", "/dags/etl", "/dags/{dag_id}", 200);
  json run =
      h.Call("POST", "/dags/etl/dagRuns", "/dags/{dag_id}/dagRuns", 200, R"({"dag_run_id": "r1"})");
  json v = h.Call("GET", "/ui/versions/etl?dag_run_id=r1", "", 200);
  REQUIRE(v["total_entries"] == 1);  // the folder's version is not stored until a scheduler runs
  CHECK(v["versions"][0]["version_number"] == 1);
  CHECK(v["versions"][0]["hash"] == "00000000000000aa");
  CHECK(v["versions"][0]["path"] == "etl.yaml");
  CHECK(ParseDateTime(v["versions"][0]["created_at"].get<std::string>()));  // first seen
  CHECK(v["current"]["file_token"] == dag["file_token"]);
  CHECK(v["current"]["version_number"] == nullptr);
  CHECK(v["dag_run"]["dag_run_id"] == "r1");
  CHECK(v["dag_run"]["file_token"] == dag["file_token"]);  // created from the current version
  h.Call("GET", "/ui/versions/etl?dag_run_id=nope", "", 404);
  h.Call("GET", "/ui/versions/nope", "", 404);
}

TEST_CASE("api: DAG details give dagrun_timeout as Airflow's dag_run_timeout") {
  ApiHarness h;
  CHECK(h.Call("GET", "/dags/etl/details", "/dags/{dag_id}/details", 200)["dag_run_timeout"] ==
        nullptr);
  CHECK(h.Call("GET", "/dags/other/details", "/dags/{dag_id}/details", 200)["dag_run_timeout"] ==
        json({{"__type", "TimeDelta"}, {"days", 0}, {"seconds", 5400}, {"microseconds", 0}}));
}

namespace {

const char* kGroupedDag = R"(task_groups:
  load: {depends_on: extract, tooltip: "Loads <the> warehouse"}
tasks:
  - {id: extract, command: x}
  - {id: users, group: load, command: x}
  - {id: orders, group: load, command: x, retries: 0}
  - {id: a, group: load.check, command: x, depends_on: load.orders}
  - {id: report, command: x, depends_on: load, trigger_rule: all_done}
)";

std::vector<std::string> Strings(const json& list, const char* field) {
  std::vector<std::string> out;
  for (const json& item : list)
    out.push_back(field ? item[field].get<std::string>() : item.get<std::string>());
  return out;
}

}  // namespace

TEST_CASE("api: a grouped DAG's tasks carry Airflow's prefixed ids") {
  ApiHarness h(std::map<std::string, std::string>{{"grouped.yaml", kGroupedDag}});
  json tasks = h.Call("GET", "/dags/grouped/tasks", "/dags/{dag_id}/tasks", 200);
  CHECK(Strings(tasks["tasks"], "task_id") ==
        std::vector<std::string>{"extract", "load.users", "load.orders", "load.check.a", "report"});
  CHECK(tasks["tasks"][0]["downstream_task_ids"] == json::array({"load.users", "load.orders"}));
  CHECK(tasks["tasks"][2]["downstream_task_ids"] == json::array({"load.check.a"}));
  json one =
      h.Call("GET", "/dags/grouped/tasks/load.check.a", "/dags/{dag_id}/tasks/{task_id}", 200);
  CHECK(one["downstream_task_ids"] == json::array({"report"}));
  h.Call("GET", "/dags/grouped/tasks/load", "/dags/{dag_id}/tasks/{task_id}", 404);
}

TEST_CASE(
    "api: the grid sums a group up per run, the graph folds groups, and a group is cleared as its "
    "tasks") {
  ApiHarness h(std::map<std::string, std::string>{{"grouped.yaml", kGroupedDag}});
  h.Call("POST", "/dags/grouped/dagRuns", "/dags/{dag_id}/dagRuns", 200, R"({"dag_run_id": "r1"})");
  FakeTryRunner runner(h.clock());
  runner.Script("load.orders", {{1, std::chrono::milliseconds(5)}});
  h.Execute("r1", runner, "grouped");

  json grid = h.Call("GET", "/ui/grid/grouped", "", 200);
  std::vector<std::string> rows;
  for (const json& r : grid["rows"])
    rows.push_back(fmt::format("{}{} {} ({})", std::string(2 * r["depth"].get<int>(), ' '),
                               r["kind"].get<std::string>(), r["id"].get<std::string>(),
                               r["label"].get<std::string>()));
  CHECK(rows == std::vector<std::string>{"task extract (extract)", "group load (load)",
                                         "  task load.users (users)", "  task load.orders (orders)",
                                         "  group load.check (check)", "    task load.check.a (a)",
                                         "task report (report)"});
  CHECK(grid["rows"][1]["tooltip"] == "Loads <the> warehouse");
  CHECK(grid["rows"][1]["tasks"] == 3);
  json groups = grid["group_instances"]["r1"];
  CHECK(groups["load"] ==
        json({{"state", "failed"},
              {"states", {{"success", 1}, {"failed", 1}, {"upstream_failed", 1}}}}));
  CHECK(groups["load.check"] ==
        json({{"state", "upstream_failed"}, {"states", {{"upstream_failed", 1}}}}));
  CHECK(grid["task_instances"]["r1"]["report"]["state"] == "success");

  json folded = h.Call("GET", "/ui/graph/grouped", "", 200);
  CHECK(Strings(folded["nodes"], "id") == std::vector<std::string>{"extract", "load", "report"});
  CHECK(folded["nodes"][1]["kind"] == "group");
  CHECK(folded["nodes"][1]["layer"] == 1);
  CHECK(folded["edges"] ==
        json::array({json::array({"extract", "load"}), json::array({"load", "report"})}));
  CHECK(folded["groups"][0]["unfolded"] == false);
  json open = h.Call("GET", "/ui/graph/grouped?unfolded=load", "", 200);
  CHECK(Strings(open["nodes"], "id") ==
        std::vector<std::string>{"extract", "load.users", "load.orders", "load.check", "report"});
  CHECK(open["nodes"][1]["group"] == "load");
  CHECK(open["nodes"][1]["label"] == "users");
  CHECK(open["edges"] ==
        json::array({json::array({"extract", "load.users"}),
                     json::array({"extract", "load.orders"}), json::array({"load.users", "report"}),
                     json::array({"load.orders", "load.check"}),
                     json::array({"load.check", "report"})}));
  json all = h.Call("GET", "/ui/graph/grouped?unfolded=load,load.check,gone", "", 200);
  CHECK(Strings(all["nodes"], "id") ==
        std::vector<std::string>{"extract", "load.users", "load.orders", "load.check.a", "report"});
  CHECK(all["nodes"][3]["order"] == 0);
  CHECK(all["nodes"][3]["layer"] == 2);

  std::string clear = "/dags/{dag_id}/clearTaskInstances";
  json dry = h.Call("POST", "/dags/grouped/clearTaskInstances", clear, 200,
                    R"({"dag_run_id": "r1", "task_ids": ["load.check"], "only_failed": false})");
  CHECK(Strings(dry["task_instances"], "task_id") == std::vector<std::string>{"load.check.a"});
  json down = h.Call("POST", "/dags/grouped/clearTaskInstances", clear, 200,
                     R"({"dag_run_id": "r1", "task_ids": ["load"], "only_failed": false,
                         "include_downstream": true})");
  CHECK(Strings(down["task_instances"], "task_id") ==
        std::vector<std::string>{"load.check.a", "load.orders", "load.users", "report"});
  json bad = h.Call("POST", "/dags/grouped/clearTaskInstances", clear, 400,
                    R"({"dag_run_id": "r1", "task_ids": ["lod"]})");
  CHECK(bad["detail"] == "DAG 'grouped' has no task or group 'lod' (did you mean 'load'?)");
  json done = h.Call("POST", "/dags/grouped/clearTaskInstances", clear, 200,
                     R"({"dag_run_id": "r1", "task_ids": ["load"], "dry_run": false})");
  CHECK(Strings(done["task_instances"], "task_id") ==
        std::vector<std::string>{"load.check.a", "load.orders"});
  auto tis = h.store().ListTaskInstances("grouped", "r1").value();
  for (const auto& ti : tis) {
    INFO(ti.task_id);
    bool cleared = ti.task_id == "load.orders" || ti.task_id == "load.check.a";
    CHECK((ti.state == TaskState::kNone) == cleared);
  }
  CHECK(h.store().GetDagRun("grouped", "r1").value().state == RunState::kQueued);
}

TEST_CASE("api: datasets, their events, POST /datasets/events and a run's upstream events") {
  ApiHarness h({{"producer.yaml", "tasks:\n  - {id: load, command: x, outlets: [s3://wh/orders]}\n"},
                {"report.yaml", "schedule: {assets: [s3://wh/orders]}\ntasks:\n  - {id: r, command: x}\n"}});
  REQUIRE(h.store().EnsureDags({"producer", "report"}));
  REQUIRE(h.store().SyncAssetReferences(
      {{"s3://wh/orders", "report", ""}, {"s3://wh/orders", "producer", "load"}}, true));

  json list = h.Call("GET", "/datasets", "/datasets", 200);
  REQUIRE(list["total_entries"] == 1);
  json ds = list["datasets"][0];
  CHECK(ds["uri"] == "s3://wh/orders");
  CHECK(ds["extra"] == json::object());
  CHECK(ds["consuming_dags"][0]["dag_id"] == "report");
  CHECK(ds["producing_tasks"][0]["dag_id"] == "producer");
  CHECK(ds["producing_tasks"][0]["task_id"] == "load");
  CHECK(h.Call("GET", "/datasets?uri_pattern=ORD", "/datasets", 200)["total_entries"] == 1);
  CHECK(h.Call("GET", "/datasets?dag_ids=etl", "/datasets", 200)["total_entries"] == 0);
  h.Call("GET", "/datasets?order_by=colour", "/datasets", 400);
  // The URI is the rest of the path, as the server hands it over decoded.
  CHECK(h.Call("GET", "/datasets/s3://wh/orders", "/datasets/{uri}", 200)["id"] == ds["id"]);
  CHECK(h.Call("GET", "/datasets/s3://wh/nope", "/datasets/{uri}", 404)["detail"] ==
        "The Dataset with uri: `s3://wh/nope` was not found");

  json event = h.Call("POST", "/datasets/events", "/datasets/events", 200,
                      R"({"dataset_uri": "s3://wh/orders", "extra": {"rows": 5}})");
  CHECK(event["dataset_uri"] == "s3://wh/orders");
  CHECK(event["dataset_id"] == ds["id"]);
  CHECK(event["extra"] == json{{"rows", 5}, {"from_rest_api", true}});
  CHECK(event["source_dag_id"].is_null());
  CHECK(event["created_dagruns"] == json::array());
  CHECK(h.Call("POST", "/datasets/events", "/datasets/events", 404,
               R"({"dataset_uri": "s3://wh/nope"})")["detail"] ==
        "Dataset with uri: 's3://wh/nope' not found");
  CHECK(h.Call("POST", "/datasets/events", "/datasets/events", 400, R"({"extra": {}})")["detail"] ==
        "{'dataset_uri': ['Missing data for required field.']}");
  h.Call("POST", "/datasets/events", "/datasets/events", 400,
         R"({"dataset_uri": "s3://wh/orders", "extra": [1]})");

  // The report waits on the asset: its queue entry, by DAG, by asset, and both.
  json queued = h.Call("GET", "/dags/report/datasets/queuedEvent", "/dags/{dag_id}/datasets/queuedEvent", 200);
  REQUIRE(queued["total_entries"] == 1);
  CHECK(queued["datasets"][0]["uri"] == "s3://wh/orders");
  CHECK(queued["datasets"][0]["created_at"] == event["timestamp"]);
  CHECK(h.Call("GET", "/datasets/queuedEvent/s3://wh/orders", "/datasets/queuedEvent/{uri}", 200)
            ["datasets"][0]["dag_id"] == "report");
  CHECK(h.Call("GET", "/dags/report/datasets/queuedEvent/s3://wh/orders",
               "/dags/{dag_id}/datasets/queuedEvent/{uri}", 200)["dag_id"] == "report");
  CHECK(h.Call("GET", "/dags/report/datasets/queuedEvent?before=2026-01-01T00:00:00Z",
               "/dags/{dag_id}/datasets/queuedEvent", 404)["detail"] ==
        "Queue event with dag_id: `report` was not found");
  CHECK(h.Call("GET", "/dags/producer/datasets/queuedEvent/s3://wh/orders",
               "/dags/{dag_id}/datasets/queuedEvent/{uri}", 404)["detail"] ==
        "Queue event with dag_id: `producer` and dataset uri: `s3://wh/orders` was not found");
  h.Call("DELETE", "/datasets/queuedEvent/s3://wh/orders", "/datasets/queuedEvent/{uri}", 204);
  CHECK(h.Call("DELETE", "/dags/report/datasets/queuedEvent", "/dags/{dag_id}/datasets/queuedEvent", 404)
            ["title"] == "Queue event not found");

  // The report's run consumed the event: it is the event's created run and the run's upstream.
  DagRunRecord run;
  run.dag_id = "report";
  run.run_id = "dataset_triggered__2026-03-10T12:00:00+00:00";
  run.run_type = RunType::kDatasetTriggered;
  run.logical_date = run.data_interval_start = run.data_interval_end = h.clock().Now();
  run.queued_at = h.clock().Now();
  REQUIRE(h.store().CreateDagRun(run, {}));
  int64_t event_id = h.store().ListAssetEvents({}).value().at(0).id;
  REQUIRE(h.store().ConsumeAssetEvents("report", run.run_id, {event_id}));
  json events = h.Call("GET", "/datasets/events", "/datasets/events", 200);
  REQUIRE(events["total_entries"] == 1);
  CHECK(events["dataset_events"][0]["created_dagruns"][0]["run_id"] == run.run_id);
  CHECK(events["dataset_events"][0]["created_dagruns"][0]["state"] == "queued");
  CHECK(h.Call("GET", "/datasets/events?source_dag_id=producer", "/datasets/events", 200)
            ["total_entries"] == 0);
  std::string path = "/dags/report/dagRuns/" + run.run_id;
  CHECK(h.Call("GET", path, "/dags/{dag_id}/dagRuns/{dag_run_id}", 200)["run_type"] ==
        "dataset_triggered");
  json upstream = h.Call("GET", path + "/upstreamDatasetEvents",
                         "/dags/{dag_id}/dagRuns/{dag_run_id}/upstreamDatasetEvents", 200);
  REQUIRE(upstream["total_entries"] == 1);
  CHECK(upstream["dataset_events"][0]["extra"]["rows"] == 5);
  h.Call("GET", "/dags/report/dagRuns/nope/upstreamDatasetEvents",
         "/dags/{dag_id}/dagRuns/{dag_run_id}/upstreamDatasetEvents", 404);

  json dag = h.Call("GET", "/dags/report", "/dags/{dag_id}", 200);
  CHECK(dag["schedule_interval"]["value"] == "Dataset");
  CHECK(dag["timetable_description"] == "Triggered by datasets");
  CHECK(h.Call("GET", "/dags/report/details", "/dags/{dag_id}/details", 200)["dataset_expression"] ==
        json{{"all", {"s3://wh/orders"}}});
}

TEST_CASE("api: PATCH a run's state marks its task instances as Airflow's update_dag_run_state") {
  ApiHarness h;
  std::string run_path = "/dags/{dag_id}/dagRuns/{dag_run_id}";
  std::string tis_path = "/dags/{dag_id}/dagRuns/{dag_run_id}/taskInstances";
  h.Call("POST", "/dags/etl/dagRuns", "/dags/{dag_id}/dagRuns", 200, R"({"dag_run_id": "r1"})");
  // A run not started yet: its task instances have no dates, and validate.
  json fresh = h.Call("GET", "/dags/etl/dagRuns/r1/taskInstances", tis_path, 200);
  CHECK(fresh["task_instances"][0]["start_date"].is_null());
  CHECK(fresh["task_instances"][0]["state"].is_null());

  // dagctl's preview for the dashboard: what marking would change, changing nothing.
  json preview = h.Call("POST", "/ui/markRun/etl/r1", "", 200, R"({"state": "success"})");
  CHECK(preview["task_instances"].size() == 2);
  CHECK(h.store().GetDagRun("etl", "r1").value().state == RunState::kQueued);

  json done = h.Call("PATCH", "/dags/etl/dagRuns/r1", run_path, 200, R"({"state": "success"})");
  CHECK(done["state"] == "success");
  CHECK(!done["end_date"].is_null());
  json tis = h.Call("GET", "/dags/etl/dagRuns/r1/taskInstances", tis_path, 200);
  for (const json& ti : tis["task_instances"]) {
    CHECK(ti["state"] == "success");
    CHECK(ti["try_number"] == 0);  // nothing ran
    CHECK(!ti["end_date"].is_null());
  }

  h.Call("POST", "/dags/etl/dagRuns", "/dags/{dag_id}/dagRuns", 200, R"({"dag_run_id": "r2"})");
  json failed = h.Call("PATCH", "/dags/etl/dagRuns/r2", run_path, 200, R"({"state": "failed"})");
  CHECK(failed["state"] == "failed");
  // Not yet run: skipped (Airflow's set_dag_run_state_to_failed).
  json r2_tis = h.Call("GET", "/dags/etl/dagRuns/r2/taskInstances", tis_path, 200);
  for (const json& ti : r2_tis["task_instances"]) CHECK(ti["state"] == "skipped");

  // queued: cleared and queued again; the run then runs every task.
  json queued = h.Call("PATCH", "/dags/etl/dagRuns/r2", run_path, 200, R"({"state": "queued"})");
  CHECK(queued["state"] == "queued");
  CHECK(queued["end_date"].is_null());
  FakeTryRunner runner(h.clock());
  h.Execute("r2", runner);
  CHECK(h.Call("GET", "/dags/etl/dagRuns/r2", run_path, 200)["state"] == "success");
  CHECK(runner.started().size() == 2);

  h.Call("PATCH", "/dags/etl/dagRuns/r2", run_path, 400, R"({"state": "running"})");
  h.Call("PATCH", "/dags/etl/dagRuns/r2", run_path, 400, R"({"state": 1})");
  h.Call("PATCH", "/dags/etl/dagRuns/r2", run_path, 400, R"({"colour": "red"})");
  h.Call("PATCH", "/dags/etl/dagRuns/r2", run_path, 400, "{nope");
  h.Call("PATCH", "/dags/etl/dagRuns/nope", run_path, 404, R"({"state": "success"})");
  h.Call("PATCH", "/dags/nope/dagRuns/r2", run_path, 404, R"({"state": "success"})");
  h.Call("PUT", "/dags/etl/dagRuns/r2", "", 405, R"({"state": "success"})");
}

TEST_CASE("api: marking task instances lets the run go on, as Airflow's set_task_instance_state") {
  ApiHarness h;
  std::string ti_path = "/dags/{dag_id}/dagRuns/{dag_run_id}/taskInstances/{task_id}";
  std::string run_path = "/dags/{dag_id}/dagRuns/{dag_run_id}";
  std::string set_path = "/dags/{dag_id}/updateTaskInstancesState";
  h.Call("POST", "/dags/etl/dagRuns", "/dags/{dag_id}/dagRuns", 200,
         R"({"dag_run_id": "r1", "logical_date": "2026-03-05T00:00:00Z"})");
  FakeTryRunner runner(h.clock());
  runner.Script("load", {{1, std::chrono::milliseconds(5)}});
  h.Execute("r1", runner);
  REQUIRE(h.store().GetDagRun("etl", "r1").value().state == RunState::kFailed);

  // dry_run is the default: the reference comes back, nothing changes.
  json ref = h.Call("PATCH", "/dags/etl/dagRuns/r1/taskInstances/load", ti_path, 200,
                    R"({"new_state": "success"})");
  CHECK(ref == json{{"task_id", "load"}, {"dag_id", "etl"}, {"dag_run_id", "r1"},
                    {"execution_date", "2026-03-05T00:00:00+00:00"}});
  CHECK(h.Call("GET", "/dags/etl/dagRuns/r1/taskInstances/load", ti_path, 200)["state"] == "failed");
  h.Call("PATCH", "/dags/etl/dagRuns/r1/taskInstances/load", ti_path, 200,
         R"({"new_state": "success", "dry_run": false})");
  json load = h.Call("GET", "/dags/etl/dagRuns/r1/taskInstances/load", ti_path, 200);
  CHECK(load["state"] == "success");
  CHECK(load["try_number"] == 1);
  // The finished run is queued again for its state to be decided anew.
  CHECK(h.Call("GET", "/dags/etl/dagRuns/r1", run_path, 200)["state"] == "queued");
  size_t tries = runner.started().size();
  h.Execute("r1", runner);
  CHECK(h.Call("GET", "/dags/etl/dagRuns/r1", run_path, 200)["state"] == "success");
  CHECK(runner.started().size() == tries);  // nothing ran again

  h.Call("PATCH", "/dags/etl/dagRuns/r1/taskInstances/load", ti_path, 400, R"({"new_state": "running"})");
  h.Call("PATCH", "/dags/etl/dagRuns/r1/taskInstances/load", ti_path, 400, R"({"dry_run": false})");
  h.Call("PATCH", "/dags/etl/dagRuns/r1/taskInstances/nope", ti_path, 404, R"({"new_state": "failed"})");
  h.Call("PATCH", "/dags/etl/dagRuns/nope/taskInstances/load", ti_path, 404, R"({"new_state": "failed"})");
  h.Call("PATCH", "/dags/nope/dagRuns/r1/taskInstances/load", ti_path, 404, R"({"new_state": "failed"})");

  // Marking failed before the run starts: the downstream task is upstream_failed.
  h.Call("POST", "/dags/etl/dagRuns", "/dags/{dag_id}/dagRuns", 200,
         R"({"dag_run_id": "r2", "logical_date": "2026-03-06T00:00:00Z"})");
  json dry = h.Call("POST", "/dags/etl/updateTaskInstancesState", set_path, 200,
                    R"({"task_id": "extract", "dag_run_id": "r2", "new_state": "failed",
                        "include_downstream": true})");
  CHECK(dry["task_instances"].size() == 2);
  json marked = h.Call("POST", "/dags/etl/updateTaskInstancesState", set_path, 200,
                       R"({"task_id": "extract", "execution_date": "2026-03-06T00:00:00Z",
                           "new_state": "failed", "dry_run": false})");
  REQUIRE(marked["task_instances"].size() == 1);
  CHECK(marked["task_instances"][0]["dag_run_id"] == "r2");
  tries = runner.started().size();
  h.Execute("r2", runner);
  CHECK(h.Call("GET", "/dags/etl/dagRuns/r2/taskInstances/load", ti_path, 200)["state"] == "upstream_failed");
  CHECK(h.Call("GET", "/dags/etl/dagRuns/r2", run_path, 200)["state"] == "failed");
  CHECK(runner.started().size() == tries);

  // include_past reaches r1 too; success everywhere it is not yet.
  json past = h.Call("POST", "/dags/etl/updateTaskInstancesState", set_path, 200,
                     R"({"task_id": "extract", "dag_run_id": "r2", "new_state": "success",
                         "include_past": true, "include_downstream": true})");
  CHECK(past["task_instances"].size() == 2);  // r2's extract and load; r1's are successes

  h.Call("POST", "/dags/etl/updateTaskInstancesState", set_path, 400,
         R"({"task_id": "extract", "new_state": "failed"})");
  h.Call("POST", "/dags/etl/updateTaskInstancesState", set_path, 400,
         R"({"task_id": "extract", "dag_run_id": "r2", "execution_date": "2026-03-06T00:00:00Z",
             "new_state": "failed"})");
  h.Call("POST", "/dags/etl/updateTaskInstancesState", set_path, 400,
         R"({"task_id": "extract", "dag_run_id": "r2", "new_state": "none"})");
  h.Call("POST", "/dags/etl/updateTaskInstancesState", set_path, 404,
         R"({"task_id": "nope", "dag_run_id": "r2", "new_state": "failed"})");
  h.Call("POST", "/dags/etl/updateTaskInstancesState", set_path, 404,
         R"({"task_id": "extract", "dag_run_id": "nope", "new_state": "failed"})");
  h.Call("POST", "/dags/etl/updateTaskInstancesState", set_path, 404,
         R"({"task_id": "extract", "execution_date": "2020-01-01T00:00:00Z", "new_state": "failed"})");
  h.Call("POST", "/dags/nope/updateTaskInstancesState", set_path, 404,
         R"({"task_id": "extract", "dag_run_id": "r2", "new_state": "failed"})");
}

TEST_CASE("api: one instance of a mapped task is marked by its map index") {
  ApiHarness h;
  h.Call("POST", "/dags/other/dagRuns", "/dags/{dag_id}/dagRuns", 200, R"({"dag_run_id": "r1"})");
  FakeTryRunner runner(h.clock());
  h.Execute("r1", runner, "other");
  std::string path = "/dags/{dag_id}/dagRuns/{dag_run_id}/taskInstances/{task_id}/{map_index}";
  json ref = h.Call("PATCH", "/dags/other/dagRuns/r1/taskInstances/each/1", path, 200,
                    R"({"new_state": "failed", "dry_run": false})");
  CHECK(ref["task_id"] == "each");
  CHECK(h.Call("GET", "/dags/other/dagRuns/r1/taskInstances/each/1", path, 200)["state"] == "failed");
  CHECK(h.Call("GET", "/dags/other/dagRuns/r1/taskInstances/each/0", path, 200)["state"] == "success");
  h.Call("PATCH", "/dags/other/dagRuns/r1/taskInstances/each/7", path, 404, R"({"new_state": "failed"})");
  h.Call("PATCH", "/dags/other/dagRuns/r1/taskInstances/each",
         "/dags/{dag_id}/dagRuns/{dag_run_id}/taskInstances/{task_id}", 404, R"({"new_state": "failed"})");
  h.Execute("r1", runner, "other");
  CHECK(h.store().GetDagRun("other", "r1").value().state == RunState::kFailed);
}

TEST_CASE("api: connections are created, listed, read, updated and deleted; passwords never leave") {
  ApiHarness h;
  CHECK(h.Call("GET", "/connections", "/connections", 200)["total_entries"] == 0);
  json made = h.Call("POST", "/connections", "/connections", 200,
                     R"({"connection_id": "warehouse", "conn_type": "postgres", "host": "db",
                         "port": 5432, "login": "etl", "password": "pw-s3cret",
                         "extra": "{\"sslmode\": \"require\", \"api_token\": \"t0k\"}"})");
  CHECK(made["connection_id"] == "warehouse");
  CHECK(made["port"] == 5432);
  CHECK(!made.contains("password"));
  CHECK(json::parse(made["extra"].get<std::string>()) == json{{"sslmode", "require"}, {"api_token", "***"}});
  CHECK(h.Call("POST", "/connections", "/connections", 409,
               R"({"connection_id": "warehouse", "conn_type": "http"})")["detail"] ==
        "Connection already exist. ID: warehouse");
  h.Call("POST", "/connections", "/connections", 400, R"({"connection_id": "x"})");
  h.Call("POST", "/connections", "/connections", 400, R"({"connection_id": "a b", "conn_type": "http"})");
  h.Call("POST", "/connections", "/connections", 400, R"({"connection_id": "x", "conn_type": "http", "port": "80"})");
  h.Call("POST", "/connections", "/connections", 200, R"({"connection_id": "api", "conn_type": "http"})");

  json list = h.Call("GET", "/connections", "/connections", 200);
  CHECK(list["total_entries"] == 2);
  CHECK(list["connections"][0]["connection_id"] == "api");
  CHECK(!list["connections"][1].contains("password"));
  CHECK(!list["connections"][1].contains("extra"));
  CHECK(h.Call("GET", "/connections?order_by=-connection_id&limit=1", "/connections", 200)
            ["connections"][0]["connection_id"] == "warehouse");
  h.Call("GET", "/connections?order_by=password", "/connections", 400);

  std::string one = "/connections/{connection_id}";
  json got = h.Call("GET", "/connections/warehouse", one, 200);
  CHECK(got["host"] == "db");
  CHECK(!got.contains("password"));
  CHECK(got.dump().find("pw-s3cret") == std::string::npos);
  CHECK(h.Call("GET", "/connections/nope", one, 404)["detail"] ==
        "The Connection with connection_id: `nope` was not found");
  json patched = h.Call("PATCH", "/connections/warehouse?update_mask=host", one, 200,
                        R"({"host": "db2", "login": "ignored"})");
  CHECK(patched["host"] == "db2");
  CHECK(patched["login"] == "etl");
  CHECK(!patched.contains("password"));
  h.Call("PATCH", "/connections/warehouse", one, 400, R"({"connection_id": "other"})");
  h.Call("PATCH", "/connections/warehouse?update_mask=colour", one, 400, R"({"host": "x"})");
  h.Call("PATCH", "/connections/nope", one, 404, R"({"host": "x"})");
  h.Call("POST", "/connections/test", "/connections/test", 403,
         R"({"connection_id": "warehouse", "conn_type": "postgres"})");

  // Templates and operators read the store's connections (after DAGCTL_CONN_*).
  SetConnectionStore([&](const std::string& id) { return h.store().GetConnection(id); });
  auto conn = LookupConnection("warehouse");
  SetConnectionStore(nullptr);
  REQUIRE(conn);
  CHECK(conn->host == "db2");
  CHECK(conn->password == "pw-s3cret");
  CHECK(conn->port == 5432);
  CHECK(conn->extra.at("sslmode") == "require");

  h.Call("DELETE", "/connections/warehouse", one, 204);
  h.Call("DELETE", "/connections/warehouse", one, 404);
  CHECK(h.Call("GET", "/connections", "/connections", 200)["total_entries"] == 1);
}

TEST_CASE("api: clearTaskInstances clears across runs by logical date; run lists filter in the store") {
  ApiHarness h;
  FakeTryRunner runner(h.clock());
  for (int day : {1, 2, 3}) {
    std::string id = fmt::format("d{}", day);
    h.Call("POST", "/dags/etl/dagRuns", "/dags/{dag_id}/dagRuns", 200,
           fmt::format(R"({{"dag_run_id": "{}", "logical_date": "2026-03-0{}T00:00:00Z"}})", id, day));
    runner.Script("load", {{1, std::chrono::milliseconds(5)}});
    h.Execute(id, runner);
  }
  std::string clear = "/dags/{dag_id}/clearTaskInstances";
  json dry = h.Call("POST", "/dags/etl/clearTaskInstances", clear, 200,
                    R"({"start_date": "2026-03-02T00:00:00Z", "end_date": "2026-03-03T00:00:00Z"})");
  REQUIRE(dry["task_instances"].size() == 2);
  CHECK(dry["task_instances"][0]["dag_run_id"] == "d2");
  CHECK(dry["task_instances"][1]["task_id"] == "load");
  CHECK(h.Call("POST", "/dags/etl/clearTaskInstances", clear, 200,
               R"({"only_running": true, "only_failed": false})")["task_instances"].empty());
  CHECK(h.Call("POST", "/dags/etl/clearTaskInstances", clear, 200, R"({"only_failed": false})")
            ["task_instances"].size() == 6);
  // reset_dag_runs false: the tasks are cleared, the runs keep their state.
  h.Call("POST", "/dags/etl/clearTaskInstances", clear, 200,
         R"({"start_date": "2026-03-02T00:00:00Z", "dry_run": false, "reset_dag_runs": false})");
  CHECK(h.store().GetDagRun("etl", "d2").value().state == RunState::kFailed);
  std::string ti = "/dags/{dag_id}/dagRuns/{dag_run_id}/taskInstances/{task_id}";
  CHECK(h.Call("GET", "/dags/etl/dagRuns/d3/taskInstances/load", ti, 200)["state"].is_null());
  CHECK(h.Call("GET", "/dags/etl/dagRuns/d1/taskInstances/load", ti, 200)["state"] == "failed");
  // dag_run_id with include_future: that run and the later ones.
  json future = h.Call("POST", "/dags/etl/clearTaskInstances", clear, 200,
                       R"({"dag_run_id": "d1", "include_future": true, "only_failed": false,
                           "task_ids": ["extract"]})");
  CHECK(future["task_instances"].size() == 3);
  json d1 = h.Call("POST", "/dags/etl/clearTaskInstances", clear, 200,
                   R"({"dag_run_id": "d1", "dry_run": false})");
  CHECK(d1["task_instances"].size() == 1);
  CHECK(h.store().GetDagRun("etl", "d1").value().state == RunState::kQueued);
  h.Call("POST", "/dags/etl/clearTaskInstances", clear, 404, R"({"dag_run_id": "nope"})");
  h.Call("POST", "/dags/etl/clearTaskInstances", clear, 400, R"({"start_date": "soon"})");
  h.Call("POST", "/dags/etl/clearTaskInstances", clear, 400, R"({"task_ids": ["nope"]})");
  h.Call("POST", "/dags/nope/clearTaskInstances", clear, 404, R"({})");

  std::string runs = "/dags/{dag_id}/dagRuns";
  auto count = [&](const std::string& query) {
    return h.Call("GET", "/dags/etl/dagRuns?" + query, runs, 200)["total_entries"].get<int>();
  };
  CHECK(count("state=failed") == 2);
  CHECK(count("state=failed&state=queued") == 3);
  CHECK(count("execution_date_gte=2026-03-02T00:00:00Z&execution_date_lte=2026-03-02T23:00:00Z") == 1);
  CHECK(count("start_date_gte=2026-03-10T00:00:00Z") == 2);  // d1 was cleared: not started
  CHECK(count("start_date_lte=2026-03-09T00:00:00Z") == 0);
  CHECK(count("end_date_gte=2026-03-10T00:00:00Z") == 2);
  CHECK(count("end_date_lte=2026-03-01T00:00:00Z") == 0);
  CHECK(count("run_type=manual") == 3);
  CHECK(count("run_type=scheduled&run_type=backfill") == 0);
  json ordered = h.Call("GET", "/dags/etl/dagRuns?order_by=-execution_date&limit=1", runs, 200);
  CHECK(ordered["dag_runs"][0]["dag_run_id"] == "d3");
  h.Call("GET", "/dags/etl/dagRuns?run_type=sometimes", runs, 400);
  h.Call("GET", "/dags/etl/dagRuns?end_date_gte=yesterday", runs, 400);
}

TEST_CASE("api: a consumer's queued asset events are deleted by DAG, or by DAG and asset") {
  ApiHarness h(std::map<std::string, std::string>{
      {"report.yaml", "schedule: {assets: [s3://wh/orders]}\ntasks:\n  - {id: r, command: x}\n"}});
  REQUIRE(h.store().EnsureDags({"report"}));
  REQUIRE(h.store().SyncAssetReferences({{"s3://wh/orders", "report", ""}}, true));
  std::string by_dag = "/dags/{dag_id}/datasets/queuedEvent";
  std::string by_both = "/dags/{dag_id}/datasets/queuedEvent/{uri}";
  h.Call("POST", "/datasets/events", "/datasets/events", 200, R"({"dataset_uri": "s3://wh/orders"})");
  CHECK(h.Call("GET", "/dags/report/datasets/queuedEvent", by_dag, 200)["total_entries"] == 1);
  h.Call("DELETE", "/dags/report/datasets/queuedEvent/s3://wh/orders", by_both, 204);
  h.Call("GET", "/dags/report/datasets/queuedEvent", by_dag, 404);
  h.Call("POST", "/datasets/events", "/datasets/events", 200, R"({"dataset_uri": "s3://wh/orders"})");
  h.Call("DELETE", "/dags/report/datasets/queuedEvent", by_dag, 204);
  h.Call("DELETE", "/dags/report/datasets/queuedEvent", by_dag, 404);
}

// Every operation of Airflow's spec that dagctl answers (anything but "no API
// endpoint" or 405) must have a test in this file that checks a successful
// answer against the spec: a h.Call with that method, that path template
// and a 2xx status.
TEST_CASE("api: every Airflow endpoint dagctl serves has a schema-checked test here") {
  ApiHarness h;
  std::ifstream in(API_TEST_SOURCE);
  std::string source((std::istreambuf_iterator<char>(in)), {});
  REQUIRE(!source.empty());
  // Each h.Call(...) statement: its method, its status and its string literals.
  std::set<std::pair<std::string, std::string>> tested;
  std::regex call_re(R"re(\.Call\(\s*"(GET|POST|PATCH|DELETE)")re");
  std::regex literal_re(R"re("(/[^"]*)")re");
  std::regex ok_re(R"re(,\s*(200|204)\s*[,)])re");
  // std::string variables holding templates: (position, name, template).
  std::vector<std::tuple<size_t, std::string, std::string>> named;
  std::regex var_re(R"re(std::string (\w+) =\s*"(/[^"]*)")re");
  for (std::sregex_iterator it(source.begin(), source.end(), var_re), end; it != end; ++it)
    named.emplace_back(it->position(0), (*it)[1], (*it)[2]);
  // ... and those built from another: std::string b = a + "/more".
  std::regex sum_re(R"re(std::string (\w+) = (\w+) \+ "(/[^"]*)")re");
  for (std::sregex_iterator it(source.begin(), source.end(), sum_re), end; it != end; ++it) {
    std::string base;
    size_t latest = 0;
    for (const auto& [at, var, tmpl] : named)
      if (var == (*it)[2].str() && at < static_cast<size_t>(it->position(0)) && at >= latest) {
        base = tmpl;
        latest = at;
      }
    if (!base.empty()) named.emplace_back(it->position(0), (*it)[1], base + (*it)[3].str());
  }
  std::sort(named.begin(), named.end());
  for (std::sregex_iterator it(source.begin(), source.end(), call_re), end; it != end; ++it) {
    size_t from = it->position(0);
    std::string stmt = source.substr(from, source.find(';', from) - from);
    if (!std::regex_search(stmt, ok_re)) continue;
    std::string method = (*it)[1];
    for (char& c : method) c = static_cast<char>(std::tolower(c));
    for (std::sregex_iterator l(stmt.begin(), stmt.end(), literal_re); l != end; ++l)
      tested.insert({method, (*l)[1]});
    // A variable stands for its latest definition before the call.
    std::map<std::string, std::string> in_scope;
    for (const auto& [at, var, tmpl] : named)
      if (at < from) in_scope[var] = tmpl;
    for (const auto& [var, tmpl] : in_scope)
      if (std::regex_search(stmt, std::regex("[ ,(]" + var + "[ ,)]"))) tested.insert({method, tmpl});
  }
  json doc = Spec().Document();
  std::vector<std::string> missing;
  int served = 0;
  for (auto& [tmpl, ops] : doc["paths"].items()) {
    for (auto& [method, op] : ops.items()) {
      if (method == "parameters") continue;
      // A concrete path for the template.
      std::string path = tmpl;
      for (auto [name, value] : {std::pair{"{dag_id}", "etl"}, std::pair{"{dag_run_id}", "r"},
                                 std::pair{"{task_id}", "extract"}, std::pair{"{map_index}", "0"},
                                 std::pair{"{task_try_number}", "1"}, std::pair{"{uri}", "s3%3A%2F%2Fb"},
                                 std::pair{"{file_token}", "t"}, std::pair{"{pool_name}", "p"},
                                 std::pair{"{variable_key}", "k"}, std::pair{"{connection_id}", "c"},
                                 std::pair{"{xcom_key}", "k"}, std::pair{"{event_log_id}", "1"},
                                 std::pair{"{import_error_id}", "1"}, std::pair{"{role_name}", "r"},
                                 std::pair{"{username}", "u"}, std::pair{"{plugin_name}", "p"},
                                 std::pair{"{dataset_id}", "1"}}) {
        for (size_t at; (at = path.find(name)) != std::string::npos;) path.replace(at, strlen(name), value);
      }
      std::string upper = method;
      for (char& c : upper) c = static_cast<char>(std::toupper(c));
      api::ApiResponse resp = h.Raw(upper, path, "{}");
      bool unserved = resp.status == 405 ||
                      (resp.status == 404 && resp.body.find("no API endpoint") != std::string::npos);
      if (unserved) continue;
      ++served;
      // Airflow's answer while test_connection is disabled, its default: never a 2xx.
      bool never_2xx = method == "post" && tmpl == "/connections/test";
      if (!tested.count({method, tmpl}) && !never_2xx) missing.push_back(upper + " " + tmpl);
    }
  }
  std::string all;
  for (const std::string& m : missing) all += m + "\n";
  INFO("served without a schema-checked 2xx test:\n" << all);
  CHECK(missing.empty());
  CHECK(served > 40);
}

TEST_CASE("api: run lists filter by run_type, state and logical date range") {
  ApiHarness h;
  h.Call("POST", "/dags/etl/dagRuns", "/dags/{dag_id}/dagRuns", 200, R"({"logical_date": "2026-03-02T00:00:00Z"})");
  json b = h.Call("POST", "/ui/backfills", "", 200,
                  R"({"dag_id": "etl", "from_date": "2026-03-03", "to_date": "2026-03-04"})");
  REQUIRE(b["dag_runs"].size() == 2);
  std::string path = "/dags/{dag_id}/dagRuns";
  CHECK(h.Call("GET", "/dags/etl/dagRuns?run_type=backfill", path, 200)["total_entries"] == 2);
  CHECK(h.Call("GET", "/dags/etl/dagRuns?run_type=manual", path, 200)["total_entries"] == 1);
  CHECK(h.Call("GET", "/dags/etl/dagRuns?run_type=manual&run_type=backfill", path, 200)["total_entries"] == 3);
  json late = h.Call("GET", "/dags/etl/dagRuns?execution_date_gte=2026-03-03T12:00:00Z&execution_date_lte=2026-03-05T00:00:00Z", path, 200);
  REQUIRE(late["total_entries"] == 1);
  CHECK(late["dag_runs"][0]["dag_run_id"] == "backfill__2026-03-04T02:00:00+00:00");
  CHECK(h.Call("GET", "/dags/etl/dagRuns?state=queued&run_type=backfill", path, 200)["total_entries"] == 2);
  json bad = h.Call("GET", "/dags/etl/dagRuns?run_type=nightly", path, 400);
  CHECK(bad["detail"] == "unknown run type 'nightly' (use manual, scheduled, backfill or dataset_triggered)");
}

TEST_CASE("api: POST /ui/backfills records a range's backfill runs for the scheduler") {
  ApiHarness h;
  json b = h.Call("POST", "/ui/backfills", "", 200,
                  R"({"dag_id": "etl", "from_date": "2026-03-01", "to_date": "2026-03-03"})");
  CHECK(b["max_active_runs"] == 16);  // the DAG's
  REQUIRE(b["dag_runs"].size() == 3);
  CHECK(b["dag_runs"][0] == json({{"dag_run_id", "backfill__2026-03-01T02:00:00+00:00"},
                                  {"logical_date", "2026-03-01T02:00:00+00:00"},
                                  {"action", "created"},
                                  {"state", "queued"}}));
  // Queued for whoever claims them: no owner.
  auto run = h.store().GetDagRun("etl", "backfill__2026-03-02T02:00:00+00:00").value();
  CHECK(run.run_type == RunType::kBackfill);
  CHECK(run.state == RunState::kQueued);
  CHECK(run.owner.empty());
  CHECK(run.max_active_runs == 16);
  CHECK(h.store().ListTaskInstances("etl", run.run_id).value().size() == 2);

  // The first run fails; asked again with reprocess_behavior "failed", its
  // failed task is cleared and the others stay as they are.
  FakeTryRunner runner(h.clock());
  runner.Script("load", {{1, std::chrono::milliseconds(5)}});
  h.Execute("backfill__2026-03-01T02:00:00+00:00", runner);
  json again = h.Call("POST", "/ui/backfills", "", 200,
                      R"({"dag_id": "etl", "from_date": "2026-03-01", "to_date": "2026-03-02"})");
  CHECK(again["dag_runs"][0]["action"] == "kept");
  CHECK(again["dag_runs"][0]["state"] == "failed");
  CHECK(again["dag_runs"][1]["action"] == "queued");
  json rerun = h.Call("POST", "/ui/backfills", "", 200,
                      R"({"dag_id": "etl", "from_date": "2026-03-01", "to_date": "2026-03-01",
                          "reprocess_behavior": "failed"})");
  REQUIRE(rerun["dag_runs"].size() == 1);
  CHECK(rerun["dag_runs"][0]["action"] == "rerun");
  CHECK(h.store().GetDagRun("etl", "backfill__2026-03-01T02:00:00+00:00").value().state == RunState::kQueued);

  auto detail = [&](const std::string& body) { return h.Call("POST", "/ui/backfills", "", 400, body)["detail"]; };
  CHECK(detail(R"({"dag_id": "other", "from_date": "2026-03-01", "to_date": "2026-03-02"})") ==
        "DAG 'other' has no recurring schedule to backfill");
  CHECK(detail(R"({"dag_id": "etl", "from_date": "2026-03-05", "to_date": "2026-03-02"})") ==
        "'from_date' is after 'to_date'");
  CHECK(detail(R"({"dag_id": "etl", "from_date": "2026-03-01"})") == "'to_date' is required (a string)");
  CHECK(detail(R"({"dag_id": "etl", "from_date": "2026-03-01", "to_date": "2029-12-31"})") ==
        "the range holds more than 1000 runs of etl: backfill a shorter range");
  CHECK(detail(R"({"dag_id": "etl", "from_date": "2026-03-01", "to_date": "2026-03-02", "max": 1})") ==
        "unknown field 'max' (a backfill takes dag_id, from_date, to_date, reprocess_behavior, "
        "max_active_runs)");
  CHECK(detail(R"({"dag_id": "etl", "from_date": "2026-03-01", "to_date": "2026-03-02", "max_active_runs": 0})") ==
        "'max_active_runs' is a whole number from 1 to 1000");
  json limited = h.Call("POST", "/ui/backfills", "", 200,
                        R"({"dag_id": "etl", "from_date": "2026-03-05", "to_date": "2026-03-05", "max_active_runs": 2})");
  CHECK(limited["max_active_runs"] == 2);
  CHECK(h.store().GetDagRun("etl", "backfill__2026-03-05T02:00:00+00:00").value().max_active_runs == 2);
  h.Call("POST", "/ui/backfills", "", 404, R"({"dag_id": "nope", "from_date": "2026-03-01", "to_date": "2026-03-02"})");
  h.Call("GET", "/ui/backfills", "", 405);
}

TEST_CASE("api: the Gantt view lists a run's task instances with every try") {
  ApiHarness h(std::map<std::string, std::string>{{"retried.yaml",
                 "tasks:\n  - {id: first, command: x}\n"
                 "  - {id: flaky, command: x, depends_on: first, retries: 2, retry_delay: 1s}\n"}});
  json run = h.Call("POST", "/dags/retried/dagRuns", "/dags/{dag_id}/dagRuns", 200, "{}");
  std::string rid = run["dag_run_id"];
  FakeTryRunner runner(h.clock());
  runner.Script("flaky", {{1, std::chrono::milliseconds(5)}});
  h.Execute(rid, runner, "retried");
  json g = h.Call("GET", "/ui/gantt/retried/" + rid, "", 200);
  CHECK(g["dag_run"]["state"] == "success");
  REQUIRE(g["task_instances"].size() == 2);
  CHECK(g["task_instances"][0]["task_id"] == "first");
  json flaky = g["task_instances"][1];
  CHECK(flaky["task_id"] == "flaky");
  CHECK(flaky["try_number"] == 2);
  CHECK(flaky["queued_when"].is_string());
  REQUIRE(flaky["tries"].size() == 2);
  CHECK(flaky["tries"][0]["try_number"] == 1);
  CHECK(flaky["tries"][0]["state"] == "failed");
  CHECK(flaky["tries"][1]["state"] == "success");
  CHECK(flaky["tries"][0]["end_date"] <= flaky["tries"][1]["start_date"]);
  h.Call("GET", "/ui/gantt/retried/nope", "", 404);
}

TEST_CASE("api: durations across runs and the calendar of run states per day") {
  ApiHarness h;
  FakeTryRunner runner(h.clock());
  for (const char* day : {"2026-03-02", "2026-03-03"}) {
    json r = h.Call("POST", "/dags/etl/dagRuns", "/dags/{dag_id}/dagRuns", 200,
                    fmt::format(R"({{"logical_date": "{}T00:00:00Z"}})", day));
    h.Execute(r["dag_run_id"], runner);
  }
  h.Call("POST", "/dags/etl/dagRuns", "/dags/{dag_id}/dagRuns", 200, R"({"logical_date": "2026-03-03T05:00:00Z"})");
  json d = h.Call("GET", "/ui/durations/etl?limit=2", "", 200);
  REQUIRE(d["dag_runs"].size() == 2);
  CHECK(d["tasks"] == json({"extract", "load"}));
  // The newest run has not started: its tasks have no duration.
  const json& durations = d["durations"];
  CHECK_FALSE(durations.at("extract").contains(d["dag_runs"][0]["dag_run_id"].get<std::string>()));
  CHECK(durations.at("extract").at(d["dag_runs"][1]["dag_run_id"].get<std::string>()).is_number());
  CHECK(h.Call("GET", "/ui/durations/etl", "", 200)["dag_runs"].size() == 3);
  h.Call("GET", "/ui/durations/etl?limit=0", "", 400);

  json c = h.Call("GET", "/ui/calendar/etl?start_date=2026-03-01&end_date=2026-03-31", "", 200);
  CHECK(c["start_date"] == "2026-03-01");
  CHECK(c["end_date"] == "2026-03-31");
  CHECK(c["days"] == json({{"2026-03-02", {{"success", 1}}}, {"2026-03-03", {{"queued", 1}, {"success", 1}}}}));
  // Default: the year up to today (the clock says 2026-03-10).
  json year = h.Call("GET", "/ui/calendar/etl", "", 200);
  CHECK(year["end_date"] == "2026-03-10");
  CHECK(year["start_date"] == "2025-03-11");
  CHECK(year["days"].size() == 2);
  h.Call("GET", "/ui/calendar/etl?start_date=2024-01-01&end_date=2026-01-01", "", 400);
  h.Call("GET", "/ui/calendar/etl?start_date=2026-03-05&end_date=2026-03-01", "", 400);
}
