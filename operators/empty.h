// `empty`: does nothing and succeeds (Airflow's EmptyOperator); for joins,
// fan-ins and placeholders. Starts no process.
#pragma once

#include "operators/operator.h"

namespace dagctl {

class EmptyOperator : public Operator {
 public:
  std::string name() const override { return "empty"; }
  const std::vector<ParamSpec>& params() const override {
    static const std::vector<ParamSpec> kNone;
    return kNone;
  }
  Result<Launch> Prepare(const TryContext&) const override { return Launch{}; }
};

}  // namespace dagctl
