// Every input that once crashed, hung or misbehaved (tests/fuzz/regressions/
// TARGET/FILE) is fed to the fuzz target's own entry function, here under
// the normal build, and must get the clear answer its fix gave it. The seed
// corpora replay too: no input of theirs may break an invariant.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "fuzz/entries.h"

namespace fs = std::filesystem;
using dagctl::fuzz::FindTarget;
using dagctl::fuzz::Outcome;

namespace {

struct Regression {
  const char* target;
  const char* file;
  const char* answer;  // text the outcome must hold
};

// What each input gets now; each was a crash, a hang, huge memory or a 500 before.
const Regression kRegressions[] = {
    {"dag_loader", "self_alias.yaml",
     "dags/fuzz.yaml:1:12: error: an alias may not refer to a node that contains it"},
    {"dag_loader", "self_alias_in_task.yaml",
     "dags/fuzz.yaml:4:10: error: an alias may not refer to a node that contains it"},
    {"dag_loader", "billion_laughs.yaml",
     "error: the document has more than 1000000 YAML nodes (aliases counted once per use)"},
    {"dag_loader", "deep_nesting.yaml",
     "dags/fuzz.yaml:1:71: error: lists and maps are nested more than 64 levels deep"},
    {"dag_loader", "long_dag_id.yaml", "is 100000 characters long; the limit is 250"},
    {"dag_loader", "cron_step_hang.yaml",
     "minute field: bad step in '*/4294967296' (a step is a number from 1 to 59)"},
    {"dag_loader", "invalid_utf8.yaml",
     "dags/fuzz.yaml:1:15: error: invalid UTF-8 (byte 0xff): the file must be UTF-8 text"},
    {"dag_loader", "nul_byte.yaml",
     "dags/fuzz.yaml:2:11: error: control character 0x00 is not allowed in YAML"},
    {"dag_loader", "retries_overflow.yaml",
     "'retries' must be a whole number from 0 to 1000, not '2147483647'"},
    {"dag_loader", "duration_overflow.yaml", "'retry_delay' is not a duration: '999999999999d'"},
    {"dag_loader", "second_document.yaml",
     "dags/fuzz.yaml:3:1: error: a second YAML document starts here; the file must hold one "
     "document"},
    // An operator's own check (a missing key) was printed at 0:0.
    {"dag_loader", "operator_error_without_place.yaml",
     "dags/fuzz.yaml:15:5: error: tasks[2]: operator 'redis' needs 'commands' or 'commands_file'"},
    {"cron", "step_overflow", "bad step in '*/4294967296'"},
    // Uri() wrote a host holding ':' '@' ' ' as it was: conn.ID.uri did not parse back.
    {"connection", "uri_reserved_host",
     "postgres://etl%3Ap%40nalonn_type%3A%20httodgres//"
     "etl%3Ap%40nalonn_type%3A%20httode%3Drequire"},
    {"duration", "unit_overflow", "not a duration"},
    {"duration", "float_overflow", "not a duration"},
    {"template", "deep_macros", "expressions nest more than 32 levels deep"},
    {"api", "deep_conf",
     "400 {\"detail\":\"the request body is JSON nested more than 64 levels deep\""},
    {"api", "invalid_utf8_dag_id", "404 {\"detail\":\"DAG with dag_id: '\xef\xbf\xbd' not found\""},
    {"api", "invalid_utf8_path", "404 {\"detail\":\"DAGRun with DAG ID: 'etl' and DAGRun ID: "},
    {"conf", "deep_conf", "conf is JSON nested more than 64 levels deep"},
};

std::string ReadBytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

const fs::path kFuzzDir = fs::path(FUZZ_REGRESSIONS_DIR).parent_path();

}  // namespace

TEST_CASE("fuzz regressions: each input that once crashed gets its clear answer") {
  for (const Regression& r : kRegressions) {
    DYNAMIC_SECTION(r.target << "/" << r.file) {
      std::string input = ReadBytes(kFuzzDir / "regressions" / r.target / r.file);
      REQUIRE(!input.empty());
      Outcome out = FindTarget(r.target)->run(input);
      INFO(out.text.substr(0, 2000));
      CHECK(out.violation == "");
      CHECK(out.text.find(r.answer) != std::string::npos);
    }
  }
}

TEST_CASE("fuzz regressions: every file in tests/fuzz/regressions is in the table above") {
  std::set<std::string> listed;
  for (const Regression& r : kRegressions) listed.insert(std::string(r.target) + "/" + r.file);
  for (const auto& dir : fs::directory_iterator(kFuzzDir / "regressions")) {
    REQUIRE(FindTarget(dir.path().filename().string()));
    for (const auto& f : fs::directory_iterator(dir.path())) {
      std::string name = dir.path().filename().string() + "/" + f.path().filename().string();
      INFO(name << " has no expected answer in kRegressions");
      CHECK(listed.count(name) == 1);
    }
  }
}

TEST_CASE("fuzz seed corpora: no seed breaks an invariant of its target") {
  for (const auto& dir : fs::directory_iterator(kFuzzDir / "corpus")) {
    const auto* target = FindTarget(dir.path().filename().string());
    REQUIRE(target);
    for (const auto& f : fs::directory_iterator(dir.path())) {
      Outcome out = target->run(ReadBytes(f.path()));
      INFO(f.path().string() << ": " << out.text.substr(0, 2000));
      CHECK(out.violation == "");
    }
  }
}
