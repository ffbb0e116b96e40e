// The HTTP side of the REST API (cpp-httplib): carries requests to the
// ApiService, enforces the guards (token, body size), serves the dashboard.
#pragma once

#include <memory>
#include <string>

#include "api/api_service.h"
#include "engine/error.h"

namespace dagctl::api {

struct HttpServerOptions {
  std::string host = "127.0.0.1";
  int port = 8080;            ///< 0 = any free port (see port()).
  std::string token;          ///< Required as "Authorization: Bearer <token>" when set.
  size_t max_body_bytes = 1 << 20;
  int threads = 16;  ///< Connections served at once.
};

/// True for 127.0.0.0/8, ::1 and localhost.
bool IsLoopback(const std::string& host);

class HttpServer {
 public:
  /// Refuses (InvalidArgument) a non-loopback host without a token. `api`
  /// must outlive the server.
  static Result<std::unique_ptr<HttpServer>> Create(HttpServerOptions opts, const ApiService& api);
  ~HttpServer();

  /// Binds the port; IOError when it cannot (taken, no permission).
  Status Bind();
  /// Serves until Stop() (from another thread). Blocks.
  void Serve();
  void Stop();
  /// The bound port.
  int port() const { return port_; }

 private:
  class Impl;
  HttpServer(HttpServerOptions opts, const ApiService& api);
  std::unique_ptr<Impl> impl_;
  HttpServerOptions opts_;
  int port_ = 0;
};

/// A Store for the calling thread, opened on first use from the database at
/// `path` (each thread needs its own SQLite connection). nullptr when it
/// cannot be opened.
Store* ThreadStore(const std::string& url, const std::string& home);

}  // namespace dagctl::api
