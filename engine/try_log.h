// Where a try's log lives, and names of this process for leases and logs.
#pragma once

#include <string>

#include "engine/store/store.h"

namespace dagctl {

/// The path of a try's log: LOGS/dag_id=X/run_id=Y/task_id=Z/[map_index=M/]attempt=N.log
/// (Airflow's layout; map_index only for a mapped task's instances).
std::string TryLogPath(const std::string& logs_dir, const std::string& dag_id,
                       const std::string& run_id, const std::string& task_id, int try_number,
                       int map_index = -1);
inline std::string TryLogPath(const std::string& logs_dir, const TiKey& k, int try_number) {
  return TryLogPath(logs_dir, k.dag_id, k.run_id, k.task_id, try_number, k.map_index);
}

/// A try's log from byte `offset` on: the copy in the store when its worker
/// shipped one (another machine's), else the file under `logs_dir`; at most
/// its last `max_bytes`, after a line that says so (as ReadLogTail).
/// InvalidArgument when the path would leave `logs_dir`.
Result<std::string> ReadTryLogText(Store& store, const std::string& logs_dir, const TiKey& key,
                                   int try_number, int64_t offset,
                                   size_t max_bytes = static_cast<size_t>(-1));

/// This machine's host name.
std::string HostName();

/// "host:pid" of the calling process: its name as a run owner and a worker.
std::string ThisProcessOwner();

}  // namespace dagctl
