// Trigger rules x upstream states, as Airflow decides them.
#include "engine/trigger_rule.h"

#include <catch2/catch.hpp>

using namespace dagctl;

namespace {

// Upstream states as letters: s success, f failed, u upstream_failed,
// k skipped, r still running (not finished).
UpstreamCounts Counts(const std::string& states) {
  UpstreamCounts c;
  c.total = static_cast<int>(states.size());
  for (char ch : states) {
    switch (ch) {
      case 's':
        c.Add(TaskState::kSuccess);
        break;
      case 'f':
        c.Add(TaskState::kFailed);
        break;
      case 'u':
        c.Add(TaskState::kUpstreamFailed);
        break;
      case 'k':
        c.Add(TaskState::kSkipped);
        break;
      default:
        break;
    }
  }
  return c;
}

const char* Name(Verdict v) {
  switch (v) {
    case Verdict::kWait:
      return "wait";
    case Verdict::kRun:
      return "run";
    case Verdict::kSkip:
      return "skip";
    case Verdict::kUpstreamFailed:
      return "upstream_failed";
  }
  return "?";
}

}  // namespace

TEST_CASE("trigger rules decide from upstream states", "[trigger_rule]") {
  struct Case {
    const char* rule;
    const char* upstream;
    const char* verdict;
  };
  const Case cases[] = {
      {"all_success", "ss", "run"},
      {"all_success", "sr", "wait"},
      {"all_success", "fr", "upstream_failed"},
      {"all_success", "ur", "upstream_failed"},
      {"all_success", "ks", "skip"},
      {"all_success", "kf", "upstream_failed"},
      {"all_failed", "ff", "run"},
      {"all_failed", "fu", "run"},
      {"all_failed", "fr", "wait"},
      {"all_failed", "fs", "skip"},
      {"all_failed", "fk", "skip"},
      {"all_done", "sfku", "run"},
      {"all_done", "sr", "wait"},
      {"all_done_min_one_success", "sf", "run"},
      {"all_done_min_one_success", "sr", "wait"},
      {"all_done_min_one_success", "ff", "upstream_failed"},
      {"all_done_min_one_success", "kk", "skip"},
      // From trigger_rule_dep.py's early decision: one skip skips at once.
      {"all_done_min_one_success", "kr", "skip"},
      {"all_done_min_one_success", "kf", "skip"},
      {"all_skipped", "kk", "run"},
      {"all_skipped", "kr", "wait"},
      {"all_skipped", "ks", "skip"},
      {"all_skipped", "kf", "skip"},
      {"one_success", "sr", "run"},
      {"one_success", "fr", "wait"},
      {"one_success", "ff", "upstream_failed"},
      {"one_success", "kk", "skip"},
      {"one_success", "kf", "upstream_failed"},
      {"one_failed", "fr", "run"},
      {"one_failed", "ur", "run"},
      {"one_failed", "sr", "wait"},
      {"one_failed", "sk", "skip"},
      {"one_done", "sr", "run"},
      {"one_done", "fr", "run"},
      {"one_done", "kr", "wait"},
      {"one_done", "ku", "skip"},
      {"none_failed", "sk", "run"},
      {"none_failed", "kk", "run"},
      {"none_failed", "sr", "wait"},
      {"none_failed", "fr", "upstream_failed"},
      {"none_failed", "ur", "upstream_failed"},
      {"none_failed_min_one_success", "sk", "run"},
      {"none_failed_min_one_success", "kk", "skip"},
      {"none_failed_min_one_success", "sf", "upstream_failed"},
      {"none_failed_min_one_success", "sr", "wait"},
      {"none_skipped", "sf", "run"},
      {"none_skipped", "su", "run"},
      {"none_skipped", "kr", "skip"},
      {"none_skipped", "sr", "wait"},
      {"always", "rr", "run"},
      {"always", "ff", "run"},
  };
  for (const Case& c : cases) {
    auto rule = ParseTriggerRule(c.rule);
    REQUIRE(rule);
    INFO(c.rule << " with upstream " << c.upstream);
    CHECK(std::string(Name(Evaluate(*rule, Counts(c.upstream)))) == c.verdict);
  }
}

TEST_CASE("a task with no upstream runs whatever its rule", "[trigger_rule]") {
  for (const std::string& name : TriggerRuleNames()) {
    INFO(name);
    CHECK(Evaluate(*ParseTriggerRule(name), Counts("")) == Verdict::kRun);
  }
}

TEST_CASE("trigger rule names round-trip", "[trigger_rule]") {
  CHECK(TriggerRuleNames().size() == 12);
  for (const std::string& name : TriggerRuleNames())
    CHECK(TriggerRuleName(*ParseTriggerRule(name)) == name);
  CHECK_FALSE(ParseTriggerRule("all_sucess"));
}

// Apache Airflow's own cases, from airflow-core/tests/unit/ti_deps/deps/test_trigger_rule_dep.py
// (class TestTriggerRuleDep). Each Airflow test fakes the upstream counts and runs
// TriggerRuleDep; a row here is its flag_upstream_failed=True variant, the one the scheduler
// uses: the state Airflow sets (skip, upstream_failed), else run if the dep passes, else wait.
//
// `total` is Airflow's `upstream`, the number of upstream tasks the test declares
// (normal_tasks, plus any unfinished EmptyOperator it adds). The one_* tests declare none and
// call the evaluation directly, so Airflow sees 0 upstreams, all of them done; here `total` is
// then the number of finished upstreams the test counts, which keeps "every upstream is done".
//
// Left out, as dagctl has no equivalent:
// - the `removed` state: test_one_success_tr_failure, test_mapped_task_upstream_removed_with_*;
// - setup/teardown tasks and `all_done_setup_success`: test_teardown_tr_not_all_done, the
//   TestTriggerRuleDepSetupConstraint class, test_setup_constraint_*, test_setup_mapped_*;
// - mapped tasks and groups: test_upstream_in_mapped_group_*, test_mapped_task_check_before_expand,
//   test_mapped_task_group_finished_upstream_before_expand;
// - wait_for_past_depends_before_skipping (depends_on_past):
//   test_all_success_tr_skip_wait_for_past_depends_before_skipping[_past_depends_met];
// - an unknown rule: test_unknown_tr (dagctl rejects the name when the DAG loads; see
//   "trigger rule names round-trip");
// - test_one_success_tr_success: it fakes done=2 beside 8 finished upstreams (1 success,
//   2 skipped, 3 failed, 2 upstream_failed) and expects SKIPPED only because done == skipped;
//   dagctl derives done from the states, and with done=8 Airflow runs the task.
TEST_CASE("trigger rules decide as Airflow's TriggerRuleDep tests expect", "[trigger_rule]") {
  struct Case {
    const char* rule;
    int total, success, failed, upstream_failed, skipped;
    const char* verdict;
    const char* airflow_test;
  };
  // rule, upstreams: total, success, failed, upstream_failed, skipped; verdict; Airflow's test.
  const Case cases[] = {
      // test_no_upstream_tasks, test_always_tr
      {"all_done", 0, 0, 0, 0, 0, "run", "test_no_upstream_tasks"},
      {"always", 1, 0, 0, 0, 0, "run", "test_always_tr"},
      // test_one_success_tr_*
      {"one_success", 2, 0, 0, 0, 2, "skip", "test_one_success_tr_failure_all_skipped"},
      // test_one_failure_tr_*. The two _success tests fake done=2 beside 4 finished upstreams;
      // one_failed runs on any failure, whatever done is.
      {"one_failed", 2, 2, 0, 0, 0, "skip", "test_one_failure_tr_failure"},
      {"one_failed", 4, 0, 2, 0, 2, "run", "test_one_failure_tr_success"},
      {"one_failed", 4, 0, 0, 2, 2, "run", "test_one_failure_tr_success_no_failed"},
      // test_one_done_tr_*
      {"one_done", 2, 2, 0, 0, 0, "run", "test_one_done_tr_success"},
      {"one_done", 2, 0, 2, 0, 0, "run", "test_one_done_tr_success_with_failed"},
      {"one_done", 2, 0, 0, 0, 2, "skip", "test_one_done_tr_skip"},
      {"one_done", 2, 0, 0, 2, 0, "skip", "test_one_done_tr_upstream_failed"},
      // test_all_success_tr_*
      {"all_success", 1, 1, 0, 0, 0, "run", "test_all_success_tr_success"},
      {"all_success", 2, 1, 1, 0, 0, "upstream_failed", "test_all_success_tr_failure"},
      {"all_success", 2, 1, 0, 0, 1, "skip", "test_all_success_tr_skip"},
      // test_none_failed_tr_*
      {"none_failed", 2, 1, 0, 0, 1, "run", "test_none_failed_tr_success"},
      {"none_failed", 3, 1, 1, 0, 1, "upstream_failed", "test_none_failed_tr_failure"},
      {"none_failed", 3, 1, 0, 1, 1, "upstream_failed",
       "test_none_failed_tr_failure_with_upstream_failure"},
      // test_none_failed_min_one_success_tr_*
      {"none_failed_min_one_success", 2, 1, 0, 0, 1, "run",
       "test_none_failed_min_one_success_tr_success"},
      {"none_failed_min_one_success", 2, 0, 0, 0, 2, "skip",
       "test_none_failed_min_one_success_tr_skipped"},
      {"none_failed_min_one_success", 3, 1, 1, 0, 1, "upstream_failed",
       "test_none_failed_min_one_success_tr_failure"},
      {"none_failed_min_one_success", 3, 1, 0, 1, 1, "upstream_failed",
       "test_none_failed_min_one_success_tr_upstream_failure"},
      // test_all_failed_tr_*
      {"all_failed", 2, 0, 2, 0, 0, "run", "test_all_failed_tr_success"},
      {"all_failed", 2, 2, 0, 0, 0, "skip", "test_all_failed_tr_failure"},
      // test_all_done_tr_* (the _failure test adds a second upstream that has not finished)
      {"all_done", 2, 2, 0, 0, 0, "run", "test_all_done_tr_success"},
      {"all_done", 2, 1, 0, 0, 0, "wait", "test_all_done_tr_failure"},
      // test_all_skipped_tr_*
      {"all_skipped", 1, 1, 0, 0, 0, "skip", "test_all_skipped_tr_failure"},
      {"all_skipped", 1, 0, 0, 1, 0, "skip", "test_all_skipped_tr_failure_upstream_failed"},
      {"all_skipped", 3, 0, 0, 0, 3, "run", "test_all_skipped_tr_success"},
      // test_none_skipped_tr_* (the _empty test adds one upstream that has not finished)
      {"none_skipped", 3, 2, 1, 0, 0, "run", "test_none_skipped_tr_success"},
      {"none_skipped", 2, 1, 0, 0, 1, "skip", "test_none_skipped_tr_failure"},
      {"none_skipped", 1, 0, 0, 0, 0, "wait", "test_none_skipped_tr_failure_empty"},
      // test_all_done_min_one_success_with_*
      {"all_done_min_one_success", 2, 1, 1, 0, 0, "run",
       "test_all_done_min_one_success_with_mixed_success_and_failure"},
      {"all_done_min_one_success", 2, 2, 0, 0, 0, "run",
       "test_all_done_min_one_success_with_all_successful_upstreams"},
      {"all_done_min_one_success", 2, 1, 0, 0, 1, "skip",
       "test_all_done_min_one_success_with_success_and_skipped_upstream"},
      {"all_done_min_one_success", 2, 0, 2, 0, 0, "upstream_failed",
       "test_all_done_min_one_success_with_all_failed_upstreams"},
      {"all_done_min_one_success", 1, 0, 0, 1, 0, "upstream_failed",
       "test_all_done_min_one_success_with_upstream_failed_cascade"},
  };
  for (const Case& c : cases) {
    auto rule = ParseTriggerRule(c.rule);
    REQUIRE(rule);
    UpstreamCounts up;
    up.total = c.total;
    up.success = c.success;
    up.failed = c.failed;
    up.upstream_failed = c.upstream_failed;
    up.skipped = c.skipped;
    INFO(c.airflow_test << ": " << c.rule);
    CHECK(std::string(Name(Evaluate(*rule, up))) == c.verdict);
  }
}

// Airflow's test_UpstreamTIStates: op1 >> (op2, op3) >> op4 and (op2, op3, op4) >> op5, with
// op1 success, op2 failed, op3 success, op4 success; each task counts its direct upstreams.
TEST_CASE("upstream counts tally finished upstreams as Airflow's _UpstreamTIStates does",
          "[trigger_rule]") {
  UpstreamCounts op2 = Counts("s");    // op1
  UpstreamCounts op4 = Counts("fs");   // op2, op3
  UpstreamCounts op5 = Counts("fss");  // op2, op3, op4
  CHECK((op2.success == 1 && op2.failed == 0 && op2.done() == 1));
  CHECK((op4.success == 1 && op4.failed == 1 && op4.done() == 2));
  CHECK((op5.success == 2 && op5.failed == 1 && op5.done() == 3));
  CHECK((op5.skipped == 0 && op5.upstream_failed == 0));
}
