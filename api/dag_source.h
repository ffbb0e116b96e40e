// The DAGs folder as the web server sees it: loaded once, reloaded when its
// files change (looked at most once a second). Thread-safe.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "engine/dag_loader.h"

namespace dagctl {
class OperatorRegistry;
}

namespace dagctl::api {

class DagSource {
 public:
  /// `ops` must outlive the source.
  DagSource(std::string dir, const OperatorRegistry& ops);

  /// The current DAGs; a snapshot that stays valid while held.
  std::shared_ptr<const DagBag> Get();

 private:
  std::string dir_;
  const OperatorRegistry& ops_;
  std::mutex mu_;
  std::shared_ptr<const DagBag> bag_;
  DagFolderStamp stamp_;
  std::chrono::steady_clock::time_point checked_;
};

}  // namespace dagctl::api
