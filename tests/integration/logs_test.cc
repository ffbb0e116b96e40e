// A try's log through the real binary: every line stamped with its time and
// stream, a header that says where and how the try ran, a footer that says
// how it ended; `dagctl logs --follow` ends when the try ends.
#include <catch2/catch.hpp>
#include <fstream>
#include <regex>
#include <thread>

#include "integration/harness.h"

using dagctl::testing::Background;
using dagctl::testing::FirstRunId;
using dagctl::testing::Output;
using dagctl::testing::ReadFile;
using dagctl::testing::Sandbox;
using dagctl::testing::WaitFor;
namespace fs = std::filesystem;

namespace {

// Lines of a try's log, split into time, stream and text.
struct LogLine {
  std::string time, stream, text;
};

// (By hand: std::regex recurses per character and a line may be 64 KiB.)
std::vector<LogLine> ParseLog(const std::string& log) {
  static const std::regex time(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)");
  std::vector<LogLine> out;
  std::istringstream in(log);
  for (std::string l; std::getline(in, l);) {
    INFO("log line: " << l.substr(0, 200));
    // Every line has its time and stream.
    REQUIRE(l.size() > 25);
    REQUIRE(std::regex_match(l.substr(0, 24), time));
    size_t close = l.find("] ", 25);
    REQUIRE((l[24] == ' ' && l[25] == '[' && close != std::string::npos));
    std::string stream = l.substr(26, close - 26);
    REQUIRE((stream == "out" || stream == "err" || stream == "dagctl"));
    out.push_back({l.substr(0, 24), stream, l.substr(close + 2)});
  }
  return out;
}

bool Has(const std::vector<LogLine>& lines, const std::string& stream, const std::string& pattern) {
  std::regex re(pattern);
  for (const LogLine& l : lines)
    if (l.stream == stream && l.text.size() < 1000 && std::regex_search(l.text, re)) return true;
  return false;
}

bool HasText(const std::vector<LogLine>& lines, const std::string& stream, const std::string& text) {
  for (const LogLine& l : lines)
    if (l.stream == stream && l.text == text) return true;
  return false;
}

std::string WriteDags(const Sandbox& sb) {
  fs::path dir = sb.work() / "dags";
  fs::create_directories(dir);
  std::ofstream(dir / "logged.yaml") << R"(dag_id: logged
tasks:
  - id: ok
    command: |
      echo to stdout
      echo to stderr >&2
      printf 'a\001b\033[31m\377\n'
      head -c 70000 /dev/zero | tr '\0' x; echo
      printf 'no newline at the end'
  - id: reads
    depends_on: [ok]
    command: echo "got {{ xcom.ok }}"
  - id: fails
    retries: 0
    command: echo about to fail; exit 1
  - id: slow
    retries: 0
    timeout: 1s
    command: echo sleeping; sleep 30
  - id: signalled
    retries: 0
    command: kill -USR1 $$
  - id: skips
    command: echo nothing to do; exit 99
  - id: sensor
    operator: file_sensor
    filepath: /nonexistent/dagctl-logs-test
    poke_interval: 1s
    timeout: 2s
    retries: 0
)";
  std::ofstream(dir / "retried.yaml") << R"(dag_id: retried
tasks:
  - id: twice
    retries: 1
    retry_delay: 1s
    command: |
      if [ {{ try_number }} = 1 ]; then echo first; exit 3; fi
      echo second
)";
  return dir.string();
}

}  // namespace

TEST_CASE("a try's log: each line's time and stream, a header, and a footer with how it ended") {
  Sandbox sb;
  std::string dags = WriteDags(sb);
  Output o = sb.Dagctl("run logged", dags);
  INFO(o.err);
  std::string run = FirstRunId(sb, "logged", dags);
  auto log = [&](const std::string& task) {
    Output l = sb.Dagctl("logs logged '" + run + "' " + task, dags);
    INFO(l.err);
    REQUIRE(l.exit_code == 0);
    return ParseLog(l.out);
  };

  // The header: where and how the try ran.
  auto ok = log("ok");
  REQUIRE(ok.size() >= 6);
  CHECK(ok[0].stream == "dagctl");
  CHECK(ok[0].text == "try 1 of 4: dag_id=logged run_id=" + run + " task_id=ok map_index=-1");
  CHECK(std::regex_match(ok[1].text, std::regex(R"(host=\S+ worker=\S+ operator=shell pid=\d+)")));
  CHECK(ok[2].text == "command:");  // the script, line by line
  CHECK(ok[3].text == "  echo to stdout");
  CHECK(ok[4].text == "  echo to stderr >&2");
  CHECK(Has(ok, "dagctl", R"(^start: \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$)"));
  // The output, stdout and stderr apart; bytes that are not text escaped; a
  // line longer than 64 KiB in two; the last line without its newline kept.
  CHECK(Has(ok, "out", "^to stdout$"));
  CHECK(Has(ok, "err", "^to stderr$"));
  CHECK_FALSE(Has(ok, "out", "to stderr"));
  CHECK(Has(ok, "out", R"(^a\\x01b\\x1B\[31m\\xFF$)"));
  CHECK(HasText(ok, "out", std::string(65536, 'x')));
  CHECK(HasText(ok, "out", std::string(4464, 'x')));
  CHECK(Has(ok, "out", "^no newline at the end$"));
  CHECK(std::regex_match(ok.back().text, std::regex(R"(end: exit code 0, duration \d+\.\d{3}s, state success)")));
  // XCom reads the raw stdout, not the stamped lines.
  CHECK(Has(log("reads"), "out", "^got no newline at the end$"));

  auto fails = log("fails");
  CHECK(Has(fails, "out", "^about to fail$"));
  CHECK(Has(fails, "dagctl", "^try 1 failed: exit code 1$"));
  CHECK(std::regex_match(fails.back().text,
                         std::regex(R"(end: exit code 1, duration \d+\.\d{3}s, state failed: no retry left \(try 1 of 1\))")));

  auto slow = log("slow");
  CHECK(Has(slow, "out", "^sleeping$"));
  CHECK(std::regex_match(slow.back().text,
                         std::regex(R"(end: signal SIGTERM \(timed out after 1s\), duration \d+\.\d{3}s, state failed: no retry left \(try 1 of 1\))")));

  auto signalled = log("signalled");
  CHECK(std::regex_match(signalled.back().text, std::regex(R"(end: signal SIGUSR1, duration \d+\.\d{3}s, state failed: .*)")));

  auto skips = log("skips");
  CHECK(std::regex_match(skips.back().text, std::regex(R"(end: exit code 99, duration \d+\.\d{3}s, state skipped)")));

  auto sensor = log("sensor");
  CHECK(std::regex_match(sensor[1].text, std::regex(R"(host=\S+ worker=\S+ operator=file_sensor pid=\d+)")));
  CHECK(Has(sensor, "err", "^file_sensor: nothing matches .*dagctl-logs-test yet$"));
  CHECK(Has(sensor, "dagctl", "^poke: pid=\\d+$"));
  CHECK(std::regex_match(sensor.back().text, std::regex(R"(end: sensor's condition not met \(timed out after 2s\), duration \d+\.\d{3}s, state failed: no retry \(this failure is not retried\))")));

  // Times only go forward within a log.
  for (size_t i = 1; i < ok.size(); ++i) CHECK(ok[i - 1].time <= ok[i].time);
}

TEST_CASE("a failed try's footer says when the retry comes; the retry's header counts it") {
  Sandbox sb;
  std::string dags = WriteDags(sb);
  Output o = sb.Dagctl("run retried", dags);
  INFO(o.err);
  REQUIRE(o.exit_code == 0);
  std::string run = FirstRunId(sb, "retried", dags);
  auto first = ParseLog(sb.Dagctl("logs retried '" + run + "' twice --try 1", dags).out);
  REQUIRE(!first.empty());
  CHECK(Has(first, "out", "^first$"));
  CHECK(std::regex_match(first.back().text,
                         std::regex(R"(end: exit code 3, duration \d+\.\d{3}s, state up_for_retry: will retry as try 2 of 2 at \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)")));
  auto second = ParseLog(sb.Dagctl("logs retried '" + run + "' twice", dags).out);
  REQUIRE(!second.empty());
  CHECK(second[0].text.rfind("try 2 of 2: dag_id=retried", 0) == 0);
  CHECK(std::regex_match(second.back().text, std::regex(R"(end: exit code 0, duration .*, state success)")));
}

TEST_CASE("dagctl logs --follow prints a running try's log as it grows and ends when the try ends") {
  Sandbox sb;
  fs::path dir = sb.work() / "dags";
  fs::create_directories(dir);
  std::ofstream(dir / "ticker.yaml") << "dag_id: ticker\ntasks:\n  - id: tick\n    command: |\n"
                                        "      for i in 1 2 3 4 5 6 7 8; do echo tick $i; sleep 0.3; done\n";
  Background serve(sb, "scheduler", dir.string(), "", "scheduler.log");
  REQUIRE(sb.Dagctl("trigger ticker", dir.string()).exit_code == 0);
  std::string run;
  // Started: its first line is in the log.
  REQUIRE(WaitFor([&] {
    Output runs = sb.Dagctl("runs ticker --json", dir.string());
    if (runs.exit_code != 0 || runs.out.find("dag_run_id") == std::string::npos) return false;
    run = nlohmann::json::parse(runs.out)["dag_runs"][0]["dag_run_id"];
    return sb.Dagctl("logs ticker '" + run + "' tick", dir.string()).out.find("tick 1") != std::string::npos;
  }, 20));
  auto start = std::chrono::steady_clock::now();
  Output f = sb.Dagctl("logs ticker '" + run + "' tick --follow", dir.string());
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  INFO(f.out << f.err);
  CHECK(f.exit_code == 0);
  CHECK(secs > 0.5);   // it waited for the lines still to come
  CHECK(secs < 10);    // and ended with the try
  auto lines = ParseLog(f.out);
  for (int i = 1; i <= 8; ++i) CHECK(Has(lines, "out", "^tick " + std::to_string(i) + "$"));
  REQUIRE(!lines.empty());
  CHECK(std::regex_match(lines.back().text, std::regex(R"(end: exit code 0, duration .*, state success)")));
  CHECK(sb.Dagctl("logs ticker '" + run + "' tick", dir.string()).out == f.out);
}
