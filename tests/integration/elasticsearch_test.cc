// elasticsearch_bulk against a loopback fixture that answers as Elasticsearch
// documents it: HEAD/PUT for the index, _bulk with per-item errors.
#include <catch2/catch.hpp>
#include <httplib.h>

#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "integration/harness.h"

using dagctl::testing::FirstRunId;
using dagctl::testing::Output;
using dagctl::testing::Printed;
using dagctl::testing::Sandbox;
using nlohmann::json;

namespace {

class FakeElasticsearch {
 public:
  FakeElasticsearch() {
    svr_.Get(R"(/([^/_][^/]*))", [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard<std::mutex> lock(mu_);
      res.status = indices_.contains(req.matches[1]) ? 200 : 404;
    });
    svr_.Put(R"(/([^/_][^/]*))", [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard<std::mutex> lock(mu_);
      indices_[req.matches[1]] = json::parse(req.body);
      res.set_content(R"({"acknowledged": true})", "application/json");
    });
    svr_.Post("/_bulk", [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard<std::mutex> lock(mu_);
      ++bulk_requests_;
      std::istringstream in(req.body);
      json items = json::array();
      bool errors = false;
      for (std::string action, source; std::getline(in, action) && std::getline(in, source);) {
        json a = json::parse(action)["index"], doc = json::parse(source);
        if (doc.contains("price") && !doc["price"].is_number()) {
          errors = true;
          items.push_back({{"index", {{"_index", a["_index"]}, {"status", 400},
                                      {"error", {{"type", "mapper_parsing_exception"},
                                                 {"reason", "failed to parse field [price]"}}}}}});
          continue;
        }
        docs_[a.value("_id", std::to_string(docs_.size()))] = doc;
        items.push_back({{"index", {{"_index", a["_index"]}, {"status", 201}}}});
      }
      res.set_content(json{{"took", 1}, {"errors", errors}, {"items", items}}.dump(), "application/json");
    });
    port_ = svr_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { svr_.listen_after_bind(); });
    while (!svr_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ~FakeElasticsearch() {
    svr_.stop();
    thread_.join();
  }
  int port() const { return port_; }
  /// What the fake was sent, read under its lock (the server's thread writes it).
  json Index(const std::string& name) {
    std::lock_guard<std::mutex> lock(mu_);
    return indices_[name];
  }
  std::map<std::string, json> Docs() {
    std::lock_guard<std::mutex> lock(mu_);
    return docs_;
  }
  int BulkRequests() {
    std::lock_guard<std::mutex> lock(mu_);
    return bulk_requests_;
  }

 private:
  std::map<std::string, json> indices_, docs_;
  int bulk_requests_ = 0;
  httplib::Server svr_;
  std::thread thread_;
  int port_ = 0;
  std::mutex mu_;
};

}  // namespace

TEST_CASE("elasticsearch_bulk creates the index with its mapping and indexes in chunks") {
  FakeElasticsearch es;
  Sandbox sb;
  std::ofstream(sb.work() / "products.jsonl")
      << "{\"sku\": \"a1\", \"price\": 10}\n\n{\"sku\": \"b2\", \"price\": 12.5}\n{\"sku\": \"c3\", \"price\": 7}\n";
  std::ofstream(sb.work() / "index.yaml") << "tasks:\n  - id: load\n    operator: elasticsearch_bulk\n"
      << "    conn_id: search\n    index: products\n    source: " << (sb.work() / "products.jsonl").string()
      << "\n    id_field: sku\n    chunk_size: 2\n"
      << "    mapping: {properties: {sku: {type: keyword}, price: {type: float}}}\n"
      << "  - {id: show, depends_on: load, command: 'echo indexed={{ xcom.load }}'}\n";
  std::string env = "DAGCTL_CONN_SEARCH=http://127.0.0.1:" + std::to_string(es.port());
  Output o = sb.Dagctl("run " + (sb.work() / "index.yaml").string(), FIXTURES_DIR "/dags", env);
  INFO(o.err);
  REQUIRE(o.exit_code == 0);
  CHECK(es.Index("products") ==
        json::parse(R"({"mappings": {"properties": {"sku": {"type": "keyword"}, "price": {"type": "float"}}}})"));
  CHECK(es.Docs().size() == 3);
  CHECK(es.Docs()["b2"]["price"] == 12.5);
  CHECK(es.BulkRequests() == 2);
  std::string run_id = FirstRunId(sb, "index");
  CHECK(Printed(sb.Dagctl("logs index '" + run_id + "' show").out) == "indexed=3\n");
}

TEST_CASE("elasticsearch_bulk fails with the first rejected document's reason") {
  FakeElasticsearch es;
  Sandbox sb;
  std::ofstream(sb.work() / "bad.jsonl") << "{\"sku\": \"a1\", \"price\": 10}\n{\"sku\": \"b2\", \"price\": \"cheap\"}\n";
  std::ofstream(sb.work() / "bad.yaml") << "tasks:\n  - {id: load, operator: elasticsearch_bulk, retries: 0, url: 'http://127.0.0.1:"
      << es.port() << "', index: products, source: '" << (sb.work() / "bad.jsonl").string() << "'}\n";
  Output o = sb.Dagctl("run " + (sb.work() / "bad.yaml").string());
  CHECK(o.exit_code == 1);
  std::string run_id = FirstRunId(sb, "bad");
  CHECK(sb.Dagctl("logs bad '" + run_id + "' load").out.find(
            "elasticsearch: document on line 2 was rejected (400): mapper_parsing_exception: failed "
            "to parse field [price]") != std::string::npos);
}
