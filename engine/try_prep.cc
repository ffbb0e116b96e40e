#include "engine/try_prep.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>

#include "engine/run_scope.h"
#include "operators/operator.h"

namespace dagctl {

namespace {

// A template's failure with `message`: InvalidArgument, but for a store that
// failed (reading XCom), whose error keeps its code so the caller tries again.
Error Rewrapped(const Error& e, std::string message) {
  return Error(IsStoreFault(e) ? e.code() : Error::Code::kInvalidArgument, std::move(message));
}

// Renders every templated operator key: each string in it, however nested.
Result<Value> RenderParams(const Task& t, RunScope& scope) {
  Value rendered = t.params;
  for (MapEntry& e : rendered.entries) {
    auto spec = std::find_if(t.op->params().begin(), t.op->params().end(),
                             [&](const ParamSpec& s) { return s.name == e.key; });
    if (spec == t.op->params().end() || !spec->templated) continue;
    std::vector<Value*> todo{&e.value};
    while (!todo.empty()) {
      Value* v = todo.back();
      todo.pop_back();
      for (Value& item : v->items) todo.push_back(&item);
      for (MapEntry& kv : v->entries) todo.push_back(&kv.value);
      if (!v->IsScalar()) continue;
      auto r = RenderTemplate(v->scalar, scope);
      if (!r)
        return Fail(Rewrapped(r.error(), fmt::format("'{}': {}", e.key, r.error().message())));
      v->scalar = *r;
    }
  }
  return rendered;
}

}  // namespace

Result<TryRequest> PrepareCall(const TryCall& call, Store& store, const TryEnvironment& env) {
  const Task& t = call.task;
  RunScope scope(call.dag, call.run, call.scope_task, call.try_number, call.params, store,
                 call.extra);
  auto rendered = RenderParams(t, scope);
  if (!rendered) return Fail(rendered.error());
  TryRequest req;
  std::map<std::string, std::string> vars;
  for (const auto& [k, v] : t.env) {
    auto r = RenderTemplate(v, scope);
    if (!r)
      return Fail(Rewrapped(r.error(), fmt::format("env '{}': {}", k, r.error().message())));
    vars[k] = *r;
  }
  vars["AIRFLOW_CTX_DAG_ID"] = call.dag.dag_id;
  vars["AIRFLOW_CTX_TASK_ID"] = call.scope_task.id;
  vars["AIRFLOW_CTX_DAG_RUN_ID"] = call.run.run_id;
  vars["AIRFLOW_CTX_LOGICAL_DATE"] = FormatIso(call.run.logical_date);
  vars["AIRFLOW_CTX_TRY_NUMBER"] = std::to_string(call.try_number);
  // Where this dagctl keeps its state, for tasks that talk to it (trigger_dag).
  if (!env.home.empty()) vars["DAGCTL_HOME"] = env.home;
  if (!env.dags_dir.empty()) vars["DAGCTL_DAGS"] = env.dags_dir;
  if (!env.store_url.empty()) vars["DAGCTL_STORE"] = env.store_url;
  for (const auto& [k, v] : vars) req.env.push_back(k + "=" + v);
  for (const std::string& kv : env.env)
    if (!vars.count(kv.substr(0, kv.find('=')))) req.env.push_back(kv);

  TryContext ctx{*rendered, call.dag.dag_id, call.run.run_id, call.scope_task.id,
                 call.try_number};
  auto launch = call.after_downstream ? t.op->AfterDownstreamSuccess(ctx, *call.after_downstream)
                                      : t.op->Prepare(ctx);
  // The operator's own failure fails the try, whatever its code: only the
  // store's errors say "try again" (IsStoreFault).
  if (!launch)
    return Fail(IsStoreFault(launch.error()) ? Error::InvalidArgument(launch.error().message())
                                             : launch.error());
  req.secrets = scope.secrets();
  req.secrets.insert(req.secrets.end(), launch->secrets.begin(), launch->secrets.end());
  req.launch = std::move(*launch);
  // Tries run in the DAG file's folder unless the operator says otherwise.
  req.cwd = !call.folder.empty() ? call.folder
                                 : std::filesystem::absolute(call.dag.file).parent_path().string();
  req.timeout = t.timeout;
  return req;
}

}  // namespace dagctl
