// SqlConnection on SQLite: WAL, prepared statements cached by their text,
// BEGIN IMMEDIATE transactions, and dagctl_now() on the given clock.
#include <fmt/format.h>
#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <thread>

#include "engine/clock.h"
#include "engine/store/sql_conn.h"

namespace dagctl {

namespace {

// How long a connection waits for a lock another one holds.
constexpr std::chrono::milliseconds kBusyTimeout{10000};

// dagctl_now(): the store's clock in microseconds. On SQLite the store's
// clock is this machine's (or a test's fake clock).
void SqlNow(sqlite3_context* ctx, int, sqlite3_value**) {
  auto* clock = static_cast<const Clock*>(sqlite3_user_data(ctx));
  sqlite3_result_int64(ctx, SqlMicros(clock->Now()));
}

class SqliteConnection : public SqlConnection {
 public:
  SqliteConnection(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
  ~SqliteConnection() override {
    for (auto& [sql, stmt] : cache_) sqlite3_finalize(stmt);
    sqlite3_close_v2(db_);
  }

  SqlDialect dialect() const override { return SqlDialect::kSqlite; }
  Result<SqlRows> Query(const std::string& sql, const SqlArgs& args) override;
  Status ExecScript(const std::string& sql) override;
  // Kept as prepared statements: every pass of the engine opens and commits one.
  Status Begin() override { return Ok(Query("BEGIN IMMEDIATE", SqlArgs())); }
  Status Commit() override { return Ok(Query("COMMIT", SqlArgs())); }
  void Rollback() override { (void)ExecScript("ROLLBACK"); }

 private:
  static Status Ok(const Result<SqlRows>& r) {
    if (!r) return Fail(r.error());
    return {};
  }
  Error Failure(int rc, const std::string& what) const;
  Result<sqlite3_stmt*> Prepare(const std::string& sql);

  sqlite3* db_;
  std::string path_;
  std::map<std::string, sqlite3_stmt*> cache_;
};

Error SqliteConnection::Failure(int rc, const std::string& what) const {
  std::string msg = fmt::format("{} ({}): {}", what, path_, sqlite3_errmsg(db_));
  switch (rc & 0xff) {
    case SQLITE_CONSTRAINT:
      return Error::AlreadyExists(msg);
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return Error::Unavailable(msg);
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return Error::Corruption(msg);
    default:
      return Error::IOError(msg);
  }
}

Result<sqlite3_stmt*> SqliteConnection::Prepare(const std::string& sql) {
  auto it = cache_.find(sql);
  if (it != cache_.end()) return it->second;
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v3(db_, sql.c_str(), -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
  if (rc != SQLITE_OK) {
    sqlite3_finalize(stmt);
    return Fail(Error::Internal(
        fmt::format("preparing SQL: {}: {}", sqlite3_errmsg(db_), sql.substr(0, 200))));
  }
  cache_.emplace(sql, stmt);
  return stmt;
}

Result<SqlRows> SqliteConnection::Query(const std::string& sql, const SqlArgs& args) {
  auto prepared = Prepare(sql);
  if (!prepared) return Fail(prepared.error());
  sqlite3_stmt* s = *prepared;
  int i = 1;
  for (const SqlValue& v : args.values()) {
    if (const auto* n = std::get_if<int64_t>(&v)) {
      sqlite3_bind_int64(s, i++, *n);
    } else if (const auto* t = std::get_if<std::string>(&v)) {
      // The arguments outlive the statement's use (bindings are cleared below).
      sqlite3_bind_text(s, i++, t->data(), static_cast<int>(t->size()), SQLITE_STATIC);
    } else {
      sqlite3_bind_null(s, i++);
    }
  }
  int columns = sqlite3_column_count(s);
  std::vector<SqlValue> cells;
  cells.reserve(static_cast<size_t>(columns) * 32);
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    for (int c = 0; c < columns; ++c) {
      switch (sqlite3_column_type(s, c)) {
        case SQLITE_NULL:
          cells.emplace_back(std::monostate{});
          break;
        case SQLITE_INTEGER:
          cells.emplace_back(static_cast<int64_t>(sqlite3_column_int64(s, c)));
          break;
        default: {
          auto p = reinterpret_cast<const char*>(sqlite3_column_text(s, c));
          cells.emplace_back(std::in_place_type<std::string>, p ? p : "",
                             static_cast<size_t>(sqlite3_column_bytes(s, c)));
        }
      }
    }
  }
  // Reset at once: a statement left mid-way holds a read transaction open,
  // which makes later writes fail with "database is locked" instead of waiting.
  sqlite3_reset(s);
  sqlite3_clear_bindings(s);
  if (rc != SQLITE_DONE) return Fail(Failure(rc, "the metadata database"));
  return SqlRows(columns, std::move(cells), sqlite3_changes64(db_));
}

Status SqliteConnection::ExecScript(const std::string& sql) {
  char* err = nullptr;
  int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err);
  if (rc == SQLITE_OK) return {};
  std::string msg = err ? err : sqlite3_errstr(rc);
  sqlite3_free(err);
  Error e = Failure(rc, "the metadata database");
  return Fail(Error(e.code(), fmt::format("the metadata database ({}): {}", path_, msg)));
}

// Puts the database in WAL mode, a property of the file: only the first
// process to open a new database changes it. The change needs the file to
// itself and SQLite does not wait for that (the busy handler is not called),
// so processes opening a new database at once would see "database is
// locked": each tries again, up to the busy timeout, until the file is in
// WAL mode (by its own change or another's). False on another error.
bool UseWal(sqlite3* db) {
  auto mode = [&](const char* sql, std::string& out) {
    auto keep = [](void* to, int, char** values, char**) {
      *static_cast<std::string*>(to) = values[0] ? values[0] : "";
      return 0;
    };
    return sqlite3_exec(db, sql, keep, &out, nullptr);
  };
  auto give_up = std::chrono::steady_clock::now() + kBusyTimeout;
  for (auto pause = std::chrono::milliseconds(2);; pause = std::min(pause * 2, std::chrono::milliseconds(100))) {
    std::string now;
    int rc = mode("PRAGMA journal_mode", now);
    if (rc == SQLITE_OK && now == "wal") return true;
    if (rc == SQLITE_OK) rc = mode("PRAGMA journal_mode=WAL", now);
    if (rc == SQLITE_OK) return true;  // "wal", or what the file allows (memory for :memory:)
    bool busy = rc == SQLITE_BUSY || rc == SQLITE_LOCKED;
    if (!busy || std::chrono::steady_clock::now() >= give_up) return false;
    std::this_thread::sleep_for(pause);
  }
}

}  // namespace

Result<std::unique_ptr<SqlConnection>> OpenSqliteConnection(const std::string& path,
                                                            const Clock& clock) {
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(
      path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close_v2(db);
    return Fail(Error::IOError(fmt::format("cannot open database {}: {}", path, msg)));
  }
  auto conn = std::make_unique<SqliteConnection>(db, path);
  sqlite3_busy_timeout(db, static_cast<int>(kBusyTimeout.count()));
  sqlite3_create_function(db, "dagctl_now", 0, SQLITE_UTF8, const_cast<Clock*>(&clock), SqlNow,
                          nullptr, nullptr);
  auto failed = [&] {
    return Fail(
        Error::IOError(fmt::format("cannot set up database {}: {}", path, sqlite3_errmsg(db))));
  };
  if (!UseWal(db)) return failed();
  for (const char* pragma :
       {"PRAGMA synchronous=NORMAL", "PRAGMA foreign_keys=ON", "PRAGMA temp_store=MEMORY"}) {
    if (sqlite3_exec(db, pragma, nullptr, nullptr, nullptr) != SQLITE_OK) return failed();
  }
  return std::unique_ptr<SqlConnection>(std::move(conn));
}

}  // namespace dagctl
