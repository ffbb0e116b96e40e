// The redis operator against a real redis-server on loopback.
#include <catch2/catch.hpp>
#include <netinet/in.h>
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

using dagctl::testing::RedisServer;

TEST_CASE("redis: SET with a TTL, ZINCRBY and XADD through a connection with a password") {
  RedisServer redis("s3cret");
  Sandbox sb;
  std::ofstream(sb.work() / "speed.yaml") << R"(tasks:
  - id: record
    operator: redis
    conn_id: cache
    commands:
      - [SET, "overspeed:{{ ds }}:car42", "93.5", EX, "604800"]
      - "ZINCRBY overspeed:{{ ds }} 1 car42"
      - [XADD, "events", "*", car, car42, kmh, "93.5"]
      - [ZSCORE, "overspeed:{{ ds }}", car42]
  - {id: show, depends_on: record, command: 'echo score={{ xcom.record }}'}
)";
  std::string env = "DAGCTL_CONN_CACHE=redis://:s3cret@127.0.0.1:" + std::to_string(redis.port()) + "/0";
  Output o = sb.Dagctl("run " + (sb.work() / "speed.yaml").string() + " --date 2026-07-01",
                       FIXTURES_DIR "/dags", env);
  INFO(o.err);
  REQUIRE(o.exit_code == 0);
  CHECK(redis.Cli("GET overspeed:2026-07-01:car42") == "93.5\n");
  int ttl = std::stoi(redis.Cli("TTL overspeed:2026-07-01:car42"));
  CHECK(ttl > 604000);
  CHECK(ttl <= 604800);
  CHECK(redis.Cli("XLEN events") == "1\n");
  std::string run_id = FirstRunId(sb, "speed");
  CHECK(Printed(sb.Dagctl("logs speed '" + run_id + "' show").out) == "score=1\n");
  // The password never reaches the log.
  CHECK(sb.Dagctl("logs speed '" + run_id + "' record").out.find("s3cret") == std::string::npos);
}

TEST_CASE("redis: a wrong password, an error reply and a dead server fail the try with the reason") {
  RedisServer redis("s3cret");
  Sandbox sb;
  std::ofstream(sb.work() / "bad.yaml") << R"(tasks:
  - {id: auth, operator: redis, conn_id: wrong, retries: 0, commands: [PING]}
  - {id: typo, operator: redis, conn_id: cache, retries: 0, commands: ["SETT a b"]}
  - {id: dead, operator: redis, conn_id: dead, retries: 0, commands: [PING]}
)";
  std::string port = std::to_string(redis.port());
  std::string env = "DAGCTL_CONN_WRONG=redis://:nope@127.0.0.1:" + port +
                    " DAGCTL_CONN_CACHE=redis://:s3cret@127.0.0.1:" + port +
                    " DAGCTL_CONN_DEAD=redis://127.0.0.1:1";
  Output o = sb.Dagctl("run " + (sb.work() / "bad.yaml").string(), FIXTURES_DIR "/dags", env);
  CHECK(o.exit_code == 1);
  std::string run_id = FirstRunId(sb, "bad");
  std::string auth_log = sb.Dagctl("logs bad '" + run_id + "' auth").out;
  CHECK(auth_log.find("redis: AUTH ***: WRONGPASS") != std::string::npos);
  CHECK(auth_log.find("nope") == std::string::npos);
  CHECK(sb.Dagctl("logs bad '" + run_id + "' typo").out.find("redis: SETT a b: ERR unknown command 'SETT'") != std::string::npos);
  CHECK(sb.Dagctl("logs bad '" + run_id + "' dead").out.find("redis: cannot connect to 127.0.0.1:1: Connection refused") != std::string::npos);
}

TEST_CASE("redis: commands_file, redis-cli style and pipelined, with the last reply saved") {
  RedisServer redis;
  Sandbox sb;
  {
    std::ofstream cmds(sb.work() / "load.redis");
    cmds << "# aggregates\nHSET rollup \"09:00\" \"{\\\"events\\\": 3}\" plain 1\nEXPIRE rollup 172800\n\n";
    for (int i = 0; i < 2500; ++i) cmds << "SET k:" << i << " " << i << "\n";
    cmds << "DBSIZE\n";
  }
  std::ofstream(sb.work() / "bad.redis") << "SET a 1\nSET b \"unclosed\n";
  std::ofstream(sb.work() / "file.yaml") << "tasks:\n"
      << "  - {id: load, operator: redis, commands_file: '" << (sb.work() / "load.redis").string() << "',\n"
      << "     save_to: '" << (sb.work() / "reply.txt").string() << "'}\n"
      << "  - {id: bad, operator: redis, retries: 0, commands_file: '" << (sb.work() / "bad.redis").string() << "'}\n";
  std::string env = "DAGCTL_CONN_REDIS_DEFAULT=redis://127.0.0.1:" + std::to_string(redis.port()) + "/0";
  Output o = sb.Dagctl("run " + (sb.work() / "file.yaml").string(), FIXTURES_DIR "/dags", env);
  CHECK(o.exit_code == 1);  // `bad`
  CHECK(redis.Cli("HGET rollup 09:00") == "{\"events\": 3}\n");
  CHECK(redis.Cli("GET k:2499") == "2499\n");
  CHECK(std::stoi(redis.Cli("TTL rollup")) > 172000);
  CHECK(ReadFile(sb.work() / "reply.txt") == "2501");
  // The file is read in the try's own process: the reason is in the try's log.
  std::string dag = (sb.work() / "file.yaml").string();
  std::string bad_log = sb.Dagctl("logs " + dag + " '" + FirstRunId(sb, dag) + "' bad").out;
  CHECK(bad_log.find("redis: " + (sb.work() / "bad.redis").string() + ":2: unclosed '\"'") !=
        std::string::npos);
  CHECK(redis.Cli("EXISTS a") == "0\n");  // nothing of a file that does not parse is sent
}
