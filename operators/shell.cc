#include "operators/shell.h"

namespace dagctl {

const std::vector<ParamSpec>& ShellOperator::params() const {
  static const std::vector<ParamSpec> kParams = {
      {"command", ParamType::kString, true, true, "Script run with `bash -c`."},
      {"cwd", ParamType::kString, false, true,
       "Working directory (default: the DAG file's folder)."},
  };
  return kParams;
}

Result<Launch> ShellOperator::Prepare(const TryContext& ctx) const {
  const Value* command = ctx.params.Find("command");
  if (!command || !command->IsScalar())
    return Fail(Error::InvalidArgument("shell: 'command' is missing"));
  Launch launch;
  launch.argv = {"/bin/bash", "-c", command->scalar};
  if (const Value* cwd = ctx.params.Find("cwd"); cwd && cwd->IsScalar()) launch.cwd = cwd->scalar;
  return launch;
}

}  // namespace dagctl
