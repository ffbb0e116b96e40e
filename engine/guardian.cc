#include "engine/guardian.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <string>

namespace dagctl {

namespace {

// What the worker writes: watch/extend ('w') or forget ('f') a group.
struct Record {
  char op;
  int32_t pgid;
  int64_t deadline_ms;
};

struct Watched {
  int32_t pgid;
  int64_t deadline_ms;
};

constexpr int kMaxWatched = 4096;
// The guardian's table lives outside its stack and is touched only after fork.
Watched g_watched[kMaxWatched];

int64_t MonotonicMs() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

void Apply(const Record& r, int& n) {
  for (int i = 0; i < n; ++i) {
    if (g_watched[i].pgid != r.pgid) continue;
    if (r.op == 'f')
      g_watched[i] = g_watched[--n];
    else
      g_watched[i].deadline_ms = r.deadline_ms;
    return;
  }
  if (r.op == 'w' && n < kMaxWatched) g_watched[n++] = {r.pgid, r.deadline_ms};
}

// The guardian's loop: async-signal-safe calls only (it was forked from a
// process that may have threads). Ends when the worker closes the pipe.
[[noreturn]] void GuardianMain(int fd) {
  signal(SIGINT, SIG_IGN);  // Ctrl-C is for the worker, which tells us what to do
  signal(SIGTERM, SIG_IGN);
  signal(SIGPIPE, SIG_IGN);
  int n = 0;
  char buf[sizeof(Record) * 64];
  size_t have = 0;
  while (true) {
    int64_t now = MonotonicMs(), wait = -1;
    for (int i = 0; i < n;) {
      if (g_watched[i].deadline_ms <= now) {
        kill(-g_watched[i].pgid, SIGKILL);  // its lease is about to run out
        g_watched[i] = g_watched[--n];
        continue;
      }
      int64_t left = g_watched[i].deadline_ms - now;
      if (wait < 0 || left < wait) wait = left;
      ++i;
    }
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(wait < 0 ? -1 : wait)) <= 0) continue;
    ssize_t got = read(fd, buf + have, sizeof buf - have);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;  // the worker is gone
    have += static_cast<size_t>(got);
    size_t used = 0;
    for (; used + sizeof(Record) <= have; used += sizeof(Record)) {
      Record r;
      memcpy(&r, buf + used, sizeof r);
      Apply(r, n);
    }
    memmove(buf, buf + used, have - used);
    have -= used;
  }
  for (int i = 0; i < n; ++i) kill(-g_watched[i].pgid, SIGKILL);
  _exit(0);
}

}  // namespace

Result<std::unique_ptr<Guardian>> Guardian::Start() {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0)
    return Fail(Error::Unavailable(std::string("cannot create a pipe: ") + strerror(errno)));
  pid_t pid = fork();
  if (pid < 0) {
    close(fds[0]);
    close(fds[1]);
    return Fail(Error::Unavailable(std::string("cannot start the guardian: ") + strerror(errno)));
  }
  if (pid == 0) {
    // Keep only the pipe: the worker's database connections and sockets are
    // not ours to hold open.
    for (int fd = 3; fd < 1024; ++fd)
      if (fd != fds[0]) close(fd);
    GuardianMain(fds[0]);
  }
  close(fds[0]);
  return std::unique_ptr<Guardian>(new Guardian(pid, fds[1]));
}

Guardian::~Guardian() {
  Flush();
  close(fd_);  // the guardian kills what it still watches and exits
  waitpid(pid_, nullptr, 0);
}

void Guardian::Send(char op, pid_t pgid, int64_t deadline_ms) {
  Record r{op, pgid, deadline_ms};
  pending_.append(reinterpret_cast<const char*>(&r), sizeof r);
}

void Guardian::Flush() {
  size_t off = 0;
  while (off < pending_.size()) {
    ssize_t n = write(fd_, pending_.data() + off, pending_.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    off += static_cast<size_t>(n);
  }
  pending_.clear();
}

void Guardian::Watch(pid_t pgid, std::chrono::steady_clock::time_point deadline) {
  // steady_clock is CLOCK_MONOTONIC on Linux, the guardian's clock too.
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(deadline.time_since_epoch());
  Send('w', pgid, ms.count());
}

void Guardian::Forget(pid_t pgid) { Send('f', pgid, 0); }

}  // namespace dagctl
