// A throw-away PostgreSQL cluster on 127.0.0.1 for one test program: initdb
// into a temporary folder (as the postgres user when run as root, which
// Debian's package creates), password authentication over TCP, stopped and
// removed at the end. Restartable, for tests of lost connections.
#pragma once

#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "support/net.h"

namespace dagctl::testing {

class PostgresServer {
 public:
  /// Starts a cluster in a new folder under `parent`, listening on `port`
  /// (0 = a free one) on `host` and on `also_listen` (more addresses, comma
  /// separated: another "machine"'s side of a veth pair); user etl, password s3cret.
  explicit PostgresServer(const std::filesystem::path& parent, int port = 0,
                          std::string host = "127.0.0.1", std::string also_listen = "")
      : dir_(parent / "pg"), host_(std::move(host)), listen_(host_) {
    if (!also_listen.empty()) listen_ += "," + also_listen;
    port_ = port ? port : FreePort();
    std::filesystem::create_directories(dir_);
    std::ofstream(parent / "pgpass") << "s3cret\n";
    as_ = ::geteuid() == 0 ? "runuser -u postgres -- " : "";
    if (::geteuid() == 0)
      Sh("chown -R postgres " + dir_.string() + " " + (parent / "pgpass").string() +
         " && chmod 755 " + parent.string());
    ok_ = Sh(as_ + Bin() + "/initdb -D " + dir_.string() +
             " -U etl --auth=scram-sha-256 --pwfile=" + (parent / "pgpass").string() +
             " >" + parent.string() + "/initdb.log 2>&1") == 0;
    if (ok_) {
      // fsync off: a test server need not survive a power cut, only its own
      // restart (commits still reach the OS before they return).
      std::ofstream(dir_ / "postgresql.conf", std::ios::app)
          << "max_connections = 200\nfsync = off\n";
      ok_ = Start();
    }
  }
  ~PostgresServer() { Stop(); }

  bool ok() const { return ok_; }
  int port() const { return port_; }
  /// The URL of database `db` (created first when not "postgres").
  std::string Url(const std::string& db = "postgres") const {
    return "postgresql://etl:s3cret@" + host_ + ":" + std::to_string(port_) + "/" + db;
  }
  bool CreateDatabase(const std::string& db) const {
    return Psql("CREATE DATABASE " + db) == 0;
  }
  /// Runs `sql` with psql against database `db`; its exit code.
  int Psql(const std::string& sql, const std::string& db = "postgres") const {
    return Sh("PGPASSWORD=s3cret psql -q -h " + host_ + " -p " + std::to_string(port_) +
              " -U etl -d " + db + " -c \"" + sql + "\" >/dev/null 2>&1");
  }
  bool Start() {
    return Sh(as_ + Bin() + "/pg_ctl -D " + dir_.string() + " -l " + dir_.string() +
              "/log -w -o '-p " + std::to_string(port_) + " -k " + dir_.string() + " -h " +
              listen_ + "' start >/dev/null 2>&1") == 0;
  }
  /// Listens on `address` as well (restarts the server).
  bool ListenAlso(const std::string& address) {
    listen_ += "," + address;
    Stop();
    return Start();
  }
  /// Lets clients of `cidr` (such as 10.213.0.0/16) in with the password.
  bool AllowNetwork(const std::string& cidr) {
    std::ofstream(dir_ / "pg_hba.conf", std::ios::app)
        << "host all all " << cidr << " scram-sha-256\n";
    return Sh(as_ + Bin() + "/pg_ctl -D " + dir_.string() + " reload >/dev/null 2>&1") == 0;
  }
  /// Stops at once (connections are cut, as when the server dies).
  void Stop() {
    if (ok_)
      Sh(as_ + Bin() + "/pg_ctl -D " + dir_.string() + " -m immediate stop >/dev/null 2>&1");
  }

 private:
  static std::string Bin() { return "$(ls -d /usr/lib/postgresql/*/bin | tail -1)"; }
  static int Sh(const std::string& cmd) { return WEXITSTATUS(std::system(cmd.c_str())); }

  std::filesystem::path dir_;
  std::string host_;
  std::string listen_;
  std::string as_;
  int port_ = 0;
  bool ok_ = false;
};

}  // namespace dagctl::testing

