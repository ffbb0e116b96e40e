// `spark_submit`: builds the spark-submit command line and runs it in the
// try's process group (so a timeout ends the driver too), reporting the
// application id.
#pragma once

#include "engine/connection.h"
#include "operators/operator.h"

namespace dagctl {

/// Keys: `application` (required; the jar or .py), `master` (local[*]),
/// `deploy_mode`, `name`, `java_class`, `conf` (map -> --conf k=v), `jars`,
/// `py_files`, `files` (lists), `driver_memory`, `executor_memory`,
/// `executor_cores`, `num_executors`, `application_args` (list),
/// `spark_binary` (spark-submit, looked up on PATH), `conn_id` (a spark
/// connection; `spark_default` when defined), `local_command` (run with
/// bash -c instead when spark-submit is not installed). Strings are templates.
/// XCom `return_value`: the application id spark-submit reported
/// (application_... on YARN, app-... or local-... otherwise), if any.
class SparkSubmitOperator : public Operator {
 public:
  std::string name() const override { return "spark_submit"; }
  const std::vector<ParamSpec>& params() const override;
  Result<Launch> Prepare(const TryContext& ctx) const override;
};

/// The spark-submit argv for rendered `params`; a connection's settings
/// (extra `master`, else spark://host:port; `deploy-mode`, `spark_binary`,
/// `queue`) are the defaults the keys override. Exposed for tests.
std::vector<std::string> SparkSubmitArgv(const Value& params, const Connection* conn = nullptr);

}  // namespace dagctl
