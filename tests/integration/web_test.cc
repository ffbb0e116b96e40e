// The web server over real HTTP on loopback: guards, and a run triggered over
// the API that the scheduler in the same process picks up.
#include <catch2/catch.hpp>
#include <httplib.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "integration/harness.h"

using dagctl::testing::Background;
using dagctl::testing::Encode;
using dagctl::testing::Output;
using dagctl::testing::PortOf;
using dagctl::testing::Sandbox;
using dagctl::testing::WaitFor;
using nlohmann::json;

using dagctl::testing::Encode;
using dagctl::testing::PortOf;

TEST_CASE("serve: a run triggered over the API is run by the scheduler, and its log is readable") {
  Sandbox sb;
  Background serve(sb, "serve --port 0 --quiet", FIXTURES_DIR "/sched");
  httplib::Client http("127.0.0.1", PortOf(serve));
  auto health = http.Get("/api/v1/health");
  REQUIRE(health);
  CHECK(health->status == 200);
  CHECK(json::parse(health->body)["metadatabase"]["status"] == "healthy");

  auto posted = http.Post("/api/v1/dags/quick/dagRuns", R"({"conf": {"n": 42}})", "application/json");
  REQUIRE(posted);
  REQUIRE(posted->status == 200);
  std::string run_id = json::parse(posted->body)["dag_run_id"];
  std::string run_path = "/api/v1/dags/quick/dagRuns/" + Encode(run_id);
  REQUIRE(WaitFor([&] {
    auto r = http.Get(run_path.c_str());
    return r && r->status == 200 && json::parse(r->body)["state"] == "success";
  }, 10));
  auto log = http.Get((run_path + "/taskInstances/hello/logs/1").c_str());
  REQUIRE(log);
  CHECK(dagctl::testing::Printed(json::parse(log->body)["content"]) == "hello n=42\n");
  auto text = http.Get((run_path + "/taskInstances/hello/logs/1").c_str(), {{"Accept", "text/plain"}});
  REQUIRE(text);
  CHECK(dagctl::testing::Printed(text->body) == "hello n=42\n");
  CHECK(text->get_header_value("Content-Type").rfind("text/plain", 0) == 0);
  CHECK(serve.Signal(SIGTERM) == 0);
}

TEST_CASE("webserver: a token guards every API call, and bad input gets clean 4xx answers") {
  Sandbox sb;
  Background web(sb, "webserver --port 0 --token s3cret", FIXTURES_DIR "/sched");
  httplib::Client http("127.0.0.1", PortOf(web));
  auto anon = http.Get("/api/v1/dags");
  REQUIRE(anon);
  CHECK(anon->status == 401);
  CHECK(json::parse(anon->body)["title"] == "Unauthenticated");
  auto wrong = http.Get("/api/v1/dags", {{"Authorization", "Bearer s3creT"}});
  REQUIRE(wrong);
  CHECK(wrong->status == 401);
  httplib::Headers auth = {{"Authorization", "Bearer s3cret"}};
  auto ok = http.Get("/api/v1/dags", auth);
  REQUIRE(ok);
  CHECK(ok->status == 200);
  CHECK(json::parse(ok->body)["total_entries"] == 2);

  auto big = http.Post("/api/v1/dags/quick/dagRuns", auth, std::string(2 << 20, 'x'), "application/json");
  REQUIRE(big);
  CHECK(big->status == 413);
  auto junk = http.Post("/api/v1/dags/quick/dagRuns", auth, "{\"conf\": ", "application/json");
  REQUIRE(junk);
  CHECK(junk->status == 400);
  CHECK(json::parse(junk->body)["detail"] ==
        "the request body is not valid JSON (syntax error at byte 10)");
  auto traversal = http.Get("/api/v1/dags/quick/dagRuns/..%2F..%2Fetc/taskInstances/x/logs/1", auth);
  REQUIRE(traversal);
  CHECK(traversal->status == 404);
  CHECK(web.Signal(SIGTERM) == 0);
}

TEST_CASE("webserver: a non-loopback address without a token is refused") {
  Sandbox sb;
  Output o = sb.Dagctl("webserver --host 0.0.0.0", FIXTURES_DIR "/sched");
  CHECK(o.exit_code == 2);
  CHECK(o.err == "dagctl: webserver: refusing to serve on 0.0.0.0 without a token: set --token or "
                 "DAGCTL_API_TOKEN, or bind to 127.0.0.1\n");
}

TEST_CASE("webserver: odd paths, methods and bodies get answers, and the server stays up") {
  Sandbox sb;
  Background web(sb, "webserver --port 0", FIXTURES_DIR "/sched");
  httplib::Client http("127.0.0.1", PortOf(web));
  const std::vector<std::string> paths = {
      "/api/v1/dags/%00", "/api/v1/dags/quick/dagRuns/%2e%2e/taskInstances", "/api/v1//dags",
      "/api/v1/dags/quick/dagRuns?limit=-1", "/api/v1/dags/quick/dagRuns?offset=999999999999",
      "/api/v1/dags/quick/dagRuns?execution_date_gte=yesterday", "/api/v1/dags?paused=maybe",
      "/api/v1/ui/grid/quick?limit=0", "/api/v1/dags/quick/clearTaskInstances", "/static/../../etc/passwd",
      "/api/v1/dags/quick/dagRuns/x/taskInstances/y/logs/1", std::string("/api/v1/dags/") + std::string(5000, 'a')};
  const std::vector<std::string> bodies = {"", "null", "[]", "{\"conf\": []}", "{\"conf\": {\"n\": 1e999}}",
                                           std::string(1000, '{'), "{\"dag_run_id\": 7}", "\xff\xfe"};
  int answered = 0;
  for (const auto& p : paths) {
    for (const auto& b : bodies) {
      auto get = http.Get(p.c_str());
      auto post = http.Post(p.c_str(), b, "application/json");
      auto patch = http.Patch(p.c_str(), b, "application/json");
      for (const auto* r : {&get, &post, &patch}) {
        if (!*r) continue;
        ++answered;
        CHECK((*r)->status >= 200);
        CHECK((*r)->status < 500);
      }
    }
  }
  CHECK(answered == static_cast<int>(paths.size() * bodies.size() * 3));
  auto health = http.Get("/api/v1/health");
  REQUIRE(health);
  CHECK(health->status == 200);
  CHECK(web.Signal(SIGTERM) == 0);
}

namespace {

// Sends `request` on a fresh connection to 127.0.0.1:`port` and returns the
// answer: headers and a Content-Length body.
std::string RawExchange(int port, const std::string& request) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  for (size_t sent = 0; sent < request.size();) {
    ssize_t n = send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;
    sent += static_cast<size_t>(n);
  }
  std::string answer;
  char buf[4096];
  auto complete = [&] {
    size_t end = answer.find("\r\n\r\n");
    size_t length = answer.find("Content-Length: ");
    return end != std::string::npos && length != std::string::npos &&
           answer.size() >= end + 4 + std::stoul(answer.substr(length + 16));
  };
  for (ssize_t n; !complete() && (n = recv(fd, buf, sizeof buf, 0)) > 0;)
    answer.append(buf, static_cast<size_t>(n));
  close(fd);
  return answer;
}

}  // namespace

TEST_CASE(
    "webserver: bodies over 1 MiB get 413 also when chunked, paths that are not UTF-8 get 404, and "
    "the server stays up") {
  Sandbox sb;
  Background web(sb, "webserver --port 0", FIXTURES_DIR "/sched");
  int port = PortOf(web);
  // 16 chunks of 64 KiB, then one byte more: the server reads all of it (so it
  // closes cleanly), answers 413 and never holds more than the limit.
  std::string chunks;
  for (int i = 0; i < 16; ++i) chunks += "10000\r\n" + std::string(64 << 10, 'x') + "\r\n";
  chunks += "1\r\nx";
  for (const char* path : {"/api/v1/dags/quick/dagRuns", "/anywhere"}) {
    std::string answer = RawExchange(
        port, std::string("POST ") + path +
                  " HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" + chunks);
    INFO(answer.substr(0, 300));
    CHECK(answer.rfind("HTTP/1.1 413 ", 0) == 0);
    CHECK(answer.find("the request body is over the limit of 1048576 bytes") != std::string::npos);
  }
  httplib::Client http("127.0.0.1", port);
  for (const char* path : {"/api/v1/dags/%FF", "/nothing%FF%FE"}) {
    auto odd = http.Get(path);
    REQUIRE(odd);
    CHECK(odd->status == 404);
    CHECK(json::parse(odd->body)["status"] == 404);  // valid JSON: U+FFFD for the bad bytes
  }
  auto health = http.Get("/api/v1/health");
  REQUIRE(health);
  CHECK(health->status == 200);
  CHECK(web.Signal(SIGTERM) == 0);
}

namespace {

// The slow fixture's run with its markers in `dir`, once its long try runs:
// the run's API path and the pid of that try's sleep.
std::pair<std::string, pid_t> SlowRunAtLongTry(httplib::Client& http, const std::string& dir) {
  auto posted = http.Post("/api/v1/dags/slow/dagRuns",
                          json{{"conf", {{"marker_dir", dir}}}}.dump(), "application/json");
  REQUIRE(posted);
  REQUIRE(posted->status == 200);
  std::string path = "/api/v1/dags/slow/dagRuns/" +
                     Encode(json::parse(posted->body)["dag_run_id"].get<std::string>());
  std::string pid_file = dir + "/sleep_pid_1";
  REQUIRE(WaitFor([&] { return std::filesystem::exists(pid_file) &&
                               std::filesystem::file_size(pid_file) > 0; }, 20));
  pid_t pid = std::stoi(dagctl::testing::ReadFile(pid_file));
  return {path, pid};
}

json GetJson(httplib::Client& http, const std::string& path) {
  auto r = http.Get(path.c_str());
  REQUIRE(r);
  REQUIRE(r->status == 200);
  return json::parse(r->body);
}

}  // namespace

TEST_CASE("serve: a running task marked success over the API is stopped and its downstream runs") {
  Sandbox sb;
  Background serve(sb, "serve --port 0 --quiet", FIXTURES_DIR "/sched");
  httplib::Client http("127.0.0.1", PortOf(serve));
  auto [run_path, sleep_pid] = SlowRunAtLongTry(http, sb.work().string());
  auto marked = http.Patch((run_path + "/taskInstances/wait_a_while").c_str(),
                           R"({"new_state": "success", "dry_run": false})", "application/json");
  REQUIRE(marked);
  CHECK(marked->status == 200);
  // The try is stopped (its sleep killed), the run goes on to `last` and succeeds.
  CHECK(WaitFor([&] { return kill(sleep_pid, 0) != 0; }, 15));
  REQUIRE(WaitFor([&] { return GetJson(http, run_path)["state"] == "success"; }, 20));
  json ti = GetJson(http, run_path + "/taskInstances/wait_a_while");
  CHECK(ti["state"] == "success");
  CHECK(ti["try_number"] == 1);
  CHECK(GetJson(http, run_path + "/taskInstances/last")["state"] == "success");
  CHECK(std::filesystem::exists(sb.work() / "done"));
  CHECK(serve.Signal(SIGTERM) == 0);
}

TEST_CASE("serve: a run marked failed over the API stops its running try and skips the rest") {
  Sandbox sb;
  Background serve(sb, "serve --port 0 --quiet", FIXTURES_DIR "/sched");
  httplib::Client http("127.0.0.1", PortOf(serve));
  auto [run_path, sleep_pid] = SlowRunAtLongTry(http, sb.work().string());
  auto marked = http.Patch(run_path.c_str(), R"({"state": "failed"})", "application/json");
  REQUIRE(marked);
  CHECK(marked->status == 200);
  CHECK(json::parse(marked->body)["state"] == "failed");
  CHECK(WaitFor([&] { return kill(sleep_pid, 0) != 0; }, 15));
  CHECK(GetJson(http, run_path + "/taskInstances/first")["state"] == "success");
  CHECK(GetJson(http, run_path + "/taskInstances/wait_a_while")["state"] == "failed");
  CHECK(GetJson(http, run_path + "/taskInstances/last")["state"] == "skipped");
  // The scheduler let the run go: it stays failed, nothing more runs.
  std::this_thread::sleep_for(std::chrono::seconds(2));
  CHECK(GetJson(http, run_path)["state"] == "failed");
  CHECK(GetJson(http, run_path + "/taskInstances/wait_a_while")["try_number"] == 1);
  CHECK(!std::filesystem::exists(sb.work() / "done"));
  CHECK(serve.Signal(SIGTERM) == 0);
}

TEST_CASE("serve: a connection created over the API is what {{ conn.ID.FIELD }} renders") {
  Sandbox sb;
  std::filesystem::path dags = sb.work() / "dags";
  std::filesystem::create_directories(dags);
  std::ofstream(dags / "uses_conn.yaml")
      << "tasks:\n  - id: show\n    command: echo \"host={{ conn.lake.host }} port={{ conn.lake.port }}\"\n";
  Background serve(sb, "serve --port 0 --quiet", dags.string());
  httplib::Client http("127.0.0.1", PortOf(serve));
  auto made = http.Post("/api/v1/connections",
                        R"({"connection_id": "lake", "conn_type": "s3", "host": "minio", "port": 9000,
                            "password": "hunter2"})", "application/json");
  REQUIRE(made);
  REQUIRE(made->status == 200);
  CHECK(made->body.find("hunter2") == std::string::npos);
  auto posted = http.Post("/api/v1/dags/uses_conn/dagRuns", "{}", "application/json");
  REQUIRE(posted);
  REQUIRE(posted->status == 200);
  std::string run_path = "/api/v1/dags/uses_conn/dagRuns/" +
                         Encode(json::parse(posted->body)["dag_run_id"].get<std::string>());
  REQUIRE(WaitFor([&] { return GetJson(http, run_path)["state"] != "queued" &&
                               GetJson(http, run_path)["state"] != "running"; }, 15));
  CHECK(GetJson(http, run_path)["state"] == "success");
  CHECK(dagctl::testing::Printed(GetJson(http, run_path + "/taskInstances/show/logs/1")["content"]) ==
        "host=minio port=9000\n");
  CHECK(serve.Signal(SIGTERM) == 0);
}
