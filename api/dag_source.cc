#include "api/dag_source.h"

namespace dagctl::api {

DagSource::DagSource(std::string dir, const OperatorRegistry& ops)
    : dir_(std::move(dir)), ops_(ops) {}

std::shared_ptr<const DagBag> DagSource::Get() {
  std::lock_guard<std::mutex> lock(mu_);
  auto now = std::chrono::steady_clock::now();
  if (bag_ && now - checked_ < std::chrono::seconds(1)) return bag_;
  checked_ = now;
  DagFolderStamp stamp = StampDagFolder(dir_);
  if (!bag_ || stamp != stamp_) {
    bag_ = std::make_shared<const DagBag>(LoadDagFolder(dir_, ops_));
    stamp_ = std::move(stamp);
  }
  return bag_;
}

}  // namespace dagctl::api
