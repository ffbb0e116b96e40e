// Shared state of one dagctl invocation: where home and the DAGs folder are,
// the operator registry, the store, and how to find a DAG by id or path.
#pragma once

#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/clock.h"
#include "engine/dag_loader.h"
#include "engine/executor.h"
#include "engine/store/store.h"
#include "operators/operator.h"

namespace dagctl::cli {

/// Exit codes (SPEC §3).
constexpr int kExitOk = 0;
constexpr int kExitFailed = 1;
constexpr int kExitUsage = 2;

class App {
 public:
  /// Loads the built-in operators and the plug-ins of $home/plugins and of
  /// `plugins_dir` (if any); prints why a plug-in could not be loaded.
  App(std::string home, std::string dags_dir, std::string plugins_dir = "",
      std::string store_url = "");

  const std::string& home() const { return home_; }
  const std::string& dags_dir() const { return dags_dir_; }
  /// The store's URL as given (--store, DAGCTL_STORE); "" = SQLite in home.
  const std::string& store_url() const { return store_url_; }
  /// True when the store is shared by several machines (PostgreSQL).
  bool shared_store() const;
  const Clock& clock() const { return clock_; }
  std::string logs_dir() const { return home_ + "/logs"; }
  const OperatorRegistry& operators() const { return registry_; }

  /// Executor settings for this process: DAGCTL_PARALLELISM (default 32),
  /// logs under home, this environment, host and owner name.
  ExecutorOptions executor_options() const;

  /// Opens the store (--store, else $DAGCTL_HOME/dagctl.db), creating home
  /// as needed. Prints the error and returns nullptr on failure.
  Store* store();
  /// The same, for long-running processes: a store that cannot be reached
  /// yet is waited for (every 2 s, saying why) until SIGINT or SIGTERM.
  Store* store_waiting();

  /// The DAGs folder, loaded once.
  const DagBag& bag();

  /// A DAG by dag_id (from the DAGs folder) or by path to a YAML file.
  /// Prints what is wrong (load errors, unknown id with a hint) and returns
  /// nullptr when there is no usable DAG.
  std::shared_ptr<const Dag> FindDag(const std::string& arg);

  /// The dag_id and display zone for a DAG argument of a command that reads
  /// history. A DAG that no longer loads still has history: a bare id is
  /// accepted as long as the store knows runs of it. Else as FindDag.
  struct DagRef {
    std::string dag_id;
    TimeZone tz;
  };
  std::optional<DagRef> ResolveDag(Store& store, const std::string& arg);

 private:
  Store* OpenOrWait(bool wait);

  std::string home_;
  std::string dags_dir_;
  std::string store_url_;
  SystemClock clock_;
  OperatorRegistry registry_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<DagBag> bag_;
};

/// Prints "dagctl: MESSAGE" to stderr.
void PrintError(const std::string& message);

int CmdValidate(App& app, const std::vector<std::string>& argv);
int CmdList(App& app, const std::vector<std::string>& argv);
int CmdRun(App& app, const std::vector<std::string>& argv);
int CmdRuns(App& app, const std::vector<std::string>& argv);
int CmdTasks(App& app, const std::vector<std::string>& argv);
int CmdLogs(App& app, const std::vector<std::string>& argv);
int CmdGraph(App& app, const std::vector<std::string>& argv);
int CmdShow(App& app, const std::vector<std::string>& argv);
int CmdNext(App& app, const std::vector<std::string>& argv);
int CmdPause(App& app, const std::vector<std::string>& argv);
int CmdUnpause(App& app, const std::vector<std::string>& argv);
int CmdScheduler(App& app, const std::vector<std::string>& argv);
int CmdServe(App& app, const std::vector<std::string>& argv);
int CmdWebserver(App& app, const std::vector<std::string>& argv);
int CmdVariables(App& app, const std::vector<std::string>& argv);
int CmdPools(App& app, const std::vector<std::string>& argv);
int CmdAssets(App& app, const std::vector<std::string>& argv);
/// Adds what the DAGs folder (and `also`, a DAG perhaps outside it) says
/// about assets to the store's references, so events queue their consumers
/// before a scheduler has read the folder. Only a scheduler's full load
/// drops references that are gone.
Status RecordAssetReferences(App& app, Store& store, std::shared_ptr<const Dag> also);
struct Args;
/// Runs the scheduler (and, unless --no-worker, a worker) in this thread
/// until SIGINT/SIGTERM (scheduler, serve); `args` holds kNodeFlagsUsage's flags.
int RunScheduler(App& app, const std::string& name, const Args& args);
extern const char kNodeFlagsUsage[];
int CmdWorker(App& app, const std::vector<std::string>& argv);
int CmdWorkers(App& app, const std::vector<std::string>& argv);
int CmdTrigger(App& app, const std::vector<std::string>& argv);
int CmdClear(App& app, const std::vector<std::string>& argv);
int CmdBackfill(App& app, const std::vector<std::string>& argv);

}  // namespace dagctl::cli
