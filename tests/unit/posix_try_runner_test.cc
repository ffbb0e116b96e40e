// The POSIX runner with real processes: programs and in-process bodies, each
// in its own process, so a crash ends only its own try.
#include <catch2/catch.hpp>
#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "engine/posix_try_runner.h"

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
