// `http`: one HTTP(S) request (cpp-httplib, TLS through OpenSSL), its status
// checked, optionally a value in its JSON response, the body saved to a file
// and pushed to XCom up to a size limit.
#pragma once

#include "operators/operator.h"

namespace dagctl {

/// Keys: `url`, or `conn_id` (an http/https connection) with `endpoint`;
/// `method` (GET), `headers` (map), `body`, `expected_status` (list; default
/// any 2xx), `response_check` ({path: JSON pointer, equals: value}),
/// `save_to` (file), `xcom_max_bytes` (65536). Strings are templates.
/// XCom `return_value`: the response body when within `xcom_max_bytes`.
class HttpOperator : public Operator {
 public:
  std::string name() const override { return "http"; }
  const std::vector<ParamSpec>& params() const override;
  void Validate(const Value& params, Diagnostics& diags) const override;
  Result<Launch> Prepare(const TryContext& ctx) const override;
};

/// `http_sensor`: the same request, poked until the status is expected and
/// the response_check holds (a refused connection or another status is "not
/// yet"). Sensor keys: poke_interval, mode, timeout, soft_fail.
class HttpSensor : public HttpOperator {
 public:
  std::string name() const override { return "http_sensor"; }
  bool IsSensor() const override { return true; }
};

}  // namespace dagctl
