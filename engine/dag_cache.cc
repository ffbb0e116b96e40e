#include "engine/dag_cache.h"

#include <fmt/format.h>

#include <filesystem>

#include "engine/dag_loader.h"

namespace dagctl {

namespace fs = std::filesystem;

std::string VersionPath(const std::string& dags_dir, const std::string& file) {
  std::error_code ec;
  if (dags_dir.empty()) return fs::weakly_canonical(fs::absolute(file), ec).string();
  fs::path abs = fs::weakly_canonical(fs::absolute(file), ec);
  fs::path dir = fs::weakly_canonical(fs::absolute(dags_dir), ec);
  fs::path rel = abs.lexically_relative(dir);
  if (!rel.empty() && *rel.begin() != "..") return rel.string();
  return abs.string();
}

Result<std::string> VersionSource(Store& store, const std::string& dag_id, const std::string& hash,
                                  const Dag* current) {
  if (current && current->dag_id == dag_id && current->file_hash == hash) return current->source;
  auto version = store.GetDagVersion(dag_id, hash);
  if (!version) return Fail(version.error());
  return std::move(version->source);
}

void DagCache::Add(std::shared_ptr<const Dag> dag) {
  dags_[{dag->dag_id, dag->file_hash}] = std::move(dag);
}

void DagCache::Add(std::shared_ptr<const Dag> dag, const std::string& hash) {
  dags_[{dag->dag_id, hash}] = std::move(dag);
}

Result<std::shared_ptr<const Dag>> DagCache::Get(Store& store, const std::string& dag_id,
                                                 const std::string& hash) {
  if (auto it = dags_.find({dag_id, hash}); it != dags_.end()) return it->second;
  auto version = store.GetDagVersion(dag_id, hash);
  if (!version) return Fail(version.error());
  fs::path path = fs::path(version->path).is_absolute() ? fs::path(version->path)
                                                        : fs::path(dags_dir_) / version->path;
  Diagnostics diags(path.string());
  std::shared_ptr<Dag> dag = LoadDagText(version->source, path.string(), ops_, diags);
  if (!dag) {
    std::string first = diags.list().empty() ? "" : diags.list().front().ToString();
    return Fail(Error::InvalidArgument(fmt::format(
        "version {} of DAG '{}' does not load on this machine: {}", hash, dag_id, first)));
  }
  dag->file_hash = hash;  // the version's identity, whatever this machine computes
  dags_[{dag_id, hash}] = dag;
  return std::shared_ptr<const Dag>(dag);
}

}  // namespace dagctl
