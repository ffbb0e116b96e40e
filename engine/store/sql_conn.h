// A connection to a SQL database, as the store needs it: statements with `?`
// placeholders, rows back, transactions. Two implementations, SQLite and
// PostgreSQL (libpq), so the store's queries are written once.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "engine/error.h"
#include "engine/timeutil.h"

namespace dagctl {

class Clock;

enum class SqlDialect { kSqlite, kPostgres };

/// A parameter or a cell: NULL, an integer or text.
using SqlValue = std::variant<std::monostate, int64_t, std::string>;

/// The rows a statement returned (SELECT, or RETURNING) and how many rows it
/// changed. Cells are read by row and column; a NULL reads as 0 or "".
class SqlRows {
 public:
  SqlRows() = default;
  SqlRows(int columns, std::vector<SqlValue> cells, int64_t changed)
      : columns_(columns), cells_(std::move(cells)), changed_(changed) {}

  size_t size() const { return columns_ ? cells_.size() / static_cast<size_t>(columns_) : 0; }
  bool empty() const { return size() == 0; }
  /// Rows an INSERT, UPDATE or DELETE changed.
  int64_t changed() const { return changed_; }

  bool IsNull(size_t row, int col) const;
  int64_t Int(size_t row, int col) const;
  std::string Text(size_t row, int col) const;
  /// Text, moved out of the rows (read each cell once).
  std::string TakeText(size_t row, int col);
  std::optional<int64_t> OptInt(size_t row, int col) const;
  Timestamp Time(size_t row, int col) const;
  std::optional<Timestamp> OptTime(size_t row, int col) const;

 private:
  const SqlValue& Cell(size_t row, int col) const {
    return cells_[row * static_cast<size_t>(columns_) + static_cast<size_t>(col)];
  }
  SqlValue& Cell(size_t row, int col) {
    return cells_[row * static_cast<size_t>(columns_) + static_cast<size_t>(col)];
  }
  int columns_ = 0;
  std::vector<SqlValue> cells_;
  int64_t changed_ = 0;
};

/// Microseconds since the epoch, as timestamps are stored.
inline int64_t SqlMicros(Timestamp t) { return t.time_since_epoch().count(); }
inline Timestamp SqlTime(int64_t us) { return Timestamp(std::chrono::microseconds(us)); }

/// Parameters, built by chaining: SqlArgs().Add("etl").Add(3).
class SqlArgs {
 public:
  SqlArgs& Add(std::string v) {
    values_.emplace_back(std::move(v));
    return *this;
  }
  SqlArgs& Add(const char* v) { return Add(std::string(v)); }
  SqlArgs& Add(int64_t v) {
    values_.emplace_back(v);
    return *this;
  }
  SqlArgs& Add(int v) { return Add(static_cast<int64_t>(v)); }
  SqlArgs& Add(Timestamp t) { return Add(SqlMicros(t)); }
  SqlArgs& Null() {
    values_.emplace_back(std::monostate{});
    return *this;
  }
  template <typename T>
  SqlArgs& Add(const std::optional<T>& v) {
    return v ? Add(*v) : Null();
  }
  const std::vector<SqlValue>& values() const { return values_; }

 private:
  std::vector<SqlValue> values_;
};

/// A notification another process sent (PostgreSQL's NOTIFY).
struct SqlNotification {
  std::string channel;
  std::string payload;
};

/// One connection; not thread-safe. Errors: AlreadyExists for a constraint
/// violation, Unavailable when the database cannot be reached or the
/// connection was lost (the next call reconnects), IOError otherwise.
class SqlConnection {
 public:
  virtual ~SqlConnection() = default;
  virtual SqlDialect dialect() const = 0;

  /// Runs one statement, `?` marking each parameter in order.
  virtual Result<SqlRows> Query(const std::string& sql, const SqlArgs& args) = 0;
  Result<SqlRows> Query(const std::string& sql) { return Query(sql, SqlArgs()); }
  /// Runs several statements without parameters (a migration).
  virtual Status ExecScript(const std::string& sql) = 0;

  /// Opens a transaction that takes the write lock at once (SQLite: BEGIN
  /// IMMEDIATE, so two writers never deadlock; PostgreSQL: BEGIN).
  virtual Status Begin() = 0;
  virtual Status Commit() = 0;
  /// Never fails: a lost connection has rolled back already.
  virtual void Rollback() = 0;

  /// The socket to watch for notifications, or -1 when the database has none.
  virtual int NotificationFd() const { return -1; }
  /// Starts receiving notifications of `channel`.
  virtual Status Listen(const std::string& channel) {
    (void)channel;
    return {};
  }
  /// Notifications received so far (reads what the socket holds).
  virtual std::vector<SqlNotification> TakeNotifications() { return {}; }
};

/// Opens (creating) the SQLite database at `path`. The SQL function
/// dagctl_now() reads `clock` (microseconds); the clock must outlive it.
Result<std::unique_ptr<SqlConnection>> OpenSqliteConnection(const std::string& path,
                                                            const Clock& clock);

/// Connects to PostgreSQL at `url` (postgresql://USER:PASSWORD@HOST:PORT/DB).
/// The error is one line: what failed and where (never the password).
Result<std::unique_ptr<SqlConnection>> OpenPostgresConnection(const std::string& url);

/// `url` with its password replaced by ***, for messages.
std::string RedactUrl(const std::string& url);

}  // namespace dagctl
