// The metadata store on SQL: SQLite (the single-machine default) or
// PostgreSQL (several processes on several machines), chosen by URL.
#pragma once

#include <memory>
#include <string>

#include "engine/store/store.h"

namespace dagctl {

class Clock;

/// Opens the store at `url`: "" (SQLite at HOME/dagctl.db), `sqlite:///PATH`
/// (SQLAlchemy's form: `sqlite:////abs/path.db`, `sqlite:///relative.db`) or
/// `postgresql://USER:PASSWORD@HOST:PORT/DB` (also `postgres://`). Creates or
/// migrates the schema, once even when several processes start together.
/// InvalidArgument for a URL of another kind; Unavailable when the server
/// cannot be reached; Corruption when the schema is newer than this build.
/// On SQLite the store's clock is `clock`, which must outlive the store.
Result<std::unique_ptr<Store>> OpenStore(const std::string& url, const std::string& home,
                                         const Clock& clock);

/// The SQLite store at `path`, on the system clock (or on `clock`).
Result<std::unique_ptr<Store>> OpenSqliteStore(const std::string& path);
Result<std::unique_ptr<Store>> OpenSqliteStore(const std::string& path, const Clock& clock);

/// The schema version this build writes to SQLite.
int SqliteSchemaVersion();

/// True when `url` names a PostgreSQL store.
bool IsPostgresUrl(const std::string& url);

}  // namespace dagctl
