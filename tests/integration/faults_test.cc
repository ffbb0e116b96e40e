// The real dagctl on a full disk: the metadata database of `dagctl serve` and
// a try's log on a small tmpfs that is filled, then given room again. Needs
// root (mount); without it the tests say so and pass.
#include <sys/mount.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "integration/harness.h"

using dagctl::testing::Background;
using dagctl::testing::FirstRunId;
using dagctl::testing::Output;
using dagctl::testing::ReadFile;
using dagctl::testing::Sandbox;
using dagctl::testing::WaitFor;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

// A tmpfs of `kb` KiB at `dir`, unmounted at the end.
class SmallDisk {
 public:
  SmallDisk(const fs::path& dir, int kb) : dir_(dir) {
    fs::create_directories(dir);
    mounted_ = mount("tmpfs", dir.c_str(), "tmpfs", 0, fmt::format("size={}k", kb).c_str()) == 0;
  }
  ~SmallDisk() {
    if (mounted_) umount2(dir_.c_str(), MNT_DETACH);
  }
  bool mounted() const { return mounted_; }
  // Writes a file until the disk has no room left.
  void Fill() {
    FILE* f = fopen((dir_ / "filler").c_str(), "w");
    REQUIRE(f);
    std::string block(4096, 'x');
    while (fwrite(block.data(), 1, block.size(), f) == block.size() && fflush(f) == 0) {
    }
    fclose(f);
  }
  void Free() { fs::remove(dir_ / "filler"); }

 private:
  fs::path dir_;
  bool mounted_ = false;
};

std::string WriteDag(const Sandbox& sb, const std::string& yaml) {
  fs::path dags = sb.work() / "dags";
  fs::create_directories(dags);
  std::ofstream(dags / "faulty.yaml") << yaml;
  return dags.string();
}

json Tis(const Sandbox& sb, const std::string& dags, const std::string& run_id) {
  Output o = sb.Dagctl("tasks faulty '" + run_id + "' --json", dags);
  return o.exit_code == 0 ? json::parse(o.out) : json();
}

}  // namespace

TEST_CASE("a full disk under serve's database: it says so once and waits and ends the run when "
          "there is room") {
  Sandbox sb;
  SmallDisk disk(sb.home(), 4096);
  if (!disk.mounted()) {
    WARN("cannot mount a tmpfs here (not root): skipped");
    return;
  }
  fs::path started = sb.work() / "started";
  std::string dags = WriteDag(sb, fmt::format(R"(dag_id: faulty
tasks:
  - {{id: first, command: 'touch {} && sleep 1.5'}}
  - {{id: second, command: 'echo done', depends_on: first}}
)",
                                              started.string()));
  Background serve(sb, "serve --port 0", dags);
  REQUIRE(WaitFor([&] { return serve.Log().find("http://127.0.0.1:") != std::string::npos; }, 15));
  Output t = sb.Dagctl("trigger faulty", dags);
  REQUIRE(t.exit_code == 0);
  std::string run_id = t.out.substr(t.out.find("manual__"));
  run_id = run_id.substr(0, run_id.find_first_of(" \n"));
  REQUIRE(WaitFor([&] { return fs::exists(started); }, 10));
  // The disk fills while the first task runs: its end cannot be written.
  disk.Fill();
  INFO(serve.Log());
  REQUIRE(WaitFor([&] { return serve.Log().find("database or disk is full") != std::string::npos; },
                  15));
  // Still there, saying it once and waiting, not spinning.
  std::this_thread::sleep_for(std::chrono::seconds(2));
  CHECK(kill(serve.pid(), 0) == 0);
  std::string log = serve.Log();
  size_t said = 0;
  for (size_t at = log.find("database or disk is full"); at != std::string::npos;
       at = log.find("database or disk is full", at + 1))
    ++said;
  CHECK(said <= 3);
  // Room again: the run ends as it would have, each task once.
  disk.Free();
  auto state = [&] {
    Output o = sb.Dagctl("runs faulty --json", dags);
    if (o.exit_code != 0) return std::string();
    json runs = json::parse(o.out)["dag_runs"];
    return runs.empty() ? std::string() : runs[0]["state"].get<std::string>();
  };
  REQUIRE(WaitFor([&] { return state() == "success"; }, 20));
  INFO("serve said:\n" << serve.Log());
  CHECK(serve.Log().find("answers again") != std::string::npos);
  json tis = Tis(sb, dags, run_id);
  INFO(tis.dump());
  REQUIRE(tis["task_instances"].size() == 2);
  for (const auto& ti : tis["task_instances"]) {
    CHECK(ti["state"] == "success");
    CHECK(ti["try_number"] == 1);
  }
  CHECK(serve.Signal(SIGTERM) == 0);
}

TEST_CASE("a full disk under a try's log: the task that exited 0 is a success and the log cut is "
          "said") {
  Sandbox sb;
  SmallDisk disk(sb.home() / "logs", 2048);
  if (!disk.mounted()) {
    WARN("cannot mount a tmpfs here (not root): skipped");
    return;
  }
  std::string dags = WriteDag(sb, R"(dag_id: faulty
tasks:
  - {id: chatty, command: 'head -c 1000000 /dev/zero | tr "\0" "x"; echo; echo last', retries: 0}
  - {id: after, command: 'echo {{ xcom.chatty }}', depends_on: chatty, retries: 0}
)");
  disk.Fill();
  Output o = sb.Dagctl("run faulty", dags);
  INFO(o.out << o.err);
  CHECK(o.exit_code == 0);
  CHECK(o.err.find("the log is incomplete") != std::string::npos);
  CHECK(o.err.find("No space left on device") != std::string::npos);
  // With room again, the next run's log is whole.
  disk.Free();
  o = sb.Dagctl("run faulty", dags);
  CHECK(o.exit_code == 0);
  CHECK(o.err.find("the log is incomplete") == std::string::npos);
  Output logs = sb.Dagctl("logs faulty '" + FirstRunId(sb, "faulty", dags) + "' chatty", dags);
  CHECK(logs.out.size() > 1000000);
  CHECK(logs.out.find("last\n") != std::string::npos);
}
