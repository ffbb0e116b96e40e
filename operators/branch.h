// Branching: `branch` follows the task ids its command prints and skips the
// other direct downstream tasks; `short_circuit` skips everything downstream
// unless its command succeeds (Airflow's BranchPythonOperator and
// ShortCircuitOperator, with a shell command for the callable).
#pragma once

#include "operators/shell.h"

namespace dagctl {

/// Keys as `shell`. The last stdout line names the direct downstream task(s)
/// to follow, separated by commas or spaces; the others are skipped (and
/// what depends on them only, by their trigger rules). An empty line skips
/// them all; a name that is not a direct downstream task fails the try.
class BranchOperator : public ShellOperator {
 public:
  std::string name() const override { return "branch"; }
  TryOutcome Interpret(int exit_code, const std::string& return_value,
                       const std::vector<std::string>& downstream) const override;
};

/// Keys as `shell`. Exit 0: carry on. Exit 1: the condition is false; the
/// task succeeds and every task downstream of it is skipped. Exit 99:
/// skipped itself. Any other exit code fails the try.
class ShortCircuitOperator : public ShellOperator {
 public:
  std::string name() const override { return "short_circuit"; }
  TryOutcome Interpret(int exit_code, const std::string& return_value,
                       const std::vector<std::string>& downstream) const override;
};

}  // namespace dagctl
