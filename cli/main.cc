// dagctl: the command-line entry point. Global options, then a subcommand.
#include <fmt/format.h>

#include <cstdlib>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "cli/app.h"
#include "engine/suggest.h"

namespace {

using dagctl::cli::App;
using Command = std::function<int(App&, const std::vector<std::string>&)>;

const char kUsage[] = R"(usage: dagctl [--home DIR] [--dags DIR] [--store URL] [--plugins DIR] COMMAND [ARGS]

Commands:
  validate [PATH...]                  load and check DAG files; print every error
  list [--json]                       DAGs with schedule, time zone, paused, next and last run
  run DAG [--date D] [--param K=V]... run one DAG run in the foreground to its end
  runs DAG [--json]                   run history
  tasks DAG RUN_ID [--json]           the run's task instances
  logs DAG RUN_ID TASK [--try N] [--follow]  a try's log
  next DAG [-n N] [--after T] [--json] the next scheduled runs (or the assets it waits for)
  graph DAG [--format text|dot|mermaid] the resolved task graph
  version (or --version)              print dagctl's version
  show DAG [--run RUN_ID]             the YAML of the DAG's current version, or of the
                                      version the run executes
  pause DAG / unpause DAG             stop / resume scheduling
  trigger DAG [--date D] [--conf JSON] queue a manual run for the scheduler
  backfill DAG --from D --to D [--rerun-failed]  create and run the scheduled runs of a range
  clear DAG RUN_ID [--task TASK|GROUP]... [--downstream] [--only-failed] [--yes] [--dry-run]
                                      reset tasks to run again; shows them and asks first
                                      unless --yes (--dry-run: only show them)
  variables set K V | get K | list | delete K   variables for {{ var.NAME }}
  pools set NAME SLOTS [--description D] | list [--json] | delete NAME
                                      pools: slots shared by the tries that name them
  assets list [--json] | event URI [--extra JSON]
                                      assets: producers, consumers, latest event; record
                                      an event from outside
  scheduler [--no-worker] [--queues Q,...] [--slots N] [--lease D]
                                      schedule DAGs until stopped; also run their tries
                                      unless --no-worker
  worker [--queues Q,...] [--slots N] [--name NAME] [--lease D]
                                      run queued tries of the queues (default: default)
  workers [--json]                    the live workers: host, queues, slots, heartbeat
  webserver [--host H] [--port P] [--token T]  the REST API on http://127.0.0.1:8080/api/v1
  serve [--host H] [--port P] [--token T] [--with-redis] [scheduler's flags]
                                      the scheduler, a worker and the web server in one
                                      process; --with-redis also runs a local redis-server

Global options:
  --home DIR   database, logs, plugins (env DAGCTL_HOME, default ~/.dagctl)
  --dags DIR   the DAGs folder (env DAGCTL_DAGS, default ./dags)
  --store URL  the metadata store (env DAGCTL_STORE): sqlite:///PATH (default
               HOME/dagctl.db) or postgresql://USER:PASSWORD@HOST:PORT/DB
  --plugins DIR  operator plug-ins to load besides $DAGCTL_HOME/plugins (env DAGCTL_PLUGINS)

A DAG is a dag_id from the DAGs folder or a path to a YAML file.
Exit codes: 0 success, 1 a run or check failed, 2 bad usage or an invalid DAG.
)";

std::string DefaultHome() {
  if (const char* h = std::getenv("DAGCTL_HOME"); h && *h) return h;
  const char* home = std::getenv("HOME");
  return std::string(home && *home ? home : ".") + "/.dagctl";
}

std::string DefaultDags() {
  if (const char* d = std::getenv("DAGCTL_DAGS"); d && *d) return d;
  return "dags";
}

}  // namespace

int main(int argc, char** argv) {
  const std::map<std::string, Command> commands = {
      {"validate", dagctl::cli::CmdValidate},
      {"list", dagctl::cli::CmdList},
      {"run", dagctl::cli::CmdRun},
      {"runs", dagctl::cli::CmdRuns},
      {"tasks", dagctl::cli::CmdTasks},
      {"logs", dagctl::cli::CmdLogs},
      {"graph", dagctl::cli::CmdGraph},
      {"show", dagctl::cli::CmdShow},
      {"next", dagctl::cli::CmdNext},
      {"pause", dagctl::cli::CmdPause},
      {"unpause", dagctl::cli::CmdUnpause},
      {"scheduler", dagctl::cli::CmdScheduler},
      {"worker", dagctl::cli::CmdWorker},
      {"workers", dagctl::cli::CmdWorkers},
      {"serve", dagctl::cli::CmdServe},
      {"webserver", dagctl::cli::CmdWebserver},
      {"variables", dagctl::cli::CmdVariables},
      {"pools", dagctl::cli::CmdPools},
      {"assets", dagctl::cli::CmdAssets},
      {"trigger", dagctl::cli::CmdTrigger},
      {"clear", dagctl::cli::CmdClear},
      {"backfill", dagctl::cli::CmdBackfill},
  };
  std::string home = DefaultHome(), dags = DefaultDags();
  const char* env_plugins = std::getenv("DAGCTL_PLUGINS");
  std::string plugins = env_plugins ? env_plugins : "";
  const char* env_store = std::getenv("DAGCTL_STORE");
  std::string store = env_store ? env_store : "";
  std::vector<std::string> rest;
  std::string command;
  // Global options may come before or after the command.
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    for (auto [flag, target] : {std::pair{"--home", &home}, std::pair{"--dags", &dags},
                                std::pair{"--plugins", &plugins}, std::pair{"--store", &store}}) {
      if (a == flag || a.rfind(std::string(flag) + "=", 0) == 0) {
        if (a == flag && i + 1 >= argc) {
          fmt::print(stderr, "dagctl: option '{}' needs a value\n", flag);
          return dagctl::cli::kExitUsage;
        }
        *target = a == flag ? argv[++i] : a.substr(std::string(flag).size() + 1);
        a.clear();
        break;
      }
    }
    if (a.empty()) continue;
    if (command.empty() && a[0] != '-')
      command = a;
    else
      rest.push_back(a);
  }
  if (command == "version" || (command.empty() && !rest.empty() && rest[0] == "--version")) {
    fmt::print("dagctl {}\n", DAGCTL_VERSION);
    return dagctl::cli::kExitOk;
  }
  if (command.empty() || command == "help") {
    bool asked = command == "help" || (!rest.empty() && (rest[0] == "--help" || rest[0] == "-h"));
    fmt::print(asked ? stdout : stderr, "{}", kUsage);
    return asked ? dagctl::cli::kExitOk : dagctl::cli::kExitUsage;
  }
  auto it = commands.find(command);
  if (it == commands.end()) {
    std::vector<std::string> names;
    for (const auto& [name, fn] : commands) names.push_back(name);
    fmt::print(stderr, "dagctl: unknown command '{}'{}\nRun 'dagctl help' for the list.\n", command,
               dagctl::DidYouMean(command, names));
    return dagctl::cli::kExitUsage;
  }
  App app(home, dags, plugins, store);
  return it->second(app, rest);
}
