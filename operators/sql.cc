#include "operators/sql.h"

#include <fmt/format.h>
#include <libpq-fe.h>
#include <mysql.h>
#include <sqlite3.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>

#include "engine/connection.h"
#include "engine/json_io.h"

namespace dagctl {

namespace {

using Row = std::vector<std::pair<std::string, std::optional<std::string>>>;  // column -> value

// One database connection inside the try's process.
class Session {
 public:
  virtual ~Session() = default;
  /// Runs one statement; keeps its first row (if any) in `first_row`.
  virtual bool Exec(const std::string& stmt, Row* first_row, std::string* error) = 0;
};

class SqliteSession : public Session {
 public:
  explicit SqliteSession(sqlite3* db) : db_(db) {}
  ~SqliteSession() override { sqlite3_close_v2(db_); }
  bool Exec(const std::string& stmt, Row* row, std::string* error) override {
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v2(db_, stmt.c_str(), -1, &s, nullptr) != SQLITE_OK) {
      *error = sqlite3_errmsg(db_);
      return false;
    }
    row->clear();
    int rc;
    bool first = true;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
      if (!first) continue;
      first = false;
      for (int i = 0; i < sqlite3_column_count(s); ++i) {
        auto text = reinterpret_cast<const char*>(sqlite3_column_text(s, i));
        row->emplace_back(sqlite3_column_name(s, i),
                          text ? std::optional<std::string>(text) : std::nullopt);
      }
    }
    if (rc != SQLITE_DONE) *error = sqlite3_errmsg(db_);
    sqlite3_finalize(s);
    return rc == SQLITE_DONE;
  }

 private:
  sqlite3* db_;
};

class PostgresSession : public Session {
 public:
  explicit PostgresSession(PGconn* c) : c_(c) {}
  ~PostgresSession() override { PQfinish(c_); }
  bool Exec(const std::string& stmt, Row* row, std::string* error) override {
    PGresult* r = PQexec(c_, stmt.c_str());
    ExecStatusType st = PQresultStatus(r);
    bool ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
    row->clear();
    if (!ok) {
      *error = PQresultErrorMessage(r);
      while (!error->empty() && error->back() == '\n') error->pop_back();
    } else if (st == PGRES_TUPLES_OK && PQntuples(r) > 0) {
      for (int i = 0; i < PQnfields(r); ++i)
        row->emplace_back(PQfname(r, i), PQgetisnull(r, 0, i) ? std::nullopt
                                                              : std::optional<std::string>(PQgetvalue(r, 0, i)));
    }
    PQclear(r);
    return ok;
  }

 private:
  PGconn* c_;
};

class MariaSession : public Session {
 public:
  explicit MariaSession(MYSQL* m) : m_(m) {}
  ~MariaSession() override { mysql_close(m_); }
  bool Exec(const std::string& stmt, Row* row, std::string* error) override {
    row->clear();
    if (mysql_real_query(m_, stmt.data(), stmt.size()) != 0) {
      *error = mysql_error(m_);
      return false;
    }
    MYSQL_RES* res = mysql_store_result(m_);
    if (!res) {
      if (mysql_field_count(m_) == 0) return true;  // no result set: INSERT, CREATE ...
      *error = mysql_error(m_);
      return false;
    }
    if (MYSQL_ROW r = mysql_fetch_row(res)) {
      MYSQL_FIELD* fields = mysql_fetch_fields(res);
      for (unsigned i = 0; i < mysql_num_fields(res); ++i)
        row->emplace_back(fields[i].name, r[i] ? std::optional<std::string>(r[i]) : std::nullopt);
    }
    mysql_free_result(res);
    return true;
  }

 private:
  MYSQL* m_;
};

struct Target {
  std::string type;  // sqlite, postgres, mysql
  Connection conn;
};

std::unique_ptr<Session> Connect(const Target& t, std::string* error) {
  const Connection& c = t.conn;
  if (t.type == "sqlite") {
    sqlite3* db = nullptr;
    std::string path = c.host.empty() ? "/" + c.schema : c.host + "/" + c.schema;
    if (c.schema.empty()) path = c.host;
    if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) != SQLITE_OK) {
      *error = fmt::format("cannot open {}: {}", path, db ? sqlite3_errmsg(db) : "out of memory");
      sqlite3_close_v2(db);
      return nullptr;
    }
    sqlite3_busy_timeout(db, 10000);
    return std::make_unique<SqliteSession>(db);
  }
  if (t.type == "postgres") {
    std::string info = fmt::format("host='{}' port={} dbname='{}' user='{}' password='{}' connect_timeout=10",
                                   c.host, c.port.value_or(5432), c.schema, c.login, c.password);
    PGconn* pg = PQconnectdb(info.c_str());
    if (PQstatus(pg) != CONNECTION_OK) {
      *error = PQerrorMessage(pg);
      while (!error->empty() && error->back() == '\n') error->pop_back();
      PQfinish(pg);
      return nullptr;
    }
    return std::make_unique<PostgresSession>(pg);
  }
  MYSQL* m = mysql_init(nullptr);
  unsigned timeout = 10;
  mysql_options(m, MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
  if (!mysql_real_connect(m, c.host.c_str(), c.login.c_str(), c.password.c_str(), c.schema.c_str(),
                          static_cast<unsigned>(c.port.value_or(3306)), nullptr, 0)) {
    *error = mysql_error(m);
    mysql_close(m);
    return nullptr;
  }
  return std::make_unique<MariaSession>(m);
}

std::string RowText(const Row& row) {
  if (row.size() == 1) return row[0].second.value_or("");
  nlohmann::json o = nlohmann::json::object();
  for (const auto& [col, v] : row) o[col] = v ? nlohmann::json(*v) : nlohmann::json(nullptr);
  return DumpJson(o);
}

// Runs the statements in one transaction; returns the last statement's first
// row, or nullopt after printing the error (everything rolled back).
std::optional<Row> RunAll(const Target& t, const std::vector<std::string>& stmts) {
  std::string error;
  auto session = Connect(t, &error);
  if (!session) {
    fmt::print(stderr, "sql: cannot connect to {} ({}): {}\n", t.conn.conn_id, t.type, error);
    return std::nullopt;
  }
  Row row, ignored;
  const char* begin = t.type == "mysql" ? "START TRANSACTION" : "BEGIN";
  if (!session->Exec(begin, &ignored, &error)) {
    fmt::print(stderr, "sql: {}: {}\n", begin, error);
    return std::nullopt;
  }
  for (size_t i = 0; i < stmts.size(); ++i) {
    if (!session->Exec(stmts[i], &row, &error)) {
      fmt::print(stderr, "sql: statement {} of {} failed, everything rolled back: {}\n  {}\n", i + 1,
                 stmts.size(), error, stmts[i]);
      session->Exec("ROLLBACK", &ignored, &error);
      return std::nullopt;
    }
  }
  if (!session->Exec("COMMIT", &ignored, &error)) {
    fmt::print(stderr, "sql: COMMIT failed: {}\n", error);
    return std::nullopt;
  }
  fmt::print(stderr, "sql: {} statement{} committed on {}\n", stmts.size(), stmts.size() == 1 ? "" : "s",
             t.conn.conn_id);
  return row;
}

Result<Target> ResolveTarget(const Value& p) {
  const Value* id = p.Find("conn_id");
  auto conn = LookupConnection(id ? id->scalar : "");
  if (!conn) return Fail(conn.error());
  Target t{conn->conn_type, *conn};
  if (t.type == "postgresql") t.type = "postgres";
  if (t.type == "mariadb") t.type = "mysql";
  if (t.type != "sqlite" && t.type != "postgres" && t.type != "mysql")
    return Fail(Error::InvalidArgument(fmt::format(
        "sql: connection '{}' is of type '{}'; use sqlite, postgres or mysql/mariadb", conn->conn_id,
        conn->conn_type)));
  return t;
}

Result<std::vector<std::string>> Statements(const Value& p) {
  std::vector<std::string> out;
  if (const Value* f = p.Find("sql_file")) {
    std::ifstream in(f->scalar);
    if (!in) return Fail(Error::InvalidArgument("sql: cannot read " + f->scalar));
    std::stringstream text;
    text << in.rdbuf();
    return SplitStatements(text.str());
  }
  const Value* sql = p.Find("sql");
  if (sql && sql->IsScalar()) return SplitStatements(sql->scalar);
  if (sql)
    for (const Value& s : sql->items)
      for (auto& part : SplitStatements(s.scalar)) out.push_back(part);
  return out;
}

bool Truthy(const std::optional<std::string>& v) {
  if (!v) return false;
  std::string s = *v;
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return !(s.empty() || s == "0" || s == "false" || s == "f" || s == "0.0");
}

}  // namespace

std::vector<std::string> SplitStatements(const std::string& sql) {
  std::vector<std::string> out;
  std::string cur;
  char quote = 0;
  for (size_t i = 0; i < sql.size(); ++i) {
    char c = sql[i];
    if (quote) {
      cur += c;
      if (c == quote) quote = 0;
    } else if (c == '\'' || c == '"' || c == '`') {
      quote = c;
      cur += c;
    } else if (c == '-' && i + 1 < sql.size() && sql[i + 1] == '-') {
      while (i < sql.size() && sql[i] != '\n') ++i;  // a comment to the end of the line
    } else if (c == ';') {
      out.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  out.push_back(cur);
  std::vector<std::string> kept;
  for (auto& s : out) {
    size_t b = s.find_first_not_of(" \t\r\n"), e = s.find_last_not_of(" \t\r\n");
    if (b != std::string::npos) kept.push_back(s.substr(b, e - b + 1));
  }
  return kept;
}

const std::vector<ParamSpec>& SqlOperator::params() const {
  static const std::vector<ParamSpec> kParams = {
      {"conn_id", ParamType::kString, true, false, "sqlite, postgres or mysql/mariadb connection."},
      {"sql", ParamType::kStringList, false, true, "Statements (';'-separated, or a list)."},
      {"sql_file", ParamType::kString, false, true, "Or a file of statements (read as is)."},
  };
  return kParams;
}

void SqlOperator::Validate(const Value& params, Diagnostics& diags) const {
  if (!params.Find("sql") == !params.Find("sql_file"))
    diags.Error(params.mark, fmt::format("operator '{}' needs one of 'sql' or 'sql_file'", name()));
}

namespace {

// What both the operator and the sensor need before their body: the
// database, the statements, and the password to mask.
struct Prepared {
  Target target;
  std::vector<std::string> stmts;
  Launch launch;
};

Result<Prepared> PrepareSql(const Value& params) {
  auto target = ResolveTarget(params);
  if (!target) return Fail(target.error());
  auto stmts = Statements(params);
  if (!stmts) return Fail(stmts.error());
  Prepared p{*target, *stmts, {}};
  if (!target->conn.password.empty()) p.launch.secrets.push_back(target->conn.password);
  return p;
}

}  // namespace

Result<Launch> SqlOperator::Prepare(const TryContext& ctx) const {
  auto p = PrepareSql(ctx.params);
  if (!p) return Fail(p.error());
  Launch launch = std::move(p->launch);
  launch.body = [t = p->target, stmts = p->stmts](TryChannel& channel) {
    auto row = RunAll(t, stmts);
    if (!row) return 1;
    if (!row->empty()) channel.PushXCom("return_value", RowText(*row));
    return 0;
  };
  return launch;
}

Result<Launch> SqlSensor::Prepare(const TryContext& ctx) const {
  auto p = PrepareSql(ctx.params);
  if (!p) return Fail(p.error());
  Launch launch = std::move(p->launch);
  launch.body = [t = p->target, stmts = p->stmts](TryChannel& channel) {
    auto row = RunAll(t, stmts);
    if (!row) return kSensorNotYet;  // the database may come up later
    bool met = !row->empty() && Truthy(row->front().second);
    fmt::print(stderr, "sql_sensor: {}\n", met ? "condition met" : "not yet");
    if (!met) return kSensorNotYet;
    channel.PushXCom("return_value", RowText(*row));
    return 0;
  };
  return launch;
}

}  // namespace dagctl
