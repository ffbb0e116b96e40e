#include "operators/trigger_dag.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cstdlib>
#include <nlohmann/json.hpp>
#include <thread>

#include "engine/dag_loader.h"
#include "engine/duration.h"
#include "engine/json_io.h"
#include "engine/runs.h"
#include "engine/clock.h"
#include "engine/store/sql_store.h"

namespace dagctl {

namespace {

std::string Scalar(const Value& p, const char* key, std::string fallback = "") {
  const Value* v = p.Find(key);
  return v && v->IsScalar() ? v->scalar : fallback;
}

nlohmann::json ConfJson(const Value& v) {
  nlohmann::json o = nlohmann::json::object();
  for (const MapEntry& e : v.entries) {
    const std::string& s = e.value.scalar;
    if (auto i = ScalarAsInt(s)) o[e.key] = *i;
    else if (auto d = ScalarAsDouble(s)) o[e.key] = *d;
    else if (auto b = ScalarAsBool(s)) o[e.key] = *b;
    else o[e.key] = s;
  }
  return o;
}

struct TriggerSpec {
  std::string dag_id, conf, run_id, logical_date;
  bool wait = false;
  Duration poke = std::chrono::seconds(10);
};

// Runs in the try's process: opens this dagctl's store and DAGs folder (from
// the try's environment) like `dagctl trigger` does.
int Trigger(const TriggerSpec& s, TryChannel& channel) {
  const char* home = std::getenv("DAGCTL_HOME");
  const char* dags = std::getenv("DAGCTL_DAGS");
  if (!home || !dags) {
    fmt::print(stderr, "trigger_dag: DAGCTL_HOME and DAGCTL_DAGS are not set for this try\n");
    return 1;
  }
  OperatorRegistry ops;
  RegisterBuiltinOperators(ops);
  DagBag bag = LoadDagFolder(dags, ops);
  const Dag* target = bag.Find(s.dag_id);
  if (!target) {
    fmt::print(stderr, "trigger_dag: no DAG '{}' in {}\n", s.dag_id, dags);
    return 1;
  }
  // The store this dagctl uses (DAGCTL_STORE, else HOME/dagctl.db).
  const char* url = std::getenv("DAGCTL_STORE");
  SystemClock clock;
  auto store = OpenStore(url ? url : "", home, clock);
  if (!store) {
    fmt::print(stderr, "trigger_dag: {}\n", store.error().message());
    return 1;
  }
  std::optional<Timestamp> logical;
  if (!s.logical_date.empty()) {
    auto t = ParseDateTime(s.logical_date, target->timezone);
    if (!t) {
      fmt::print(stderr, "trigger_dag: logical_date: {}\n", t.error().message());
      return 1;
    }
    logical = *t;
  }
  auto run = TriggerRun(**store, *target, logical, s.conf, s.run_id, NowUtc());
  if (!run) {
    fmt::print(stderr, "trigger_dag: {}\n", run.error().message());
    return 1;
  }
  fmt::print(stderr, "trigger_dag: queued {} of {}\n", run->run_id, s.dag_id);
  channel.PushXCom("return_value", run->run_id);
  while (s.wait) {
    std::this_thread::sleep_for(s.poke);
    auto now = (*store)->GetDagRun(s.dag_id, run->run_id);
    if (!now) continue;
    if (now->state == RunState::kSuccess) {
      fmt::print(stderr, "trigger_dag: {} succeeded\n", run->run_id);
      break;
    }
    if (now->state == RunState::kFailed) {
      fmt::print(stderr, "trigger_dag: {} failed\n", run->run_id);
      return 1;
    }
  }
  return 0;
}

}  // namespace

const std::vector<ParamSpec>& TriggerDagOperator::params() const {
  static const std::vector<ParamSpec> kParams = {
      {"trigger_dag_id", ParamType::kString, true, true, "The DAG to trigger."},
      {"conf", ParamType::kStringMap, false, true, "The run's conf."},
      {"logical_date", ParamType::kString, false, true, "Its logical date (default now)."},
      {"run_id", ParamType::kString, false, true, "Its run id (default manual__<date>)."},
      {"wait_for_completion", ParamType::kBool, false, false, "Wait for it to end (false)."},
      {"poke_interval", ParamType::kDuration, false, false, "How often to look while waiting (10s)."},
  };
  return kParams;
}

Result<Launch> TriggerDagOperator::Prepare(const TryContext& ctx) const {
  const Value& p = ctx.params;
  TriggerSpec s;
  s.dag_id = Scalar(p, "trigger_dag_id");
  s.conf = p.Find("conf") ? DumpJson(ConfJson(*p.Find("conf"))) : "{}";
  s.run_id = Scalar(p, "run_id");
  s.logical_date = Scalar(p, "logical_date");
  s.wait = ScalarAsBool(Scalar(p, "wait_for_completion", "false")).value_or(false);
  s.poke = ParseDuration(Scalar(p, "poke_interval", "10")).value_or(std::chrono::seconds(10));
  Launch launch;
  launch.body = [s](TryChannel& channel) { return Trigger(s, channel); };
  return launch;
}

}  // namespace dagctl
