// The names templates see during one try (SPEC §2 Templates).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "engine/dag.h"
#include "engine/store/store.h"
#include "engine/template.h"

namespace dagctl {

/// Resolves `ds`, `ts`, `params.X`, `xcom.T[.K]`, `var.X` ... for one try.
/// XCom is read from the store, and only from the task's upstream tasks.
class RunScope : public TemplateScope {
 public:
  /// `extra` adds or overrides plain names (a callback's `exception`, `state`).
  RunScope(const Dag& dag, const DagRunRecord& run, const Task& task, int try_number,
           const std::map<std::string, std::string>& params, Store& store,
           const std::map<std::string, std::string>& extra = {});

  Result<std::string> Lookup(const std::vector<std::string>& path) const override;

  /// Values looked up so far that must not show in logs: connection
  /// passwords, and variables whose names say they are secret.
  const std::vector<std::string>& secrets() const { return secrets_; }

 private:
  Result<std::string> XCom(const std::vector<std::string>& path) const;
  const std::map<std::string, std::string>& Vars() const;
  bool IsUpstream(const std::string& task_id) const;

  const Dag& dag_;
  const DagRunRecord& run_;
  const Task& task_;
  int try_number_;
  const std::map<std::string, std::string>& params_;
  Store& store_;
  std::map<std::string, std::string> extra_;
  mutable std::optional<std::map<std::string, std::string>> vars_;
  mutable std::vector<std::string> secrets_;
};

/// True for names Airflow treats as sensitive (password, secret, token,
/// api_key, private_key, passphrase, credential ...).
bool IsSensitiveName(const std::string& name);

/// Checks a run's conf (a JSON object) against the DAG's params: every key
/// must be a param, and its value of the default's type (integer, number,
/// boolean, string, list, map; a null default takes anything).
Status ValidateConf(const Dag& dag, const std::string& conf);

/// A conf object from `NAME=VALUE` pairs (`dagctl run --param`): values take
/// the type of the param's default when they read as it; then ValidateConf.
Result<std::string> ConfFromParamArgs(const Dag& dag, const std::vector<std::string>& pairs);

/// The run's params: the DAG's defaults overridden by the run's conf (a JSON
/// object). Lists and maps become JSON text. InvalidArgument when conf is not
/// a JSON object.
Result<std::map<std::string, std::string>> ResolveParams(const Dag& dag, const std::string& conf);

}  // namespace dagctl
