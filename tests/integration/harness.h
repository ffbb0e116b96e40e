// Runs the real dagctl binary with a private home and captures what it says.
#pragma once

#include <fmt/format.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <string>
#include <thread>

#include "support/net.h"

namespace dagctl::testing {

struct Output {
  int exit_code = -1;
  std::string out;
  std::string err;
};

inline std::string ReadFile(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

/// What a task printed, from its log (`TIME [out] TEXT` lines): the text of
/// its stdout and stderr lines in order, without times, markers, or dagctl's
/// own lines (header, footer).
inline std::string Printed(const std::string& log) {
  std::istringstream in(log);
  std::string out;
  for (std::string l; std::getline(in, l);) {
    if (l.size() < 30 || l[23] != 'Z') continue;
    std::string rest = l.substr(25);
    if (rest.rfind("[out] ", 0) == 0 || rest.rfind("[err] ", 0) == 0) out += rest.substr(6) + "\n";
  }
  return out;
}

/// A fresh DAGCTL_HOME for one test, removed afterwards.
class Sandbox {
 public:
  Sandbox() {
    static int counter = 0;
    dir_ = std::filesystem::temp_directory_path() /
           ("dagctl_it_" + std::to_string(::getpid()) + "_" + std::to_string(++counter));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_ / "work");
  }
  ~Sandbox() { std::filesystem::remove_all(dir_); }

  std::filesystem::path work() const { return dir_ / "work"; }
  std::filesystem::path home() const { return dir_ / "home"; }

  /// Runs `dagctl ARGS` (a shell-quoted string) with the fixtures' DAGs folder.
  /// `env` adds NAME=value words before the command.
  Output Dagctl(const std::string& args, const std::string& dags = FIXTURES_DIR "/dags",
                const std::string& env = "") const {
    std::string out = (dir_ / "stdout").string(), err = (dir_ / "stderr").string();
    std::string cmd = env + " DAGCTL_HOME='" + home().string() + "' DAGCTL_DAGS='" + dags + "' " +
                      DAGCTL_BIN + " " + args + " >" + out + " 2>" + err + " </dev/null";
    int status = std::system(cmd.c_str());
    Output o;
    o.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    o.out = ReadFile(out);
    o.err = ReadFile(err);
    return o;
  }

 private:
  std::filesystem::path dir_;
};

/// The id of the first run `dagctl runs DAG --json` lists (in most tests the
/// DAG's only run).
inline std::string FirstRunId(const Sandbox& sb, const std::string& dag,
                              const std::string& dags = FIXTURES_DIR "/dags") {
  Output o = sb.Dagctl("runs " + dag + " --json", dags);
  REQUIRE(o.exit_code == 0);
  return nlohmann::json::parse(o.out)["dag_runs"][0]["dag_run_id"].get<std::string>();
}

}  // namespace dagctl::testing

namespace dagctl::testing {

/// A dagctl process in the background (a scheduler, a worker), killed at the end.
class Background {
 public:
  /// `dagctl ARGS` with the sandbox's home and `dags`; `env` adds NAME=value
  /// words; its output goes to work/`log_name`. `wrap` (a command that runs
  /// the rest, such as `ip netns exec NS`) goes in front.
  Background(const Sandbox& sb, const std::string& args, const std::string& dags,
             const std::string& env = "", const std::string& log_name = "background.log",
             const std::string& wrap = "") {
    log_ = (sb.work() / log_name).string();
    std::string cmd = "exec " + wrap + " env DAGCTL_HOME='" + sb.home().string() +
                      "' DAGCTL_DAGS='" + dags + "' " + env + " " + DAGCTL_BIN + " " + args +
                      " >>" + log_ + " 2>&1 </dev/null";
    pid_ = fork();
    if (pid_ == 0) {
      setpgid(0, 0);
      execl("/bin/sh", "sh", "-c", cmd.c_str(), nullptr);
      _exit(127);
    }
  }
  ~Background() {
    if (pid_ > 0) Signal(SIGKILL);
  }

  /// Sends `sig` and waits for the exit; returns the exit code (-signal if killed).
  int Signal(int sig) {
    if (pid_ <= 0) return -1;
    kill(pid_, sig);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
  }
  /// Sends `sig` without waiting (SIGSTOP, SIGCONT).
  void Send(int sig) const {
    if (pid_ > 0) kill(pid_, sig);
  }
  pid_t pid() const { return pid_; }
  std::string Log() const { return ReadFile(log_); }

 private:
  pid_t pid_ = -1;
  std::string log_;
};


/// Polls `ok` every 50 ms until it holds or `seconds` pass.
template <typename F>
bool WaitFor(F ok, double seconds) {
  auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (std::chrono::steady_clock::now() < end) {
    if (ok()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return ok();
}

/// The port a server (`dagctl serve --port 0`) printed, once it is listening.
inline int PortOf(const Background& server) {
  int port = 0;
  WaitFor(
      [&] {
        std::smatch m;
        std::string log = server.Log();
        if (std::regex_search(log, m, std::regex(R"(http://127\.0\.0\.1:(\d+)/)")))
          port = std::stoi(m[1]);
        return port != 0;
      },
      5);
  REQUIRE(port != 0);
  return port;
}

/// Percent-encodes a path segment (a run id has ':' and '+').
inline std::string Encode(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '_' || c == '.' || c == '-' || c == '~') {
      out += static_cast<char>(c);
      continue;
    }
    char hex[4];
    std::snprintf(hex, sizeof hex, "%%%02X", c);
    out += hex;
  }
  return out;
}

/// redis-server on 127.0.0.1 (with `password`, if given), for one test.
class RedisServer {
 public:
  explicit RedisServer(std::string password = "") : port_(FreePort()), password_(std::move(password)) {
    pid_ = fork();
    if (pid_ == 0) {
      std::string port = std::to_string(port_);
      freopen("/dev/null", "w", stdout);  // its log
      execlp("redis-server", "redis-server", "--port", port.c_str(), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--requirepass", password_.c_str(), "--daemonize", "no", "--logfile", "",
             nullptr);
      _exit(127);
    }
    REQUIRE(WaitFor([&] { return Cli("PING") == "PONG\n"; }, 10));
  }
  ~RedisServer() {
    kill(pid_, SIGTERM);
    waitpid(pid_, nullptr, 0);
  }
  int port() const { return port_; }
  /// redis-cli's answer to ARGS (shell words); "" if it failed.
  std::string Cli(const std::string& args) const {
    std::string out = "/tmp/dagctl_redis_cli_" + std::to_string(getpid());
    std::string auth = password_.empty() ? "" : " --no-auth-warning -a " + password_;
    std::string cmd = "redis-cli -p " + std::to_string(port_) + auth + " " + args + " > " + out + " 2>/dev/null";
    if (std::system(cmd.c_str()) != 0) return "";
    return ReadFile(out);
  }

 private:
  int port_;
  std::string password_;
  pid_t pid_ = -1;
};

}  // namespace dagctl::testing
