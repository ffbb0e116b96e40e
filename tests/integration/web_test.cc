// The web server over real HTTP on loopback: guards, and a run triggered over
// the API that the scheduler in the same process picks up.
#include <catch2/catch.hpp>
#include <httplib.h>

#include <fmt/format.h>

#include <nlohmann/json.hpp>
#include <regex>

#include "integration/harness.h"

using dagctl::testing::Background;
using dagctl::testing::Output;
using dagctl::testing::Sandbox;
using dagctl::testing::WaitFor;
using nlohmann::json;

namespace {

// The port the server printed, once it is listening.
int PortOf(const Background& server) {
  int port = 0;
  WaitFor([&] {
    std::smatch m;
    std::string log = server.Log();
    if (std::regex_search(log, m, std::regex(R"(http://127\.0\.0\.1:(\d+)/)"))) port = std::stoi(m[1]);
    return port != 0;
  }, 5);
  REQUIRE(port != 0);
  return port;
}

// Percent-encodes a path segment.
std::string Encode(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '_' || c == '.' || c == '-' || c == '~') out += static_cast<char>(c);
    else out += fmt::format("%{:02X}", c);
  }
  return out;
}

}  // namespace

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
  CHECK(json::parse(log->body)["content"] == "hello n=42\n");
  auto text = http.Get((run_path + "/taskInstances/hello/logs/1").c_str(), {{"Accept", "text/plain"}});
  REQUIRE(text);
  CHECK(text->body == "hello n=42\n");
  CHECK(text->get_header_value("Content-Type").rfind("text/plain", 0) == 0);
  CHECK(serve.Signal(SIGTERM) == 0);
}

TEST_CASE("webserver: a token guards every API call; bad input gets clean 4xx answers") {
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
  CHECK(json::parse(junk->body)["detail"] == "the request body is not valid JSON (syntax error at byte 10)");
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
