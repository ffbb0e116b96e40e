#include "operators/http.h"

#include <fmt/format.h>
#include <httplib.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>

#include "engine/connection.h"
#include "engine/json_io.h"
#include "operators/http_util.h"

namespace dagctl {

namespace {

const std::vector<std::string> kMethods = {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"};

// Everything a request needs, worked out in the engine before the try forks.
struct HttpRequestSpec {
  std::string method = "GET";
  std::string base;  // scheme://host[:port]
  std::string path = "/";
  std::string local_file;  // a file:// URL: read (GET, HEAD) or appended to, no network
  httplib::Headers headers;
  std::string body;
  std::string login, password;
  std::vector<int> expected;
  std::string check_path, check_equals;
  bool has_check = false;
  std::string save_to;
  size_t xcom_max = 65536;
  bool sensor = false;  // a miss means "not yet" rather than failure
};

std::string Scalar(const Value& params, const char* key, std::string fallback = "") {
  const Value* v = params.Find(key);
  return v && v->IsScalar() ? v->scalar : fallback;
}

Result<HttpRequestSpec> BuildSpec(const Value& params) {
  HttpRequestSpec spec;
  spec.method = Scalar(params, "method", "GET");
  std::transform(spec.method.begin(), spec.method.end(), spec.method.begin(), ::toupper);
  std::string url = Scalar(params, "url");
  if (url.empty()) {
    auto conn = LookupConnection(Scalar(params, "conn_id"));
    if (!conn) return Fail(conn.error());
    std::string scheme = conn->conn_type == "https" ? "https" : "http";
    // The connection's path (its schema) comes before the endpoint:
    // https://hooks.slack.com/services/T0/B0/XXX is a whole webhook.
    url = conn->conn_type == "file" ? fmt::format("file:///{}", conn->schema)
          : conn->port            ? fmt::format("{}://{}:{}", scheme, conn->host, *conn->port)
                                  : fmt::format("{}://{}", scheme, conn->host);
    if (conn->conn_type != "file" && !conn->schema.empty()) url += fmt::format("/{}", conn->schema);
    std::string endpoint = Scalar(params, "endpoint");
    url += endpoint.empty() || endpoint[0] == '/' ? endpoint : "/" + endpoint;
    spec.login = conn->login;
    spec.password = conn->password;
  }
  if (url.rfind("file://", 0) == 0) {
    spec.local_file = url.substr(7);
    if (spec.method == "DELETE")
      return Fail(Error::InvalidArgument(fmt::format("http: DELETE is not supported for {}", url)));
  } else {
    auto split = SplitUrl(url);
    if (!split) return Fail(Error::InvalidArgument("http: " + split.error().message()));
    std::tie(spec.base, spec.path) = *split;
  }
  if (const Value* h = params.Find("headers"))
    for (const MapEntry& e : h->entries) spec.headers.emplace(e.key, e.value.scalar);
  spec.body = Scalar(params, "body");
  if (const Value* ex = params.Find("expected_status")) {
    std::vector<const Value*> items;
    if (ex->IsScalar()) items.push_back(ex);
    for (const Value& i : ex->items) items.push_back(&i);
    for (const Value* i : items) spec.expected.push_back(static_cast<int>(ScalarAsInt(i->scalar).value_or(0)));
  }
  if (const Value* c = params.Find("response_check")) {
    spec.has_check = true;
    spec.check_path = Scalar(*c, "path");
    spec.check_equals = Scalar(*c, "equals");
  }
  spec.save_to = Scalar(params, "save_to");
  spec.xcom_max = static_cast<size_t>(ScalarAsInt(Scalar(params, "xcom_max_bytes", "65536")).value_or(65536));
  return spec;
}

std::string Describe(httplib::Error e) {
  switch (e) {
    case httplib::Error::Connection: return "could not connect";
    case httplib::Error::ConnectionTimeout: return "timed out connecting";
    case httplib::Error::Read: return "reading the response failed";
    case httplib::Error::Write: return "sending the request failed";
    case httplib::Error::ExceedRedirectCount: return "too many redirects";
    case httplib::Error::SSLConnection: return "the TLS handshake failed";
    case httplib::Error::SSLLoadingCerts: return "the CA certificates could not be loaded";
    case httplib::Error::SSLServerVerification: return "the server's certificate did not verify";
    default: return httplib::to_string(e);
  }
}

struct Response {
  int status = 0;
  std::string body;
};

// The request over the network; nullopt (said why) when no response came.
std::optional<Response> SendHttp(const HttpRequestSpec& spec) {
  httplib::Client cli(spec.base);
  cli.set_follow_location(true);
  cli.set_connection_timeout(30);
  cli.set_read_timeout(300);
  if (!spec.login.empty()) cli.set_basic_auth(spec.login, spec.password);
  httplib::Request req;
  req.method = spec.method;
  req.path = spec.path;
  req.headers = spec.headers;
  req.body = spec.body;
  if (!spec.body.empty() && !req.has_header("Content-Type")) req.set_header("Content-Type", "application/json");
  std::string target = spec.base + spec.path;
  auto res = cli.send(req);
  if (!res) {
    fmt::print(stderr, "http: {} {} failed: {}\n", spec.method, target, Describe(res.error()));
    return std::nullopt;
  }
  fmt::print(stderr, "http: {} {} -> {} ({} bytes)\n", spec.method, target, res->status, res->body.size());
  return Response{res->status, res->body};
}

// A file:// URL, as curl reads one: GET and HEAD read the file; POST, PUT and
// PATCH append the request, as one JSON line, to it (a local sink for a
// webhook). The log says no HTTP request was made.
std::optional<Response> SendLocal(const HttpRequestSpec& spec) {
  const std::string& path = spec.local_file;
  if (spec.method == "GET" || spec.method == "HEAD") {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      fmt::print(stderr, "http: {} file://{}: no such file (a local file; no HTTP request was made)\n",
                 spec.method, path);
      return std::nullopt;
    }
    std::stringstream data;
    data << in.rdbuf();
    std::string body = spec.method == "HEAD" ? "" : data.str();
    fmt::print(stderr, "http: {} file://{} -> read {} bytes from a local file (no HTTP request was made)\n",
               spec.method, path, data.str().size());
    return Response{200, body};
  }
  nlohmann::json line = {{"method", spec.method}, {"body", spec.body}};
  line["headers"] = nlohmann::json::object();
  for (const auto& [k, v] : spec.headers) line["headers"][k] = v;
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
  std::ofstream out(path, std::ios::app);
  out << DumpJson(line) << "\n";
  if (!out) {
    fmt::print(stderr, "http: cannot append to {}\n", path);
    return std::nullopt;
  }
  fmt::print(stderr, "http: {} file://{} -> appended the request to a local sink (no HTTP request was made)\n",
             spec.method, path);
  return Response{200, ""};
}

// Runs in the try's own process: prints what happened to the log (stderr),
// returns the exit code.
int Send(const HttpRequestSpec& spec, TryChannel& channel) {
  const int miss = spec.sensor ? kSensorNotYet : 1;
  auto res = spec.local_file.empty() ? SendHttp(spec) : SendLocal(spec);
  if (!res) return miss;
  bool ok = spec.expected.empty() ? res->status >= 200 && res->status < 300
                                  : std::find(spec.expected.begin(), spec.expected.end(), res->status) !=
                                        spec.expected.end();
  if (!ok) {
    fmt::print(stderr, "http: unexpected status {}; response: {}\n", res->status, res->body.substr(0, 2000));
    return miss;
  }
  if (spec.has_check) {
    auto j = nlohmann::json::parse(res->body, nullptr, false);
    std::string got;
    try {
      const auto& v = j.at(nlohmann::json::json_pointer(spec.check_path));
      got = v.is_string() ? v.get<std::string>() : DumpJson(v);
    } catch (const std::exception& e) {
      fmt::print(stderr, "http: response_check: no '{}' in the response ({})\n", spec.check_path, e.what());
      return miss;
    }
    if (got != spec.check_equals) {
      fmt::print(stderr, "http: response_check: '{}' is '{}', expected '{}'\n", spec.check_path, got,
                 spec.check_equals);
      return miss;
    }
  }
  if (!spec.save_to.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(std::filesystem::path(spec.save_to).parent_path(), ec);
    std::ofstream out(spec.save_to, std::ios::binary);
    out << res->body;
    if (!out) {
      fmt::print(stderr, "http: cannot write {}\n", spec.save_to);
      return 1;
    }
  }
  if (res->body.size() <= spec.xcom_max) channel.PushXCom("return_value", res->body);
  else fmt::print(stderr, "http: the response ({} bytes) is over xcom_max_bytes; not pushed to XCom\n", res->body.size());
  return 0;
}

}  // namespace

const std::vector<ParamSpec>& HttpOperator::params() const {
  static const std::vector<ParamSpec> kParams = {
      {"url", ParamType::kString, false, true, "Full http(s) URL, or file:// (read, or appended to)."},
      {"conn_id", ParamType::kString, false, false, "An http/https connection, instead of url."},
      {"endpoint", ParamType::kString, false, true, "Path under the connection's host."},
      {"method", ParamType::kString, false, false, "GET (default), POST, PUT, PATCH, DELETE, HEAD."},
      {"headers", ParamType::kStringMap, false, true, "Request headers."},
      {"body", ParamType::kString, false, true, "Request body."},
      {"expected_status", ParamType::kStringList, false, false, "Accepted statuses; default any 2xx."},
      {"response_check", ParamType::kStringMap, false, true, "{path: /json/pointer, equals: value}."},
      {"save_to", ParamType::kString, false, true, "Write the response body to this file."},
      {"xcom_max_bytes", ParamType::kInt, false, false, "Largest body pushed to XCom (65536)."},
  };
  return kParams;
}

void HttpOperator::Validate(const Value& params, Diagnostics& diags) const {
  const Value* url = params.Find("url");
  const Value* conn = params.Find("conn_id");
  if (!url && !conn) diags.Error(params.mark, "operator 'http' needs 'url' or 'conn_id'");
  if (url && conn) diags.Error(conn->mark, "'url' and 'conn_id' exclude each other");
  if (const Value* m = params.Find("method"); m && m->IsScalar()) {
    std::string up = m->scalar;
    std::transform(up.begin(), up.end(), up.begin(), ::toupper);
    if (std::find(kMethods.begin(), kMethods.end(), up) == kMethods.end())
      diags.Error(m->mark, "'method' must be GET, POST, PUT, PATCH, DELETE or HEAD, not '" + m->scalar + "'");
  }
  if (const Value* c = params.Find("response_check"); c && c->IsMap() && !c->Find("path"))
    diags.Error(c->mark, "'response_check' needs 'path' (a JSON pointer such as /status)");
  if (const Value* ex = params.Find("expected_status")) {
    std::vector<const Value*> items;
    if (ex->IsScalar()) items.push_back(ex);
    for (const Value& i : ex->items) items.push_back(&i);
    for (const Value* i : items)
      if (!ScalarAsInt(i->scalar)) diags.Error(i->mark, "'expected_status' items must be status codes");
  }
}

Result<Launch> HttpOperator::Prepare(const TryContext& ctx) const {
  auto spec = BuildSpec(ctx.params);
  if (!spec) return Fail(spec.error());
  spec->sensor = IsSensor();
  Launch launch;
  if (!spec->password.empty()) launch.secrets.push_back(spec->password);
  launch.body = [spec = *spec](TryChannel& channel) { return Send(spec, channel); };
  return launch;
}

}  // namespace dagctl
