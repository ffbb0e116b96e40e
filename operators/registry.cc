#include "operators/operator.h"
#include "operators/branch.h"
#include "operators/elasticsearch.h"
#include "operators/empty.h"
#include "operators/file_sensor.h"
#include "operators/hdfs.h"
#include "operators/http.h"
#include "operators/kafka.h"
#include "operators/redis.h"
#include "operators/shell.h"
#include "operators/spark_submit.h"
#include "operators/sql.h"
#include "operators/trigger_dag.h"

namespace dagctl {

TryOutcome SensorOutcome(int exit_code) {
  if (exit_code != kSensorNotYet) return StandardOutcome(exit_code);
  TryOutcome out;
  out.kind = TryOutcome::Kind::kNotYet;
  return out;
}

TryOutcome StandardOutcome(int exit_code) {
  TryOutcome out;
  if (exit_code == 99) out.kind = TryOutcome::Kind::kSkipped;
  else if (exit_code != 0) {
    out.kind = TryOutcome::Kind::kFailed;
    out.error = "exit code " + std::to_string(exit_code);
  }
  return out;
}

Status OperatorRegistry::Register(std::unique_ptr<Operator> op) {
  std::string name = op->name();
  if (ops_.count(name))
    return Fail(Error::AlreadyExists("operator '" + name + "' is already registered"));
  ops_.emplace(name, std::move(op));
  return {};
}

const Operator* OperatorRegistry::Find(const std::string& name) const {
  auto it = ops_.find(name);
  return it == ops_.end() ? nullptr : it->second.get();
}

std::unique_ptr<Operator> OperatorRegistry::Take(const std::string& name) {
  auto it = ops_.find(name);
  if (it == ops_.end()) return nullptr;
  auto op = std::move(it->second);
  ops_.erase(it);
  return op;
}

std::vector<std::string> OperatorRegistry::Names() const {
  std::vector<std::string> names;
  for (const auto& [name, op] : ops_) names.push_back(name);
  return names;
}

void RegisterBuiltinOperators(OperatorRegistry& registry) {
  (void)registry.Register(std::make_unique<ShellOperator>());
  (void)registry.Register(std::make_unique<EmptyOperator>());
  (void)registry.Register(std::make_unique<BranchOperator>());
  (void)registry.Register(std::make_unique<ShortCircuitOperator>());
  (void)registry.Register(std::make_unique<HttpOperator>());
  (void)registry.Register(std::make_unique<FileSensor>());
  (void)registry.Register(std::make_unique<HttpSensor>());
  (void)registry.Register(std::make_unique<SparkSubmitOperator>());
  (void)registry.Register(std::make_unique<RedisOperator>());
  (void)registry.Register(std::make_unique<ElasticsearchBulkOperator>());
  (void)registry.Register(std::make_unique<HdfsPutOperator>());
  (void)registry.Register(std::make_unique<HdfsMkdirOperator>());
  (void)registry.Register(std::make_unique<HdfsSensor>());
  (void)registry.Register(std::make_unique<KafkaProduceOperator>());
  (void)registry.Register(std::make_unique<SqlOperator>());
  (void)registry.Register(std::make_unique<SqlSensor>());
  (void)registry.Register(std::make_unique<TriggerDagOperator>());
}

}  // namespace dagctl
