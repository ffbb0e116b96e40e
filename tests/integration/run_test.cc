// `dagctl run` end to end: real processes, a real SQLite file, real logs.
#include <signal.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <regex>

#include "integration/harness.h"

using dagctl::testing::FirstRunId;
using dagctl::testing::Output;
using dagctl::testing::Printed;
using dagctl::testing::ReadFile;
using dagctl::testing::Sandbox;
using nlohmann::json;

namespace {


json TaskStates(const Sandbox& sb, const std::string& dag, const std::string& run_id) {
  Output o = sb.Dagctl("tasks " + dag + " '" + run_id + "' --json");
  REQUIRE(o.exit_code == 0);
  json states = json::object();
  json parsed = json::parse(o.out);
  for (const json& ti : parsed["task_instances"])
    states[ti["task_id"].get<std::string>()] = json::array({ti["state"], ti["try_number"]});
  return states;
}

}  // namespace

TEST_CASE("a run executes every task, passes XCom and templates, and records it all") {
  Sandbox sb;
  std::string out = sb.work().string();
  Output o = sb.Dagctl("run pipeline --date 2026-03-01 --param out_dir=" + out);
  INFO(o.err);
  REQUIRE(o.exit_code == 0);
  CHECK(ReadFile(sb.work() / "transform.txt") == "rows=42 table=users\n");
  CHECK(ReadFile(sb.work() / "load.txt") == "2026-02-28 manual__2026-03-01T00:00:00+00:00\n");
  CHECK_FALSE(std::filesystem::exists(sb.work() / "should_not_exist"));
  CHECK(o.out.find("run manual__2026-03-01T00:00:00+00:00 of pipeline: success") !=
        std::string::npos);

  std::string run_id = FirstRunId(sb, "pipeline");
  CHECK(run_id == "manual__2026-03-01T00:00:00+00:00");
  json states = TaskStates(sb, "pipeline", run_id);
  CHECK(states["extract"] == json::array({"success", 1}));
  CHECK(states["transform"] == json::array({"success", 1}));
  CHECK(states["optional"] == json::array({"skipped", 1}));
  CHECK(states["after_optional"] == json::array({"skipped", 0}));
  CHECK(states["load"] == json::array({"success", 1}));

  Output log = sb.Dagctl("logs pipeline '" + run_id + "' extract");
  CHECK(Printed(log.out) == "extracting for 2026-03-01\n42\n");
  CHECK(std::filesystem::exists(sb.home() / "logs" / "dag_id=pipeline" / ("run_id=" + run_id) /
                                "task_id=extract" / "attempt=1.log"));

  // A second run for the same date gets a fresh run id.
  REQUIRE(sb.Dagctl("run pipeline --date 2026-03-01 --param out_dir=" + out).exit_code == 0);
  CHECK(FirstRunId(sb, "pipeline") == "manual__2026-03-01T00:00:00+00:00_2");
}

TEST_CASE("run and task JSON use Airflow's field names and ISO 8601 with offsets") {
  Sandbox sb;
  REQUIRE(sb.Dagctl("run pipeline --date 2026-03-01T06:30 --param out_dir=" + sb.work().string())
              .exit_code == 0);
  json run = json::parse(sb.Dagctl("runs pipeline --json").out)["dag_runs"][0];
  std::regex iso(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?[+-]\d\d:\d\d)");
  for (const char* field :
       {"logical_date", "data_interval_start", "data_interval_end", "start_date", "end_date"}) {
    INFO(field);
    CHECK(std::regex_match(run[field].get<std::string>(), iso));
  }
  CHECK(run["run_type"] == "manual");
  CHECK(run["state"] == "success");
  CHECK(run["logical_date"] == "2026-03-01T06:30:00+00:00");
  CHECK(run["data_interval_end"] == "2026-03-02T06:30:00+00:00");
  json tis = json::parse(
      sb.Dagctl("tasks pipeline '" + run["dag_run_id"].get<std::string>() + "' --json").out);
  CHECK(tis["total_entries"] == 5);
  CHECK(tis["task_instances"][0].contains("duration"));
}

TEST_CASE("a failing task is retried with real processes, each try with its own log") {
  Sandbox sb;
  Output o = sb.Dagctl("run flaky --param state_dir=" + sb.work().string());
  INFO(o.err);
  REQUIRE(o.exit_code == 0);
  std::string run_id = FirstRunId(sb, "flaky");
  CHECK(TaskStates(sb, "flaky", run_id)["flaky"] == json::array({"success", 3}));
  std::string first = sb.Dagctl("logs flaky '" + run_id + "' flaky --try 1").out;
  CHECK(Printed(first) == "try 1 sees count 1\n");
  CHECK(first.find("Z [dagctl] try 1 failed: exit code 1\n") != std::string::npos);
  CHECK(Printed(sb.Dagctl("logs flaky '" + run_id + "' flaky").out) == "try 3 sees count 3\n");
  CHECK(o.err.find("flaky try 1 failed: exit code 1; will retry") != std::string::npos);
}

TEST_CASE("timeouts kill the whole process group, and a crash fails only its own task") {
  Sandbox sb;
  auto start = std::chrono::steady_clock::now();
  Output o = sb.Dagctl("run hazards --param state_dir=" + sb.work().string());
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  INFO(o.err);
  CHECK(o.exit_code == 0);  // the leaf (cleanup, all_done) succeeded
  CHECK(secs < 10);
  std::string run_id = FirstRunId(sb, "hazards");
  json states = TaskStates(sb, "hazards", run_id);
  CHECK(states["slow"] == json::array({"failed", 1}));
  CHECK(states["crash"] == json::array({"failed", 1}));
  CHECK(states["fine"] == json::array({"success", 1}));
  CHECK(states["cleanup"] == json::array({"success", 1}));
  CHECK(o.err.find("slow failed on try 1: timed out after 1s") != std::string::npos);
  CHECK(o.err.find("crash failed on try 1: killed by signal 11 (Segmentation fault)") !=
        std::string::npos);
  // The background sleep of the timed-out task is gone too (at most a zombie
  // waiting for init to reap it).
  std::string bg = ReadFile(sb.work() / "bg.pid");
  bg.pop_back();
  std::string status = ReadFile("/proc/" + bg + "/status");
  CHECK((status.empty() || status.find("State:\tZ") != std::string::npos));
}

TEST_CASE("an invalid DAG is refused with exit code 2 before anything runs") {
  Sandbox sb;
  Output o = sb.Dagctl("run " FIXTURES_DIR "/broken/bad.yaml");
  CHECK(o.exit_code == 2);
  CHECK(o.err == FIXTURES_DIR
        "/broken/bad.yaml:5:5: error: tasks[0]: unknown key 'depend_on' (did you mean "
        "'depends_on'?)\n");
  CHECK_FALSE(std::filesystem::exists(sb.home() / "logs"));
}

TEST_CASE("a failed run exits 1 and shows the failure") {
  Sandbox sb;
  std::ofstream(sb.work() / "fail.yaml")
      << "tasks:\n  - id: boom\n    retries: 0\n    command: echo bad >&2; exit 3\n";
  Output o = sb.Dagctl("run " + (sb.work() / "fail.yaml").string());
  CHECK(o.exit_code == 1);
  CHECK(o.err.find("boom failed on try 1: exit code 3") != std::string::npos);
  CHECK(o.out.find("of fail: failed") != std::string::npos);
  std::string run_id = FirstRunId(sb, "fail");
  std::string log = sb.Dagctl("logs fail '" + run_id + "' boom").out;
  CHECK(Printed(log) == "bad\n");
  CHECK(log.find("Z [dagctl] try 1 failed: exit code 3\n") != std::string::npos);
}

TEST_CASE("Ctrl-C stops the run: running tries are terminated and recorded failed") {
  Sandbox sb;
  std::ofstream(sb.work() / "long.yaml")
      << "tasks:\n  - {id: sleeper, command: 'sleep 30'}\n  - {id: after, command: 'echo no', "
         "depends_on: sleeper}\n";
  std::ofstream(sb.work() / "interrupt.sh")
      << "DAGCTL_HOME='" << sb.home().string() << "' " << DAGCTL_BIN << " run "
      << (sb.work() / "long.yaml").string() << " >/dev/null 2>&1 &\n"
      << "pid=$!\nsleep 1\nkill -INT $pid\nwait $pid\n";
  auto start = std::chrono::steady_clock::now();
  int status = std::system(("bash " + (sb.work() / "interrupt.sh").string()).c_str());
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  CHECK(WEXITSTATUS(status) == 1);
  CHECK(secs < 10);
  std::string run_id = FirstRunId(sb, "long");
  json states = TaskStates(sb, "long", run_id);
  CHECK(states["sleeper"] == json::array({"failed", 1}));
  CHECK(states["after"] == json::array({"upstream_failed", 0}));
  json run = json::parse(sb.Dagctl("runs long --json").out)["dag_runs"][0];
  CHECK(run["state"] == "failed");
}

TEST_CASE("branch and short_circuit with real commands") {
  Sandbox sb;
  std::ofstream(sb.work() / "branchy.yaml") << R"(params: {weekday: "sat"}
tasks:
  - id: pick
    operator: branch
    command: '[ "{{ params.weekday }}" = sat ] && echo weekend || echo weekday'
  - {id: weekend, command: echo rest, depends_on: pick}
  - {id: weekday, command: echo work, depends_on: pick}
  - id: enough_data
    operator: short_circuit
    depends_on: weekend
    command: test 3 -gt 5
  - {id: report, command: echo report, depends_on: enough_data}
)";
  Output o = sb.Dagctl("run " + (sb.work() / "branchy.yaml").string());
  INFO(o.err);
  CHECK(o.exit_code == 0);
  json states = TaskStates(sb, "branchy", FirstRunId(sb, "branchy"));
  CHECK(states["pick"] == json::array({"success", 1}));
  CHECK(states["weekend"] == json::array({"success", 1}));
  CHECK(states["weekday"] == json::array({"skipped", 0}));
  CHECK(states["enough_data"] == json::array({"success", 1}));
  CHECK(states["report"] == json::array({"skipped", 0}));
}

TEST_CASE("passwords and secret variables are masked in task logs") {
  Sandbox sb;
  std::filesystem::create_directories(sb.home());
  std::ofstream(sb.home() / "connections.yaml") << "db: postgres://etl:hunter2secret@db.local:5432/dw\n";
  REQUIRE(sb.Dagctl("variables set api_token tok-12345").exit_code == 0);
  REQUIRE(sb.Dagctl("variables set region eu-west").exit_code == 0);
  std::ofstream(sb.work() / "secrets.yaml") << R"(tasks:
  - id: connect
    command: |
      echo "psql -h {{ conn.db.host }} -U {{ conn.db.login }} password={{ conn.db.password }}"
      echo "again: hunter2secret" >&2
      echo "token {{ var.api_token }} in {{ var.region }}"
)";
  REQUIRE(sb.Dagctl("run " + (sb.work() / "secrets.yaml").string()).exit_code == 0);
  std::string run_id = FirstRunId(sb, "secrets");
  std::string log = sb.Dagctl("logs secrets '" + run_id + "' connect").out;
  // stdout and stderr arrive on two pipes: each line is whole, their order may vary.
  CHECK(log.find("psql -h db.local -U etl password=***\n") != std::string::npos);
  CHECK(log.find("again: ***\n") != std::string::npos);
  CHECK(log.find("token *** in eu-west\n") != std::string::npos);
  CHECK(log.find("hunter2secret") == std::string::npos);
  CHECK(log.find("tok-12345") == std::string::npos);
}

TEST_CASE("file_sensor waits for a file to appear and hands its path downstream") {
  Sandbox sb;
  std::string drop = (sb.work() / "drop").string();
  std::filesystem::create_directories(drop);
  std::ofstream(sb.work() / "spool.yaml") << "tasks:\n"
      << "  - {id: wait, operator: file_sensor, filepath: '" << drop << "/*.csv', poke_interval: 0.2, mode: reschedule}\n"
      << "  - {id: use, depends_on: wait, command: 'echo {{ xcom.wait | quote }}'}\n";
  std::string cmd = "(sleep 1; touch " + drop + "/cars.csv) &";
  REQUIRE(std::system(cmd.c_str()) == 0);
  Output o = sb.Dagctl("run " + (sb.work() / "spool.yaml").string());
  INFO(o.err);
  REQUIRE(o.exit_code == 0);
  std::string run_id = FirstRunId(sb, "spool");
  CHECK(Printed(sb.Dagctl("logs spool '" + run_id + "' use").out) == "[\"" + drop + "/cars.csv\"]\n");
  std::string log = sb.Dagctl("logs spool '" + run_id + "' wait").out;
  CHECK(log.find("file_sensor: nothing matches " + drop + "/*.csv yet") != std::string::npos);
  CHECK(log.find("file_sensor: 1 matches " + drop + "/*.csv") != std::string::npos);
  CHECK(TaskStates(sb, "spool", run_id)["wait"] == json::array({"success", 1}));
}

TEST_CASE("spark_submit builds the command line, reports the application id, and dies on timeout") {
  Sandbox sb;
  std::filesystem::create_directories(sb.work() / "bin");
  std::string argv_file = (sb.work() / "argv").string();
  std::ofstream(sb.work() / "bin" / "spark-submit")
      << "#!/bin/bash\nprintf '%s\\n' \"$@\" > " << argv_file << "\n"
      << "echo 'INFO Client: Submitted application application_1700000000000_0042'\n"
      << "if [ -n \"$SPARK_HANG\" ]; then sleep 30; fi\n";
  std::filesystem::permissions(sb.work() / "bin" / "spark-submit", std::filesystem::perms::owner_all);
  std::ofstream(sb.work() / "spark.yaml") << R"(tasks:
  - id: transform
    operator: spark_submit
    application: jobs/transform.py
    master: yarn
    deploy_mode: cluster
    name: "transform-{{ ds }}"
    conf: {spark.executor.memory: 2g, spark.sql.shuffle.partitions: "64"}
    py_files: [jobs/common.py, jobs/util.py]
    application_args: ["--date", "{{ ds }}"]
    retries: 0
  - {id: report, depends_on: transform, command: 'echo {{ xcom.transform }}'}
)";
  std::string path_env = "PATH=" + (sb.work() / "bin").string() + ":$PATH";
  Output o = sb.Dagctl("run " + (sb.work() / "spark.yaml").string() + " --date 2026-06-01",
                       FIXTURES_DIR "/dags", path_env);
  INFO(o.err);
  REQUIRE(o.exit_code == 0);
  CHECK(ReadFile(argv_file) ==
        "--master\nyarn\n--deploy-mode\ncluster\n--name\ntransform-2026-06-01\n--conf\n"
        "spark.executor.memory=2g\n--conf\nspark.sql.shuffle.partitions=64\n--py-files\n"
        "jobs/common.py,jobs/util.py\njobs/transform.py\n--date\n2026-06-01\n");
  std::string run_id = FirstRunId(sb, "spark");
  CHECK(Printed(sb.Dagctl("logs spark '" + run_id + "' report").out) == "application_1700000000000_0042\n");

  std::ofstream(sb.work() / "hang.yaml")
      << "tasks:\n  - {id: job, operator: spark_submit, application: x.py, timeout: 1s, retries: 0}\n";
  auto start = std::chrono::steady_clock::now();
  Output hang = sb.Dagctl("run " + (sb.work() / "hang.yaml").string(), FIXTURES_DIR "/dags",
                          path_env + " SPARK_HANG=1");
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  CHECK(hang.exit_code == 1);
  CHECK(secs < 10);
  CHECK(hang.err.find("job failed on try 1: timed out after 1s") != std::string::npos);
}

TEST_CASE("spark_submit: the master from the spark connection, and the job's local command when Spark is absent") {
  Sandbox sb;
  std::filesystem::create_directories(sb.work() / "bin");
  std::string argv_file = (sb.work() / "argv").string(), marker = (sb.work() / "ran_locally").string();
  std::ofstream(sb.work() / "bin" / "spark-submit") << "#!/bin/bash\nprintf '%s\\n' \"$@\" > " << argv_file << "\n";
  std::filesystem::permissions(sb.work() / "bin" / "spark-submit", std::filesystem::perms::owner_all);
  std::ofstream(sb.work() / "job.yaml") << "tasks:\n"
      << "  - {id: job, operator: spark_submit, application: job.py, retries: 0,\n"
      << "     local_command: 'pwd > " << marker << "'}\n";
  std::string dag = (sb.work() / "job.yaml").string();
  std::string conn = "DAGCTL_CONN_SPARK_DEFAULT='spark://spark-master:7077?deploy-mode=cluster&queue=etl'";
  Output o = sb.Dagctl("run " + dag, FIXTURES_DIR "/dags", "PATH=" + (sb.work() / "bin").string() + ":$PATH " + conn);
  INFO(o.err);
  REQUIRE(o.exit_code == 0);
  CHECK(ReadFile(argv_file) == "--master\nspark://spark-master:7077\n--deploy-mode\ncluster\n--queue\netl\njob.py\n");
  CHECK(!std::filesystem::exists(marker));

  // No spark-submit: the local command runs instead, in the DAG's folder, and the log says so.
  Output local = sb.Dagctl("run " + dag, FIXTURES_DIR "/dags", "PATH=/usr/bin:/bin");
  INFO(local.err);
  REQUIRE(local.exit_code == 0);
  CHECK(ReadFile(marker) == sb.work().string() + "\n");
  std::string log = Printed(sb.Dagctl("logs job '" + FirstRunId(sb, "job") + "' job").out);
  CHECK(log.find("spark_submit: spark-submit is not installed; running the job's local command instead of\n"
                 "spark_submit:   spark-submit --master local[*] job.py\n"
                 "spark_submit: local command: pwd > " + marker + "\n") != std::string::npos);

  // Neither: the try fails saying why.
  std::ofstream(sb.work() / "nolocal.yaml") << "tasks:\n  - {id: job, operator: spark_submit, application: job.py, retries: 0}\n";
  Output none = sb.Dagctl("run " + (sb.work() / "nolocal.yaml").string(), FIXTURES_DIR "/dags", "PATH=/usr/bin:/bin");
  CHECK(none.exit_code == 1);
  CHECK(sb.Dagctl("logs nolocal '" + FirstRunId(sb, "nolocal") + "' job").out.find(
            "spark_submit: cannot run spark-submit: No such file or directory") != std::string::npos);
}

TEST_CASE("file_sensor moves the files it found once its downstream succeeded, like a spool folder") {
  Sandbox sb;
  std::string spool = (sb.work() / "spool").string(), done = (sb.work() / "done").string();
  std::filesystem::create_directories(spool);
  std::ofstream(sb.work() / "spool" / "car1.log") << "a\n";
  std::ofstream(sb.work() / "spool" / "car2.log") << "b\n";
  std::ofstream(sb.work() / "ingest.yaml") << "tasks:\n"
      << "  - {id: wait, operator: file_sensor, filepath: '" << spool << "/*.log', poke_interval: 1,\n"
      << "     after_downstream_success: move, move_to: '" << done << "/{{ ds }}'}\n"
      << "  - {id: load, depends_on: wait, command: 'cat " << spool << "/*.log'}\n";
  Output o = sb.Dagctl("run " + (sb.work() / "ingest.yaml").string() + " --date 2026-10-02");
  INFO(o.err);
  REQUIRE(o.exit_code == 0);
  CHECK(ReadFile(sb.work() / "done" / "2026-10-02" / "car1.log") == "a\n");
  CHECK(ReadFile(sb.work() / "done" / "2026-10-02" / "car2.log") == "b\n");
  CHECK(std::filesystem::is_empty(spool));
  std::string run_id = FirstRunId(sb, "ingest");
  CHECK(Printed(sb.Dagctl("logs ingest '" + run_id + "' load").out) == "a\nb\n");
  CHECK(sb.Dagctl("logs ingest '" + run_id + "' wait").out.find(
            "file_sensor: moved " + spool + "/car1.log to " + done + "/2026-10-02/car1.log") != std::string::npos);
}

TEST_CASE("dagctl run of a DAG with dagrun_timeout stops its tasks, exits 1 and says why") {
  Sandbox sb;
  std::filesystem::path dags = sb.work() / "dags";
  std::filesystem::create_directories(dags);
  std::ofstream(dags / "slow.yaml")
      << "dagrun_timeout: 1s\ntasks:\n  - {id: nap, command: 'sleep 30'}\n"
         "  - {id: after, command: 'true', depends_on: nap}\n";
  auto start = std::chrono::steady_clock::now();
  Output o = sb.Dagctl("run slow", dags.string());
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(10));
  CHECK(o.exit_code == 1);
  CHECK(o.err.find(
            "] run failed: run timed out: still going 1s after it started (dagrun_timeout)\n") !=
        std::string::npos);
  json states = TaskStates(sb, "slow", FirstRunId(sb, "slow", dags.string()));
  CHECK(states["nap"] == json::array({"skipped", 1}));
  CHECK(states["after"] == json::array({"skipped", 0}));
}
