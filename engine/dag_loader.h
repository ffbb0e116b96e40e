// Phase two of loading: validate a DAG file's Value tree into the Dag model,
// collecting every problem (SPEC §1).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "engine/dag.h"
#include "engine/diagnostics.h"

namespace dagctl {

class OperatorRegistry;

/// Loads the DAG in `text` (read from `path`). Every problem goes into `diags`;
/// returns nullptr when there was any. Never throws.
std::shared_ptr<Dag> LoadDagText(const std::string& text, const std::string& path,
                                 const OperatorRegistry& ops, Diagnostics& diags);

/// Reads and loads the file at `path`; an unreadable file, or one over
/// limits::kMaxDagFileBytes, is a diagnostic too.
std::shared_ptr<Dag> LoadDagFile(const std::string& path, const OperatorRegistry& ops,
                                 Diagnostics& diags);

/// A file of the DAGs folder that did not load.
struct ImportError {
  std::string file;
  std::vector<Diagnostic> diagnostics;
};

/// Every DAG of a folder, and the files that failed. A broken file never keeps
/// the others from loading.
struct DagBag {
  std::vector<std::shared_ptr<const Dag>> dags;  ///< Sorted by dag_id.
  std::vector<ImportError> errors;               ///< Sorted by file.

  const Dag* Find(const std::string& dag_id) const;
};

/// Loads every `*.yaml` / `*.yml` below `dir`, recursively, following
/// symbolic links to folders (each folder once, so a link loop ends). A
/// missing folder yields an import error naming it; so does every DAG file
/// that cannot be read (a broken or looping link, a FIFO, over the size
/// limit, not UTF-8 ...), and the other files still load. Two files with one
/// dag_id: the second (by path order) is an import error.
DagBag LoadDagFolder(const std::string& dir, const OperatorRegistry& ops);

/// What a DAGs folder looks like on disk: each DAG file's modification time
/// and size. Two equal stamps mean nothing was added, removed or changed.
using DagFolderStamp = std::map<std::string, std::pair<int64_t, uintmax_t>>;
DagFolderStamp StampDagFolder(const std::string& dir);

/// Hex FNV-1a digest of `bytes`, used to tell DAG file versions apart.
std::string HashBytes(const std::string& bytes);

}  // namespace dagctl
