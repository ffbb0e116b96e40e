#include "cli/local_redis.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <netdb.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <thread>
#include <vector>

#include "engine/connection.h"

namespace dagctl::cli {

namespace {

bool Answers(const std::string& host, int port) {
  addrinfo hints{}, *res = nullptr;
  hints.ai_socktype = SOCK_STREAM;
  if (getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &res) != 0) return false;
  bool ok = false;
  for (addrinfo* a = res; a && !ok; a = a->ai_next) {
    int fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    ok = connect(fd, a->ai_addr, a->ai_addrlen) == 0;
    close(fd);
  }
  freeaddrinfo(res);
  return ok;
}

}  // namespace

Result<std::unique_ptr<LocalRedis>> LocalRedis::Start(const std::string& home) {
  std::string host = "127.0.0.1", password;
  int port = 6379;
  auto conn = LookupConnection("redis_default");
  if (conn) {
    if (!conn->host.empty()) host = conn->host;
    port = conn->port.value_or(6379);
    password = conn->password;
  } else if (!conn.error().IsNotFound()) {
    return Fail(conn.error());
  }
  if (host != "127.0.0.1" && host != "localhost" && host != "::1")
    return Fail(Error::InvalidArgument(fmt::format(
        "--with-redis starts a local redis-server, but connection redis_default points at {}:{}", host,
        port)));
  std::unique_ptr<LocalRedis> redis(new LocalRedis);
  if (Answers(host, port)) {
    fmt::print(stderr, "dagctl serve: redis already answers on {}:{}; using it\n", host, port);
    return redis;
  }
  std::string dir = std::filesystem::absolute(home + "/redis").string();
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Fail(Error::Internal(fmt::format("cannot create {}: {}", dir, ec.message())));
  std::vector<std::string> argv = {"redis-server", "--bind", host == "localhost" ? "127.0.0.1" : host,
                                   "--port", std::to_string(port), "--dir", dir,
                                   "--logfile", dir + "/redis.log", "--daemonize", "no"};
  if (!password.empty()) argv.insert(argv.end(), {"--requirepass", password});
  int ready[2];
  if (pipe2(ready, O_CLOEXEC) != 0) return Fail(Error::Internal("pipe failed"));
  pid_t pid = fork();
  if (pid < 0) return Fail(Error::Internal("fork failed"));
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGTERM);  // never outlives serve
    int devnull = open("/dev/null", O_RDWR);
    dup2(devnull, 0);
    dup2(devnull, 1);
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    execvp(args[0], args.data());
    char code = 1;
    [[maybe_unused]] auto w = write(ready[1], &code, 1);  // exec failed: not installed
    _exit(127);
  }
  close(ready[1]);
  char code = 0;
  bool exec_failed = read(ready[0], &code, 1) == 1;
  close(ready[0]);
  if (exec_failed) {
    waitpid(pid, nullptr, 0);
    return Fail(Error::NotFound(
        "--with-redis: redis-server is not installed (apt-get install redis-server, or run scripts/deps.sh)"));
  }
  redis->pid_ = pid;
  for (int i = 0; i < 100; ++i) {
    if (Answers(host, port)) {
      fmt::print(stderr, "dagctl serve: started redis-server on {}:{} (data and log in {})\n", host, port,
                 dir);
      return redis;
    }
    if (waitpid(pid, nullptr, WNOHANG) == pid) {
      redis->pid_ = -1;
      return Fail(Error::Internal(
          fmt::format("--with-redis: redis-server exited at start; see {}/redis.log", dir)));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return Fail(Error::Internal(fmt::format(
      "--with-redis: redis-server did not answer on {}:{} within 5 s; see {}/redis.log", host, port, dir)));
}

LocalRedis::~LocalRedis() {
  if (pid_ <= 0) return;
  kill(pid_, SIGTERM);
  waitpid(pid_, nullptr, 0);
}

}  // namespace dagctl::cli
