// `kafka_produce`: sends records with librdkafka's idempotent producer and
// waits for every delivery report.
#pragma once

#include "operators/operator.h"

namespace dagctl {

/// Keys: `topic` (required), `source` (a JSON-lines file: one record per
/// line) or `value` (one record), `key_field` (a field of each JSON record
/// used as its key), `conn_id` (a kafka connection: host:port, extra =
/// librdkafka settings) or `bootstrap_servers`, `config` (more librdkafka
/// settings). Strings are templates. Any failed delivery fails the try with
/// its reason. XCom `return_value`: the number of records delivered.
class KafkaProduceOperator : public Operator {
 public:
  std::string name() const override { return "kafka_produce"; }
  const std::vector<ParamSpec>& params() const override;
  void Validate(const Value& params, Diagnostics& diags) const override;
  Result<Launch> Prepare(const TryContext& ctx) const override;
};

}  // namespace dagctl
