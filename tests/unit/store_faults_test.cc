// Faults of the metadata store at every write of a run's life: a busy
// database and a dropped connection (transient), a full disk and an I/O error
// (persistent until cleared). The real executor (scheduler and worker on one
// node, as `dagctl run` and `dagctl serve` use them) drives a run on a store
// that fails its N-th write, for every N; after every commit the store must
// hold a consistent run, and the run must end as a fault-free one does.
#include <fcntl.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "engine/executor.h"
#include "engine/runs.h"
#include "engine/store/sql_conn.h"
#include "engine/store/sql_store.h"
#include "fakes/fake_try_runner.h"
#include "fakes/faulty_store.h"
#include "fakes/load.h"
#include "support/postgres.h"

using namespace dagctl;
using namespace dagctl::testing;
using namespace std::chrono;
namespace fs = std::filesystem;

namespace {

// Extract pushes an XCom, flaky fails once and is retried after
// `retry_delay`, split is mapped over two elements, load reads the XCom; the
// run's on_success callback runs last.
std::string DagYaml(const char* retry_delay) {
  return fmt::format(R"(on_success: {{command: "run {{{{ run_id }}}} {{{{ state }}}}"}}
tasks:
  - {{id: extract, command: x}}
  - {{id: flaky, command: x, retries: 2, retry_delay: {}, depends_on: extract}}
  - id: split
    depends_on: extract
    expand: {{part: [a, b]}}
    command: 'echo {{{{ part }}}}'
  - {{id: load, command: 'echo {{{{ xcom.extract }}}}', depends_on: [flaky, split]}}
)", retry_delay);
}

const std::string kDag = DagYaml("5s");
// The same on PostgreSQL, where the store's clock is the server's: the retry
// comes at once.
const std::string kPgDag = DagYaml("0s");

// What stderr receives while it lives (the engine's console).
class StderrCapture {
 public:
  explicit StderrCapture(const fs::path& file) : file_(file) {
    fflush(stderr);
    saved_ = dup(2);
    int fd = open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(fd, 2);
    close(fd);
  }
  ~StderrCapture() { Restore(); }
  std::string Restore() {
    if (saved_ >= 0) {
      fflush(stderr);
      dup2(saved_, 2);
      close(saved_);
      saved_ = -1;
    }
    std::ifstream in(file_);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

 private:
  fs::path file_;
  int saved_ = -1;
};

// The outcome of a run as the store tells it: each task instance's state and
// try number, and each try's state.
struct Outcome {
  RunState state = RunState::kQueued;
  std::map<std::string, std::string> tis;  // "task[index]" -> "state try_number"
  std::map<std::string, std::string> tries;  // "task[index]#try" -> state
  std::map<std::string, int> starts;         // "task#try" -> processes started
  std::string xcom;

  bool operator==(const Outcome&) const = default;
};

std::string Show(const Outcome& o) {
  std::ostringstream s;
  s << "run " << RunStateName(o.state) << "\n";
  for (const auto& [k, v] : o.tis) s << "  ti " << k << ": " << v << "\n";
  for (const auto& [k, v] : o.tries) s << "  try " << k << ": " << v << "\n";
  for (const auto& [k, v] : o.starts) s << "  started " << k << ": " << v << "\n";
  s << "  xcom " << o.xcom << "\n";
  return s.str();
}

bool Finished(TaskState s) {
  return s == TaskState::kSuccess || s == TaskState::kFailed || s == TaskState::kSkipped ||
         s == TaskState::kUpstreamFailed;
}

// A mapped instance's index, from its log's path (".../map_index=1/attempt=1.log").
std::string MapIndex(const std::string& log_path) {
  size_t at = log_path.find("/map_index=");
  if (at == std::string::npos) return "";
  at += 11;
  return log_path.substr(at, log_path.find('/', at) - at);
}

std::string Name(const TaskInstanceRecord& ti) {
  return ti.map_index < 0 ? ti.task_id : fmt::format("{}[{}]", ti.task_id, ti.map_index);
}

// One run of kDag on a store that fails as told: on SQLite in a fresh
// folder, or (`url`) on a PostgreSQL database shared by several harnesses,
// each with its own run.
class FaultHarness {
 public:
  explicit FaultHarness(const std::string& url = "", const std::string& run_id = "manual__1",
                        const std::string& yaml = kDag)
      : dir_(fs::path(fs::exists("/dev/shm") ? "/dev/shm" : fs::temp_directory_path()) /
             ("dagctl_faults_" + std::to_string(::getpid()))),
        run_id_(run_id),
        dag_(MustLoad(yaml)),
        clock_(ParseDateTime("2026-01-01T00:00:00").value()),
        runner_(clock_) {
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    real_ = std::move(url.empty() ? OpenSqliteStore((dir_ / "db").string(), clock_).value()
                                  : OpenStore(url, dir_.string(), clock_).value());
    store_ = std::make_unique<FaultyStore>(*real_);
    runner_.Script("extract", {{0, milliseconds(10), false, "rows=42"}});
    runner_.Script("flaky", {{1, milliseconds(10)}, {0, milliseconds(10)}});
  }
  ~FaultHarness() { fs::remove_all(dir_); }

  FaultyStore& store() { return *store_; }
  const fs::path& dir() const { return dir_; }

  // Creates the run (as `dagctl run` does, before its executor) and drives
  // it to its end; every committed pass is checked.
  Result<RunState> Run() {
    // Creating the run is retried by its caller, as the CLI does.
    Status created = Fail(Error::Internal("not yet"));
    for (int attempt = 0; attempt < 20 && !created; ++attempt) {
      auto run = CreateRun(*store_, *dag_,
                           {.logical_date = ParseDateTime("2026-01-01").value(),
                            .interval_end = ParseDateTime("2026-01-02").value(),
                            .owner = "test-host:1",
                            .run_id = run_id_,
                            .now = clock_.Now()});
      if (run) created = {};
      else created = Fail(run.error());
      if (!created && created.error().code() == Error::Code::kAlreadyExists) break;
    }
    if (!created) return Fail(created.error());
    ExecutorOptions opts;
    opts.logs_dir = (dir_ / "logs").string();
    opts.owner = "test-host:1";
    Executor ex(*store_, runner_, clock_, opts);
    store_->after_commit = [this] { Check(); };
    auto state = ex.Run(dag_, run_id_);
    store_->after_commit = nullptr;
    return state;
  }

  Outcome Read() {
    Outcome o;
    o.state = real_->GetDagRun("test", run_id_).value().state;
    auto tis = real_->ListTaskInstances("test", run_id_).value();
    for (const auto& ti : tis) {
      o.tis[Name(ti)] = fmt::format("{} {}", TaskStateName(ti.state), ti.try_number);
      auto tries = real_->ListTries(ti.key()).value();
      for (const auto& t : tries)
        o.tries[fmt::format("{}#{}", Name(ti), t.try_number)] = TaskStateName(t.state);
    }
    for (const auto& s : runner_.started()) {
      std::string index = MapIndex(s.request.log_path);
      ++o.starts[fmt::format("{}{}#{}", s.task_id, index.empty() ? "" : "[" + index + "]",
                             s.try_number)];
    }
    auto x = real_->GetXCom("test", run_id_, "extract", "return_value");
    o.xcom = x ? *x : "";
    return o;
  }

  // What must hold after every commit, whatever failed before it.
  void Check() {
    ++checks_;
    auto run = real_->GetDagRun("test", run_id_);
    if (!run) return;  // not created yet
    auto tis = real_->ListTaskInstances("test", run_id_).value();
    bool all_done = true;
    for (const auto& ti : tis) {
      all_done = all_done && Finished(ti.state);
      auto tries = real_->ListTries(ti.key()).value();
      for (const auto& t : tries) {
        INFO("task " << Name(ti) << " try " << t.try_number << " is "
                     << TaskStateName(t.state) << ", the instance " << TaskStateName(ti.state)
                     << " at try " << ti.try_number);
        // A try runs only as the instance's latest, while the instance runs.
        if (t.state == TaskState::kRunning) {
          CHECK(t.try_number == ti.try_number);
          CHECK(ti.state == TaskState::kRunning);
        }
        CHECK(t.try_number <= ti.try_number);
      }
      // A finished instance's latest try is finished too.
      if (Finished(ti.state))
        for (const auto& t : tries) CHECK(t.state != TaskState::kRunning);
    }
    if (run->state == RunState::kSuccess || run->state == RunState::kFailed) CHECK(all_done);
    // No try was started twice, and nothing started after its task's success.
    std::map<std::string, int> starts;
    for (const auto& s : runner_.started()) {
      std::string index = MapIndex(s.request.log_path);
      std::string key = fmt::format("{}[{}]#{}", s.task_id, index, s.try_number);
      INFO("try " << key << " started again");
      CHECK(++starts[key] == 1);
    }
  }

  int checks() const { return checks_; }
  Timestamp now() const { return clock_.Now(); }

 private:
  fs::path dir_;
  std::string run_id_;
  std::shared_ptr<Dag> dag_;
  FakeClock clock_;
  FakeTryRunner runner_;
  std::unique_ptr<Store> real_;
  std::unique_ptr<FaultyStore> store_;
  int checks_ = 0;
};

// A fault-free run: its outcome, its writes, and the calls they were.
Outcome Baseline(int* writes, std::set<std::string>* calls, bool reads) {
  FaultHarness h;
  h.store().CountReads(reads);
  auto state = h.Run();
  REQUIRE(state);
  *writes = h.store().writes();
  calls->insert(h.store().calls().begin(), h.store().calls().end());
  return h.Read();
}

// `reads`: every call of the store, reads too, not only writes.
void EveryWrite(StoreFault fault, bool persistent, bool reads = false) {
  int writes = 0;
  std::set<std::string> calls;
  Outcome want = Baseline(&writes, &calls, reads);
  REQUIRE(want.state == RunState::kSuccess);
  REQUIRE(writes > 20);
  std::set<std::string> failed_calls;
  for (int n = 1; n <= writes; ++n) {
    FaultHarness h;
    h.store().CountReads(reads);
    h.store().FailWrite(n, fault, persistent, 4);
    StderrCapture err(h.dir() / "stderr");
    auto state = h.Run();
    std::string console = err.Restore();
    INFO(StoreFaultName(fault) << " at write " << n << " (" << h.store().failed_call()
                               << "); the console said:\n"
                               << console);
    REQUIRE(h.store().failed() > 0);
    failed_calls.insert(h.store().failed_call());
    REQUIRE(state);
    CHECK(*state == RunState::kSuccess);
    Outcome got = h.Read();
    INFO("want:\n" << Show(want) << "got:\n" << Show(got));
    CHECK(got == want);
    // Said on one line, naming the database and what went wrong (but for
    // the run's creation, which this test does, not the engine).
    std::string what = StoreFaultError(fault, h.store().failed_call()).message();
    if (h.store().failed_call() != "CreateDagRun") {
      CHECK(console.find(what + "; trying again\n") != std::string::npos);
      for (std::istringstream lines(console); std::getline(lines, what);)
        CHECK(what.rfind("dagctl run: ", 0) == 0);
    }
  }
  // Every kind of write of a run's life was hit.
  for (const std::string& call : calls) {
    INFO("no fault hit " << call);
    CHECK(failed_calls.count(call));
  }
  if (!reads)
    for (const char* call : {"CreateDagRun", "PutDagVersion", "UpdateHeldRun", "DecideTaskInstance",
                           "ReplaceTaskInstances", "ClaimTaskInstances", "ReportTry",
                           "AddCallback", "ClaimCallbacks", "FinishCallback", "commit"})
    CHECK(calls.count(call));
}

}  // namespace

TEST_CASE("store faults: a busy database at every write: the run goes on", "[faults]") {
  EveryWrite(StoreFault::kBusy, false);
}

TEST_CASE("store faults: a dropped connection at every write: the run goes on", "[faults]") {
  EveryWrite(StoreFault::kDropped, false);
}

TEST_CASE("store faults: a dropped connection at every call (reads too): the run goes on",
          "[faults]") {
  EveryWrite(StoreFault::kDropped, false, true);
}

TEST_CASE("store faults: a full disk from every write on: the run ends once there is room",
          "[faults]") {
  EveryWrite(StoreFault::kDiskFull, true);
}

TEST_CASE("store faults: I/O errors from every write on: the run ends once they stop",
          "[faults]") {
  EveryWrite(StoreFault::kIOError, true);
}

TEST_CASE("store faults: a failing store is retried with back-off and said once (no busy loop)",
          "[faults]") {
  FaultHarness h;
  // Thirty failed writes in a row, then the disk has room again.
  h.store().FailWrite(10, StoreFault::kDiskFull, true, 30);
  StderrCapture err(h.dir() / "stderr");
  auto state = h.Run();
  std::string console = err.Restore();
  INFO(console);
  REQUIRE(state);
  CHECK(*state == RunState::kSuccess);
  CHECK(h.store().failed() == 30);
  // Thirty failed passes took their back-off (0.1 s doubling to 2 s each), not a busy loop.
  CHECK(h.now() - ParseDateTime("2026-01-01T00:00:00").value() > seconds(40));
  // One line when it fails, one when it answers again; not one per attempt.
  size_t full = 0;
  for (size_t at = console.find("database or disk is full"); at != std::string::npos;
       at = console.find("database or disk is full", at + 1))
    ++full;
  CHECK(full >= 1);
  CHECK(full <= 3);
  CHECK(console.find("answers again") != std::string::npos);
}

TEST_CASE("store faults: PostgreSQL's connection cut before every write: the store reconnects and the run goes on",
          "[faults][postgres]") {
  fs::path scratch = fs::temp_directory_path() / ("dagctl_faults_pg_" + std::to_string(::getpid()));
  fs::remove_all(scratch);
  fs::create_directories(scratch);
  {
    PostgresServer server(scratch);
    if (!server.ok()) {
      WARN("no PostgreSQL server could be started here: skipped");
      fs::remove_all(scratch);
      return;
    }
    REQUIRE(server.CreateDatabase("faults"));
    const std::string url = server.Url("faults");
    auto killer = OpenPostgresConnection(url);
    REQUIRE(killer);
    int writes = 0;
    Outcome want;
    {
      FaultHarness h(url, "base", kPgDag);
      auto state = h.Run();
      REQUIRE(state);
      REQUIRE(*state == RunState::kSuccess);
      writes = h.store().writes();
      want = h.Read();
    }
    REQUIRE(writes > 20);
    for (int n = 1; n <= writes; ++n) {
      FaultHarness h(url, fmt::format("drop_{}", n), kPgDag);
      std::string cut_at;
      h.store().before_write = [&](int count, const char* call) {
        if (count != n) return;
        cut_at = call;
        auto r = (*killer)->Query(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = 'faults' "
            "AND pid <> pg_backend_pid()");
        REQUIRE(r);
      };
      StderrCapture err(h.dir() / "stderr");
      auto state = h.Run();
      std::string console = err.Restore();
      INFO("connection cut before write " << n << " (" << cut_at << "); the console said:\n"
                                          << console);
      REQUIRE(!cut_at.empty());
      REQUIRE(state);
      CHECK(*state == RunState::kSuccess);
      Outcome got = h.Read();
      INFO("want:\n" << Show(want) << "got:\n" << Show(got));
      CHECK(got == want);
      for (std::istringstream lines(console); std::getline(lines, cut_at);)
        CHECK(cut_at.rfind("dagctl", 0) == 0);
    }
  }
  fs::remove_all(scratch);
}
