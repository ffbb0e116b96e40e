#include "engine/try_log.h"

#include <fmt/format.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

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
                                   int try_number, int64_t offset) {
  auto shipped = store.ReadTryLog(key, try_number, offset);
  if (shipped || !shipped.error().IsNotFound()) return shipped;
  // The ids come from the store, and the path is checked to stay in the logs folder.
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::path logs = fs::weakly_canonical(logs_dir, ec);
  fs::path path = fs::weakly_canonical(TryLogPath(logs_dir, key, try_number), ec);
  auto rel = path.lexically_relative(logs);
  if (rel.empty() || *rel.begin() == "..")
    return Fail(Error::InvalidArgument("that log is outside the logs folder"));
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::string();
  in.seekg(offset);
  std::stringstream content;
  content << in.rdbuf();
  return content.str();
}

std::string HostName() {
  char host[256] = {};
  gethostname(host, sizeof host - 1);
  return host;
}

std::string ThisProcessOwner() { return fmt::format("{}:{}", HostName(), getpid()); }

}  // namespace dagctl
