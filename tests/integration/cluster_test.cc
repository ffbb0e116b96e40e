// Several dagctl processes on one PostgreSQL started for each test: schedulers
// and workers as separate processes (one of them, as root, in a network and
// UTS namespace of its own: another "machine"), killed, frozen and cut off at
// bad moments. What the store says afterwards is checked through the store.
#include <sys/wait.h>

#include <catch2/catch.hpp>
#include <fmt/format.h>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <thread>

#include "engine/clock.h"
#include "engine/dag_loader.h"
#include "engine/runs.h"
#include "engine/store/sql_store.h"
#include "integration/harness.h"
#include "operators/operator.h"
#include "support/postgres.h"

using dagctl::testing::Background;
using dagctl::testing::Output;
using dagctl::testing::PostgresServer;
using dagctl::testing::ReadFile;
using dagctl::testing::Sandbox;
using dagctl::testing::WaitFor;
using namespace dagctl;
namespace fs = std::filesystem;
using namespace std::chrono;

namespace {

int Sh(const std::string& cmd) { return WEXITSTATUS(std::system(cmd.c_str())); }

// A PostgreSQL server, a DAGs folder and a store connection for the test.
class Cluster {
 public:
  explicit Cluster(Sandbox& sb) : sb_(sb), pg_(sb.work()) {
    REQUIRE(pg_.ok());
    fs::create_directories(dags());
    ops_.reset(new OperatorRegistry);
    RegisterBuiltinOperators(*ops_);
  }
  PostgresServer& pg() { return pg_; }
  std::string url() const { return pg_.Url(); }
  std::string dags() const { return (sb_.work() / "dags").string(); }
  void AddDag(const std::string& name, const std::string& yaml) {
    std::ofstream(fs::path(dags()) / (name + ".yaml")) << yaml;
  }
  Store& store() {
    static SystemClock clock;
    if (!store_) {
      auto s = OpenStore(url(), sb_.home().string(), clock);
      REQUIRE(s);
      store_ = std::move(*s);
    }
    return *store_;
  }
  /// `dagctl ARGS` on this store in the background, logging to work/LOG.
  std::unique_ptr<Background> Start(const std::string& args, const std::string& log,
                                    const std::string& wrap = "") {
    return std::make_unique<Background>(sb_, args, dags(), "DAGCTL_STORE='" + url() + "'", log,
                                        wrap);
  }
  /// Queues `n` manual runs of `dag_id` (as `dagctl trigger` does).
  std::vector<std::string> Trigger(const std::string& dag_id, int n, const std::string& conf = "{}") {
    DagBag bag = LoadDagFolder(dags(), *ops_);
    const Dag* dag = bag.Find(dag_id);
    REQUIRE(dag);
    std::vector<std::string> ids;
    for (int i = 0; i < n; ++i) {
      auto run = TriggerRun(store(), *dag, std::nullopt, conf, fmt::format("manual__{}_{}", dag_id, i),
                            NowUtc());
      REQUIRE(run);
      ids.push_back(run->run_id);
    }
    return ids;
  }
  /// -1 when the store cannot answer now (a test may restart it).
  int RunsIn(const std::string& dag_id, RunState state) {
    return store().CountDagRuns({.dag_id = dag_id, .states = {state}}).value_or(-1);
  }
  Output Cli(const std::string& args, const std::string& home = "") {
    std::string h = home.empty() ? sb_.home().string() : home;
    std::string cmd = "DAGCTL_HOME='" + h + "' DAGCTL_STORE='" + url() + "' DAGCTL_DAGS='" + dags() +
                      "' " + DAGCTL_BIN + " " + args;
    Output o;
    std::string out = (sb_.work() / "cli.out").string();
    o.exit_code = WEXITSTATUS(std::system((cmd + " >" + out + " 2>&1").c_str()));
    o.out = ReadFile(out);
    return o;
  }

 private:
  Sandbox& sb_;
  PostgresServer pg_;
  std::unique_ptr<OperatorRegistry> ops_;
  std::unique_ptr<Store> store_;
};

// Every try of every task instance of `dag_id`, by run.
std::map<std::string, std::vector<TryRecord>> TriesOf(Store& s, const std::string& dag_id,
                                                      const std::string& task_id) {
  std::map<std::string, std::vector<TryRecord>> out;
  auto runs = s.ListDagRuns({.dag_id = dag_id, .limit = 100000}).value();
  for (const DagRunRecord& r : runs) out[r.run_id] = s.ListTries({dag_id, r.run_id, task_id, -1}).value();
  return out;
}

bool Alive(pid_t pid) { return fs::exists("/proc/" + std::to_string(pid)) &&
                               ReadFile("/proc/" + std::to_string(pid) + "/status").find("State:\tZ") ==
                                   std::string::npos; }

}  // namespace

TEST_CASE("two schedulers and three workers: one run per interval, every task once") {
  Sandbox sb;
  Cluster c(sb);
  // 40 one-minute intervals to catch up on, and 1,000 triggered runs at once.
  std::string start = FormatIso(floor<minutes>(NowUtc()) - minutes(40));
  c.AddDag("every_minute", "schedule: '* * * * *'\nstart_date: '" + start +
                               "'\ncatchup: true\nmax_active_runs: 64\ntasks:\n"
                               "  - {id: a, command: 'true'}\n"
                               "  - {id: b, command: 'true', depends_on: a}\n");
  c.AddDag("many", "max_active_runs: 1000\nmax_active_tasks: 64\ntasks:\n"
                   "  - {id: a, command: 'true'}\n  - {id: b, command: 'true', depends_on: a}\n");
  c.Trigger("many", 1000);
  std::vector<std::unique_ptr<Background>> procs;
  procs.push_back(c.Start("scheduler --no-worker", "s1.log"));
  procs.push_back(c.Start("scheduler --no-worker", "s2.log"));
  for (int w = 1; w <= 3; ++w)
    procs.push_back(c.Start("worker --slots 8 --name w" + std::to_string(w), "w" + std::to_string(w) + ".log"));
  bool done = WaitFor([&] {
    return c.RunsIn("many", RunState::kSuccess) == 1000 &&
           c.RunsIn("every_minute", RunState::kSuccess) >= 40 &&
           c.RunsIn("every_minute", RunState::kQueued) + c.RunsIn("every_minute", RunState::kRunning) == 0;
  }, 180);
  INFO(ReadFile(sb.work() / "s1.log").substr(0, 2000));
  REQUIRE(done);
  // Exactly one run per interval, whichever scheduler created it.
  auto runs = c.store().ListDagRuns({.dag_id = "every_minute", .limit = 1000}).value();
  std::set<Timestamp> dates;
  for (const auto& r : runs) dates.insert(r.logical_date);
  CHECK(dates.size() == runs.size());
  CHECK((runs.size() == 40 || runs.size() == 41));  // a minute may have turned meanwhile
  // Every task of every run ran exactly once, and more than one worker took part.
  std::set<std::string> workers;
  for (const char* dag : {"every_minute", "many"}) {
    for (const char* task : {"a", "b"}) {
      for (const auto& [run, tries] : TriesOf(c.store(), dag, task)) {
        INFO(dag << " " << run << " " << task);
        REQUIRE(tries.size() == 1);
        CHECK(tries[0].state == TaskState::kSuccess);
        workers.insert(tries[0].worker);
      }
    }
  }
  CHECK(workers.size() >= 2);
  Output list = c.Cli("workers");
  CHECK(list.out.find("w1") != std::string::npos);
  CHECK(list.out.find("w3") != std::string::npos);
}

TEST_CASE("kill -9 of a worker mid-try: another worker retries it, the orphans are gone") {
  Sandbox sb;
  Cluster c(sb);
  std::string dir = sb.work().string();
  c.AddDag("slow", "tasks:\n  - id: nap\n    retries: 1\n    retry_delay: 1s\n    command: |\n"
                   "      echo started try {{ try_number }} on $(hostname)\n"
                   "      if [ {{ try_number }} = 1 ]; then sleep 300 & echo $! > " + dir + "/orphan; wait; fi\n"
                   "      echo finished try {{ try_number }}\n");
  auto scheduler = c.Start("scheduler --no-worker --lease 3s", "s.log");
  auto w1 = c.Start("worker --name w1 --lease 3s", "w1.log");
  c.Trigger("slow", 1);
  REQUIRE(WaitFor([&] { return fs::exists(sb.work() / "orphan"); }, 20));
  // Logs are copied into the store every second while a try runs.
  std::this_thread::sleep_for(milliseconds(1500));
  pid_t orphan = std::stoi(ReadFile(sb.work() / "orphan"));
  REQUIRE(Alive(orphan));
  auto w2 = c.Start("worker --name w2 --lease 3s", "w2.log");
  auto killed_at = steady_clock::now();
  CHECK(w1->Signal(SIGKILL) == -SIGKILL);
  // The guardian ends the try's process group at once.
  CHECK(WaitFor([&] { return !Alive(orphan); }, 3));
  REQUIRE(WaitFor([&] { return c.RunsIn("slow", RunState::kSuccess) == 1; }, 20));
  // Retried within the lease plus a few seconds.
  CHECK(steady_clock::now() - killed_at < seconds(3 + 1 + 6));
  auto tries = TriesOf(c.store(), "slow", "nap").begin()->second;
  REQUIRE(tries.size() == 2);
  CHECK(tries[0].worker == "w1");
  CHECK(tries[0].state == TaskState::kFailed);
  CHECK(tries[0].error == "worker w1 on " + tries[0].hostname + " stopped renewing its lease");
  CHECK(tries[1].worker == "w2");
  CHECK(tries[1].state == TaskState::kSuccess);
  // The lost try's log is read from the store on any machine (another home
  // here: no log files of its own), with why it was lost.
  std::string run = c.store().ListDagRuns({.dag_id = "slow"}).value()[0].run_id;
  Output log = c.Cli("logs slow " + run + " nap --try 1", (sb.work() / "elsewhere").string());
  CHECK(log.out.find("started try 1 on") != std::string::npos);
  CHECK(log.out.find("try 1 was lost: worker w1 on") != std::string::npos);
  CHECK(dagctl::testing::Printed(log.out).find("finished try 1") == std::string::npos);
}

TEST_CASE("a frozen worker's try is stopped before its lease runs out, and its late result is discarded") {
  Sandbox sb;
  Cluster c(sb);
  std::string dir = sb.work().string();
  c.AddDag("frozen", "tasks:\n  - id: work\n    retries: 1\n    retry_delay: 1s\n    command: |\n"
                     "      if [ {{ try_number }} = 1 ]; then touch " + dir + "/started; sleep 6; touch " +
                     dir + "/late; fi\n      echo try {{ try_number }} done\n");
  auto scheduler = c.Start("scheduler --no-worker --lease 3s", "s.log");
  auto w1 = c.Start("worker --name w1 --lease 3s", "w1.log");
  c.Trigger("frozen", 1);
  REQUIRE(WaitFor([&] { return fs::exists(sb.work() / "started"); }, 20));
  auto w2 = c.Start("worker --name w2 --lease 3s", "w2.log");
  w1->Send(SIGSTOP);
  // Past the lease: the try was taken over and retried on w2.
  REQUIRE(WaitFor([&] { return c.RunsIn("frozen", RunState::kSuccess) == 1; }, 20));
  w1->Send(SIGCONT);
  std::this_thread::sleep_for(seconds(2));
  // The guardian stopped the frozen worker's try: it never finished its sleep.
  CHECK_FALSE(fs::exists(sb.work() / "late"));
  auto tries = TriesOf(c.store(), "frozen", "work").begin()->second;
  REQUIRE(tries.size() == 2);
  CHECK(tries[0].state == TaskState::kFailed);
  CHECK(tries[0].error.find("worker w1 on ") == 0);
  CHECK(tries[1].worker == "w2");
  CHECK(tries[1].state == TaskState::kSuccess);
  auto ti = c.store().ListTaskInstances("frozen", tries[0].run_id).value()[0];
  CHECK(ti.state == TaskState::kSuccess);
  CHECK(ti.try_number == 2);
  // w1 woke up, found it had lost the try, and said so; it is still a worker.
  std::string w1_log = sb.home().string() + "/logs/dag_id=frozen/run_id=" + tries[0].run_id +
                       "/task_id=work/attempt=1.log";
  CHECK(WaitFor([&] { return ReadFile(w1_log).find("result discarded") != std::string::npos ||
                             ReadFile(w1_log).find("lease lost") != std::string::npos; }, 15));
  CHECK(Alive(w1->pid()));
}

TEST_CASE("dagrun_timeout: a worker of its own stops the timed-out try at once, woken by the scheduler's NOTIFY") {
  Sandbox sb;
  Cluster c(sb);
  std::string pid_file = (sb.work() / "nap.pid").string();
  c.AddDag("slow", "dagrun_timeout: 2s\ntasks:\n  - id: nap\n    command: 'echo $$ > " + pid_file +
                       "; exec sleep 60'\n");
  auto scheduler = c.Start("scheduler --no-worker", "s.log");
  auto worker = c.Start("worker --name w1", "w1.log");  // a 30 s lease: renewed every 7.5 s
  std::string run = c.Trigger("slow", 1)[0];
  REQUIRE(WaitFor([&] { return !ReadFile(pid_file).empty(); }, 20));
  pid_t nap = std::stoi(ReadFile(pid_file));
  REQUIRE(WaitFor([&] { return c.RunsIn("slow", RunState::kFailed) == 1; }, 10));
  // Long before its next renewal would have found the lease gone.
  CHECK(WaitFor([&] { return !Alive(nap); }, 3));
  std::string why = "run timed out: still going 2s after it started (dagrun_timeout)";
  auto tries = TriesOf(c.store(), "slow", "nap")[run];
  REQUIRE(tries.size() == 1);
  CHECK(tries[0].state == TaskState::kSkipped);
  CHECK(tries[0].error == why);
  CHECK(WaitFor([&] { return c.Cli("logs slow " + run + " nap").out.find("try 1 stopped: " + why) !=
                             std::string::npos; }, 5));
  CHECK(Alive(worker->pid()));
}

TEST_CASE("kill -9 of one scheduler: the other takes its runs over and finishes them") {
  Sandbox sb;
  Cluster c(sb);
  c.AddDag("steps", "max_active_runs: 20\ntasks:\n  - {id: a, command: 'sleep 0.5'}\n"
                    "  - {id: b, command: 'sleep 0.5', depends_on: a}\n"
                    "  - {id: c, command: 'true', depends_on: b}\n");
  c.Trigger("steps", 10);
  auto s1 = c.Start("scheduler --no-worker --lease 3s", "s1.log");
  auto s2 = c.Start("scheduler --no-worker --lease 3s", "s2.log");
  auto w = c.Start("worker --slots 16 --name w1", "w.log");
  // Once every run is held, the scheduler holding the first one dies.
  std::string victim;
  REQUIRE(WaitFor([&] {
    auto runs = c.store().ListDagRuns({.dag_id = "steps"}).value();
    for (const auto& r : runs)
      if (r.owner.empty()) return false;
    victim = runs[0].owner;
    return true;
  }, 20));
  bool first = victim.ends_with(":" + std::to_string(s1->pid()));
  CHECK((first || victim.ends_with(":" + std::to_string(s2->pid()))));
  CHECK((first ? s1 : s2)->Signal(SIGKILL) == -SIGKILL);
  std::string survivor_log = first ? "s2.log" : "s1.log";
  REQUIRE(WaitFor([&] { return c.RunsIn("steps", RunState::kSuccess) == 10; }, 30));
  for (const char* task : {"a", "b", "c"})
    for (const auto& [run, tries] : TriesOf(c.store(), "steps", task)) CHECK(tries.size() == 1);
  CHECK(ReadFile(sb.work() / survivor_log).find("took over run") != std::string::npos);
}

TEST_CASE("PostgreSQL restarted mid-run: every process reconnects and every run finishes") {
  Sandbox sb;
  Cluster c(sb);
  c.AddDag("chain", "max_active_runs: 10\ntasks:\n  - {id: a, command: 'sleep 0.3'}\n"
                    "  - {id: b, command: 'sleep 0.3', depends_on: a}\n"
                    "  - {id: c, command: 'sleep 0.3', depends_on: b}\n"
                    "  - {id: d, command: 'sleep 0.3', depends_on: c}\n");
  auto s = c.Start("scheduler --no-worker", "s.log");
  auto w1 = c.Start("worker --name w1", "w1.log");
  auto w2 = c.Start("worker --name w2", "w2.log");
  c.Trigger("chain", 5);
  REQUIRE(WaitFor([&] { return c.RunsIn("chain", RunState::kRunning) > 0; }, 20));
  std::this_thread::sleep_for(milliseconds(400));
  c.pg().Stop();
  std::this_thread::sleep_for(seconds(2));
  REQUIRE(c.pg().Start());
  REQUIRE(WaitFor([&] { return c.RunsIn("chain", RunState::kSuccess) == 5; }, 60));
  for (const char* log : {"s.log", "w1.log", "w2.log"}) {
    INFO(log << ": " << ReadFile(sb.work() / log));
    CHECK(ReadFile(sb.work() / log).find("the metadata database answers again") != std::string::npos);
  }
}

TEST_CASE("queues route tasks to their workers, and a pool's slots hold across workers") {
  Sandbox sb;
  Cluster c(sb);
  REQUIRE(c.store().SetPool({"warehouse", 2, "two connections"}));
  std::string yaml = "max_active_tasks: 32\ntasks:\n"
                     "  - {id: spark, queue: spark, command: 'echo spark'}\n";
  for (int i = 0; i < 8; ++i)
    yaml += "  - {id: load" + std::to_string(i) + ", pool: warehouse, command: 'sleep 0.4'}\n";
  c.AddDag("routed", yaml);
  auto s = c.Start("scheduler --no-worker", "s.log");
  std::vector<std::unique_ptr<Background>> workers;
  // One slot each: two warehouse tasks at once take two workers.
  for (int w = 1; w <= 3; ++w)
    workers.push_back(c.Start("worker --slots 1 --name w" + std::to_string(w), "w" + std::to_string(w) + ".log"));
  auto spark = c.Start("worker --queues spark --name sparky", "spark.log");
  c.Trigger("routed", 1);
  REQUIRE(WaitFor([&] { return c.RunsIn("routed", RunState::kSuccess) == 1; }, 30));
  CHECK(TriesOf(c.store(), "routed", "spark").begin()->second.at(0).worker == "sparky");
  // At most two warehouse tasks at once, whatever worker ran them.
  std::vector<std::pair<Timestamp, int>> edges;
  std::set<std::string> used;
  for (int i = 0; i < 8; ++i) {
    auto t = TriesOf(c.store(), "routed", "load" + std::to_string(i)).begin()->second.at(0);
    CHECK(t.worker != "sparky");
    used.insert(t.worker);
    edges.push_back({t.start_date, +1});
    edges.push_back({*t.end_date, -1});
  }
  std::sort(edges.begin(), edges.end());
  int running = 0, peak = 0;
  for (auto [at, d] : edges) peak = std::max(peak, running += d);
  CHECK(peak == 2);
  CHECK(used.size() >= 2);
}

TEST_CASE("a mapped task's instances are spread over workers, and downstream reads all their values") {
  Sandbox sb;
  Cluster c(sb);
  c.AddDag("mapped", "max_active_tasks: 32\ntasks:\n"
                     "  - {id: each, expand: {n: [1, 2, 3, 4, 5, 6]}, command: 'sleep 0.3; echo v{{ n }}'}\n"
                     "  - {id: total, depends_on: each, command: \"echo '{{ xcom.each }}'\"}\n");
  auto s = c.Start("scheduler --no-worker", "s.log");
  auto w1 = c.Start("worker --slots 2 --name w1", "w1.log");
  auto w2 = c.Start("worker --slots 2 --name w2", "w2.log");
  std::string run_id = c.Trigger("mapped", 1)[0];
  REQUIRE(WaitFor([&] { return c.RunsIn("mapped", RunState::kSuccess) == 1; }, 30));
  std::set<std::string> workers;
  for (int k = 0; k < 6; ++k) {
    auto tries = c.store().ListTries({"mapped", run_id, "each", k}).value();
    REQUIRE(tries.size() == 1);
    CHECK(tries[0].state == TaskState::kSuccess);
    workers.insert(tries[0].worker);
  }
  CHECK(workers == std::set<std::string>{"w1", "w2"});
  CHECK(c.store().GetXCom("mapped", run_id, "total", "return_value").value() ==
        R"(["v1","v2","v3","v4","v5","v6"])");
}

TEST_CASE("a worker on another machine (its own network and host name) runs tries as itself") {
  if (::geteuid() != 0) {
    WARN("skipped: making another machine (network and UTS namespaces) needs root");
    return;
  }
  if (Sh("unshare --net --uts true 2>/dev/null") != 0) {
    WARN("skipped: this root cannot make network and UTS namespaces (unshare failed)");
    return;
  }
  Sandbox sb;
  // The other machine: a worker in network and UTS namespaces of its own,
  // joined to this one by a veth pair: 10.213.N.1 here, 10.213.N.2 there.
  std::string n = std::to_string(::getpid() % 250 + 1);
  std::string host_ip = "10.213." + n + ".1", peer_ip = "10.213." + n + ".2";
  std::string veth = "dv" + std::to_string(::getpid() % 100000);
  Sh("ip link del " + veth + "a 2>/dev/null");
  struct Cleanup {
    std::string veth;
    ~Cleanup() { Sh("ip link del " + veth + "a 2>/dev/null"); }
  } cleanup{veth};
  Cluster c(sb);
  REQUIRE(c.pg().AllowNetwork("10.213.0.0/16"));
  c.AddDag("remote", "tasks:\n  - {id: where, queue: remote, command: 'hostname'}\n"
                     "  - {id: after, depends_on: where, command: 'echo ran on {{ xcom.where }}'}\n");
  auto s = c.Start("serve --port 0 --queues default", "serve.log");
  // The machine itself: a process holding the namespaces, with its host name.
  struct Machine {
    pid_t pid = fork();
    Machine() {
      if (pid == 0) {
        execlp("unshare", "unshare", "--net", "--uts", "sh", "-c",
               "hostname machine-b && exec sleep 600", nullptr);
        _exit(127);
      }
    }
    ~Machine() {
      kill(pid, SIGKILL);
      waitpid(pid, nullptr, 0);
    }
  } machine;
  std::string pid = std::to_string(machine.pid);
  REQUIRE(WaitFor([&] { return Sh("nsenter --uts -t " + pid + " hostname | grep -q machine-b") == 0; }, 5));
  std::string there = "nsenter --net -t " + pid + " ";
  REQUIRE(Sh("ip link add " + veth + "a type veth peer name " + veth + "b netns " + pid +
             " && ip addr add " + host_ip + "/30 dev " + veth + "a && ip link set " + veth +
             "a up && " + there + "ip addr add " + peer_ip + "/30 dev " + veth + "b && " + there +
             "ip link set " + veth + "b up && " + there + "ip link set lo up") == 0);
  // PostgreSQL listens on this machine's end of the pair too.
  REQUIRE(c.pg().ListenAlso(host_ip));
  std::string remote_url =
      "postgresql://etl:s3cret@" + host_ip + ":" + std::to_string(c.pg().port()) + "/postgres";
  auto remote = std::make_unique<Background>(sb, "worker --queues remote --name far", c.dags(),
                                             "DAGCTL_STORE='" + remote_url + "'", "far.log",
                                             "nsenter --net --uts -t " + pid);
  c.Trigger("remote", 1);
  bool done = WaitFor([&] { return c.RunsIn("remote", RunState::kSuccess) == 1; }, 30);
  INFO(ReadFile(sb.work() / "far.log"));
  INFO(ReadFile(sb.work() / "serve.log"));
  REQUIRE(done);
  auto where = TriesOf(c.store(), "remote", "where").begin()->second.at(0);
  CHECK(where.worker == "far");
  CHECK(where.hostname == "machine-b");
  CHECK(c.store().GetXCom("remote", where.run_id, "where", "return_value").value() == "machine-b");
  auto after = TriesOf(c.store(), "remote", "after").begin()->second.at(0);
  CHECK(after.hostname != "machine-b");  // the default queue: the serve process here
  CHECK(c.Cli("workers").out.find("machine-b") != std::string::npos);
}

TEST_CASE("dagctl logs --follow of a try on another worker reads the shipped chunks and ends with the try") {
  Sandbox sb;
  Cluster c(sb);
  c.AddDag("ticker", "tasks:\n  - id: tick\n    command: |\n"
                     "      for i in 1 2 3 4 5 6 7 8 9 10; do echo tick $i; sleep 0.3; done\n");
  auto scheduler = c.Start("scheduler --no-worker", "s.log");
  auto w1 = c.Start("worker --name w1", "w1.log");
  std::string run = c.Trigger("ticker", 1)[0];
  // Another home: this "machine" has no log files, only the store's copy.
  std::string elsewhere = (sb.work() / "elsewhere").string();
  REQUIRE(WaitFor([&] { return c.Cli("logs ticker " + run + " tick", elsewhere).out.find("tick 1") != std::string::npos; }, 20));
  Output f = c.Cli("logs ticker " + run + " tick --follow", elsewhere);
  INFO(f.out);
  CHECK(f.exit_code == 0);
  for (int i = 1; i <= 10; ++i) CHECK(f.out.find("[out] tick " + std::to_string(i) + "\n") != std::string::npos);
  CHECK(std::regex_search(f.out, std::regex(R"(\[dagctl\] end: exit code 0, duration \S+, state success\n$)")));
  CHECK(c.store().ListTaskInstances("ticker", run).value()[0].state == TaskState::kSuccess);
}

TEST_CASE("a wrong store URL, a refused connection and bad credentials are one clear line each") {
  Sandbox sb;
  auto one_line = [&](const std::string& url, const std::string& want) {
    Output o = sb.Dagctl("--store '" + url + "' list");
    INFO(o.err);
    CHECK(o.exit_code == 1);
    CHECK(std::count(o.err.begin(), o.err.end(), '\n') == 1);
    CHECK(o.err.find(want) != std::string::npos);
    CHECK(o.err.find("s3cret") == std::string::npos);
  };
  one_line("mysql://etl:s3cret@db/x", "is not a store dagctl knows: use sqlite:///PATH");
  one_line("postgresql://etl:s3cret@127.0.0.1:1/x",
           "dagctl: cannot connect to the metadata database postgresql://etl:***@127.0.0.1:1/x: ");
  Cluster c(sb);
  std::string wrong = "postgresql://etl:nope@127.0.0.1:" + std::to_string(c.pg().port()) + "/postgres";
  Output o = sb.Dagctl("--store '" + wrong + "' list");
  CHECK(o.exit_code == 1);
  CHECK(o.err.find("password authentication failed for user \"etl\"") != std::string::npos);
  CHECK(std::count(o.err.begin(), o.err.end(), '\n') == 1);
}

TEST_CASE("dagctl workers lists the live workers, in JSON too, whatever bytes their names hold") {
  Sandbox sb;
  {
    static SystemClock clock;
    fs::create_directories(sb.home());
    auto store = OpenStore("", sb.home().string(), clock);
    REQUIRE(store);
    Timestamp now = (*store)->Now().value();
    REQUIRE((*store)->WorkerHeartbeat({"w\xff" "1", "node-a", {"default"}, 4, 1, now, now}));
  }
  Output table = sb.Dagctl("workers");
  CHECK(table.exit_code == 0);
  CHECK(table.out.find("node-a") != std::string::npos);
  CHECK(table.out.find("1/4") != std::string::npos);
  Output json = sb.Dagctl("workers --json");
  REQUIRE(json.exit_code == 0);
  auto parsed = nlohmann::json::parse(json.out);
  CHECK(parsed["total_entries"] == 1);
  CHECK(parsed["workers"][0]["name"] == "w\xef\xbf\xbd" "1");  // U+FFFD for the stray byte
}
