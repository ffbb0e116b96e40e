// `shell`: runs `command` with `bash -c` in the try's own process group.
#pragma once

#include "operators/operator.h"

namespace dagctl {

/// Keys: `command` (required, templated), `cwd` (templated).
/// Exit 0 = success, 99 = skipped, else failed; the last non-empty stdout line
/// becomes the XCom `return_value` (collected by the engine).
class ShellOperator : public Operator {
 public:
  std::string name() const override { return "shell"; }
  const std::vector<ParamSpec>& params() const override;
  Result<Launch> Prepare(const TryContext& ctx) const override;
};

}  // namespace dagctl
