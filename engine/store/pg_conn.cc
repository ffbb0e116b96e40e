// SqlConnection on PostgreSQL through libpq's C API: statements prepared once
// per connection, parameters as text, and a connection that was lost is
// opened again on the next call (its transaction is gone: the caller's whole
// transaction fails, nothing of it is applied).
#include <fmt/format.h>
#include <libpq-fe.h>

#include <cstdlib>
#include <map>
#include <set>

#include "engine/store/sql_conn.h"

namespace dagctl {

namespace {

// `?` placeholders as PostgreSQL's $1, $2 ... (quoted text left alone).
std::string NumberPlaceholders(const std::string& sql) {
  std::string out;
  out.reserve(sql.size() + 16);
  bool quoted = false;
  int n = 0;
  for (char c : sql) {
    if (c == '\'') quoted = !quoted;
    if (c == '?' && !quoted) {
      out += fmt::format("${}", ++n);
      continue;
    }
    out += c;
  }
  return out;
}

// libpq's message, first line, without its "connection to server ... failed:"
// preamble (the URL says where already).
std::string FirstLine(const char* msg) {
  std::string s = msg ? msg : "";
  if (auto nl = s.find('\n'); nl != std::string::npos) s.resize(nl);
  if (auto at = s.find(" failed: "); at != std::string::npos && s.rfind("connection to", 0) == 0)
    s = s.substr(at + 9);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\r')) s.pop_back();
  return s.empty() ? "unknown error" : s;
}

// PostgreSQL's text holds valid UTF-8 without NUL bytes; a task's output may
// hold anything. Each byte that does not fit becomes '?' (so lengths stay).
std::string FitForText(const std::string& in) {
  std::string out = in;
  size_t i = 0, n = out.size();
  auto cont = [&](size_t k) { return k < n && (static_cast<unsigned char>(out[k]) & 0xC0) == 0x80; };
  while (i < n) {
    auto c = static_cast<unsigned char>(out[i]);
    size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    bool ok = len > 0 && c != 0 && (len < 2 || c >= 0xC2);
    for (size_t k = 1; ok && k < len; ++k) ok = cont(i + k);
    if (ok && len == 3) {  // no overlong forms, no surrogates
      auto c1 = static_cast<unsigned char>(out[i + 1]);
      ok = !(c == 0xE0 && c1 < 0xA0) && !(c == 0xED && c1 >= 0xA0);
    }
    if (ok && len == 4) {
      auto c1 = static_cast<unsigned char>(out[i + 1]);
      ok = !(c == 0xF0 && c1 < 0x90) && !(c == 0xF4 && c1 >= 0x90) && c <= 0xF4;
    }
    if (!ok) {
      out[i++] = '?';
      continue;
    }
    i += len;
  }
  return out;
}

bool IsIntegerType(Oid type) { return type == 20 || type == 21 || type == 23; }  // int8/2/4

class PgConnection : public SqlConnection {
 public:
  PgConnection(PGconn* conn, std::string url) : conn_(conn), url_(std::move(url)) {}
  ~PgConnection() override { PQfinish(conn_); }

  SqlDialect dialect() const override { return SqlDialect::kPostgres; }
  Result<SqlRows> Query(const std::string& sql, const SqlArgs& args) override;
  Status ExecScript(const std::string& sql) override;
  Status Begin() override;
  Status Commit() override;
  void Rollback() override;
  int NotificationFd() const override {
    return PQstatus(conn_) == CONNECTION_OK ? PQsocket(conn_) : -1;  // none while it is lost
  }
  Status Listen(const std::string& channel) override;
  std::vector<SqlNotification> TakeNotifications() override;

 private:
  Status EnsureConnected();
  Error ResultError(PGresult* res, const std::string& what);
  Result<std::string> Prepared(const std::string& sql);

  PGconn* conn_;
  std::string url_;
  std::map<std::string, std::string> prepared_;  // SQL -> statement name
  std::set<std::string> channels_;
  bool in_transaction_ = false;
};

Status PgConnection::EnsureConnected() {
  if (PQstatus(conn_) == CONNECTION_OK) return {};
  PQreset(conn_);
  prepared_.clear();
  if (PQstatus(conn_) != CONNECTION_OK)
    return Fail(Error::Unavailable(fmt::format("the metadata database {} cannot be reached: {}",
                                               RedactUrl(url_), FirstLine(PQerrorMessage(conn_)))));
  for (const std::string& channel : channels_) {
    PGresult* res = PQexec(conn_, ("LISTEN " + channel).c_str());
    PQclear(res);
  }
  return {};
}

Error PgConnection::ResultError(PGresult* res, const std::string& what) {
  const char* state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : nullptr;
  std::string code = state ? state : "";
  std::string msg = FirstLine(res ? PQresultErrorMessage(res) : PQerrorMessage(conn_));
  if (msg.rfind("ERROR:  ", 0) == 0) msg = msg.substr(8);
  std::string text = fmt::format("{} ({}): {}", what, RedactUrl(url_), msg);
  if (PQstatus(conn_) != CONNECTION_OK || code.rfind("08", 0) == 0 || code.rfind("57P", 0) == 0) {
    in_transaction_ = false;
    return Error::Unavailable(
        fmt::format("lost the connection to the metadata database {}: {}", RedactUrl(url_), msg));
  }
  if (code.rfind("23", 0) == 0) return Error::AlreadyExists(text);
  // Serialization failures and deadlocks: the transaction may simply be retried.
  if (code == "40001" || code == "40P01" || code == "55P03") return Error::Aborted(text);
  return Error::IOError(text);
}

Result<std::string> PgConnection::Prepared(const std::string& sql) {
  if (auto it = prepared_.find(sql); it != prepared_.end()) return it->second;
  std::string name = fmt::format("s{}", prepared_.size() + 1);
  PGresult* res = PQprepare(conn_, name.c_str(), NumberPlaceholders(sql).c_str(), 0, nullptr);
  if (PQresultStatus(res) != PGRES_COMMAND_OK) {
    Error e = ResultError(res, "preparing SQL");
    PQclear(res);
    return Fail(e);
  }
  PQclear(res);
  prepared_.emplace(sql, name);
  return name;
}

Result<SqlRows> PgConnection::Query(const std::string& sql, const SqlArgs& args) {
  // Outside a transaction a lost connection is simply opened again; inside
  // one, the transaction is gone and the caller must start over.
  if (!in_transaction_)
    if (auto st = EnsureConnected(); !st) return Fail(st.error());
  auto name = Prepared(sql);
  if (!name) return Fail(name.error());
  std::vector<std::string> texts;
  std::vector<const char*> values;
  texts.reserve(args.values().size());
  for (const SqlValue& v : args.values()) {
    if (const auto* n = std::get_if<int64_t>(&v))
      texts.push_back(std::to_string(*n));
    else if (const auto* t = std::get_if<std::string>(&v))
      texts.push_back(FitForText(*t));
    else
      texts.emplace_back();
  }
  for (size_t i = 0; i < texts.size(); ++i)
    values.push_back(std::holds_alternative<std::monostate>(args.values()[i]) ? nullptr
                                                                              : texts[i].c_str());
  PGresult* res = PQexecPrepared(conn_, name->c_str(), static_cast<int>(values.size()),
                                 values.data(), nullptr, nullptr, 0);
  ExecStatusType status = PQresultStatus(res);
  if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) {
    Error e = ResultError(res, "the metadata database");
    PQclear(res);
    return Fail(e);
  }
  int rows = PQntuples(res), columns = PQnfields(res);
  std::vector<SqlValue> cells;
  cells.reserve(static_cast<size_t>(rows) * static_cast<size_t>(columns));
  for (int r = 0; r < rows; ++r) {
    for (int c = 0; c < columns; ++c) {
      if (PQgetisnull(res, r, c)) {
        cells.emplace_back(std::monostate{});
      } else if (IsIntegerType(PQftype(res, c))) {
        cells.emplace_back(static_cast<int64_t>(std::strtoll(PQgetvalue(res, r, c), nullptr, 10)));
      } else {
        cells.emplace_back(std::string(PQgetvalue(res, r, c), PQgetlength(res, r, c)));
      }
    }
  }
  const char* tuples = PQcmdTuples(res);
  int64_t changed = tuples && *tuples ? std::strtoll(tuples, nullptr, 10) : 0;
  PQclear(res);
  return SqlRows(columns, std::move(cells), changed);
}

Status PgConnection::ExecScript(const std::string& sql) {
  if (!in_transaction_)
    if (auto st = EnsureConnected(); !st) return st;
  PGresult* res = PQexec(conn_, sql.c_str());
  ExecStatusType status = PQresultStatus(res);
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    Error e = ResultError(res, "the metadata database");
    PQclear(res);
    return Fail(e);
  }
  PQclear(res);
  return {};
}

Status PgConnection::Begin() {
  if (auto st = ExecScript("BEGIN"); !st) return st;
  in_transaction_ = true;
  return {};
}

Status PgConnection::Commit() {
  auto st = ExecScript("COMMIT");
  in_transaction_ = false;
  return st;
}

void PgConnection::Rollback() {
  if (PQstatus(conn_) == CONNECTION_OK) PQclear(PQexec(conn_, "ROLLBACK"));
  in_transaction_ = false;
}

Status PgConnection::Listen(const std::string& channel) {
  channels_.insert(channel);
  return ExecScript("LISTEN " + channel);
}

std::vector<SqlNotification> PgConnection::TakeNotifications() {
  std::vector<SqlNotification> out;
  if (PQconsumeInput(conn_) == 0) return out;  // a lost connection: the next call reconnects
  while (PGnotify* n = PQnotifies(conn_)) {
    out.push_back({n->relname, n->extra ? n->extra : ""});
    PQfreemem(n);
  }
  return out;
}

}  // namespace

std::string RedactUrl(const std::string& url) {
  auto scheme = url.find("://");
  auto at = url.rfind('@');
  if (scheme == std::string::npos || at == std::string::npos || at < scheme) return url;
  auto colon = url.find(':', scheme + 3);
  if (colon == std::string::npos || colon > at) return url;
  return url.substr(0, colon + 1) + "***" + url.substr(at);
}

Result<std::unique_ptr<SqlConnection>> OpenPostgresConnection(const std::string& url) {
  // connect_timeout: a dead host is an error in seconds, not minutes;
  // keepalives: a connection whose server vanished is noticed.
  std::string with_opts = url;
  for (const char* opt : {"connect_timeout=5", "keepalives_idle=10", "keepalives_interval=5",
                          "keepalives_count=3", "application_name=dagctl"}) {
    std::string key(opt, std::string(opt).find('=') + 1);
    if (url.find(key) != std::string::npos) continue;  // the URL's own setting wins
    with_opts += (with_opts.find('?') == std::string::npos ? "?" : "&") + std::string(opt);
  }
  PGconn* conn = PQconnectdb(with_opts.c_str());
  if (!conn) return Fail(Error::Unavailable("cannot connect to PostgreSQL: out of memory"));
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string why = FirstLine(PQerrorMessage(conn));
    PQfinish(conn);
    bool bad_url = why.find("invalid") != std::string::npos ||
                   why.find("missing") != std::string::npos;
    std::string msg =
        fmt::format("cannot connect to the metadata database {}: {}", RedactUrl(url), why);
    return Fail(bad_url ? Error::InvalidArgument(msg) : Error::Unavailable(msg));
  }
  PQclear(PQexec(conn, "SET client_min_messages = warning"));
  // The server's notices ("terminating connection ...") are not for our
  // users' consoles: a lost connection is reported as an error, once.
  PQsetNoticeProcessor(conn, [](void*, const char*) {}, nullptr);
  return std::unique_ptr<SqlConnection>(std::make_unique<PgConnection>(conn, url));
}

}  // namespace dagctl
