#include "operators/kafka.h"

#include <fmt/format.h>
#include <librdkafka/rdkafka.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "engine/connection.h"
#include "engine/json_io.h"

namespace dagctl {

namespace {

struct ProduceSpec {
  std::map<std::string, std::string> config;
  std::string topic;
  std::string source;  // JSON-lines file, or
  std::string value;   // one record
  bool has_value = false;
  std::string key_field;
  std::string sink_dir;  // a local sink (connection of type file) instead of a cluster
};

struct Delivery {
  long delivered = 0;
  long failed = 0;
  std::string first_error;
};

void OnDelivery(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
  auto* d = static_cast<Delivery*>(opaque);
  if (m->err) {
    if (d->failed++ == 0) d->first_error = rd_kafka_err2str(m->err);
  } else {
    ++d->delivered;
  }
}

std::string Scalar(const Value& p, const char* key, std::string fallback = "") {
  const Value* v = p.Find(key);
  return v && v->IsScalar() ? v->scalar : fallback;
}

// Queues one record, serving delivery reports while the local queue is full.
bool Queue(rd_kafka_t* rk, const ProduceSpec& s, const std::string& record, size_t line) {
  std::string key;
  if (!s.key_field.empty()) {
    auto j = nlohmann::json::parse(record, nullptr, false);
    if (!j.is_discarded() && j.is_object() && j.contains(s.key_field))
      key =
          j[s.key_field].is_string() ? j[s.key_field].get<std::string>() : DumpJson(j[s.key_field]);
  }
  while (true) {
    rd_kafka_resp_err_t err = rd_kafka_producev(
        rk, RD_KAFKA_V_TOPIC(s.topic.c_str()),
        RD_KAFKA_V_VALUE(const_cast<char*>(record.data()), record.size()),
        RD_KAFKA_V_KEY(key.empty() ? nullptr : key.data(), key.size()),
        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) return true;
    if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
      fmt::print(stderr, "kafka: cannot queue record {}: {}\n", line, rd_kafka_err2str(err));
      return false;
    }
    rd_kafka_poll(rk, 100);
  }
}

std::string KeyOf(const ProduceSpec& s, const std::string& record) {
  if (s.key_field.empty()) return "";
  auto j = nlohmann::json::parse(record, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains(s.key_field)) return "";
  return j[s.key_field].is_string() ? j[s.key_field].get<std::string>() : DumpJson(j[s.key_field]);
}

// No cluster: append what Kafka would have received, one JSON line per record
// ({"key": ..., "value": ...}), to <sink>/<topic>.jsonl, and say so.
int ProduceToSink(const ProduceSpec& s, TryChannel& channel) {
  std::vector<std::string> records;
  if (s.has_value) {
    records.push_back(s.value);
  } else {
    std::ifstream in(s.source);
    if (!in) {
      fmt::print(stderr, "kafka: cannot read {}\n", s.source);
      return 1;
    }
    for (std::string r; std::getline(in, r);)
      if (r.find_first_not_of(" \t\r") != std::string::npos) records.push_back(r);
  }
  std::filesystem::create_directories(s.sink_dir);
  std::string file = s.sink_dir + "/" + s.topic + ".jsonl";
  std::ofstream out(file, std::ios::app);
  for (const std::string& r : records) {
    std::string key = KeyOf(s, r);
    out << DumpJson(
               {{"key", key.empty() ? nlohmann::json(nullptr) : nlohmann::json(key)}, {"value", r}})
        << "\n";
  }
  if (!out) {
    fmt::print(stderr, "kafka: cannot write {}\n", file);
    return 1;
  }
  fmt::print(stderr, "kafka: local sink, no broker: appended {} records for topic {} to {}\n",
             records.size(), s.topic, file);
  channel.PushXCom("return_value", std::to_string(records.size()));
  return 0;
}

int Produce(const ProduceSpec& s, TryChannel& channel) {
  if (!s.sink_dir.empty()) return ProduceToSink(s, channel);
  char err[512];
  Delivery delivery;
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  for (const auto& [k, v] : s.config) {
    if (rd_kafka_conf_set(conf, k.c_str(), v.c_str(), err, sizeof err) != RD_KAFKA_CONF_OK) {
      fmt::print(stderr, "kafka: setting {}: {}\n", k, err);
      rd_kafka_conf_destroy(conf);
      return 1;
    }
  }
  rd_kafka_conf_set_dr_msg_cb(conf, OnDelivery);
  rd_kafka_conf_set_opaque(conf, &delivery);
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
  if (!rk) {
    fmt::print(stderr, "kafka: cannot create a producer: {}\n", err);
    return 1;
  }
  size_t queued = 0;
  bool ok = true;
  if (s.has_value) {
    ok = Queue(rk, s, s.value, 1);
    queued += ok;
  } else {
    std::ifstream in(s.source);
    if (!in) {
      fmt::print(stderr, "kafka: cannot read {}\n", s.source);
      ok = false;
    }
    size_t line = 0;
    for (std::string record; ok && std::getline(in, record);) {
      ++line;
      if (record.find_first_not_of(" \t\r") == std::string::npos) continue;
      ok = Queue(rk, s, record, line);
      queued += ok;
      rd_kafka_poll(rk, 0);
    }
  }
  // Every queued record gets its delivery report (or times out with one).
  rd_kafka_resp_err_t flushed = rd_kafka_flush(rk, 5 * 60 * 1000);
  rd_kafka_destroy(rk);
  if (flushed != RD_KAFKA_RESP_ERR_NO_ERROR)
    fmt::print(stderr, "kafka: {} records were never confirmed: {}\n", queued - delivery.delivered - delivery.failed,
               rd_kafka_err2str(flushed));
  fmt::print(stderr, "kafka: {} of {} records delivered to {}\n", delivery.delivered, queued, s.topic);
  if (delivery.failed)
    fmt::print(stderr, "kafka: {} deliveries failed; the first: {}\n", delivery.failed, delivery.first_error);
  if (!ok || delivery.failed || flushed != RD_KAFKA_RESP_ERR_NO_ERROR) return 1;
  channel.PushXCom("return_value", std::to_string(delivery.delivered));
  return 0;
}

}  // namespace

const std::vector<ParamSpec>& KafkaProduceOperator::params() const {
  static const std::vector<ParamSpec> kParams = {
      {"topic", ParamType::kString, true, true, "The topic."},
      {"source", ParamType::kString, false, true, "A JSON-lines file: one record per line."},
      {"value", ParamType::kString, false, true, "Or one record."},
      {"key_field", ParamType::kString, false, false, "JSON field used as the record key."},
      {"conn_id", ParamType::kString, false, false, "A kafka connection (host:port, extra)."},
      {"bootstrap_servers", ParamType::kString, false, true, "Or host:port[,host:port]."},
      {"config", ParamType::kStringMap, false, true, "More librdkafka settings."},
  };
  return kParams;
}

void KafkaProduceOperator::Validate(const Value& params, Diagnostics& diags) const {
  if (!params.Find("source") == !params.Find("value"))
    diags.Error(params.mark, "operator 'kafka_produce' needs one of 'source' or 'value'");
  if (!params.Find("conn_id") && !params.Find("bootstrap_servers"))
    diags.Error(params.mark, "operator 'kafka_produce' needs 'conn_id' or 'bootstrap_servers'");
}

Result<Launch> KafkaProduceOperator::Prepare(const TryContext& ctx) const {
  const Value& p = ctx.params;
  ProduceSpec s;
  Launch launch;
  std::string servers = Scalar(p, "bootstrap_servers");
  if (servers.empty()) {
    auto conn = LookupConnection(Scalar(p, "conn_id"));
    if (!conn) return Fail(conn.error());
    if (conn->conn_type == "file") s.sink_dir = "/" + conn->schema;
    servers = fmt::format("{}:{}", conn->host, conn->port.value_or(9092));
    for (const auto& [k, v] : conn->extra) s.config[k] = v;
    if (!conn->login.empty()) {
      s.config["sasl.username"] = conn->login;
      s.config["sasl.password"] = conn->password;
      launch.secrets.push_back(conn->password);
    }
  }
  s.config["bootstrap.servers"] = servers;
  s.config["enable.idempotence"] = "true";
  if (const Value* c = p.Find("config"))
    for (const MapEntry& e : c->entries) s.config[e.key] = e.value.scalar;
  s.topic = Scalar(p, "topic");
  s.source = Scalar(p, "source");
  s.has_value = p.Find("value") != nullptr;
  s.value = Scalar(p, "value");
  s.key_field = Scalar(p, "key_field");
  launch.body = [s](TryChannel& channel) { return Produce(s, channel); };
  return launch;
}

}  // namespace dagctl
