#include "engine/try_log.h"

#include <fmt/format.h>
#include <unistd.h>

#include <filesystem>

#include "engine/log_file.h"

namespace dagctl {

std::string TryLogPath(const std::string& logs_dir, const std::string& dag_id,
                       const std::string& run_id, const std::string& task_id, int try_number,
                       int map_index) {
  if (map_index >= 0)
    return fmt::format("{}/dag_id={}/run_id={}/task_id={}/map_index={}/attempt={}.log", logs_dir,
                       dag_id, run_id, task_id, map_index, try_number);
  return fmt::format("{}/dag_id={}/run_id={}/task_id={}/attempt={}.log", logs_dir, dag_id, run_id,
                     task_id, try_number);
}

Result<std::string> ReadTryLogText(Store& store, const std::string& logs_dir, const TiKey& key,
                                   int try_number, int64_t offset, size_t max_bytes) {
  auto shipped = store.ReadTryLog(key, try_number, offset);
  if (shipped) {
    if (shipped->size() <= max_bytes) return shipped;
    // The same cut as ReadLogTail's: a line that says so, then the tail
    // from a line start.
    size_t size = shipped->size();
    std::string tail = shipped->substr(size - max_bytes);
    size_t nl = tail.find('\n');
    tail.erase(0, nl == std::string::npos ? 0 : nl + 1);
    return fmt::format("[dagctl] this log is {} bytes; here are its last {} ('dagctl logs' "
                       "prints all of it)\n",
                       static_cast<int64_t>(size) + offset, tail.size()) +
           tail;
  }
  if (!shipped.error().IsNotFound()) return shipped;
  // The ids come from the store, and the path is checked to stay in the logs folder.
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::path logs = fs::weakly_canonical(logs_dir, ec);
  fs::path path = fs::weakly_canonical(TryLogPath(logs_dir, key, try_number), ec);
  auto rel = path.lexically_relative(logs);
  if (rel.empty() || *rel.begin() == "..")
    return Fail(Error::InvalidArgument("that log is outside the logs folder"));
  return ReadLogTail(path.string(), offset, max_bytes);
}

std::string HostName() {
  char host[256] = {};
  gethostname(host, sizeof host - 1);
  return host;
}

std::string ThisProcessOwner() { return fmt::format("{}:{}", HostName(), getpid()); }

}  // namespace dagctl
