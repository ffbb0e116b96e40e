// The plan: finish a task, ask what is ready (pure; after ninja's build_test).
#include "engine/plan.h"

#include <catch2/catch.hpp>

#include "fakes/load.h"

using namespace dagctl;
using dagctl::testing::MustLoad;

namespace {

std::string Describe(const Dag& dag, const std::vector<Decision>& ds) {
  std::string out;
  for (const Decision& d : ds)
    out += (out.empty() ? "" : " ") + dag.tasks[d.task].id + "=" + TaskStateName(d.state);
  return out;
}

const char* kDiamond = R"(tasks:
  - {id: a, command: x}
  - {id: b, command: x, depends_on: a}
  - {id: c, command: x, depends_on: a}
  - {id: d, command: x, depends_on: [b, c]}
  - {id: cleanup, command: x, depends_on: d, trigger_rule: all_done}
)";

}  // namespace

TEST_CASE("roots are ready at start, downstream once upstream succeeds") {
  auto dag = MustLoad(kDiamond);
  Plan plan(*dag, std::vector<TaskState>(dag->tasks.size(), TaskState::kNone));
  CHECK(Describe(*dag, plan.Start()) == "a=scheduled");
  CHECK(Describe(*dag, plan.Finish(0, TaskState::kSuccess)) == "b=scheduled c=scheduled");
  CHECK(Describe(*dag, plan.Finish(1, TaskState::kSuccess)) == "");
  CHECK(Describe(*dag, plan.Finish(2, TaskState::kSuccess)) == "d=scheduled");
  CHECK_FALSE(plan.Done());
  CHECK(Describe(*dag, plan.Finish(3, TaskState::kSuccess)) == "cleanup=scheduled");
  plan.Finish(4, TaskState::kSuccess);
  CHECK(plan.Done());
  CHECK(plan.Outcome() == RunState::kSuccess);
}

TEST_CASE("a failure marks downstream upstream_failed at once but all_done still runs") {
  auto dag = MustLoad(kDiamond);
  Plan plan(*dag, std::vector<TaskState>(dag->tasks.size(), TaskState::kNone));
  plan.Start();
  plan.Finish(0, TaskState::kSuccess);
  CHECK(Describe(*dag, plan.Finish(1, TaskState::kFailed)) ==
        "d=upstream_failed cleanup=scheduled");
  plan.Finish(2, TaskState::kSuccess);
  plan.Finish(4, TaskState::kSuccess);
  CHECK(plan.Done());
  // The leaf (cleanup) succeeded: the run succeeds, as in Airflow.
  CHECK(plan.Outcome() == RunState::kSuccess);
}

TEST_CASE("a skip propagates through all_success downstreams") {
  auto dag = MustLoad(kDiamond);
  Plan plan(*dag, std::vector<TaskState>(dag->tasks.size(), TaskState::kNone));
  plan.Start();
  CHECK(Describe(*dag, plan.Finish(0, TaskState::kSkipped)) ==
        "b=skipped d=skipped cleanup=scheduled c=skipped");
}

TEST_CASE("a failed leaf fails the run") {
  auto dag = MustLoad("tasks:\n  - {id: a, command: x}\n  - {id: b, command: x}\n");
  Plan plan(*dag, std::vector<TaskState>(2, TaskState::kNone));
  CHECK(Describe(*dag, plan.Start()) == "a=scheduled b=scheduled");
  plan.Finish(0, TaskState::kSuccess);
  plan.Finish(1, TaskState::kFailed);
  CHECK(plan.Outcome() == RunState::kFailed);
}

TEST_CASE("a plan built from stored states resumes where the run was") {
  auto dag = MustLoad(kDiamond);
  std::vector<TaskState> states = {TaskState::kSuccess, TaskState::kSuccess, TaskState::kNone,
                                   TaskState::kNone, TaskState::kNone};
  Plan plan(*dag, states);
  CHECK(Describe(*dag, plan.Start()) == "c=scheduled");
  CHECK(Describe(*dag, plan.Finish(2, TaskState::kSuccess)) == "d=scheduled");
}

TEST_CASE("plan: a mapped task's instances each count as an upstream") {
  auto dag = MustLoad(R"(tasks:
  - {id: m, command: x, expand: {n: [1, 2, 3]}}
  - {id: all, depends_on: m, command: x}
  - {id: one, depends_on: m, trigger_rule: one_success, command: x}
  - {id: done, depends_on: m, trigger_rule: all_done, command: x}
)");
  Plan plan(*dag, std::vector<TaskState>(4, TaskState::kNone));
  auto start = plan.Start();
  REQUIRE(start.size() == 1);
  CHECK(start[0].task == 0);
  plan.Expanded(0, 3);
  CHECK(plan.IsExpanded(0));
  // The first success decides one_success at once; the others wait for all three.
  auto first = plan.FinishInstance(0, 1, TaskState::kSuccess);
  REQUIRE(first.size() == 1);
  CHECK(first[0].task == 2);
  CHECK(plan.FinishInstance(0, 1, TaskState::kFailed).empty());  // an instance ends once
  auto failed = plan.FinishInstance(0, 0, TaskState::kFailed);
  REQUIRE(failed.size() == 1);
  CHECK(failed[0].task == 1);
  CHECK(failed[0].state == TaskState::kUpstreamFailed);
  CHECK(plan.state(0) == TaskState::kScheduled);  // as decided, until the last instance ends
  auto last = plan.FinishInstance(0, 2, TaskState::kSuccess);
  REQUIRE(last.size() == 1);
  CHECK(last[0].task == 3);
  CHECK(plan.state(0) == TaskState::kFailed);

  // Rebuilt from stored states: three instances, two done.
  Plan again(*dag, {TaskState::kRunning, TaskState::kNone, TaskState::kNone, TaskState::kNone},
             {{TaskState::kSuccess, TaskState::kSuccess, TaskState::kRunning}, {}, {}, {}});
  auto decided = again.Start();
  REQUIRE(decided.size() == 1);
  CHECK(decided[0].task == 2);  // one_success
  CHECK(again.FinishInstance(0, 2, TaskState::kSkipped).size() == 2);  // all skips, done runs
  CHECK(again.state(0) == TaskState::kSuccess);
  CHECK(Plan::MappedOutcome({TaskState::kSkipped, TaskState::kSkipped}) == TaskState::kSkipped);
}
