// dagctl webserver / serve: the REST API (and dashboard), alone or with the
// scheduler in one process.
#include <fmt/format.h>

#include <cstdlib>
#include <thread>

#include "api/api_service.h"
#include "api/dag_source.h"
#include "api/http_server.h"
#include "cli/app.h"
#include "cli/args.h"
#include "cli/local_redis.h"
#include "engine/posix_try_runner.h"
#include "engine/scheduler.h"

namespace dagctl::cli {

namespace {

const char kWebUsage[] = "[--host H] [--port P] [--token T] [--quiet]";

// The web server and what it needs, alive together.
struct Web {
  api::DagSource dags;
  SystemClock clock;
  api::ApiService service;
  std::unique_ptr<api::HttpServer> server;
  std::thread thread;

  explicit Web(App& app)
      : dags(app.dags_dir(), app.operators()),
        service({[url = app.store_url(), home = app.home()] { return api::ThreadStore(url, home); },
                 &dags, app.logs_dir(), &clock}) {}
  ~Web() {
    if (server) server->Stop();
    if (thread.joinable()) thread.join();
  }
};

// Builds and binds the server from the command's flags; prints why not.
std::unique_ptr<Web> StartWeb(App& app, const Args& args, const std::string& name) {
  api::HttpServerOptions opts;
  opts.host = args.Option("--host").value_or("127.0.0.1");
  auto port = ScalarAsInt(args.Option("--port").value_or("8080"));
  if (!port || *port < 0 || *port > 65535) {
    PrintError(fmt::format("{}: --port must be a number from 0 to 65535", name));
    return nullptr;
  }
  opts.port = static_cast<int>(*port);
  const char* env_token = std::getenv("DAGCTL_API_TOKEN");
  opts.token = args.Option("--token").value_or(env_token ? env_token : "");
  auto web = std::make_unique<Web>(app);
  auto server = api::HttpServer::Create(opts, web->service);
  if (!server) {
    PrintError(fmt::format("{}: {}", name, server.error().message()));
    return nullptr;
  }
  web->server = std::move(*server);
  if (auto st = web->server->Bind(); !st) {
    PrintError(fmt::format("{}: {}", name, st.error().message()));
    return nullptr;
  }
  std::string shown = opts.host.find(':') != std::string::npos ? "[" + opts.host + "]" : opts.host;
  fmt::print(stderr, "dagctl {}: dashboard on http://{}:{}/, API at /api/v1{}\n", name, shown,
             web->server->port(), opts.token.empty() ? "" : " (bearer token required)");
  web->thread = std::thread([s = web->server.get()] { s->Serve(); });
  return web;
}

}  // namespace

int CmdWebserver(App& app, const std::vector<std::string>& argv) {
  auto args = ParseOrReport({"webserver", kWebUsage, {"--host", "--port", "--token"}, {"--quiet"}, 0, 0}, argv);
  if (!args) return kExitUsage;
  StopSignalled();  // from here on SIGINT/SIGTERM stop it gracefully
  if (!app.store_waiting()) return kExitFailed;  // creates and migrates the database up front
  auto web = StartWeb(app, *args, "webserver");
  if (!web) return kExitUsage;
  WaitForStopSignal();
  fmt::print(stderr, "dagctl webserver: stopped\n");
  return kExitOk;
}

int CmdServe(App& app, const std::vector<std::string>& argv) {
  auto args = ParseOrReport({"serve",
                             std::string(kWebUsage) + " [--with-redis] " + kNodeFlagsUsage,
                             {"--host", "--port", "--token", "--queues", "--slots", "--lease"},
                             {"--quiet", "--with-redis", "--no-worker"},
                             0,
                             0},
                            argv);
  if (!args) return kExitUsage;
  StopSignalled();  // from here on SIGINT/SIGTERM stop it gracefully (and its redis-server)
  if (!app.store_waiting()) return kExitFailed;
  std::unique_ptr<LocalRedis> redis;
  if (args->Flag("--with-redis")) {
    auto started = LocalRedis::Start(app.home());
    if (!started) {
      PrintError(started.error().message());
      return kExitFailed;
    }
    redis = std::move(*started);
  }
  auto web = StartWeb(app, *args, "serve");
  if (!web) return kExitUsage;
  return RunScheduler(app, "serve", *args);
}

}  // namespace dagctl::cli
