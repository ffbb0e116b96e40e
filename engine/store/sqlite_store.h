// The SQLite metadata store (WAL mode; schema versioned with migrations).
#pragma once

#include <memory>
#include <string>

#include "engine/store/store.h"

namespace dagctl {

/// Opens (creating and migrating if needed) the database at `path`.
/// IOError when it cannot be opened; Corruption when its schema is newer than
/// this build knows.
Result<std::unique_ptr<Store>> OpenSqliteStore(const std::string& path);

/// The schema version this build writes.
int SqliteSchemaVersion();

}  // namespace dagctl
