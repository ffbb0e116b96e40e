// hdfs_put / hdfs_mkdir / hdfs_sensor against a loopback WebHDFS fixture (a
// namenode that redirects CREATE to a "datanode" with 307, as documented),
// and against a local lake through file://.
#include <catch2/catch.hpp>
#include <httplib.h>

#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "integration/harness.h"

using dagctl::testing::FirstRunId;
using dagctl::testing::Output;
using dagctl::testing::Printed;
using dagctl::testing::ReadFile;
using dagctl::testing::Sandbox;
using nlohmann::json;

namespace {

class FakeWebHdfs {
 public:
  FakeWebHdfs() {
    svr_.Put(R"(/webhdfs/v1(/.*))", [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard<std::mutex> lock(mu_);
      std::string path = req.matches[1], op = req.get_param_value("op");
      if (!req.has_param("datanode")) users_.insert(req.get_param_value("user.name"));
      if (op == "MKDIRS") {
        dirs_.insert(path);
        res.set_content(R"({"boolean": true})", "application/json");
      } else if (op == "CREATE" && !req.has_param("datanode")) {
        if (files_.contains(path) && req.get_param_value("overwrite") != "true") {
          res.status = 403;
          res.set_content(json{{"RemoteException", {{"exception", "FileAlreadyExistsException"},
                                                    {"message", path + " for client already exists"}}}}.dump(),
                          "application/json");
          return;
        }
        res.status = 307;
        res.set_header("Location", "http://127.0.0.1:" + std::to_string(port_) + "/webhdfs/v1" + path +
                                       "?op=CREATE&datanode=true");
      } else if (op == "CREATE") {
        files_[path] = req.body;
        res.status = 201;
      } else {
        res.status = 400;
      }
    });
    svr_.Get(R"(/webhdfs/v1(/.*))", [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard<std::mutex> lock(mu_);
      std::string path = req.matches[1];
      if (files_.contains(path) || dirs_.contains(path)) {
        res.set_content(R"({"FileStatus": {"type": "FILE"}})", "application/json");
      } else {
        res.status = 404;
        res.set_content(R"({"RemoteException": {"exception": "FileNotFoundException", "message": "no"}})",
                        "application/json");
      }
    });
    port_ = svr_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { svr_.listen_after_bind(); });
    while (!svr_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ~FakeWebHdfs() {
    svr_.stop();
    thread_.join();
  }
  int port() const { return port_; }
  std::map<std::string, std::string> files_;
  std::set<std::string> dirs_, users_;

 private:
  httplib::Server svr_;
  std::thread thread_;
  int port_ = 0;
  std::mutex mu_;
};

}  // namespace

TEST_CASE("hdfs over WebHDFS: mkdir, put through the datanode redirect, sensor, overwrite policy") {
  FakeWebHdfs hdfs;
  Sandbox sb;
  std::ofstream(sb.work() / "a.csv") << "id,speed\n1,93\n";
  std::ofstream(sb.work() / "b.csv") << "id,speed\n2,71\n";
  std::ofstream(sb.work() / "lake.yaml") << "tasks:\n"
      << "  - {id: mkdir, operator: hdfs_mkdir, conn_id: lake, path: '/raw/wrk_date={{ ds }}'}\n"
      << "  - {id: put, operator: hdfs_put, conn_id: lake, depends_on: mkdir, source: '"
      << (sb.work() / "*.csv").string() << "', destination: '/raw/wrk_date={{ ds }}/'}\n"
      << "  - {id: check, operator: hdfs_sensor, conn_id: lake, depends_on: put, path: '/raw/wrk_date={{ ds }}/a.csv', poke_interval: 0.1}\n"
      << "  - {id: show, depends_on: check, command: 'echo {{ xcom.put | quote }}'}\n";
  std::string env = "DAGCTL_CONN_LAKE=webhdfs://etl@127.0.0.1:" + std::to_string(hdfs.port());
  std::string dag = (sb.work() / "lake.yaml").string();
  Output o = sb.Dagctl("run " + dag + " --date 2026-08-01", FIXTURES_DIR "/dags", env);
  INFO(o.err);
  REQUIRE(o.exit_code == 0);
  CHECK(hdfs.dirs_.contains("/raw/wrk_date=2026-08-01"));
  CHECK(hdfs.files_["/raw/wrk_date=2026-08-01/a.csv"] == "id,speed\n1,93\n");
  CHECK(hdfs.files_["/raw/wrk_date=2026-08-01/b.csv"] == "id,speed\n2,71\n");
  CHECK(hdfs.users_ == std::set<std::string>{"etl"});
  CHECK(Printed(sb.Dagctl("logs lake '" + FirstRunId(sb, "lake") + "' show").out) ==
        "[\"/raw/wrk_date=2026-08-01/a.csv\",\"/raw/wrk_date=2026-08-01/b.csv\"]\n");

  // The same files again without overwrite: the namenode's refusal is the reason.
  std::ofstream(sb.work() / "again.yaml") << "tasks:\n  - {id: put, operator: hdfs_put, conn_id: lake, retries: 0, source: '"
      << (sb.work() / "a.csv").string() << "', destination: /raw/wrk_date=2026-08-01/a.csv}\n";
  Output again = sb.Dagctl("run " + (sb.work() / "again.yaml").string(), FIXTURES_DIR "/dags", env);
  CHECK(again.exit_code == 1);
  CHECK(sb.Dagctl("logs again '" + FirstRunId(sb, "again") + "' put").out.find(
            "hdfs: CREATE /raw/wrk_date=2026-08-01/a.csv failed: 403 FileAlreadyExistsException: "
            "/raw/wrk_date=2026-08-01/a.csv for client already exists") != std::string::npos);
}

TEST_CASE("hdfs through file:// writes a local lake") {
  Sandbox sb;
  std::string lake = (sb.work() / "lake").string();
  std::ofstream(sb.work() / "c.csv") << "x\n";
  std::ofstream(sb.work() / "local.yaml") << "tasks:\n"
      << "  - {id: put, operator: hdfs_put, url: 'file://" << lake << "', source: '"
      << (sb.work() / "c.csv").string() << "', destination: '/cold/dt={{ ds }}/c.csv'}\n"
      << "  - {id: wait, operator: hdfs_sensor, url: 'file://" << lake << "', path: '/cold/dt={{ ds }}/c.csv', depends_on: put}\n";
  Output o = sb.Dagctl("run " + (sb.work() / "local.yaml").string() + " --date 2026-08-02");
  INFO(o.err);
  REQUIRE(o.exit_code == 0);
  CHECK(ReadFile(sb.work() / "lake" / "cold" / "dt=2026-08-02" / "c.csv") == "x\n");
}

TEST_CASE("connections.yaml in the DAGs folder gives defaults, and the environment overrides them") {
  Sandbox sb;
  std::filesystem::create_directories(sb.work() / "dags");
  std::ofstream(sb.work() / "dags" / "connections.yaml") << "lake: file://${LAKE_ROOT}/default\n";
  std::ofstream(sb.work() / "in.txt") << "x\n";
  std::ofstream(sb.work() / "dags" / "copy.yaml") << "tasks:\n  - {id: put, operator: hdfs_put, conn_id: lake, source: '"
      << (sb.work() / "in.txt").string() << "', destination: /in.txt}\n";
  std::string dags = (sb.work() / "dags").string();
  std::string root = "LAKE_ROOT=" + sb.work().string();
  CHECK(sb.Dagctl("validate", dags).out == "OK: 1 DAG, 1 task\n");
  REQUIRE(sb.Dagctl("run copy", dags, root).exit_code == 0);
  CHECK(ReadFile(sb.work() / "default" / "in.txt") == "x\n");
  REQUIRE(sb.Dagctl("run copy", dags, root + " DAGCTL_CONN_LAKE=file://" + sb.work().string() + "/real").exit_code == 0);
  CHECK(ReadFile(sb.work() / "real" / "in.txt") == "x\n");
}

TEST_CASE("hdfs_put copies a folder with its tree, and a pattern that matches nothing fails saying so") {
  Sandbox sb;
  std::string lake = (sb.work() / "lake").string();
  std::filesystem::create_directories(sb.work() / "parts" / "wrk_date=2026-08-01");
  std::filesystem::create_directories(sb.work() / "parts" / "wrk_date=2026-08-02" / "x");
  std::ofstream(sb.work() / "parts" / "wrk_date=2026-08-01" / "a.csv") << "a\n";
  std::ofstream(sb.work() / "parts" / "wrk_date=2026-08-02" / "x" / "b.csv") << "b\n";
  std::ofstream(sb.work() / "tree.yaml") << "tasks:\n"
      << "  - {id: put, operator: hdfs_put, url: 'file://" << lake << "', source: '"
      << (sb.work() / "parts").string() << "/*', destination: /raw/car_status/}\n"
      << "  - {id: none, operator: hdfs_put, url: 'file://" << lake << "', retries: 0, source: '"
      << (sb.work() / "nothing").string() << "/*.csv', destination: /raw/}\n";
  Output o = sb.Dagctl("run " + (sb.work() / "tree.yaml").string());
  CHECK(o.exit_code == 1);
  CHECK(ReadFile(sb.work() / "lake/raw/car_status/wrk_date=2026-08-01/a.csv") == "a\n");
  CHECK(ReadFile(sb.work() / "lake/raw/car_status/wrk_date=2026-08-02/x/b.csv") == "b\n");
  CHECK(o.err.find("none failed on try 1: hdfs_put: no file matches '" + (sb.work() / "nothing").string() +
                   "/*.csv'") != std::string::npos);
}
