#include "api/http_server.h"

#include <fmt/format.h>
#include <httplib.h>

#include <map>
#include <nlohmann/json.hpp>

#include "api/airflow_json.h"
#include "api/web_assets.h"
#include "engine/clock.h"
#include "engine/json_io.h"
#include "engine/store/sql_store.h"

namespace dagctl::api {

bool IsLoopback(const std::string& host) {
  return host == "localhost" || host == "::1" || host == "[::1]" || host.rfind("127.", 0) == 0;
}

Store* ThreadStore(const std::string& url, const std::string& home) {
  static SystemClock clock;
  thread_local std::map<std::string, std::unique_ptr<Store>> stores;
  std::string key = url + "\n" + home;
  auto it = stores.find(key);
  if (it != stores.end()) return it->second.get();
  auto store = OpenStore(url, home, clock);
  if (!store) return nullptr;
  return stores.emplace(key, std::move(*store)).first->second.get();
}

namespace {

// Compares without stopping at the first difference, so timing says nothing
// about how much of a guessed token was right.
bool SameSecret(const std::string& a, const std::string& b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (size_t i = 0; i < a.size(); ++i) diff |= a[i] ^ b[i % (b.empty() ? 1 : b.size())];
  return diff == 0 && !b.empty();
}

void Problem(httplib::Response& res, int status, const std::string& title, const std::string& detail) {
  res.status = status;
  res.set_content(DumpJson(ErrorJson(status, title, detail)), "application/problem+json");
}

}  // namespace

class HttpServer::Impl {
 public:
  Impl(const HttpServerOptions& opts, const ApiService& api) : opts_(opts), api_(api) {
    svr_.new_task_queue = [threads = opts.threads] { return new httplib::ThreadPool(threads); };
    svr_.set_payload_max_length(opts.max_body_bytes);
    // Small JSON replies: without this, delayed ACKs add ~40 ms to each one.
    svr_.set_tcp_nodelay(true);
    // Keep connections (a dashboard polls; a script pages through a list)
    // rather than setting one up every five requests.
    svr_.set_keep_alive_max_count(1000);
    svr_.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
      return Guard(req, res);
    });
    svr_.Get(R"(/api/v1(/.*)?)",
             [this](const httplib::Request& req, httplib::Response& res) { Api(req, "", res); });
    // Methods with a body read it here, through a content reader, so the size
    // limit holds for chunked bodies too (httplib checks only Content-Length
    // and would buffer a chunked body of any size).
    auto with_body = [this](const httplib::Request& req, httplib::Response& res,
                            const httplib::ContentReader& read) { WithBody(req, res, read); };
    svr_.Post(".*", with_body);
    svr_.Patch(".*", with_body);
    svr_.Put(".*", with_body);
    svr_.Delete(".*", with_body);
    svr_.Get("/", [](const httplib::Request&, httplib::Response& res) { Asset("index.html", res); });
    svr_.Get(R"(/static/([A-Za-z0-9_.-]+))", [](const httplib::Request& req, httplib::Response& res) {
      Asset(req.matches[1], res);
    });
    svr_.set_error_handler(
        [limit = opts.max_body_bytes](const httplib::Request& req, httplib::Response& res) {
          if (!res.body.empty()) return;
          if (res.status == 413)
            Problem(res, 413, "Request too large",
                    fmt::format("the request body is over the limit of {} bytes", limit));
          else if (res.status == 404)
            Problem(res, 404, "Not found", "nothing at " + req.path);
          else if (res.status == 416)
            Problem(res, 416, "Range not satisfiable",
                    "the Range header asks for bytes the reply does not have");
          else
            Problem(res, res.status, "Bad request", "the request could not be read");
        });
    // Nothing a handler does should throw; if it does, the client gets a
    // problem JSON and the server goes on (httplib would otherwise put the
    // message in a header).
    svr_.set_exception_handler(
        [](const httplib::Request& req, httplib::Response& res, std::exception_ptr ep) {
          std::string what = "unknown exception";
          try {
            if (ep) std::rethrow_exception(ep);
          } catch (const std::exception& e) {
            what = e.what();
          } catch (...) {
          }
          fmt::print(stderr, "dagctl: {} {}: {}\n", req.method, req.path, what);
          Problem(res, 500, "Internal error",
                  "the request could not be answered; see the server's log");
        });
  }

  httplib::Server svr_;

 private:
  // The token guards the API; the dashboard's files are public.
  httplib::Server::HandlerResponse Guard(const httplib::Request& req, httplib::Response& res) {
    if (opts_.token.empty() || req.path.rfind("/api/", 0) != 0)
      return httplib::Server::HandlerResponse::Unhandled;
    std::string auth = req.get_header_value("Authorization");
    const std::string prefix = "Bearer ";
    if (auth.rfind(prefix, 0) == 0 && SameSecret(auth.substr(prefix.size()), opts_.token))
      return httplib::Server::HandlerResponse::Unhandled;
    res.set_header("WWW-Authenticate", "Bearer");
    Problem(res, 401, "Unauthenticated", "this API needs 'Authorization: Bearer <token>'");
    return httplib::Server::HandlerResponse::Handled;
  }

  void WithBody(const httplib::Request& req, httplib::Response& res,
                const httplib::ContentReader& read) {
    std::string body;
    bool too_big = false;
    bool complete = read([&](const char* data, size_t n) {
      too_big = body.size() + n > opts_.max_body_bytes;
      if (!too_big) body.append(data, n);
      return !too_big;  // stops reading
    });
    // httplib refuses a Content-Length over the limit itself, with 413.
    too_big = too_big || res.status == 413;
    // Ask the client to close: the unread rest of the body is no next request
    // (httplib itself keeps the connection until its keep-alive timeout).
    if ((!complete || too_big) && req.get_header_value("Connection") != "close")
      res.set_header("Connection", "close");
    if (!complete && !too_big) {
      Problem(res, 400, "Bad request", "the request body could not be read");
    } else if (too_big) {
      Problem(res, 413, "Request too large",
              fmt::format("the request body is over the limit of {} bytes", opts_.max_body_bytes));
    } else if (req.path == "/api/v1" || req.path.rfind("/api/v1/", 0) == 0) {
      Api(req, std::move(body), res);
    } else {
      Problem(res, 404, "Not found", "nothing at " + req.path);
    }
  }

  void Api(const httplib::Request& req, std::string body, httplib::Response& res) {
    ApiRequest r;
    r.method = req.method;
    r.path = req.path.substr(std::string("/api/v1").size());
    for (const auto& [k, v] : req.params) r.query.emplace(k, v);
    r.body = std::move(body);
    std::string accept = req.get_header_value("Accept");
    r.wants_text = accept.find("text/plain") != std::string::npos &&
                   accept.find("application/json") == std::string::npos;
    r.accept = accept;
    ApiResponse out = api_.Handle(r);
    res.status = out.status;
    if (out.status != 204) res.set_content(out.body, out.content_type.c_str());
  }

  static void Asset(const std::string& name, httplib::Response& res) {
    const WebAsset* a = FindWebAsset(name);
    if (!a) {
      Problem(res, 404, "Not found", "no file " + name);
      return;
    }
    res.set_header("Cache-Control", "no-cache");
    res.set_header("X-Content-Type-Options", "nosniff");
    res.set_content(a->data, a->size, a->content_type);
  }

  HttpServerOptions opts_;
  const ApiService& api_;
};

HttpServer::HttpServer(HttpServerOptions opts, const ApiService& api)
    : impl_(std::make_unique<Impl>(opts, api)), opts_(std::move(opts)) {}

HttpServer::~HttpServer() { Stop(); }

Result<std::unique_ptr<HttpServer>> HttpServer::Create(HttpServerOptions opts, const ApiService& api) {
  if (!IsLoopback(opts.host) && opts.token.empty())
    return Fail(Error::InvalidArgument(fmt::format(
        "refusing to serve on {} without a token: set --token or DAGCTL_API_TOKEN, or bind to "
        "127.0.0.1",
        opts.host)));
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(opts), api));
}

Status HttpServer::Bind() {
  if (opts_.port == 0) {
    port_ = impl_->svr_.bind_to_any_port(opts_.host);
    if (port_ > 0) return {};
  } else if (impl_->svr_.bind_to_port(opts_.host, opts_.port)) {
    port_ = opts_.port;
    return {};
  }
  return Fail(Error::IOError(fmt::format("cannot listen on {}:{} (in use, or not an address of "
                                         "this machine)",
                                         opts_.host, opts_.port)));
}

void HttpServer::Serve() { impl_->svr_.listen_after_bind(); }

void HttpServer::Stop() {
  if (impl_) impl_->svr_.stop();
}

}  // namespace dagctl::api
