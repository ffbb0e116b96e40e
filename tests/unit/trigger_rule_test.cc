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

TEST_CASE("trigger rules decide from upstream states") {
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

TEST_CASE("a task with no upstream runs whatever its rule") {
  for (const std::string& name : TriggerRuleNames()) {
    INFO(name);
    CHECK(Evaluate(*ParseTriggerRule(name), Counts("")) == Verdict::kRun);
  }
}

TEST_CASE("trigger rule names round-trip") {
  CHECK(TriggerRuleNames().size() == 12);
  for (const std::string& name : TriggerRuleNames())
    CHECK(TriggerRuleName(*ParseTriggerRule(name)) == name);
  CHECK_FALSE(ParseTriggerRule("all_sucess"));
}
