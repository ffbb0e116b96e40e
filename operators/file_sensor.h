// `file_sensor`: waits until a glob matches at least one file.
#pragma once

#include "operators/operator.h"

namespace dagctl {

/// Keys: `filepath` (a glob or a list of globs; templates). Pokes every
/// `poke_interval` (mode poke or reschedule) until a pattern matches or
/// `timeout` runs out. XCom `return_value`: the matched paths, a JSON list.
class FileSensor : public Operator {
 public:
  std::string name() const override { return "file_sensor"; }
  const std::vector<ParamSpec>& params() const override;
  bool IsSensor() const override { return true; }
  Result<Launch> Prepare(const TryContext& ctx) const override;
  TryOutcome Interpret(int exit_code, const std::string& return_value,
                       const std::vector<std::string>& downstream) const override {
    (void)return_value, (void)downstream;
    return SensorOutcome(exit_code);
  }
};

}  // namespace dagctl
