// DAG versions by hash, loaded from the store's copy of their text: what a
// worker (or a scheduler resuming a run) executes is the version the run was
// created from, whatever the DAGs folder holds now.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <utility>

#include "engine/dag.h"
#include "engine/store/store.h"

namespace dagctl {

class OperatorRegistry;

/// Not thread-safe.
class DagCache {
 public:
  /// `dags_dir` is this machine's DAGs folder: a version's relative path is
  /// found there (tries run in the DAG file's folder). `ops` outlives the cache.
  DagCache(const OperatorRegistry& ops, std::string dags_dir) : ops_(ops), dags_dir_(std::move(dags_dir)) {}

  /// Adds an already loaded DAG (the scheduler's folder) under its hash, or
  /// under `hash` (the DAG `dagctl run` was told to run, for its run).
  void Add(std::shared_ptr<const Dag> dag);
  void Add(std::shared_ptr<const Dag> dag, const std::string& hash);
  /// The version `hash` of `dag_id`: cached, or loaded from the store. An
  /// error says why it cannot be used (unknown version, fails to load here).
  Result<std::shared_ptr<const Dag>> Get(Store& store, const std::string& dag_id,
                                         const std::string& hash);

 private:
  const OperatorRegistry& ops_;
  std::string dags_dir_;
  std::map<std::pair<std::string, std::string>, std::shared_ptr<const Dag>> dags_;
};

/// The path a version records for a DAG file: relative to the DAGs folder
/// when the file is inside it, else absolute.
std::string VersionPath(const std::string& dags_dir, const std::string& file);

/// The text of version `hash` of `dag_id`: `current`'s (the DAGs folder's
/// copy, may be null) when it is that version, which a web server may see
/// before any scheduler stored it; else the store's. NotFound when neither
/// has it.
Result<std::string> VersionSource(Store& store, const std::string& dag_id, const std::string& hash,
                                  const Dag* current);

}  // namespace dagctl
