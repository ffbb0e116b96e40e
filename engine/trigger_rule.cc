#include "engine/trigger_rule.h"

#include <array>
#include <utility>

namespace dagctl {
namespace {

constexpr std::array<std::pair<TriggerRule, const char*>, 12> kRules = {{
    {TriggerRule::kAllSuccess, "all_success"},
    {TriggerRule::kAllFailed, "all_failed"},
    {TriggerRule::kAllDone, "all_done"},
    {TriggerRule::kAllDoneMinOneSuccess, "all_done_min_one_success"},
    {TriggerRule::kAllSkipped, "all_skipped"},
    {TriggerRule::kOneSuccess, "one_success"},
    {TriggerRule::kOneFailed, "one_failed"},
    {TriggerRule::kOneDone, "one_done"},
    {TriggerRule::kNoneFailed, "none_failed"},
    {TriggerRule::kNoneFailedMinOneSuccess, "none_failed_min_one_success"},
    {TriggerRule::kNoneSkipped, "none_skipped"},
    {TriggerRule::kAlways, "always"},
}};

}  // namespace

const char* TriggerRuleName(TriggerRule rule) {
  for (auto [r, name] : kRules)
    if (r == rule) return name;
  return "all_success";
}

std::optional<TriggerRule> ParseTriggerRule(const std::string& n) {
  for (auto [r, name] : kRules)
    if (n == name) return r;
  return std::nullopt;
}

std::vector<std::string> TriggerRuleNames() {
  std::vector<std::string> names;
  for (auto [r, name] : kRules) names.push_back(name);
  return names;
}

void UpstreamCounts::Add(TaskState s) {
  switch (s) {
    case TaskState::kSuccess:
      ++success;
      break;
    case TaskState::kFailed:
      ++failed;
      break;
    case TaskState::kUpstreamFailed:
      ++upstream_failed;
      break;
    case TaskState::kSkipped:
      ++skipped;
      break;
    default:
      break;
  }
}

Verdict Evaluate(TriggerRule rule, const UpstreamCounts& up) {
  if (up.total == 0) return Verdict::kRun;
  const bool all_done = up.done() >= up.total;
  const int failures = up.failed + up.upstream_failed;
  switch (rule) {
    case TriggerRule::kAllSuccess:
      if (failures) return Verdict::kUpstreamFailed;
      if (up.skipped) return Verdict::kSkip;
      return up.success == up.total ? Verdict::kRun : Verdict::kWait;
    case TriggerRule::kAllFailed:
      if (up.success || up.skipped) return Verdict::kSkip;
      return failures == up.total ? Verdict::kRun : Verdict::kWait;
    case TriggerRule::kAllDone:
      return all_done ? Verdict::kRun : Verdict::kWait;
    case TriggerRule::kAllDoneMinOneSuccess:
      // Airflow counts a skipped upstream as never done for this rule: one skip
      // skips the task at once, whatever the other upstreams did or still do.
      if (up.skipped) return Verdict::kSkip;
      if (!all_done) return Verdict::kWait;
      return up.success ? Verdict::kRun : Verdict::kUpstreamFailed;
    case TriggerRule::kAllSkipped:
      if (up.success || failures) return Verdict::kSkip;
      return up.skipped == up.total ? Verdict::kRun : Verdict::kWait;
    case TriggerRule::kOneSuccess:
      if (up.success) return Verdict::kRun;
      if (!all_done) return Verdict::kWait;
      return up.skipped == up.total ? Verdict::kSkip : Verdict::kUpstreamFailed;
    case TriggerRule::kOneFailed:
      if (failures) return Verdict::kRun;
      return all_done ? Verdict::kSkip : Verdict::kWait;
    case TriggerRule::kOneDone:
      if (up.success || up.failed) return Verdict::kRun;
      return all_done ? Verdict::kSkip : Verdict::kWait;
    case TriggerRule::kNoneFailed:
      if (failures) return Verdict::kUpstreamFailed;
      return all_done ? Verdict::kRun : Verdict::kWait;
    case TriggerRule::kNoneFailedMinOneSuccess:
      if (failures) return Verdict::kUpstreamFailed;
      if (up.skipped == up.total) return Verdict::kSkip;
      return all_done ? Verdict::kRun : Verdict::kWait;
    case TriggerRule::kNoneSkipped:
      if (up.skipped) return Verdict::kSkip;
      return all_done ? Verdict::kRun : Verdict::kWait;
    case TriggerRule::kAlways:
      return Verdict::kRun;
  }
  return Verdict::kWait;
}

}  // namespace dagctl
