// dagctl-keeper: the keeper (keeper.h) of a try that is a program, as a tiny
// executable of its own, so the engine starts it with vfork + exec instead of
// forking its whole memory for each try. Links with libc alone.
//
// usage (by the engine, never by hand; the environment is the try's):
//   dagctl-keeper TMP FINAL DIR TAG ENGINE_PID SYNC CWD OUT_FD ERR_FD PID_FD -- PROGRAM ARGS...
// OUT_FD takes the try's stdout (relayed), ERR_FD is given to the try as its
// stderr, PID_FD receives the try's pid (a pid_t, or -1 when it could not be
// started); all three are inherited from the engine.
#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <initializer_list>

#include "engine/keeper.h"

namespace {

constexpr int kFixedArgs = 10;

[[noreturn]] void Usage() {
  const char msg[] =
      "dagctl-keeper: started by dagctl for each try, not by hand\n"
      "usage: dagctl-keeper TMP FINAL DIR TAG ENGINE_PID SYNC CWD OUT_FD ERR_FD PID_FD -- "
      "PROGRAM ARGS...\n";
  [[maybe_unused]] auto n = write(2, msg, sizeof msg - 1);
  _exit(2);
}

// A non-negative decimal number, or Usage().
long Number(const char* s) {
  char* end = nullptr;
  long v = strtol(s, &end, 10);
  if (!*s || *end || v < 0) Usage();
  return v;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < kFixedArgs + 3 || strcmp(argv[kFixedArgs + 1], "--") != 0) Usage();
  dagctl::KeeperPlan plan{argv[1], argv[2], argv[3], argv[4],
                          static_cast<pid_t>(Number(argv[5])), strcmp(argv[6], "1") == 0};
  const char* cwd = argv[7];
  int out_fd = static_cast<int>(Number(argv[8]));
  int err_fd = static_cast<int>(Number(argv[9]));
  int pid_fd = static_cast<int>(Number(argv[10]));
  char** task_argv = argv + kFixedArgs + 2;
  for (int fd : {out_fd, err_fd, pid_fd}) fcntl(fd, F_SETFD, FD_CLOEXEC);  // not the try's
  dagctl::KeeperEnter(plan);
  int rel[2];
  pid_t t = -1;
  if (pipe2(rel, O_CLOEXEC) == 0) t = vfork();
  if (t == 0) {
    dagctl::SetUpTryChild(cwd, rel[1], err_fd);
    dagctl::ExecTry(task_argv, environ);
  }
  dagctl::KeeperWatch(plan, t, {rel[0], out_fd, pid_fd});
}
