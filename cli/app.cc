#include "cli/app.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include <thread>

#include "engine/connection.h"
#include "engine/posix_try_runner.h"
#include "operators/plugin.h"
#include "engine/store/sql_store.h"
#include "engine/suggest.h"

namespace dagctl::cli {

namespace fs = std::filesystem;

void PrintError(const std::string& message) { fmt::print(stderr, "dagctl: {}\n", message); }

App::App(std::string home, std::string dags_dir, std::string plugins_dir, std::string store_url)
    : home_(std::move(home)), dags_dir_(std::move(dags_dir)), store_url_(std::move(store_url)) {
  RegisterBuiltinOperators(registry_);
  for (const std::string& dir : {home_ + "/plugins", plugins_dir}) {
    if (dir.empty()) continue;
    for (const std::string& problem : LoadPlugins(dir, registry_)) PrintError(problem);
  }
  // Connections files may say ${DAGCTL_HOME} / ${DAGCTL_DAGS}, whether they
  // came from flags, the environment or the defaults.
  setenv("DAGCTL_HOME", fs::absolute(home_).c_str(), 1);
  setenv("DAGCTL_DAGS", fs::absolute(dags_dir_).c_str(), 1);
  SetConnectionsFiles({home_ + "/connections.yaml", dags_dir_ + "/connections.yaml"});
  // Connections created through the REST API live in the store. Each thread
  // (and each forked try) opens its own connection to it, once.
  SetConnectionStore([url = store_url_, home = home_](const std::string& id)
                         -> Result<ConnectionRecord> {
    static const SystemClock kClock;
    thread_local std::unique_ptr<Store> store;
    thread_local pid_t opened_in = 0;
    if (!store || opened_in != getpid()) {
      (void)store.release();  // a store inherited through fork() is not ours to close
      auto s = OpenStore(url, home, kClock);
      if (!s) return Fail(s.error());
      store = std::move(*s);
      opened_in = getpid();
    }
    return store->GetConnection(id);
  });
}

ExecutorOptions App::executor_options() const {
  ExecutorOptions opts;
  if (const char* p = std::getenv("DAGCTL_PARALLELISM"); p && std::atoi(p) > 0)
    opts.parallelism = std::atoi(p);
  opts.logs_dir = logs_dir();
  opts.home = std::filesystem::absolute(home_).string();
  opts.dags_dir = std::filesystem::absolute(dags_dir_).string();
  for (char** e = environ; *e; ++e) opts.env.push_back(*e);
  opts.hostname = HostName();
  opts.owner = ThisProcessOwner();
  opts.store_url = store_url_;
  opts.ship_logs = shared_store();
  return opts;
}

bool App::shared_store() const { return IsPostgresUrl(store_url_); }

Store* App::store() { return OpenOrWait(false); }

Store* App::store_waiting() { return OpenOrWait(true); }

// Opens the store once; with `wait`, a store that cannot be reached yet
// (PostgreSQL still starting, the network down) is tried again every 2 s
// until it answers or SIGINT/SIGTERM arrives.
Store* App::OpenOrWait(bool wait) {
  if (store_) return store_.get();
  std::error_code ec;
  fs::create_directories(home_, ec);
  if (ec) {
    PrintError(fmt::format("cannot create home folder {}: {}", home_, ec.message()));
    return nullptr;
  }
  std::string said;
  while (true) {
    auto s = OpenStore(store_url_, home_, clock_);
    if (s) {
      store_ = std::move(*s);
      if (!said.empty()) PrintError("the metadata database answers");
      return store_.get();
    }
    if (!wait || !s.error().IsUnavailable() || StopSignalled()) {
      PrintError(s.error().message());
      return nullptr;
    }
    if (s.error().message() != said) PrintError(s.error().message() + "; trying again");
    said = s.error().message();
    for (int i = 0; i < 20 && !StopSignalled(); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

const DagBag& App::bag() {
  if (!bag_) bag_ = std::make_unique<DagBag>(LoadDagFolder(dags_dir_, registry_));
  return *bag_;
}

std::shared_ptr<const Dag> App::FindDag(const std::string& arg) {
  bool looks_like_path =
      arg.find('/') != std::string::npos || arg.ends_with(".yaml") || arg.ends_with(".yml");
  if (looks_like_path) {
    Diagnostics diags(arg);
    auto dag = LoadDagFile(arg, registry_, diags);
    if (!dag) fmt::print(stderr, "{}", diags.ToString());
    return dag;
  }
  for (const auto& d : bag().dags)
    if (d->dag_id == arg) return d;
  // A broken file whose stem is the id: show its errors rather than "not found".
  for (const ImportError& e : bag().errors) {
    if (fs::path(e.file).stem() == arg) {
      for (const Diagnostic& d : e.diagnostics) fmt::print(stderr, "{}\n", d.ToString());
      return nullptr;
    }
  }
  std::vector<std::string> ids;
  for (const auto& d : bag().dags) ids.push_back(d->dag_id);
  PrintError(fmt::format("no DAG '{}' in {}{}", arg, dags_dir_, DidYouMean(arg, ids)));
  return nullptr;
}

std::optional<App::DagRef> App::ResolveDag(Store& store, const std::string& arg) {
  bool path = arg.find('/') != std::string::npos || arg.ends_with(".yaml") || arg.ends_with(".yml");
  if (!path) {
    if (const Dag* d = bag().Find(arg)) return DagRef{d->dag_id, d->timezone};
    auto count = store.CountDagRuns({.dag_id = arg, .limit = 1});
    if (count && *count > 0) return DagRef{arg, TimeZone()};
  }
  auto dag = FindDag(arg);
  if (!dag) return std::nullopt;
  return DagRef{dag->dag_id, dag->timezone};
}

}  // namespace dagctl::cli
