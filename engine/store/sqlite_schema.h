// The schema of the metadata store, as migrations for each database.
#pragma once

#include <vector>

namespace dagctl {

/// The SQL of each SQLite schema migration; migration i takes user_version i to i+1.
const std::vector<const char*>& SqliteMigrations();

/// The same for PostgreSQL; the version is kept in table dagctl_schema. Its
/// first step is the whole schema of SQLite's step 6.
const std::vector<const char*>& PostgresMigrations();

}  // namespace dagctl
