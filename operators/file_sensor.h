// `file_sensor`: waits until a glob matches at least one file.
#pragma once

#include "operators/operator.h"

namespace dagctl {

/// Keys: `filepath` (a glob or a list of globs; templates). Pokes every
/// `poke_interval` (mode poke or reschedule) until a pattern matches or
/// `timeout` runs out. XCom `return_value`: the matched paths, a JSON list.
/// `after_downstream_success: delete` or `move` (with `move_to`, a folder):
/// once every direct downstream task has succeeded, the matched files are
/// deleted or moved there, like a spool directory.
class FileSensor : public Operator {
 public:
  std::string name() const override { return "file_sensor"; }
  const std::vector<ParamSpec>& params() const override;
  bool IsSensor() const override { return true; }
  Result<Launch> Prepare(const TryContext& ctx) const override;
  void Validate(const Value& params, Diagnostics& diags) const override;
  bool HasAfterDownstream(const Value& params) const override {
    return params.Find("after_downstream_success") != nullptr;
  }
  Result<Launch> AfterDownstreamSuccess(const TryContext& ctx,
                                        const std::string& return_value) const override;
};

}  // namespace dagctl
