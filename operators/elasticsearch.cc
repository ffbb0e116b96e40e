#include "operators/elasticsearch.h"

#include <fmt/format.h>
#include <httplib.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "engine/json_io.h"
#include "operators/http_util.h"

namespace dagctl {

namespace {

using nlohmann::json;

struct BulkSpec {
  std::string base;
  std::string login, password;
  std::string index;
  std::string source;
  json mapping;  // null when none
  std::string id_field;
  size_t chunk = 500;
  std::string sink_dir;  // a local sink (connection of type file) instead of a cluster
};

json ToJson(const Value& v) {
  if (v.IsMap()) {
    json o = json::object();
    for (const MapEntry& e : v.entries) o[e.key] = ToJson(e.value);
    return o;
  }
  if (v.IsSequence()) {
    json a = json::array();
    for (const Value& i : v.items) a.push_back(ToJson(i));
    return a;
  }
  return v.IsScalar() ? json(v.scalar) : json(nullptr);
}

// Creates the index with its mapping unless it exists. False (after printing
// why) when Elasticsearch says no.
bool EnsureIndex(httplib::Client& cli, const BulkSpec& s) {
  const std::string path = fmt::format("/{}", EncodePath(s.index));
  auto head = cli.Head(path.c_str());
  if (!head) {
    fmt::print(stderr, "elasticsearch: cannot reach {}: {}\n", s.base, httplib::to_string(head.error()));
    return false;
  }
  if (head->status == 200) return true;
  json body = json::object();
  if (!s.mapping.is_null()) body["mappings"] = s.mapping;
  auto put = cli.Put(path.c_str(), DumpJson(body), "application/json");
  if (!put || (put->status != 200 && put->status != 201)) {
    fmt::print(stderr, "elasticsearch: creating index {} failed: {}\n", s.index,
               put ? fmt::format("{} {}", put->status, put->body.substr(0, 1000))
                   : httplib::to_string(put.error()));
    return false;
  }
  fmt::print(stderr, "elasticsearch: created index {}\n", s.index);
  return true;
}

// Sends one chunk of NDJSON. False (after printing the first failed item)
// on any error.
bool SendChunk(httplib::Client& cli, const std::string& ndjson, size_t first_line) {
  auto res = cli.Post("/_bulk", ndjson, "application/x-ndjson");
  if (!res || res->status >= 300) {
    fmt::print(stderr, "elasticsearch: _bulk failed: {}\n",
               res ? fmt::format("{} {}", res->status, res->body.substr(0, 1000))
                   : httplib::to_string(res.error()));
    return false;
  }
  json j = json::parse(res->body, nullptr, false);
  if (j.is_discarded()) {
    fmt::print(stderr, "elasticsearch: _bulk answered something that is not JSON\n");
    return false;
  }
  if (!j.value("errors", false)) return true;
  const json& items = j["items"];
  for (size_t i = 0; i < items.size(); ++i) {
    const json& item = items[i].begin().value();
    if (!item.contains("error")) continue;
    fmt::print(stderr, "elasticsearch: document on line {} was rejected ({}): {}: {}\n",
               first_line + i, item.value("status", 0), item["error"].value("type", "?"),
               item["error"].value("reason", "?"));
    return false;
  }
  fmt::print(stderr, "elasticsearch: _bulk reported errors but no failed item\n");
  return false;
}

// The _bulk action line of `doc` (its _id from id_field, when set).
json ActionFor(const BulkSpec& s, const json& doc) {
  json action = {{"index", {{"_index", s.index}}}};
  if (!s.id_field.empty() && doc.contains(s.id_field)) {
    const json& id = doc[s.id_field];
    action["index"]["_id"] = id.is_string() ? id.get<std::string>() : DumpJson(id);
  }
  return action;
}

// Calls `each(doc, line_number)` for every non-blank line of the source; false
// (after saying where) when it cannot be read, a line is not a JSON object,
// or `each` returns false.
template <typename Each>
bool ForEachDocument(const BulkSpec& s, Each each) {
  std::ifstream in(s.source);
  if (!in) {
    fmt::print(stderr, "elasticsearch: cannot read {}\n", s.source);
    return false;
  }
  size_t line_no = 0;
  for (std::string line; std::getline(in, line);) {
    ++line_no;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    json doc = json::parse(line, nullptr, false);
    if (doc.is_discarded() || !doc.is_object()) {
      fmt::print(stderr, "elasticsearch: {}:{}: not a JSON object\n", s.source, line_no);
      return false;
    }
    if (!each(doc, line_no)) return false;
  }
  return true;
}

// No cluster: write the _bulk body Elasticsearch would have received to
// <sink>/<index>.ndjson (and the mapping beside it), and say so.
int BulkToSink(const BulkSpec& s, TryChannel& channel) {
  std::filesystem::create_directories(s.sink_dir);
  std::string file = s.sink_dir + "/" + s.index + ".ndjson";
  std::ofstream out(file, std::ios::app);
  size_t total = 0;
  bool ok = ForEachDocument(s, [&](const json& doc, size_t) {
    out << DumpJson(ActionFor(s, doc)) << "\n" << DumpJson(doc) << "\n";
    ++total;
    return true;
  });
  if (!ok) return 1;
  if (!s.mapping.is_null())
    std::ofstream(s.sink_dir + "/" + s.index + ".mapping.json") << json{{"mappings", s.mapping}}.dump(2) << "\n";
  fmt::print(stderr, "elasticsearch: local sink, no cluster: wrote {} documents of index {} to {}\n",
             total, s.index, file);
  channel.PushXCom("return_value", std::to_string(total));
  return 0;
}

int Bulk(const BulkSpec& s, TryChannel& channel) {
  if (!s.sink_dir.empty()) return BulkToSink(s, channel);
  if (!std::ifstream(s.source)) {  // before touching the cluster
    fmt::print(stderr, "elasticsearch: cannot read {}\n", s.source);
    return 1;
  }
  httplib::Client cli(s.base);
  cli.set_connection_timeout(30);
  cli.set_read_timeout(300);
  if (!s.login.empty()) cli.set_basic_auth(s.login, s.password);
  if (!EnsureIndex(cli, s)) return 1;
  std::string ndjson;
  size_t in_chunk = 0, total = 0, chunk_first = 1;
  bool ok = ForEachDocument(s, [&](const json& doc, size_t line_no) {
    if (in_chunk == 0) chunk_first = line_no;
    ndjson += DumpJson(ActionFor(s, doc)) + "\n" + DumpJson(doc) + "\n";
    if (++in_chunk < s.chunk) return true;
    if (!SendChunk(cli, ndjson, chunk_first)) return false;
    total += in_chunk;
    ndjson.clear();
    in_chunk = 0;
    return true;
  });
  if (!ok || (in_chunk && !SendChunk(cli, ndjson, chunk_first))) return 1;
  total += in_chunk;
  fmt::print(stderr, "elasticsearch: indexed {} documents into {}\n", total, s.index);
  channel.PushXCom("return_value", std::to_string(total));
  return 0;
}

std::string Scalar(const Value& p, const char* key, std::string fallback = "") {
  const Value* v = p.Find(key);
  return v && v->IsScalar() ? v->scalar : fallback;
}

}  // namespace

const std::vector<ParamSpec>& ElasticsearchBulkOperator::params() const {
  static const std::vector<ParamSpec> kParams = {
      {"index", ParamType::kString, true, true, "The index."},
      {"source", ParamType::kString, true, true, "A JSON-lines file."},
      {"conn_id", ParamType::kString, false, false, "An elasticsearch connection."},
      {"url", ParamType::kString, false, true, "Or the cluster's URL."},
      {"mapping", ParamType::kAny, false, false, "The index's mappings, when it is created."},
      {"id_field", ParamType::kString, false, false, "A field to use as the document _id."},
      {"chunk_size", ParamType::kInt, false, false, "Documents per _bulk request (500)."},
  };
  return kParams;
}

void ElasticsearchBulkOperator::Validate(const Value& params, Diagnostics& diags) const {
  if (!params.Find("conn_id") && !params.Find("url"))
    diags.Error(params.mark, "operator 'elasticsearch_bulk' needs 'conn_id' or 'url'");
  if (const Value* m = params.Find("mapping"); m && !m->IsMap())
    diags.Error(m->mark, "'mapping' must be a map (the index's mappings)");
  if (const Value* c = params.Find("chunk_size"); c && ScalarAsInt(c->scalar).value_or(0) < 1)
    diags.Error(c->mark, "'chunk_size' must be at least 1");
}

Result<Launch> ElasticsearchBulkOperator::Prepare(const TryContext& ctx) const {
  BulkSpec s;
  const Value& p = ctx.params;
  if (std::string url = Scalar(p, "url"); !url.empty()) {
    auto split = SplitUrl(url);
    if (!split) return Fail(Error::InvalidArgument("elasticsearch_bulk: " + split.error().message()));
    s.base = split->first;
  } else {
    auto conn = LookupConnection(Scalar(p, "conn_id"));
    if (!conn) return Fail(conn.error());
    s.base = BaseUrl(*conn, "http", 9200);
    if (conn->conn_type == "file") s.sink_dir = "/" + conn->schema;
    s.login = conn->login;
    s.password = conn->password;
  }
  s.index = Scalar(p, "index");
  s.source = Scalar(p, "source");
  if (const Value* m = p.Find("mapping")) s.mapping = ToJson(*m);
  s.id_field = Scalar(p, "id_field");
  s.chunk = static_cast<size_t>(ScalarAsInt(Scalar(p, "chunk_size", "500")).value_or(500));
  Launch launch;
  if (!s.password.empty()) launch.secrets.push_back(s.password);
  launch.body = [s](TryChannel& channel) { return Bulk(s, channel); };
  return launch;
}

}  // namespace dagctl
