// Turning one try of a task (or a callback) into a process to start: render
// its templated keys and env in the run's scope, and ask its operator.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "engine/dag.h"
#include "engine/store/store.h"
#include "engine/try_runner.h"

namespace dagctl {

/// What every try started by this process gets besides its own settings.
struct TryEnvironment {
  std::vector<std::string> env;  ///< Base environment (NAME=value).
  std::string home;              ///< DAGCTL_HOME for tries that talk to dagctl (trigger_dag).
  std::string dags_dir;          ///< DAGCTL_DAGS.
  std::string store_url;         ///< DAGCTL_STORE, when not the default.
};

/// One operator call to prepare.
struct TryCall {
  const Dag& dag;
  const DagRunRecord& run;
  const std::map<std::string, std::string>& params;  ///< The run's params.
  const Task& task;        ///< What to run: the task, or one of its callbacks.
  const Task& scope_task;  ///< Whose names templates see (the task a callback reports on).
  int try_number = 1;
  std::map<std::string, std::string> extra;  ///< More names (a callback's `exception` ...).
  const std::string* after_downstream = nullptr;  ///< The operator's after-downstream work, with this value.
  std::string folder;  ///< The DAG file's folder, absolute, if known (tries run there).
};

/// Renders and prepares `call`; XCom and variables are read from `store`.
/// InvalidArgument (naming the key) when a template cannot be rendered.
Result<TryRequest> PrepareCall(const TryCall& call, Store& store, const TryEnvironment& env);

}  // namespace dagctl
