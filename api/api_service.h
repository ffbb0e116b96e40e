// The REST API under /api/v1, after Apache Airflow's stable API: routes,
// query parsing, problem-JSON errors. No HTTP here (http_server.cc carries
// requests in and out) and no SQL (the Store does that).
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "api/dag_source.h"
#include "engine/clock.h"
#include "engine/store/store.h"

namespace dagctl::api {

struct ApiRequest {
  std::string method;  ///< GET, POST, PATCH ...
  std::string path;    ///< After /api/v1, e.g. /dags/etl/dagRuns
  std::multimap<std::string, std::string> query;
  std::string body;
  bool wants_text = false;  ///< Accept: text/plain (logs)
  std::string accept;       ///< The Accept header as sent ("" when none).
};

struct ApiResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
};

struct ApiContext {
  /// The calling thread's store (each thread needs its own connection).
  std::function<Store*()> store;
  DagSource* dags;
  std::string logs_dir;
  const Clock* clock;
};

/// Thread-safe as long as `store` gives each thread its own Store.
class ApiService {
 public:
  explicit ApiService(ApiContext ctx) : ctx_(std::move(ctx)) {}

  /// Answers one request; never throws.
  ApiResponse Handle(const ApiRequest& req) const;

 private:
  ApiContext ctx_;
};

}  // namespace dagctl::api
