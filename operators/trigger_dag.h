// `trigger_dag`: queues a run of another DAG, optionally waiting for it.
#pragma once

#include "operators/operator.h"

namespace dagctl {

/// Keys: `trigger_dag_id` (required), `conf` (map; templates), `logical_date`
/// (default: now), `run_id`, `wait_for_completion` (false), `poke_interval`
/// (10s, while waiting). The run is queued for the scheduler through the
/// same code as `dagctl trigger`; waiting needs a scheduler running (set a
/// `timeout`). Waiting, a failed run fails the try. XCom `return_value`:
/// the triggered run's id.
class TriggerDagOperator : public Operator {
 public:
  std::string name() const override { return "trigger_dag"; }
  const std::vector<ParamSpec>& params() const override;
  Result<Launch> Prepare(const TryContext& ctx) const override;
};

}  // namespace dagctl
