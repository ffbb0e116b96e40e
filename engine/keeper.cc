#include "engine/keeper.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdint>
#include <cstring>
#include <initializer_list>

namespace dagctl {
namespace {

volatile sig_atomic_t g_orphaned = 0;
sigset_t g_during_wait;  // the signal mask while the keeper waits (SIGUSR1, SIGCHLD let in)

void OnKeeperSignal(int sig) {
  if (sig == SIGUSR1) g_orphaned = 1;
}

// The try's stdout as the keeper tracks it (the last non-empty line).
char g_partial[kMaxLine];
size_t g_partial_len = 0;
char g_last[kMaxLine];
size_t g_last_len = 0;

void Track(const char* data, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    if (data[i] == '\n') {
      if (g_partial_len && g_partial[g_partial_len - 1] == '\r') --g_partial_len;
      if (g_partial_len) {
        memcpy(g_last, g_partial, g_partial_len);
        g_last_len = g_partial_len;
      }
      g_partial_len = 0;
    } else if (g_partial_len < kMaxLine) {
      g_partial[g_partial_len++] = data[i];
    }
  }
}

// False when not all could be written (to the engine: it is gone, and the
// try's output stays with us).
bool WriteAll(int fd, const char* data, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, data, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    data += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

bool g_channel_lost = false;  // the copy of the channel missed bytes (a full disk)

// Reads what the try wrote and passes it on (stdout: its last line tracked;
// the channel: a copy kept in `copy`); false at EOF.
bool Relay(int from, int to, bool track, int copy) {
  char buf[16384];
  while (true) {
    ssize_t n = read(from, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return true;  // EAGAIN
    if (n == 0) return false;
    if (track) Track(buf, static_cast<size_t>(n));
    WriteAll(to, buf, static_cast<size_t>(n));
    if (copy >= 0 && !WriteAll(copy, buf, static_cast<size_t>(n))) g_channel_lost = true;
  }
}

// Appends the first `len` bytes of `from` to `to`; false when they could not all be copied.
bool CopyFile(int from, off_t len, int to) {
  char buf[16384];
  for (off_t at = 0; at < len;) {
    ssize_t n = pread(from, buf, sizeof buf, at);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0 || !WriteAll(to, buf, static_cast<size_t>(n))) return false;
    at += n;
  }
  return true;
}

size_t AppendText(char* out, size_t at, size_t cap, const char* s, size_t n) {
  if (at + n > cap) n = cap - at;
  memcpy(out + at, s, n);
  return at + n;
}

size_t AppendNumber(char* out, size_t at, size_t cap, uint64_t v) {
  char digits[24];
  size_t n = 0;
  do {
    digits[n++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v);
  char text[24];
  for (size_t i = 0; i < n; ++i) text[i] = digits[n - 1 - i];
  return AppendText(out, at, cap, text, n);
}

char g_outcome[kMaxLine + 4096];

// The format ReadTryOutcome reads; written to a temporary name, synced,
// renamed. `channel` (-1: none) holds what an operator's body pushed.
void WriteOutcome(const KeeperPlan& p, int status, int channel) {
  constexpr size_t cap = sizeof g_outcome;
  size_t at = 0;
  auto text = [&](const char* s) { at = AppendText(g_outcome, at, cap, s, strlen(s)); };
  text("dagctl-try-outcome 1\ntag ");
  text(p.tag);
  if (WIFEXITED(status)) {
    text("\nexit ");
    at = AppendNumber(g_outcome, at, cap, static_cast<uint64_t>(WEXITSTATUS(status)));
  } else {
    text("\nsignal ");
    at = AppendNumber(g_outcome, at, cap, static_cast<uint64_t>(WTERMSIG(status)));
  }
  if (g_partial_len) {
    memcpy(g_last, g_partial, g_partial_len);
    g_last_len = g_partial_len;
  }
  text("\nreturn_value ");
  at = AppendNumber(g_outcome, at, cap, g_last_len);
  text("\n");
  at = AppendText(g_outcome, at, cap, g_last, g_last_len);
  off_t pushed = channel >= 0 ? lseek(channel, 0, SEEK_END) : -1;
  if (pushed >= 0) {
    text("channel ");
    at = AppendNumber(g_outcome, at, cap, static_cast<uint64_t>(pushed));
    text("\n");
  }
  int fd = open(p.tmp_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return;
  WriteAll(fd, g_outcome, at);
  // A channel that cannot be copied whole leaves the file without its end:
  // the reader takes it for no file (the try counts as lost).
  bool whole = pushed < 0 || CopyFile(channel, pushed, fd);
  if (whole) WriteAll(fd, "end\n", 4);
  bool synced = whole && (!p.sync || fsync(fd) == 0);
  close(fd);
  // The rename makes it whole or absent for every other process (the
  // reader also checks its end). Without fsync a power loss may take it:
  // the try then counts as lost, as it would without the file.
  if (!synced || rename(p.tmp_path, p.final_path) != 0 || !p.sync) return;
  int dir = open(p.dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir >= 0) {
    fsync(dir);
    close(dir);
  }
}

// Closes descriptors lo..hi: one close_range call (Linux 5.9), else one by
// one up to the process's limit.
void CloseRange(unsigned lo, unsigned hi) {
  if (close_range(lo, hi, 0) == 0) return;
  rlimit limit{};
  unsigned last = getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY
                      ? static_cast<unsigned>(limit.rlim_cur) - 1
                      : 1023;
  for (unsigned fd = lo; fd <= hi && fd <= last; ++fd) close(static_cast<int>(fd));
}

// Closes every descriptor from 3 up but those in `keep` (-1s ignored): a
// few calls instead of a thousand (which cost the keeper a quarter of its
// time per try).
void CloseAllBut(std::initializer_list<int> keep) {
  int sorted[8];
  size_t n = 0;
  for (int fd : keep) {
    if (fd < 3 || n == sizeof sorted / sizeof *sorted) continue;
    size_t at = n++;
    for (; at > 0 && sorted[at - 1] > fd; --at) sorted[at] = sorted[at - 1];
    sorted[at] = fd;
  }
  unsigned from = 3;
  for (size_t i = 0; i < n; ++i) {
    unsigned fd = static_cast<unsigned>(sorted[i]);
    if (fd > from) CloseRange(from, fd - 1);
    if (fd >= from) from = fd + 1;
  }
  CloseRange(from, ~0U);
}

// Exits as the try did: with its code, or by its signal.
[[noreturn]] void ExitAs(int status) {
  if (WIFEXITED(status)) _exit(WEXITSTATUS(status));
  int sig = WTERMSIG(status);
  signal(sig, SIG_DFL);
  sigset_t all;
  sigemptyset(&all);
  sigprocmask(SIG_SETMASK, &all, nullptr);
  kill(getpid(), sig);
  _exit(128 + sig);
}

}  // namespace

void KeeperEnter(const KeeperPlan& p) {
  setpgid(0, 0);  // not the try's group: what stops the try does not stop us
  struct sigaction sa {};
  sa.sa_handler = OnKeeperSignal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGUSR1, &sa, nullptr);
  sigaction(SIGCHLD, &sa, nullptr);
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGPIPE}) signal(sig, SIG_IGN);
  sigset_t wake;
  sigemptyset(&wake);
  sigaddset(&wake, SIGUSR1);
  sigaddset(&wake, SIGCHLD);
  sigprocmask(SIG_BLOCK, &wake, &g_during_wait);
  sigdelset(&g_during_wait, SIGUSR1);
  sigdelset(&g_during_wait, SIGCHLD);
  prctl(PR_SET_PDEATHSIG, SIGUSR1);
  // The engine may have died before PDEATHSIG was set (for dagctl-keeper:
  // before its exec): then the keeper has another parent already.
  if (getppid() != p.engine) g_orphaned = 1;
}

void SetUpTryChild(const char* cwd, int out_fd, int err_fd) {
  setpgid(0, 0);
  prctl(PR_SET_PDEATHSIG, SIGKILL);  // a try never outlives the process that watches it
  int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (devnull >= 0) dup2(devnull, 0);
  dup2(out_fd, 1);
  dup2(err_fd, 2);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  for (int sig : {SIGPIPE, SIGINT, SIGTERM, SIGCHLD, SIGHUP, SIGUSR1}) signal(sig, SIG_DFL);
  if (cwd[0] && chdir(cwd) != 0) {
    const char msg[] = "dagctl: cannot change to the task's working directory\n";
    [[maybe_unused]] auto n = write(2, msg, sizeof msg - 1);
    _exit(126);
  }
}

void ExecTry(char** argv, char** envp) {
  execve(argv[0], argv, envp);
  const char msg[] = "dagctl: cannot execute the task's program\n";
  [[maybe_unused]] auto n = write(2, msg, sizeof msg - 1);
  _exit(127);
}

void KeeperWatch(const KeeperPlan& p, pid_t t, const KeeperPipes& pipes) {
  WriteAll(pipes.pid_to, reinterpret_cast<const char*>(&t), sizeof t);
  if (t < 0) _exit(127);
  setpgid(t, t);
  // Hold nothing of the engine's (its database, its listening socket).
  int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
  for (int fd = 0; fd < 3; ++fd) dup2(devnull, fd);
  CloseAllBut({pipes.out_from, pipes.out_to, pipes.channel_from, pipes.channel_to,
               pipes.channel_copy});
  // Each relayed pipe: from the try to the engine, open until its EOF.
  struct Pipe {
    int from, to, copy;
    bool track, open;
  } relay[2] = {{pipes.out_from, pipes.out_to, -1, true, true},
                {pipes.channel_from, pipes.channel_to, pipes.channel_copy, false,
                 pipes.channel_from >= 0}};
  for (const Pipe& r : relay)
    if (r.open) fcntl(r.from, F_SETFL, fcntl(r.from, F_GETFL) | O_NONBLOCK);
  bool killed = false;
  int status = 0;
  while (waitpid(t, &status, WNOHANG) != t) {
    if (g_orphaned && !killed) {
      kill(-t, SIGKILL);  // the engine died with the try running: it is lost
      killed = true;
    }
    pollfd pf[2];
    for (int i = 0; i < 2; ++i) pf[i] = {relay[i].open ? relay[i].from : -1, POLLIN, 0};
    timespec second{1, 0};
    ppoll(pf, 2, &second, &g_during_wait);
    for (int i = 0; i < 2; ++i)
      if (relay[i].open && pf[i].revents)
        relay[i].open = Relay(relay[i].from, relay[i].to, relay[i].track, relay[i].copy);
  }
  for (Pipe& r : relay)  // what is left, without waiting
    if (r.open) Relay(r.from, r.to, r.track, r.copy);
  // Only a try that ended by itself is put on record. One a signal ended
  // was stopped by its engine (a timeout: the engine records it), by the
  // engine's death (lost), or by someone else: without its engine, it counts
  // as lost (the engine's death and the kill of its group come together).
  // (Nor one whose pushed values could not be kept: its outcome would lack them.)
  bool kept = pipes.channel_from < 0 || (pipes.channel_copy >= 0 && !g_channel_lost);
  if (WIFEXITED(status) && kept) WriteOutcome(p, status, pipes.channel_copy);
  ExitAs(status);
}

}  // namespace dagctl
