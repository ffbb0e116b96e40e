#include "engine/posix_try_runner.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <map>

#include "engine/keeper.h"
#include "engine/log_file.h"

namespace dagctl {
namespace {

using SteadyTime = std::chrono::steady_clock::time_point;

int g_wake_pipe[2] = {-1, -1};
std::atomic<bool> g_stop{false};

void OnSignal(int sig) {
  int saved = errno;
  if (sig == SIGINT || sig == SIGTERM) g_stop = true;
  char c = 0;
  [[maybe_unused]] auto n = write(g_wake_pipe[1], &c, 1);
  errno = saved;
}

void InstallHandlers(bool stop_signals) {
  if (g_wake_pipe[0] >= 0) return;
  if (pipe2(g_wake_pipe, O_CLOEXEC | O_NONBLOCK) != 0) return;
  struct sigaction sa {};
  sa.sa_handler = OnSignal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART | SA_NOCLDSTOP;
  sigaction(SIGCHLD, &sa, nullptr);
  if (stop_signals) {
    sigaction(SIGINT, &sa, nullptr);
    sigaction(SIGTERM, &sa, nullptr);
  }
}

// The body's side of TryChannel: lines `key\tlength\n<value>` on a pipe.
class PipeChannel : public TryChannel {
 public:
  explicit PipeChannel(int fd) : fd_(fd) {}
  void PushXCom(const std::string& key, const std::string& value) override {
    std::string msg = fmt::format("{}\t{}\n", key, value.size()) + value;
    for (size_t off = 0; off < msg.size();) {
      ssize_t n = write(fd_, msg.data() + off, msg.size() - off);
      if (n <= 0 && errno != EINTR) return;
      if (n > 0) off += static_cast<size_t>(n);
    }
  }

 private:
  int fd_;
};

// The pipes the engine reads from a try.
enum Stream { kStdout, kStderr, kChannel, kStreams };

struct Child {
  uint64_t id = 0;
  pid_t pid = -1;   // the process we wait for: the try's, or its keeper's
  pid_t pgid = -1;  // the try's process group, which Kill and timeouts signal
  int fds[kStreams] = {-1, -1, -1};  // read ends; kChannel only for bodies
  std::string log_path;
  int log_fd = -1;        // opened on the first byte of output
  int64_t log_lost = 0;   // bytes of output the log could not take (a full disk)
  int log_errno = 0;      // why, the first time
  std::vector<std::string> secrets;  // masked as *** in the log (after the line is cut)
  std::string held[2];               // unfinished lines of stdout and stderr
  std::string partial;    // stdout since the last newline
  std::string last_line;  // last complete non-empty stdout line
  std::string channel;
  std::optional<SteadyTime> deadline;
  std::optional<SteadyTime> kill_at;
  bool timed_out = false;
  bool killed = false;  // stopped on request (Kill, TerminateAll)
  bool exited = false;
  int status = 0;
};

const std::string& KeeperExecutable();

}  // namespace

std::vector<std::pair<std::string, std::string>> ParseTryChannel(const std::string& data) {
  std::vector<std::pair<std::string, std::string>> out;
  size_t pos = 0;
  while (pos < data.size()) {
    size_t tab = data.find('\t', pos), nl = data.find('\n', pos);
    if (tab == std::string::npos || nl == std::string::npos || tab > nl) break;
    size_t len = std::strtoull(data.c_str() + tab + 1, nullptr, 10);
    if (len > data.size() - nl - 1) break;
    out.emplace_back(data.substr(pos, tab - pos), data.substr(nl + 1, len));
    pos = nl + 1 + len;
  }
  return out;
}

namespace {

class PosixTryRunner : public TryRunner {
 public:
  explicit PosixTryRunner(PosixTryRunnerOptions opts) : opts_(opts) {
    InstallHandlers(opts.handle_stop_signals);
    KeeperExecutable();  // found (or said missing) at start-up, not at the first try
  }
  ~PosixTryRunner() override { TerminateAll(); }

  Result<int> Start(const TryRequest& req) override;
  Result<int> Started(const TryRequest& req, pid_t pid, pid_t pgid, int out[2], int err[2],
                      int ctl[2], int spawn_errno);
  std::vector<TryResult> Wait(std::optional<Timestamp> deadline, int wake_fd) override;
  void Kill(uint64_t id) override;
  std::vector<TryResult> TerminateAll() override;
  size_t running() const override { return children_.size(); }
  bool StopRequested() const override { return g_stop; }

 private:
  void ReadOutput(Child& c, int stream);
  void OnStdout(Child& c, const char* data, size_t n);
  void WriteLog(Child& c, int stream, const char* data, size_t n, bool flush);
  void ReapExited();
  void EnforceTimeouts(SteadyTime now);
  TryResult Finish(Child& c);
  std::vector<TryResult> CollectFinished();

  PosixTryRunnerOptions opts_;
  std::map<uint64_t, Child> children_;
};

// --- The keeper (keeper.h) ---------------------------------------------------------
//
// A try that is a program runs under `dagctl-keeper`, started with vfork +
// exec (no copy of the engine's memory). A try that runs an operator's body
// needs the engine's code: its keeper is forked from the engine.

// The dagctl-keeper next to this executable (or DAGCTL_KEEPER's), found
// once; empty when missing (then every keeper is forked, and that is said
// once on stderr).
const std::string& KeeperExecutable() {
  static const std::string path = [] {
    std::error_code ec;
    auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
    std::string p = ec ? std::string() : (self.parent_path() / "dagctl-keeper").string();
    if (const char* env = getenv("DAGCTL_KEEPER"); env && *env) p = env;
    if (p.empty() || access(p.c_str(), X_OK) != 0) {
      fmt::print(stderr,
                 "dagctl: {} not found: each try's keeper is forked from the engine instead "
                 "(slower task starts); install dagctl-keeper next to dagctl\n",
                 p.empty() ? std::string("dagctl-keeper") : p);
      return std::string();
    }
    return p;
  }();
  return path;
}

// A keeper forked from the engine: starts the try (a body in a fork, a
// program by vfork + exec) and watches it. System calls only until exec.
// A body's channel goes through the keeper, which keeps a copy in a file of
// its own (`scratch`, unlinked at once) for the outcome.
[[noreturn]] void KeepTry(const KeeperPlan& p, const char* cwd, const Launch& launch,
                          char** argv, char** envp, int out_fd, int err_fd, int ctl_fd, int pid_fd,
                          const char* scratch) {
  KeeperEnter(p);
  KeeperPipes pipes{-1, out_fd, pid_fd};
  int rel[2], chan[2] = {-1, -1};
  pid_t t = -1;
  bool ready = pipe2(rel, O_CLOEXEC) == 0;
  if (ready && launch.body) {
    ready = pipe2(chan, O_CLOEXEC) == 0;
    pipes.channel_copy = open(scratch, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    unlink(scratch);
  }
  if (ready) t = launch.body ? fork() : vfork();
  if (t == 0) {
    SetUpTryChild(cwd, rel[1], err_fd);
    if (!launch.body) ExecTry(argv, envp);
    environ = envp;
    PipeChannel channel(chan[1]);
    int code = launch.body(channel);
    fflush(stdout);
    fflush(stderr);
    _exit(code);
  }
  pipes.out_from = rel[0];
  if (launch.body) {
    close(chan[1]);
    pipes.channel_from = chan[0];
    pipes.channel_to = ctl_fd;
  }
  KeeperWatch(p, t, pipes);
}

// The argv of dagctl-keeper for a try (keeper_main.cc), built before the vfork.
std::vector<std::string> KeeperArgs(const KeeperPlan& p, const std::string& cwd, int out_fd,
                                    int err_fd, int pid_fd, const std::vector<std::string>& argv) {
  std::vector<std::string> args = {KeeperExecutable(), p.tmp_path, p.final_path, p.dir, p.tag,
                                   std::to_string(p.engine), p.sync ? "1" : "0", cwd,
                                   std::to_string(out_fd), std::to_string(err_fd),
                                   std::to_string(pid_fd), "--"};
  args.insert(args.end(), argv.begin(), argv.end());
  return args;
}

// Starts dagctl-keeper with vfork + exec; in the child only system calls.
pid_t SpawnKeeper(const std::vector<std::string>& args, char** envp, std::initializer_list<int> fds) {
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  pid_t pid = vfork();
  if (pid == 0) {
    setpgid(0, 0);
    for (int fd : fds) fcntl(fd, F_SETFD, 0);  // the keeper inherits these (not the engine's others)
    execve(argv[0], argv.data(), envp);
    const char msg[] = "dagctl: cannot execute dagctl-keeper\n";
    [[maybe_unused]] auto n = write(2, msg, sizeof msg - 1);
    _exit(127);
  }
  return pid;
}

Result<int> PosixTryRunner::Start(const TryRequest& req) {
  int out[2], err[2], ctl[2] = {-1, -1};
  bool piped = pipe2(out, O_CLOEXEC) == 0;
  if (piped && pipe2(err, O_CLOEXEC) != 0) {
    close(out[0]), close(out[1]);
    piped = false;
  }
  if (piped && req.launch.body && pipe2(ctl, O_CLOEXEC) != 0) {
    close(out[0]), close(out[1]), close(err[0]), close(err[1]);
    piped = false;
  }
  if (!piped) return Fail(Error::IOError(fmt::format("cannot create a pipe: {}", strerror(errno))));
  // Everything exec needs is built before the child exists.
  std::vector<char*> argv, envp;
  for (const auto& a : req.launch.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  for (const auto& e : req.env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  std::string cwd = req.launch.cwd.empty() ? req.cwd : req.launch.cwd;

  // A try with an outcome file runs under a keeper (see above), which
  // reports the try's pid on a pipe.
  int pid_pipe[2] = {-1, -1};
  std::string tmp_path, scratch_path, dir;
  KeeperPlan plan{};
  if (!req.outcome_path.empty()) {
    std::error_code ec;
    dir = std::filesystem::path(req.outcome_path).parent_path().string();
    std::filesystem::create_directories(dir, ec);
    tmp_path = req.outcome_path + ".tmp";
    scratch_path = req.outcome_path + ".channel";
    plan = {tmp_path.c_str(), req.outcome_path.c_str(), dir.c_str(), req.outcome_tag.c_str(),
            getpid(), opts_.sync_outcomes};
    if (pipe2(pid_pipe, O_CLOEXEC) != 0) pid_pipe[0] = pid_pipe[1] = -1;
  }
  bool kept = pid_pipe[0] >= 0;
  if (kept) {
    pid_t keeper = -1;
    if (!req.launch.body && !KeeperExecutable().empty()) {
      keeper = SpawnKeeper(
          KeeperArgs(plan, cwd, out[1], err[1], pid_pipe[1], req.launch.argv), envp.data(),
          {out[1], err[1], pid_pipe[1]});
    } else {
      keeper = fork();
      if (keeper == 0)
        KeepTry(plan, cwd.c_str(), req.launch, argv.data(), envp.data(), out[1], err[1], ctl[1],
                pid_pipe[1], scratch_path.c_str());
    }
    close(pid_pipe[1]);
    pid_t try_pid = -1;
    if (keeper > 0) {
      setpgid(keeper, keeper);
      size_t got = 0;
      while (got < sizeof try_pid) {
        ssize_t n = read(pid_pipe[0], reinterpret_cast<char*>(&try_pid) + got, sizeof try_pid - got);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        got += static_cast<size_t>(n);
      }
      if (got < sizeof try_pid) try_pid = -1;
    }
    close(pid_pipe[0]);
    return Started(req, keeper, try_pid > 0 ? try_pid : keeper, out, err, ctl, errno);
  }
  // A program is started with vfork (no copy of the engine's memory; the child
  // only makes system calls until exec). A body needs its own memory: fork.
  pid_t pid = req.launch.body ? fork() : vfork();
  if (pid == 0) {
    SetUpTryChild(cwd.c_str(), out[1], err[1]);
    if (!req.launch.body) ExecTry(argv.data(), envp.data());
    // A body runs the operator's code here, isolated from the engine.
    environ = envp.data();
    PipeChannel channel(ctl[1]);
    int code = req.launch.body(channel);
    fflush(stdout);
    fflush(stderr);
    _exit(code);
  }
  int spawn_errno = errno;
  if (pid > 0) setpgid(pid, pid);  // also in the parent, so a kill right away finds the group
  return Started(req, pid, pid, out, err, ctl, spawn_errno);
}

// Takes on a child just forked (`pid`, the try in group `pgid`); closes the
// pipes' write ends.
Result<int> PosixTryRunner::Started(const TryRequest& req, pid_t pid, pid_t pgid, int out[2],
                                    int err[2], int ctl[2], int spawn_errno) {
  for (int fd : {out[1], err[1], ctl[1]})
    if (fd >= 0) close(fd);
  if (pid < 0) {
    for (int fd : {out[0], err[0], ctl[0]})
      if (fd >= 0) close(fd);
    return Fail(Error::IOError(fmt::format("cannot start a process: {}", strerror(spawn_errno))));
  }
  Child& c = children_[req.id];
  c.id = req.id;
  c.pid = pid;
  c.pgid = pgid;
  c.fds[kStdout] = out[0];
  c.fds[kStderr] = err[0];
  c.fds[kChannel] = ctl[0];
  c.log_path = req.log_path;
  for (const std::string& secret : req.secrets)
    if (secret.size() >= 3) c.secrets.push_back(secret);  // shorter ones would mask too much
  if (req.timeout) c.deadline = std::chrono::steady_clock::now() + *req.timeout;
  return pgid;
}

// Appends whole lines to the log, each stamped with the time it was read and
// its stream, secrets masked. The tail of a line is held until its newline,
// until it passes kMaxLine (written as a line of its own), or the end (`flush`).
void PosixTryRunner::WriteLog(Child& c, int stream, const char* data, size_t n, bool flush) {
  std::string& held = c.held[stream];
  held.append(data, n);
  Timestamp now = NowUtc();
  LogStream name = stream == kStdout ? LogStream::kOut : LogStream::kErr;
  std::string text;
  size_t start = 0;
  while (start < held.size()) {
    size_t nl = held.find('\n', start);
    size_t end = nl;
    if (nl == std::string::npos) {
      if (!flush && held.size() - start <= kMaxLine) break;
      end = std::min(held.size(), start + kMaxLine);
      // Not inside a UTF-8 character.
      while (end > start + 1 && end < held.size() && (static_cast<unsigned char>(held[end]) & 0xC0) == 0x80)
        --end;
    } else if (nl - start > kMaxLine) {
      end = start + kMaxLine;
      nl = std::string::npos;
    }
    std::string line = held.substr(start, end - start);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    for (const std::string& secret : c.secrets)
      for (size_t at = line.find(secret); at != std::string::npos; at = line.find(secret, at + 3))
        line.replace(at, secret.size(), "***");
    // One line per line: a newline inside a masked value cannot appear here.
    text += FormatLogLine(now, name, line);
    start = nl == std::string::npos ? end : nl + 1;
  }
  held.erase(0, start);
  if (text.empty()) return;
  // A log that cannot be written (a full disk) loses output, never the try:
  // what was lost is counted, and said in the log and on the console at the end.
  auto lost = [&](size_t bytes) {
    if (!c.log_errno) c.log_errno = errno ? errno : EIO;
    c.log_lost += static_cast<int64_t>(bytes);
  };
  if (c.log_fd < 0 && c.log_errno == 0) c.log_fd = OpenLogForAppend(c.log_path);
  if (c.log_fd < 0) return lost(text.size());
  for (size_t done = 0; done < text.size();) {
    ssize_t w = write(c.log_fd, text.data() + done, text.size() - done);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return lost(text.size() - done);
    done += static_cast<size_t>(w);
  }
}

void PosixTryRunner::OnStdout(Child& c, const char* data, size_t n) {
  WriteLog(c, kStdout, data, n, false);
  for (size_t i = 0; i < n; ++i) {
    char ch = data[i];
    if (ch == '\n') {
      if (!c.partial.empty() && c.partial.back() == '\r') c.partial.pop_back();
      if (!c.partial.empty()) c.last_line.swap(c.partial);
      c.partial.clear();
    } else if (c.partial.size() < kMaxLine) {
      c.partial += ch;
    }
  }
}

// Reads what is available on one of the child's pipes; closes it at EOF.
void PosixTryRunner::ReadOutput(Child& c, int stream) {
  char buf[16384];
  int& fd = c.fds[stream];
  while (fd >= 0) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n > 0) {
      if (stream == kStdout)
        OnStdout(c, buf, static_cast<size_t>(n));
      else if (stream == kStderr)
        WriteLog(c, kStderr, buf, static_cast<size_t>(n), false);
      else
        c.channel.append(buf, static_cast<size_t>(n));
      if (n < static_cast<ssize_t>(sizeof buf)) return;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return;
    close(fd);
    fd = -1;
  }
}

void PosixTryRunner::ReapExited() {
  for (auto& [id, c] : children_) {
    if (c.exited) continue;
    int status = 0;
    pid_t r = waitpid(c.pid, &status, WNOHANG);
    if (r == c.pid) {
      c.exited = true;
      c.status = status;
    }
  }
}

void PosixTryRunner::EnforceTimeouts(SteadyTime now) {
  for (auto& [id, c] : children_) {
    if (c.exited) continue;
    if (c.deadline && !c.timed_out && now >= *c.deadline) {
      c.timed_out = true;
      kill(-c.pgid, SIGTERM);
      c.kill_at = now + opts_.kill_grace;
    } else if (c.kill_at && now >= *c.kill_at) {
      kill(-c.pgid, SIGKILL);
      c.kill_at.reset();
    }
  }
}

TryResult PosixTryRunner::Finish(Child& c) {
  // The process is gone; take what its pipes still hold without waiting on
  // grandchildren that may keep them open.
  for (int stream = 0; stream < kStreams; ++stream) {
    int& fd = c.fds[stream];
    if (fd < 0) continue;
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    ReadOutput(c, stream);
    if (fd >= 0) close(fd);
    fd = -1;
  }
  for (int stream : {kStdout, kStderr}) WriteLog(c, stream, "", 0, true);
  // Leave nothing of a try that was stopped behind.
  if (c.timed_out || c.killed) kill(-c.pgid, SIGKILL);
  if (!c.partial.empty()) c.last_line = c.partial;
  if (c.log_fd >= 0) close(c.log_fd);
  if (c.log_lost > 0) {
    std::string why = fmt::format("the log is incomplete: {} bytes of output could not be written ({})",
                                  c.log_lost, strerror(c.log_errno));
    AppendLogLine(c.log_path, why);  // if there is room again
    fmt::print(stderr, "dagctl: {}: {}\n", c.log_path, why);
  }
  TryResult r;
  r.id = c.id;
  r.timed_out = c.timed_out;
  if (WIFEXITED(c.status)) r.exit_code = WEXITSTATUS(c.status);
  if (WIFSIGNALED(c.status)) r.term_signal = WTERMSIG(c.status);
  r.return_value = std::move(c.last_line);
  r.xcom = ParseTryChannel(c.channel);
  return r;
}

std::vector<TryResult> PosixTryRunner::CollectFinished() {
  std::vector<TryResult> done;
  for (auto it = children_.begin(); it != children_.end();) {
    if (it->second.exited) {
      done.push_back(Finish(it->second));
      it = children_.erase(it);
    } else {
      ++it;
    }
  }
  return done;
}

void PosixTryRunner::Kill(uint64_t id) {
  auto it = children_.find(id);
  if (it == children_.end() || it->second.exited || it->second.kill_at) return;
  kill(-it->second.pgid, SIGTERM);
  it->second.killed = true;
  it->second.kill_at = std::chrono::steady_clock::now() + opts_.kill_grace;
  it->second.deadline.reset();
}

std::vector<TryResult> PosixTryRunner::Wait(std::optional<Timestamp> deadline, int wake_fd) {
  // Each pass: reap, enforce timeouts, then poll the wake pipe and every open
  // output pipe until the nearest of the caller's deadline and our own timers.
  while (true) {
    ReapExited();
    auto now = std::chrono::steady_clock::now();
    EnforceTimeouts(now);
    if (auto done = CollectFinished(); !done.empty()) return done;
    if (g_stop) return {};
    int64_t timeout_ms = -1;
    if (deadline) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(*deadline - NowUtc());
      if (left.count() <= 0) return {};
      timeout_ms = left.count();
    }
    for (auto& [id, c] : children_) {
      for (auto t : {c.deadline, c.kill_at}) {
        if (!t || (t == c.deadline && c.timed_out)) continue;
        auto ms = std::max<int64_t>(
            0, std::chrono::duration_cast<std::chrono::milliseconds>(*t - now).count() + 1);
        if (timeout_ms < 0 || ms < timeout_ms) timeout_ms = ms;
      }
    }
    std::vector<pollfd> fds{{g_wake_pipe[0], POLLIN, 0}, {wake_fd, POLLIN, 0}};
    std::vector<std::pair<Child*, int>> owners{{nullptr, -1}, {nullptr, -1}};
    for (auto& [id, c] : children_) {
      for (int stream = 0; stream < kStreams; ++stream) {
        if (c.fds[stream] < 0) continue;
        fds.push_back({c.fds[stream], POLLIN, 0});
        owners.push_back({&c, stream});
      }
    }
    if (children_.empty() && timeout_ms < 0 && wake_fd < 0) return {};
    int n =
        poll(fds.data(), fds.size(), static_cast<int>(std::min<int64_t>(timeout_ms, INT32_MAX)));
    if (n <= 0) continue;
    if (fds[0].revents) {
      char buf[256];
      while (read(g_wake_pipe[0], buf, sizeof buf) > 0) {
      }
    }
    if (fds[1].revents) return {};  // the caller's wake-up
    for (size_t i = 2; i < fds.size(); ++i)
      if (fds[i].revents) ReadOutput(*owners[i].first, owners[i].second);
  }
}

std::vector<TryResult> PosixTryRunner::TerminateAll() {
  auto now = std::chrono::steady_clock::now();
  for (auto& [id, c] : children_) {
    if (c.exited) continue;
    kill(-c.pgid, SIGTERM);
    c.killed = true;
    c.kill_at = now + opts_.kill_grace;
    c.deadline.reset();
  }
  // Wait() returns early while a stop is pending; hold the request back until
  // every child is gone, then restore it for the caller to see.
  std::vector<TryResult> all;
  bool stop = g_stop.exchange(false);
  while (!children_.empty()) {
    auto done = Wait(std::nullopt, -1);
    all.insert(all.end(), done.begin(), done.end());
    if (g_stop.exchange(false)) stop = true;
  }
  g_stop = stop;
  return all;
}

}  // namespace

bool SyncOutcomesByDefault() {
  const char* v = getenv("DAGCTL_SYNC_OUTCOMES");
  return v && std::string(v) == "1";
}

bool StopSignalled() {
  InstallHandlers(true);
  return g_stop;
}

void WaitForStopSignal() {
  InstallHandlers(true);
  while (!g_stop) {
    pollfd fd{g_wake_pipe[0], POLLIN, 0};
    if (poll(&fd, 1, 1000) > 0) {
      char buf[64];
      while (read(g_wake_pipe[0], buf, sizeof buf) > 0) {
      }
    }
  }
}

std::unique_ptr<TryRunner> MakePosixTryRunner(PosixTryRunnerOptions opts) {
  return std::make_unique<PosixTryRunner>(opts);
}

}  // namespace dagctl
