// The POSIX runner with real processes: programs and in-process bodies, each
// in its own process, so a crash ends only its own try.
#include <catch2/catch.hpp>
#include <fcntl.h>
#include <fmt/format.h>
#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "engine/posix_try_runner.h"
#include "engine/try_outcome.h"

using namespace dagctl;
namespace fs = std::filesystem;

namespace {

TryResult RunOne(TryRunner& runner, TryRequest req) {
  req.id = 1;
  req.log_path = (fs::temp_directory_path() / ("dagctl_runner_" + std::to_string(::getpid()) + ".log")).string();
  fs::remove(req.log_path);
  REQUIRE(runner.Start(req));
  std::vector<TryResult> done;
  while (done.empty()) done = runner.Wait(std::nullopt);
  fs::remove(req.log_path);
  return done[0];
}

}  // namespace

TEST_CASE("a body runs in its own process: its XCom comes back, and a crash ends only it") {
  auto runner = MakePosixTryRunner({.kill_grace = std::chrono::seconds(1), .handle_stop_signals = false});
  TryRequest ok;
  ok.launch.body = [](TryChannel& ch) {
    ch.PushXCom("rows", "42");
    ch.PushXCom("return_value", "line one\nline two");
    return 0;
  };
  TryResult r = RunOne(*runner, ok);
  CHECK(r.exit_code == 0);
  REQUIRE(r.xcom.size() == 2);
  CHECK(r.xcom[0] == std::make_pair(std::string("rows"), std::string("42")));
  CHECK(r.xcom[1].second == "line one\nline two");

  TryRequest crash;
  crash.launch.body = [](TryChannel&) {
    // The default action, also under AddressSanitizer (whose handler would
    // report the signal and exit 1 instead).
    signal(SIGSEGV, SIG_DFL);
    raise(SIGSEGV);
    return 0;
  };
  TryResult c = RunOne(*runner, crash);
  CHECK(c.term_signal == SIGSEGV);
  CHECK(c.exit_code == -1);

  TryRequest prog;
  prog.launch.argv = {"/bin/bash", "-c", "echo first; echo; echo last; echo oops >&2; exit 3"};
  TryResult p = RunOne(*runner, prog);
  CHECK(p.exit_code == 3);
  CHECK(p.return_value == "last");
}

TEST_CASE("a kept try's outcome file holds its exit, last line and what its body pushed") {
  auto runner = MakePosixTryRunner({.kill_grace = std::chrono::seconds(1), .handle_stop_signals = false});
  fs::path dir = fs::temp_directory_path() / ("dagctl_outcome_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  std::string big(100000, 'x');  // more than a pipe's buffer and the keeper's read size
  TryRequest body;
  body.outcome_path = (dir / "attempt=1.outcome").string();
  body.outcome_tag = "1 7 123 w";
  body.launch.body = [&big](TryChannel& ch) {
    ch.PushXCom("rows", "42");
    ch.PushXCom("return_value", big);
    fmt::print("printed\n");
    return 0;
  };
  TryResult r = RunOne(*runner, body);
  CHECK(r.exit_code == 0);
  REQUIRE(r.xcom.size() == 2);
  CHECK(r.xcom[1].second == big);
  auto f = ReadTryOutcome(body.outcome_path);
  REQUIRE(f);
  CHECK(f->tag == "1 7 123 w");
  CHECK(f->exit_code == 0);
  CHECK(f->return_value == "printed");
  REQUIRE(f->xcom.size() == 2);
  CHECK(f->xcom[0] == std::make_pair(std::string("rows"), std::string("42")));
  CHECK(f->xcom[1].second == big);
  // Nothing but the outcome is left next to it.
  CHECK(std::distance(fs::directory_iterator(dir), fs::directory_iterator()) == 1);

  TryRequest prog;
  prog.outcome_path = (dir / "attempt=2.outcome").string();
  prog.outcome_tag = "2 8 124 w";
  prog.launch.argv = {"/bin/sh", "-c", "echo one; echo two; exit 4"};
  CHECK(RunOne(*runner, prog).exit_code == 4);
  auto p = ReadTryOutcome(prog.outcome_path);
  REQUIRE(p);
  CHECK(p->exit_code == 4);
  CHECK(p->return_value == "two");
  CHECK(p->xcom.empty());
  fs::remove_all(dir);
}

TEST_CASE("an outcome file that is not whole is refused") {
  fs::path path = fs::temp_directory_path() / ("dagctl_outcome_" + std::to_string(::getpid()));
  auto read = [&](const std::string& text) {
    std::ofstream(path, std::ios::binary) << text;
    auto f = ReadTryOutcome(path.string());
    fs::remove(path);
    return f;
  };
  CHECK(ReadTryOutcome(path.string()).error().code() == Error::Code::kNotFound);
  const std::string head = "dagctl-try-outcome 1\ntag 1 2 3 w\nexit 0\n";
  auto ok = read(head + "return_value 2\nhichannel 6\nk\t1\nvxend\n");
  REQUIRE(ok);
  CHECK(ok->return_value == "hi");
  REQUIRE(ok->xcom.size() == 1);
  CHECK(ok->xcom[0].second == "v");  // the channel's cut-off last value is left out
  for (std::string bad : {head + "return_value 2\nhi",                      // no end
                          head + "return_value 99\nhiend\n",                // longer than the file
                          head + "return_value 18446744073709551615\nend\n",  // overflow
                          head + "return_value x\nend\n",
                          head + "return_value 2\nhichannel 50\nk\t1\nvend\n",
                          head + "return_value 2\nhichannel\nend\n",
                          std::string("dagctl-try-outcome 1\ntag t\nquit 0\nreturn_value 0\nend\n"),
                          std::string("garbage")}) {
    INFO(bad);
    auto f = read(bad);
    REQUIRE_FALSE(f);
    CHECK(f.error().code() == Error::Code::kInvalidArgument);
  }
}

TEST_CASE("a try's keeper holds none of the engine's descriptors") {
  // A descriptor the engine leaves inheritable, above the first 1024: the
  // keeper closes it (the engine's database, its listening socket must not
  // outlive the engine in a keeper).
  int high = dup2(open("/dev/null", O_RDONLY | O_CLOEXEC), 1500);
  REQUIRE(high == 1500);
  auto runner = MakePosixTryRunner({.kill_grace = std::chrono::seconds(1), .handle_stop_signals = false});
  fs::path dir = fs::temp_directory_path() / ("dagctl_keeper_fds_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  auto keeper_fds = [&](TryRequest req) {
    req.id = 1;
    req.log_path = (dir / "attempt=1.log").string();
    req.outcome_path = (dir / "attempt=1.outcome").string();
    req.outcome_tag = "1 1 0 w";
    auto pid = runner->Start(req);
    REQUIRE(pid);
    std::string status = [&] {
      std::ifstream in("/proc/" + std::to_string(*pid) + "/status");
      return std::string(std::istreambuf_iterator<char>(in), {});
    }();
    auto at = status.find("PPid:\t");
    REQUIRE(at != std::string::npos);
    std::string keeper = std::to_string(std::atoi(status.c_str() + at + 6));
    // The keeper closes them once the try has started: look until it did
    // (or 5 s passed). A listing read while the keeper closes can miss
    // `high` yet still show lower ones, so the set taken is the listing
    // after the first one without `high`.
    auto list = [&] {
      std::set<int> fds;
      for (const auto& e : fs::directory_iterator("/proc/" + keeper + "/fd"))
        fds.insert(std::stoi(e.path().filename().string()));
      return fds;
    };
    for (int i = 0; i < 100 && list().count(high); ++i) usleep(50000);
    std::set<int> fds = list();
    runner->Kill(1);
    while (runner->Wait(std::nullopt).empty()) {
    }
    return fds;
  };
  TryRequest program;  // a program's keeper: dagctl-keeper when DAGCTL_KEEPER names it, else forked
  program.launch.argv = {"/bin/sleep", "30"};
  TryRequest body;  // an operator's body: its keeper is always forked
  body.launch.body = [](TryChannel&) { return sleep(30) == 0 ? 0 : 1; };
  for (const TryRequest& req : {program, body}) {
    std::set<int> fds = keeper_fds(req);
    INFO("keeper descriptors: " << fds.size());
    CHECK(fds.count(0) == 1);  // the keeper was alive when listed
    CHECK(fds.count(high) == 0);
    CHECK(fds.size() <= 3 + 5);  // stdio, the relayed pipes and the channel's copy
  }
  close(high);
  fs::remove_all(dir);
}
