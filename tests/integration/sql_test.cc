// The sql operator and sql_sensor against SQLite, and against real PostgreSQL
// and MariaDB servers started on loopback for the test.
#include <catch2/catch.hpp>
#include <netinet/in.h>
#include <sqlite3.h>
#include <sys/socket.h>

#include <nlohmann/json.hpp>

#include "integration/harness.h"

using dagctl::testing::FirstRunId;
using dagctl::testing::Output;
using dagctl::testing::Printed;
using dagctl::testing::ReadFile;
using dagctl::testing::Sandbox;
using dagctl::testing::FreePort;
using dagctl::testing::WaitFor;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

int Sh(const std::string& cmd) { return WEXITSTATUS(std::system(cmd.c_str())); }

// A throw-away PostgreSQL cluster on 127.0.0.1 (run as the postgres user,
// which Debian's package creates; password authentication over TCP).
class Postgres {
 public:
  explicit Postgres(const fs::path& dir) : dir_(dir / "pg"), port_(FreePort()) {
    std::string bin = "$(ls -d /usr/lib/postgresql/*/bin | tail -1)";
    fs::create_directories(dir_);
    std::ofstream(dir / "pgpass") << "s3cret\n";
    Sh("chown -R postgres " + dir_.string() + " " + (dir / "pgpass").string() + " && chmod 755 " +
       dir.string());
    REQUIRE(Sh("runuser -u postgres -- " + bin + "/initdb -D " + dir_.string() +
               " -U etl --auth=scram-sha-256 --pwfile=" + (dir / "pgpass").string() + " >/dev/null 2>&1") == 0);
    REQUIRE(Sh("runuser -u postgres -- " + bin + "/pg_ctl -D " + dir_.string() + " -l " + dir_.string() +
               "/log -w -o '-p " + std::to_string(port_) + " -k " + dir_.string() +
               " -h 127.0.0.1' start >/dev/null 2>&1") == 0);
  }
  ~Postgres() {
    Sh("runuser -u postgres -- $(ls -d /usr/lib/postgresql/*/bin | tail -1)/pg_ctl -D " + dir_.string() +
       " -m immediate stop >/dev/null 2>&1");
  }
  int port() const { return port_; }

 private:
  fs::path dir_;
  int port_;
};

// A throw-away MariaDB server on 127.0.0.1 with a user etl/s3cret.
class MariaDb {
 public:
  explicit MariaDb(const fs::path& dir) : dir_(dir / "maria"), port_(FreePort()) {
    fs::create_directories(dir_);
    REQUIRE(Sh("mariadb-install-db --no-defaults --datadir=" + dir_.string() +
               " --user=root --auth-root-authentication-method=socket >/dev/null 2>&1") == 0);
    pid_ = fork();
    if (pid_ == 0) {
      std::string datadir = "--datadir=" + dir_.string(), socket = "--socket=" + (dir_ / "sock").string(),
                  port = "--port=" + std::to_string(port_);
      execlp("mariadbd", "mariadbd", "--no-defaults", datadir.c_str(), socket.c_str(), port.c_str(),
             "--bind-address=127.0.0.1", "--user=root", "--skip-log-bin", "--skip-name-resolve",
             ("--log-error=" + (dir_ / "err.log").string()).c_str(), nullptr);
      _exit(127);
    }
    std::string client = "mariadb --no-defaults -S " + (dir_ / "sock").string() + " -uroot";
    REQUIRE(WaitFor([&] { return Sh(client + " -e 'SELECT 1' >/dev/null 2>&1") == 0; }, 30));
    REQUIRE(Sh(client + " -e \"CREATE DATABASE dw; CREATE USER etl@'%' IDENTIFIED BY 's3cret'; "
                        "GRANT ALL ON dw.* TO etl@'%';\"") == 0);
  }
  ~MariaDb() {
    kill(pid_, SIGTERM);
    waitpid(pid_, nullptr, 0);
  }
  int port() const { return port_; }

 private:
  fs::path dir_;
  int port_;
  pid_t pid_ = -1;
};

const char* kWarehouseDag = R"(params: {day: "2026-09-01"}
default_args: {retries: 0}
tasks:
  - id: load
    operator: sql
    conn_id: dw
    sql: |
      CREATE TABLE IF NOT EXISTS fact_sales (day VARCHAR(10), sku VARCHAR(10), qty INTEGER);
      INSERT INTO fact_sales VALUES ('{{ params.day }}', 'a1', 3);
      INSERT INTO fact_sales VALUES ('{{ params.day }}', 'b2', 4);
      SELECT SUM(qty) FROM fact_sales WHERE day = '{{ params.day }}'
  - id: broken
    operator: sql
    conn_id: dw
    depends_on: load
    retries: 0
    sql:
      - INSERT INTO fact_sales VALUES ('{{ params.day }}', 'c3', 5)
      - INSERT INTO no_such_table VALUES (1)
  - id: wait
    operator: sql_sensor
    conn_id: dw
    depends_on: load
    poke_interval: 0.1
    sql: SELECT COUNT(*) FROM fact_sales WHERE qty > 3
  - {id: show, depends_on: load, command: 'echo total={{ xcom.load }}'}
)";

// Runs kWarehouseDag against `conn_uri` and checks what the tasks did.
void CheckWarehouse(Sandbox& sb, const std::string& conn_uri, const std::string& missing_table_error) {
  std::ofstream(sb.work() / "dw.yaml") << kWarehouseDag;
  Output o = sb.Dagctl("run " + (sb.work() / "dw.yaml").string(), FIXTURES_DIR "/dags",
                       "DAGCTL_CONN_DW='" + conn_uri + "'");
  INFO(o.err);
  CHECK(o.exit_code == 1);  // broken is a leaf, and it fails
  std::string run_id = FirstRunId(sb, "dw");
  INFO("load's log: " << sb.Dagctl("logs dw '" + run_id + "' load").out);
  CHECK(Printed(sb.Dagctl("logs dw '" + run_id + "' show").out) == "total=7\n");
  std::string log = sb.Dagctl("logs dw '" + run_id + "' broken").out;
  CHECK(log.find("sql: statement 2 of 2 failed, everything rolled back: " + missing_table_error) !=
        std::string::npos);
  CHECK(sb.Dagctl("logs dw '" + run_id + "' wait").out.find("sql_sensor: condition met") != std::string::npos);
}

}  // namespace

TEST_CASE("sql on SQLite: one transaction per try, the last statement's first row to XCom") {
  Sandbox sb;
  std::string db = (sb.work() / "dw.sqlite").string();
  CheckWarehouse(sb, "sqlite://" + db, "no such table: no_such_table");
  // The failed try left nothing behind: c3 was rolled back with it.
  sqlite3* h = nullptr;
  REQUIRE(sqlite3_open(db.c_str(), &h) == SQLITE_OK);
  sqlite3_stmt* s = nullptr;
  sqlite3_prepare_v2(h, "SELECT COUNT(*) FROM fact_sales", -1, &s, nullptr);
  REQUIRE(sqlite3_step(s) == SQLITE_ROW);
  CHECK(sqlite3_column_int(s, 0) == 2);
  sqlite3_finalize(s);
  sqlite3_close(h);
}

TEST_CASE("sql on a real PostgreSQL server, and its refusal of a wrong password") {
  Sandbox sb;
  Postgres pg(sb.work());
  std::string uri = "postgres://etl:s3cret@127.0.0.1:" + std::to_string(pg.port()) + "/postgres";
  CheckWarehouse(sb, uri, "ERROR:  relation \"no_such_table\" does not exist");
  std::ofstream(sb.work() / "auth.yaml") << "tasks:\n  - {id: q, operator: sql, conn_id: dw, retries: 0, sql: 'SELECT 1'}\n";
  Output bad = sb.Dagctl("run " + (sb.work() / "auth.yaml").string(), FIXTURES_DIR "/dags",
                         "DAGCTL_CONN_DW='postgres://etl:wrong@127.0.0.1:" + std::to_string(pg.port()) + "/postgres'");
  CHECK(bad.exit_code == 1);
  CHECK(sb.Dagctl("logs auth '" + FirstRunId(sb, "auth") + "' q").out.find(
            "password authentication failed for user \"etl\"") != std::string::npos);
}

TEST_CASE("sql on a real MariaDB server") {
  Sandbox sb;
  MariaDb maria(sb.work());
  std::string uri = "mariadb://etl:s3cret@127.0.0.1:" + std::to_string(maria.port()) + "/dw";
  CheckWarehouse(sb, uri, "Table 'dw.no_such_table' doesn't exist");
}
