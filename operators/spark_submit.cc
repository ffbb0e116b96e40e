#include "operators/spark_submit.h"

#include <fmt/format.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <regex>

#include "engine/connection.h"

namespace dagctl {

namespace {

std::vector<std::string> List(const Value& params, const char* key) {
  std::vector<std::string> out;
  if (const Value* v = params.Find(key)) {
    if (v->IsScalar()) out.push_back(v->scalar);
    for (const Value& i : v->items) out.push_back(i.scalar);
  }
  return out;
}

std::string Join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ",") + s;
  return out;
}

// Runs argv as a child in this process's group, copies its output to our
// stderr (the log) and returns its exit code and the application id it printed.
std::pair<int, std::string> RunAndWatch(const std::vector<std::string>& argv) {
  int out[2];
  if (pipe(out) != 0) return {1, ""};
  pid_t pid = fork();
  if (pid == 0) {
    dup2(out[1], 1);
    dup2(out[1], 2);
    close(out[0]);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execvp(args[0], args.data());
    fmt::print(stderr, "spark_submit: cannot run {}: {}\n", argv[0], strerror(errno));
    _exit(127);
  }
  close(out[1]);
  static const std::regex kAppId(R"(\b(application_\d+_\d+|app-\d{14}-\d{4}|local-\d{10,})\b)");
  std::string app_id, pending;
  char buf[4096];
  for (ssize_t n; (n = read(out[0], buf, sizeof buf)) > 0;) {
    [[maybe_unused]] auto w = write(2, buf, static_cast<size_t>(n));
    pending.append(buf, static_cast<size_t>(n));
    std::smatch m;
    if (app_id.empty() && std::regex_search(pending, m, kAppId)) app_id = m[1];
    if (pending.size() > 8192) pending.erase(0, pending.size() - 256);
  }
  close(out[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : 1, app_id};
}

// Whether `program` can be run: a path that is executable, or a name found
// on PATH.
bool Installed(const std::string& program) {
  if (program.find('/') != std::string::npos) return access(program.c_str(), X_OK) == 0;
  const char* path = std::getenv("PATH");
  std::string dirs = path ? path : "/usr/local/bin:/usr/bin:/bin";
  size_t pos = 0;
  while (pos <= dirs.size()) {
    size_t colon = dirs.find(':', pos);
    std::string dir = dirs.substr(pos, colon == std::string::npos ? std::string::npos : colon - pos);
    if (access(((dir.empty() ? "." : dir) + "/" + program).c_str(), X_OK) == 0) return true;
    if (colon == std::string::npos) break;
    pos = colon + 1;
  }
  return false;
}

}  // namespace

std::vector<std::string> SparkSubmitArgv(const Value& p, const Connection* conn) {
  auto extra = [&](const char* a, const char* b) -> std::string {
    if (!conn) return "";
    for (const char* k : {a, b})
      if (auto it = conn->extra.find(k); it != conn->extra.end()) return it->second;
    return "";
  };
  std::string conn_master = extra("master", "master");
  if (conn && conn_master.empty() && !conn->host.empty())
    conn_master = fmt::format("spark://{}:{}", conn->host, conn->port.value_or(7077));
  auto scalar = [&](const char* key, std::string fallback = "") {
    const Value* v = p.Find(key);
    return v && v->IsScalar() ? v->scalar : fallback;
  };
  std::string binary = extra("spark_binary", "spark-binary");
  std::string deploy_mode = extra("deploy_mode", "deploy-mode");
  std::vector<std::string> argv{scalar("spark_binary", binary.empty() ? "spark-submit" : binary), "--master",
                                scalar("master", conn_master.empty() ? "local[*]" : conn_master)};
  if (!scalar("deploy_mode").empty()) deploy_mode = scalar("deploy_mode");
  if (!deploy_mode.empty()) argv.insert(argv.end(), {"--deploy-mode", deploy_mode});
  if (std::string queue = extra("queue", "queue"); !queue.empty()) argv.insert(argv.end(), {"--queue", queue});
  auto flag = [&](const char* key, const char* option) {
    std::string v = scalar(key);
    if (!v.empty()) argv.insert(argv.end(), {option, v});
  };
  flag("name", "--name");
  flag("java_class", "--class");
  if (const Value* conf = p.Find("conf"))
    for (const MapEntry& e : conf->entries) argv.insert(argv.end(), {"--conf", e.key + "=" + e.value.scalar});
  for (auto [key, option] : {std::pair{"jars", "--jars"}, std::pair{"py_files", "--py-files"},
                             std::pair{"files", "--files"}}) {
    auto items = List(p, key);
    if (!items.empty()) argv.insert(argv.end(), {option, Join(items)});
  }
  flag("driver_memory", "--driver-memory");
  flag("executor_memory", "--executor-memory");
  flag("executor_cores", "--executor-cores");
  flag("num_executors", "--num-executors");
  argv.push_back(scalar("application"));
  for (const auto& a : List(p, "application_args")) argv.push_back(a);
  return argv;
}

const std::vector<ParamSpec>& SparkSubmitOperator::params() const {
  static const std::vector<ParamSpec> kParams = {
      {"application", ParamType::kString, true, true, "The application jar or .py file."},
      {"conn_id", ParamType::kString, false, false, "A spark connection (spark_default when defined)."},
      {"master", ParamType::kString, false, true, "Cluster URL; local[*] by default."},
      {"deploy_mode", ParamType::kString, false, true, "client or cluster."},
      {"name", ParamType::kString, false, true, "The application's name."},
      {"java_class", ParamType::kString, false, true, "Main class of a jar."},
      {"conf", ParamType::kStringMap, false, true, "Spark properties, --conf k=v."},
      {"jars", ParamType::kStringList, false, true, "--jars"},
      {"py_files", ParamType::kStringList, false, true, "--py-files"},
      {"files", ParamType::kStringList, false, true, "--files"},
      {"driver_memory", ParamType::kString, false, true, "--driver-memory"},
      {"executor_memory", ParamType::kString, false, true, "--executor-memory"},
      {"executor_cores", ParamType::kString, false, true, "--executor-cores"},
      {"num_executors", ParamType::kString, false, true, "--num-executors"},
      {"application_args", ParamType::kStringList, false, true, "Arguments of the application."},
      {"spark_binary", ParamType::kString, false, false, "spark-submit by default (on PATH)."},
      {"local_command", ParamType::kString, false, true,
       "Run with bash -c instead when spark-submit is not installed."},
  };
  return kParams;
}

Result<Launch> SparkSubmitOperator::Prepare(const TryContext& ctx) const {
  const Value* conn_id = ctx.params.Find("conn_id");
  auto conn = LookupConnection(conn_id ? conn_id->scalar : "spark_default");
  if (!conn && (conn_id || !conn.error().IsNotFound())) return Fail(conn.error());
  std::vector<std::string> argv = SparkSubmitArgv(ctx.params, conn ? &*conn : nullptr);
  const Value* local = ctx.params.Find("local_command");
  std::string local_command = local ? local->scalar : "";
  Launch launch;
  launch.body = [argv, local_command](TryChannel& channel) {
    std::string shown;
    for (const auto& a : argv) shown += (shown.empty() ? "" : " ") + a;
    if (!local_command.empty() && !Installed(argv[0])) {
      fmt::print(stderr,
                 "spark_submit: {} is not installed; running the job's local command instead of\n"
                 "spark_submit:   {}\nspark_submit: local command: {}\n",
                 argv[0], shown, local_command);
      std::fflush(stderr);
      auto [code, app_id] = RunAndWatch({"bash", "-c", local_command});
      if (code != 0) fmt::print(stderr, "spark_submit: the local command exited with {}\n", code);
      return code == 0 ? 0 : 1;
    }
    fmt::print(stderr, "spark_submit: {}\n", shown);
    std::fflush(stderr);
    auto [code, app_id] = RunAndWatch(argv);
    if (!app_id.empty()) {
      fmt::print(stderr, "spark_submit: application id {}\n", app_id);
      channel.PushXCom("return_value", app_id);
    }
    if (code != 0) fmt::print(stderr, "spark_submit: spark-submit exited with {}\n", code);
    return code == 0 ? 0 : 1;
  };
  return launch;
}

}  // namespace dagctl
