// A DAGs folder holding what an unlucky user or an attacker can put there:
// every such file is an import error with a clear message, and the good DAG
// beside them still loads and runs.
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "integration/harness.h"

using dagctl::testing::Background;
using dagctl::testing::Output;
using dagctl::testing::Sandbox;
using dagctl::testing::WaitFor;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

// The folder; returns its path. `expected` gets file -> a part of its error.
std::string HostileFolder(const Sandbox& sb, std::map<std::string, std::string>& expected) {
  fs::path dags = sb.work() / "dags";
  fs::create_directories(dags / "sub");
  std::ofstream(dags / "good.yaml") << "tasks:\n  - {id: hello, command: 'echo ok'}\n";
  std::ofstream(dags / "garbage.yaml", std::ios::binary) << std::string(
      "\x7f"
      "ELF\x02\x01\x01\0\0\xff\xfe",
      12);
  expected["garbage.yaml"] =
      "garbage.yaml:1:10: error: invalid UTF-8 (byte 0xff): the file must be UTF-8 text";
  { std::ofstream(dags / "huge.yaml"); }
  fs::resize_file(dags / "huge.yaml", 100 << 20);  // 100 MiB, sparse
  expected["huge.yaml"] =
      "huge.yaml:1:1: error: the file is 104857600 bytes, over the 10 MiB limit";
  std::ofstream(dags / "deep.yaml")
      << "tasks: " << std::string(100000, '[') << std::string(100000, ']');
  expected["deep.yaml"] =
      "deep.yaml:1:71: error: lists and maps are nested more than 64 levels deep";
  std::ofstream laughs(dags / "laughs.yaml");
  laughs << "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n";
  for (int i = 1; i < 9; ++i) {
    laughs << "a" << i << ": &a" << i << " [";
    for (int k = 0; k < 10; ++k) laughs << (k ? ", " : "") << "*a" << i - 1;
    laughs << "]\n";
  }
  laughs.close();
  expected["laughs.yaml"] =
      "laughs.yaml:6:40: error: the document has more than 1000000 YAML nodes";
  fs::create_symlink("loop.yaml", dags / "loop.yaml");
  expected["loop.yaml"] =
      "loop.yaml:1:1: error: cannot read file: Too many levels of symbolic links";
  fs::create_symlink("nowhere.yaml", dags / "dangling.yaml");
  expected["dangling.yaml"] =
      "dangling.yaml:1:1: error: cannot read file: No such file or directory";
  fs::create_directory_symlink("..", dags / "sub" / "up");  // a folder loop: walked once
  REQUIRE(mkfifo((dags / "pipe.yaml").c_str(), 0644) == 0);
  expected["pipe.yaml"] = "pipe.yaml:1:1: error: not a regular file";
  std::ofstream(dags / "locked.yaml") << "tasks: [\n";
  fs::permissions(dags / "locked.yaml", fs::perms::none);
  // Permission denied, or (as root, who reads anyway) the YAML error.
  expected["locked.yaml"] = geteuid() == 0
                                ? "locked.yaml:2:1: error: invalid YAML"
                                : "locked.yaml:1:1: error: cannot read file: Permission denied";
  return dags.string();
}

}  // namespace

TEST_CASE(
    "a DAGs folder of garbage, huge, deep, looping and unreadable files: import errors, and the "
    "good DAG runs") {
  Sandbox sb;
  std::map<std::string, std::string> expected;
  std::string dags = HostileFolder(sb, expected);

  Output v = sb.Dagctl("validate", dags);
  CHECK(v.exit_code == 2);
  for (const auto& [file, error] : expected) {
    INFO(file << " in:\n" << v.err);
    CHECK(v.err.find(dags + "/" + error) != std::string::npos);
  }

  Output l = sb.Dagctl("list --json", dags);
  REQUIRE(l.exit_code == 0);
  json j = json::parse(l.out);
  REQUIRE(j["dags"].size() == 1);
  CHECK(j["dags"][0]["dag_id"] == "good");
  CHECK(j["import_errors"].size() == expected.size());

  Output r = sb.Dagctl("run good", dags);
  CHECK(r.exit_code == 0);
  CHECK(r.out.find("run manual__") != std::string::npos);
  CHECK(r.out.find("success") != std::string::npos);
}

TEST_CASE(
    "a scheduler on that folder keeps running and runs the good DAG, and a file added later cannot "
    "stop it") {
  Sandbox sb;
  std::map<std::string, std::string> expected;
  std::string dags = HostileFolder(sb, expected);
  Background scheduler(sb, "scheduler", dags);
  REQUIRE(sb.Dagctl("trigger good", dags).exit_code == 0);
  auto state = [&] {
    Output o = sb.Dagctl("runs good --json", dags);
    return o.exit_code == 0 ? json::parse(o.out)["dag_runs"][0]["state"].get<std::string>() : "";
  };
  REQUIRE(WaitFor([&] { return state() == "success"; }, 10));
  // Files that crashed or hung the scheduler before, dropped in while it runs.
  std::ofstream(fs::path(dags) / "self_alias.yaml") << "tasks: &a [*a]\n";
  std::ofstream(fs::path(dags) / "long_id.yaml")
      << "dag_id: " << std::string(100000, 'a') << "\ntasks: []\n";
  std::ofstream(fs::path(dags) / "cron.yaml")
      << "schedule: '*/4294967296 * * * *'\nstart_date: 2026-01-01\ntasks: [{id: t, command: x}]\n";
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));  // three looks at the folder
  REQUIRE(sb.Dagctl("trigger good", dags).exit_code == 0);
  REQUIRE(WaitFor(
      [&] {
        Output o = sb.Dagctl("runs good --json", dags);
        json runs = json::parse(o.out)["dag_runs"];
        return runs.size() == 2 && runs[0]["state"] == "success" && runs[1]["state"] == "success";
      },
      10));
  CHECK(scheduler.Signal(SIGTERM) == 0);
}

TEST_CASE("list --json and the API stay valid JSON when a file name or its content is not UTF-8") {
  Sandbox sb;
  fs::path dags = sb.work() / "dags";
  fs::create_directories(dags);
  std::ofstream(dags / "good.yaml") << "tasks:\n  - {id: hello, command: 'echo ok'}\n";
  std::ofstream(dags / "n\xff.yaml") << "dag_id: odd_name\ntasks:\n  - {id: t, command: x}\n";
  std::ofstream(dags / "latin1.yaml")
      << "description: \"caf\xe9\"\ntasks:\n  - {id: t, command: x}\n";
  Output l = sb.Dagctl("list --json", dags.string());
  REQUIRE(l.exit_code == 0);
  json j = json::parse(l.out);
  CHECK(j["dags"].size() == 2);
  CHECK(j["dags"][1]["fileloc"] == dags.string() + "/n\xef\xbf\xbd.yaml");  // U+FFFD
  REQUIRE(j["import_errors"].size() == 1);
  CHECK(j["import_errors"][0]["stack_trace"] ==
        dags.string() +
            "/latin1.yaml:1:18: error: invalid UTF-8 (byte 0xe9): the file must be UTF-8 text\n");
}
