// `dagctl serve --with-redis`: a redis-server on loopback for the local
// profile, started with serve and stopped with it.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>

#include "engine/error.h"

namespace dagctl::cli {

class LocalRedis {
 public:
  /// Starts `redis-server` on the loopback host and port of the
  /// `redis_default` connection (127.0.0.1:6379 when unset), its data and log
  /// in `home`/redis. When something already answers there, starts nothing
  /// and says so (returns an object that owns no process). Fails with a
  /// message when the connection is not on loopback, redis-server is not
  /// installed, or it does not come up.
  static Result<std::unique_ptr<LocalRedis>> Start(const std::string& home);

  /// Stops the server it started (SIGTERM, then waits for it).
  ~LocalRedis();

 private:
  LocalRedis() = default;
  pid_t pid_ = -1;
};

}  // namespace dagctl::cli
