// kafka_produce against librdkafka's built-in mock cluster (hosted by this
// test process on loopback), consuming the records back.
#include <catch2/catch.hpp>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <nlohmann/json.hpp>

#include "integration/harness.h"

using dagctl::testing::FirstRunId;
using dagctl::testing::Output;
using dagctl::testing::Printed;
using dagctl::testing::Sandbox;
using nlohmann::json;

namespace {

class MockKafka {
 public:
  MockKafka() {
    char err[256];
    rk_ = rd_kafka_new(RD_KAFKA_PRODUCER, rd_kafka_conf_new(), err, sizeof err);
    REQUIRE(rk_);
    cluster_ = rd_kafka_mock_cluster_new(rk_, 1);
    REQUIRE(cluster_);
    bootstraps_ = rd_kafka_mock_cluster_bootstraps(cluster_);
    rd_kafka_mock_topic_create(cluster_, "car_status", 1, 1);
  }
  ~MockKafka() {
    rd_kafka_mock_cluster_destroy(cluster_);
    rd_kafka_destroy(rk_);
  }
  const std::string& bootstraps() const { return bootstraps_; }

  // (key, value) of the first `n` records of `topic`, within 15 s.
  std::vector<std::pair<std::string, std::string>> Consume(const std::string& topic, size_t n) {
    char err[256];
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", bootstraps_.c_str(), err, sizeof err);
    rd_kafka_conf_set(conf, "group.id", "dagctl-test", err, sizeof err);
    rd_kafka_conf_set(conf, "auto.offset.reset", "earliest", err, sizeof err);
    rd_kafka_t* c = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
    rd_kafka_poll_set_consumer(c);
    rd_kafka_topic_partition_list_t* topics = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(topics, topic.c_str(), RD_KAFKA_PARTITION_UA);
    rd_kafka_subscribe(c, topics);
    rd_kafka_topic_partition_list_destroy(topics);
    std::vector<std::pair<std::string, std::string>> out;
    auto end = std::chrono::steady_clock::now() + std::chrono::seconds(15);
    while (out.size() < n && std::chrono::steady_clock::now() < end) {
      rd_kafka_message_t* m = rd_kafka_consumer_poll(c, 200);
      if (!m) continue;
      if (!m->err)
        out.emplace_back(std::string(static_cast<char*>(m->key), m->key_len),
                         std::string(static_cast<char*>(m->payload), m->len));
      rd_kafka_message_destroy(m);
    }
    rd_kafka_consumer_close(c);
    rd_kafka_destroy(c);
    return out;
  }

 private:
  rd_kafka_t* rk_ = nullptr;
  rd_kafka_mock_cluster_t* cluster_ = nullptr;
  std::string bootstraps_;
};

}  // namespace

TEST_CASE("kafka_produce delivers JSON-lines records with keys, and they can be consumed back") {
  MockKafka kafka;
  Sandbox sb;
  std::ofstream(sb.work() / "status.jsonl")
      << "{\"car\": \"c1\", \"kmh\": 93}\n{\"car\": \"c2\", \"kmh\": 41}\n\n{\"car\": \"c1\", \"kmh\": 88}\n";
  std::ofstream(sb.work() / "stream.yaml") << "tasks:\n  - id: send\n    operator: kafka_produce\n"
      << "    bootstrap_servers: '" << kafka.bootstraps() << "'\n    topic: car_status\n"
      << "    source: " << (sb.work() / "status.jsonl").string() << "\n    key_field: car\n"
      << "  - {id: show, depends_on: send, command: 'echo sent={{ xcom.send }}'}\n";
  Output o = sb.Dagctl("run " + (sb.work() / "stream.yaml").string());
  INFO(o.err);
  REQUIRE(o.exit_code == 0);
  auto records = kafka.Consume("car_status", 3);
  REQUIRE(records.size() == 3);
  CHECK(records[0] == std::make_pair(std::string("c1"), std::string("{\"car\": \"c1\", \"kmh\": 93}")));
  CHECK(records[1].first == "c2");
  CHECK(records[2].second == "{\"car\": \"c1\", \"kmh\": 88}");
  std::string run_id = FirstRunId(sb, "stream");
  CHECK(Printed(sb.Dagctl("logs stream '" + run_id + "' show").out) == "sent=3\n");
}

TEST_CASE("kafka_produce fails with the delivery error when the cluster cannot be reached") {
  Sandbox sb;
  std::ofstream(sb.work() / "dead.yaml") << R"(tasks:
  - id: send
    operator: kafka_produce
    bootstrap_servers: 127.0.0.1:1
    topic: car_status
    value: '{"car": "c9"}'
    config: {message.timeout.ms: "1500"}
    retries: 0
)";
  Output o = sb.Dagctl("run " + (sb.work() / "dead.yaml").string());
  CHECK(o.exit_code == 1);
  std::string run_id = FirstRunId(sb, "dead");
  std::string log = sb.Dagctl("logs dead '" + run_id + "' send").out;
  CHECK(log.find("kafka: 0 of 1 records delivered to car_status") != std::string::npos);
  CHECK(log.find("kafka: 1 deliveries failed; the first: Local: Message timed out") != std::string::npos);
}

TEST_CASE("kafka_produce and elasticsearch_bulk write local sinks through file connections") {
  Sandbox sb;
  std::string sinks = (sb.work() / "sinks").string();
  std::ofstream(sb.work() / "p.jsonl") << "{\"sku\": \"a1\", \"price\": 1}\n{\"sku\": \"b2\", \"price\": 2}\n";
  std::ofstream(sb.work() / "local.yaml") << "tasks:\n"
      << "  - {id: stream, operator: kafka_produce, conn_id: kafka, topic: products, key_field: sku, source: '"
      << (sb.work() / "p.jsonl").string() << "'}\n"
      << "  - {id: index, operator: elasticsearch_bulk, conn_id: search, index: products, id_field: sku, source: '"
      << (sb.work() / "p.jsonl").string() << "', mapping: {properties: {sku: {type: keyword}}}}\n";
  std::string env = "DAGCTL_CONN_KAFKA=file://" + sinks + "/kafka DAGCTL_CONN_SEARCH=file://" + sinks + "/es";
  Output o = sb.Dagctl("run " + (sb.work() / "local.yaml").string(), FIXTURES_DIR "/dags", env);
  INFO(o.err);
  REQUIRE(o.exit_code == 0);
  CHECK(dagctl::testing::ReadFile(sb.work() / "sinks" / "kafka" / "products.jsonl") ==
        "{\"key\":\"a1\",\"value\":\"{\\\"sku\\\": \\\"a1\\\", \\\"price\\\": 1}\"}\n"
        "{\"key\":\"b2\",\"value\":\"{\\\"sku\\\": \\\"b2\\\", \\\"price\\\": 2}\"}\n");
  CHECK(dagctl::testing::ReadFile(sb.work() / "sinks" / "es" / "products.ndjson") ==
        "{\"index\":{\"_id\":\"a1\",\"_index\":\"products\"}}\n{\"price\":1,\"sku\":\"a1\"}\n"
        "{\"index\":{\"_id\":\"b2\",\"_index\":\"products\"}}\n{\"price\":2,\"sku\":\"b2\"}\n");
  std::string run_id = FirstRunId(sb, "local");
  CHECK(Printed(sb.Dagctl("logs local '" + run_id + "' stream").out) ==
        "kafka: local sink, no broker: appended 2 records for topic products to " + sinks + "/kafka/products.jsonl\n");
  CHECK(sb.Dagctl("logs local '" + run_id + "' index").out.find("elasticsearch: local sink, no cluster: wrote 2 documents") != std::string::npos);
}
