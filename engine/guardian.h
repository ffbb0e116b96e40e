// A small process that watches over a worker's tries: if the worker dies or
// freezes, the guardian kills the tries' process groups before their leases
// run out, so a try never keeps running on a machine once another worker may
// have taken it over. After ninja-style simplicity: one pipe, fixed records.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <string>

#include "engine/error.h"

namespace dagctl {

/// Not thread-safe; one per worker.
class Guardian {
 public:
  /// Forks the guardian. Call before threads that allocate are started if
  /// possible (the guardian itself only makes system calls). Unavailable when
  /// it cannot be forked (the worker then runs without one).
  static Result<std::unique_ptr<Guardian>> Start();
  ~Guardian();

  /// Watches process group `pgid`: it is killed unless Extend() moves its
  /// deadline on before `deadline` (this machine's monotonic clock), or
  /// when the worker goes away.
  void Watch(pid_t pgid, std::chrono::steady_clock::time_point deadline);
  void Extend(pid_t pgid, std::chrono::steady_clock::time_point deadline) { Watch(pgid, deadline); }
  /// The group ended: forget it.
  void Forget(pid_t pgid);
  /// Sends what Watch/Extend/Forget said since the last Flush, in one write
  /// (the guardian wakes once a pass, not once a try). Watch flushes at once.
  void Flush();

  pid_t pid() const { return pid_; }

 private:
  Guardian(pid_t pid, int fd) : pid_(pid), fd_(fd) {}
  void Send(char op, pid_t pgid, int64_t deadline_ms);

  pid_t pid_;
  int fd_;
  std::string pending_;  // records not yet written
};

}  // namespace dagctl
