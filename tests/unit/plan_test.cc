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
