// Airflow's trigger rules: when a task may run, given its direct upstreams' states.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "engine/task_state.h"

namespace dagctl {

enum class TriggerRule {
  kAllSuccess,
  kAllFailed,
  kAllDone,
  kAllDoneMinOneSuccess,
  kAllSkipped,
  kOneSuccess,
  kOneFailed,
  kOneDone,
  kNoneFailed,
  kNoneFailedMinOneSuccess,
  kNoneSkipped,
  kAlways,
};

/// Airflow's name (`all_success` ...).
const char* TriggerRuleName(TriggerRule rule);
/// Reads an Airflow name; nullopt for anything else.
std::optional<TriggerRule> ParseTriggerRule(const std::string& name);
/// Every rule's name, for hints and docs.
std::vector<std::string> TriggerRuleNames();

/// How many direct upstreams are in each finished state, and how many there are.
struct UpstreamCounts {
  int total = 0;
  int success = 0;
  int failed = 0;
  int upstream_failed = 0;
  int skipped = 0;

  int done() const { return success + failed + upstream_failed + skipped; }
  void Add(TaskState s);
};

/// What a trigger rule says about a task that has not started.
enum class Verdict { kWait, kRun, kSkip, kUpstreamFailed };

/// Applies `rule` to the counts, as Airflow 3's TriggerRuleDep does with
/// flag_upstream_failed (apache/airflow `ti_deps/deps/trigger_rule_dep.py`,
/// `_evaluate_direct_relatives`): kSkip or kUpstreamFailed where Airflow sets
/// that state, else kRun where its check passes, else kWait. A task may be
/// decided before all upstreams finish. A task with no upstream always runs.
Verdict Evaluate(TriggerRule rule, const UpstreamCounts& up);

}  // namespace dagctl
