// The http operator through the real binary against a loopback server.
#include <catch2/catch.hpp>
#include <httplib.h>

#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "integration/harness.h"

using dagctl::testing::FirstRunId;
using dagctl::testing::Output;
using dagctl::testing::Printed;
using dagctl::testing::ReadFile;
using dagctl::testing::Sandbox;
using nlohmann::json;

namespace {

// A small web service on 127.0.0.1 for the duration of a test.
class FakeService {
 public:
  FakeService() {
    svr_.Get("/data", [](const httplib::Request&, httplib::Response& res) {
      res.set_content(R"({"status": "ok", "n": 3})", "application/json");
    });
    svr_.Get("/old", [](const httplib::Request&, httplib::Response& res) { res.set_redirect("/data"); });
    svr_.Get("/ready", [this](const httplib::Request&, httplib::Response& res) {
      // Not ready for the first two polls.
      std::lock_guard<std::mutex> lock(mu_);
      if (++ready_polls_ < 3) res.status = 503;
      else res.set_content(R"({"state": "done"})", "application/json");
    });
    svr_.Post("/ingest", [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard<std::mutex> lock(mu_);
      last_body_ = req.body;
      last_auth_ = req.get_header_value("Authorization");
      res.status = 201;
      res.set_content(R"({"accepted": true})", "application/json");
    });
    port_ = svr_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { svr_.listen_after_bind(); });
    while (!svr_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ~FakeService() {
    svr_.stop();
    thread_.join();
  }
  int port() const { return port_; }
  std::string last_body() {
    std::lock_guard<std::mutex> lock(mu_);
    return last_body_;
  }
  std::string last_auth() {
    std::lock_guard<std::mutex> lock(mu_);
    return last_auth_;
  }

 private:
  httplib::Server svr_;
  std::thread thread_;
  int port_ = 0;
  std::mutex mu_;
  std::string last_body_, last_auth_;
  int ready_polls_ = 0;
};

json States(const Sandbox& sb, const std::string& dag) {
  std::string run_id = FirstRunId(sb, dag);
  json tis = json::parse(sb.Dagctl("tasks " + dag + " '" + run_id + "' --json").out);
  json out = json::object();
  for (const json& ti : tis["task_instances"]) out[ti["task_id"].get<std::string>()] = ti["state"];
  out["_run_id"] = run_id;
  return out;
}

}  // namespace

TEST_CASE("http: GET with a JSON check, a redirect, the body saved and pushed to XCom") {
  FakeService svc;
  Sandbox sb;
  std::string base = "http://127.0.0.1:" + std::to_string(svc.port());
  std::ofstream(sb.work() / "fetch.yaml") << "tasks:\n"
      << "  - id: fetch\n    operator: http\n    url: " << base << "/old\n"
      << "    response_check: {path: /status, equals: ok}\n"
      << "    save_to: " << (sb.work() / "saved.json").string() << "\n"
      << "  - id: use\n    depends_on: fetch\n"
      << "    command: echo {{ xcom.fetch | quote }} > " << (sb.work() / "xcom.txt").string() << "\n";
  Output o = sb.Dagctl("run " + (sb.work() / "fetch.yaml").string());
  INFO(o.err);
  REQUIRE(o.exit_code == 0);
  CHECK(ReadFile(sb.work() / "saved.json") == R"({"status": "ok", "n": 3})");
  CHECK(ReadFile(sb.work() / "xcom.txt") == "{\"status\": \"ok\", \"n\": 3}\n");
  json st = States(sb, "fetch");
  CHECK(Printed(sb.Dagctl("logs fetch '" + st["_run_id"].get<std::string>() + "' fetch").out) ==
        "http: GET " + base + "/old -> 200 (24 bytes)\n");
}

TEST_CASE("http: POST through a connection, with basic auth and a templated body") {
  FakeService svc;
  Sandbox sb;
  std::ofstream(sb.work() / "post.yaml") << R"(params: {day: monday}
tasks:
  - id: send
    operator: http
    method: post
    conn_id: ingest_api
    endpoint: ingest
    retries: 0
    body: '{"day": "{{ params.day }}", "ds": "{{ ds }}"}'
    expected_status: [201]
)";
  std::string dag = (sb.work() / "post.yaml").string();
  Output missing = sb.Dagctl("run " + dag + " --date 2026-05-04");
  CHECK(missing.exit_code == 1);
  CHECK(missing.err.find("send failed on try 1: connection 'ingest_api' is not defined (set "
                         "DAGCTL_CONN_INGEST_API, or add it to " +
                         (sb.home() / "connections.yaml").string() + ")") != std::string::npos);
  std::string env = "DAGCTL_CONN_INGEST_API=http://etl:s3cret@127.0.0.1:" + std::to_string(svc.port());
  Output o = sb.Dagctl("run " + dag + " --date 2026-05-04", FIXTURES_DIR "/dags", env);
  INFO(o.err);
  REQUIRE(o.exit_code == 0);
  CHECK(svc.last_body() == R"({"day": "monday", "ds": "2026-05-04"})");
  CHECK(svc.last_auth() == "Basic ZXRsOnMzY3JldA==");

  // The same connection from $DAGCTL_HOME/connections.yaml, as a map of fields.
  std::ofstream(sb.home() / "connections.yaml")
      << "ingest_api:\n  conn_type: http\n  host: 127.0.0.1\n  port: " << svc.port()
      << "\n  login: etl2\n  password: pw\n";
  Output from_file = sb.Dagctl("run " + dag + " --date 2026-05-05");
  INFO(from_file.err);
  REQUIRE(from_file.exit_code == 0);
  CHECK(svc.last_body() == R"({"day": "monday", "ds": "2026-05-05"})");
  CHECK(svc.last_auth() == "Basic ZXRsMjpwdw==");
}

TEST_CASE("http: an unexpected status or a refused connection fails the try and says why") {
  FakeService svc;
  Sandbox sb;
  std::string base = "http://127.0.0.1:" + std::to_string(svc.port());
  std::ofstream(sb.work() / "bad.yaml") << "tasks:\n"
      << "  - {id: missing, operator: http, url: '" << base << "/nope', retries: 0}\n"
      << "  - {id: refused, operator: http, url: 'http://127.0.0.1:1/x', retries: 0}\n"
      << "  - {id: check, operator: http, url: '" << base << "/data', retries: 0,\n"
      << "     response_check: {path: /n, equals: '4'}}\n";
  Output o = sb.Dagctl("run " + (sb.work() / "bad.yaml").string());
  CHECK(o.exit_code == 1);
  json st = States(sb, "bad");
  CHECK(st["missing"] == "failed");
  CHECK(st["refused"] == "failed");
  CHECK(st["check"] == "failed");
  std::string run_id = st["_run_id"];
  CHECK(sb.Dagctl("logs bad '" + run_id + "' missing").out.find("http: unexpected status 404") != std::string::npos);
  CHECK(sb.Dagctl("logs bad '" + run_id + "' refused").out.find(
            "http: GET http://127.0.0.1:1/x failed: could not connect") != std::string::npos);
  CHECK(sb.Dagctl("logs bad '" + run_id + "' check").out.find(
            "http: response_check: '/n' is '3', expected '4'") != std::string::npos);
}

TEST_CASE("http: parameters are checked when the DAG loads") {
  Sandbox sb;
  std::ofstream(sb.work() / "inv.yaml") << "tasks:\n"
      << "  - {id: a, operator: http, method: FETCH, url: 'http://127.0.0.1:1/'}\n"
      << "  - {id: b, operator: http}\n";
  Output o = sb.Dagctl("validate " + (sb.work() / "inv.yaml").string());
  CHECK(o.exit_code == 2);
  CHECK(o.err.find("tasks[0]: 'method' must be GET, POST, PUT, PATCH, DELETE or HEAD, not 'FETCH'") != std::string::npos);
  CHECK(o.err.find("tasks[1]: operator 'http' needs 'url' or 'conn_id'") != std::string::npos);
}

TEST_CASE("http_sensor pokes until the service answers as expected") {
  FakeService svc;
  Sandbox sb;
  std::ofstream(sb.work() / "waiter.yaml") << "tasks:\n"
      << "  - {id: wait, operator: http_sensor, url: 'http://127.0.0.1:" << svc.port()
      << "/ready', response_check: {path: /state, equals: done}, poke_interval: 0.1}\n";
  Output o = sb.Dagctl("run " + (sb.work() / "waiter.yaml").string());
  INFO(o.err);
  REQUIRE(o.exit_code == 0);
  json st = States(sb, "waiter");
  std::string log = sb.Dagctl("logs waiter '" + st["_run_id"].get<std::string>() + "' wait").out;
  CHECK(log.find("http: unexpected status 503") != std::string::npos);
  CHECK(log.find("-> 200 (17 bytes)") != std::string::npos);
}

TEST_CASE("an on_failure callback posts to a webhook (a Slack-style alert)") {
  FakeService svc;
  Sandbox sb;
  std::ofstream(sb.work() / "alerting.yaml") << "default_args:\n"
      << "  retries: 0\n"
      << "  on_failure:\n    operator: http\n    method: POST\n"
      << "    url: 'http://127.0.0.1:" << svc.port() << "/ingest'\n"
      << "    expected_status: [201]\n"
      << "    body: '{\"text\": \"{{ dag_id }}.{{ task_id }} failed on {{ ds }}: {{ exception }}\"}'\n"
      << "tasks:\n  - {id: load, command: 'exit 3'}\n";
  Output o = sb.Dagctl("run " + (sb.work() / "alerting.yaml").string() + " --date 2026-10-01");
  CHECK(o.exit_code == 1);
  CHECK(svc.last_body() == R"({"text": "alerting.load failed on 2026-10-01: exit code 3"})");
  json st = States(sb, "alerting");
  std::string log = sb.Dagctl("logs alerting '" + st["_run_id"].get<std::string>() + "' load").out;
  CHECK(log.find("[dagctl] on_failure callback load.on_failure: starting") != std::string::npos);
  CHECK(log.find("[dagctl] callback succeeded") != std::string::npos);
}

TEST_CASE("http: a file:// URL is read by GET and appended to by POST, and the log says no request was made") {
  Sandbox sb;
  std::filesystem::create_directories(sb.work() / "api" / "orders");
  std::ofstream(sb.work() / "api" / "orders" / "2026-05-04.json") << R"({"status": "ok", "n": 2})";
  std::string hook = (sb.work() / "sinks" / "hook.jsonl").string();
  std::ofstream(sb.work() / "files.yaml") << "tasks:\n"
      << "  - {id: get, operator: http, conn_id: api, endpoint: '/orders/{{ ds }}.json',\n"
      << "     response_check: {path: /status, equals: ok}, save_to: '" << sb.work().string() << "/copy/{{ ds }}.json'}\n"
      << "  - {id: post, operator: http, depends_on: get, method: POST, url: 'file://" << hook << "',\n"
      << "     headers: {Content-Type: application/json}, body: '{\"text\": \"loaded {{ ds }}\"}'}\n"
      << "  - {id: missing, operator: http, conn_id: api, endpoint: /orders/1999-01-01.json, retries: 0}\n";
  std::string env = "DAGCTL_CONN_API=file://" + (sb.work() / "api").string();
  Output o = sb.Dagctl("run " + (sb.work() / "files.yaml").string() + " --date 2026-05-04", FIXTURES_DIR "/dags", env);
  CHECK(o.exit_code == 1);  // `missing` failed
  CHECK(ReadFile(sb.work() / "copy" / "2026-05-04.json") == R"({"status": "ok", "n": 2})");
  json posted = json::parse(ReadFile(hook));
  CHECK(posted == json{{"method", "POST"},
                       {"headers", {{"Content-Type", "application/json"}}},
                       {"body", R"({"text": "loaded 2026-05-04"})"}});
  std::string run_id = FirstRunId(sb, "files");
  CHECK(Printed(sb.Dagctl("logs files '" + run_id + "' get").out) ==
        "http: GET file://" + (sb.work() / "api").string() +
            "/orders/2026-05-04.json -> read 24 bytes from a local file (no HTTP request was made)\n");
  CHECK(Printed(sb.Dagctl("logs files '" + run_id + "' post").out) ==
        "http: POST file://" + hook + " -> appended the request to a local sink (no HTTP request was made)\n");
  CHECK(sb.Dagctl("logs files '" + run_id + "' missing").out.find("/orders/1999-01-01.json: no such file") !=
        std::string::npos);
}

TEST_CASE("http: a connection's path comes before the endpoint, so one URI can be a whole webhook") {
  FakeService svc;
  Sandbox sb;
  std::ofstream(sb.work() / "hook.yaml")
      << "tasks:\n  - {id: notify, operator: http, conn_id: hook, method: POST, body: 'hi', retries: 0,"
         " expected_status: [201]}\n";
  std::string env = "DAGCTL_CONN_HOOK=http://127.0.0.1:" + std::to_string(svc.port()) + "/ingest";
  Output o = sb.Dagctl("run " + (sb.work() / "hook.yaml").string(), FIXTURES_DIR "/dags", env);
  INFO(o.err);
  REQUIRE(o.exit_code == 0);
  CHECK(svc.last_body() == "hi");
}
