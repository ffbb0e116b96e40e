#include "operators/branch.h"

#include <algorithm>
#include <sstream>

namespace dagctl {

TryOutcome BranchOperator::Interpret(int exit_code, const std::string& return_value,
                                     const std::vector<std::string>& downstream) const {
  TryOutcome out = StandardOutcome(exit_code);
  if (out.kind != TryOutcome::Kind::kSuccess) return out;
  std::string line = return_value;
  std::replace(line.begin(), line.end(), ',', ' ');
  std::istringstream in(line);
  std::vector<std::string> follow;
  for (std::string id; in >> id;) {
    if (std::find(downstream.begin(), downstream.end(), id) == downstream.end()) {
      std::string known;
      for (const auto& d : downstream) known += (known.empty() ? "" : ", ") + d;
      out.kind = TryOutcome::Kind::kFailed;
      out.error = "branch: '" + id + "' is not a direct downstream task (they are: " +
                  (known.empty() ? "none" : known) + ")";
      return out;
    }
    follow.push_back(id);
  }
  for (const auto& d : downstream)
    if (std::find(follow.begin(), follow.end(), d) == follow.end()) out.skip_downstream.push_back(d);
  return out;
}

TryOutcome ShortCircuitOperator::Interpret(int exit_code, const std::string& return_value,
                                           const std::vector<std::string>& downstream) const {
  (void)return_value, (void)downstream;
  if (exit_code == 1) {
    TryOutcome out;
    out.skip_all_downstream = true;
    return out;
  }
  return StandardOutcome(exit_code);
}

}  // namespace dagctl
