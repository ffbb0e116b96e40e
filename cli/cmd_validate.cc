// dagctl validate [PATH...]: load and check DAG files, print every error.
#include <fmt/format.h>

#include <filesystem>

#include "cli/app.h"
#include "cli/args.h"

namespace dagctl::cli {

namespace fs = std::filesystem;

namespace {

// Loads a folder (recursively) or one file; prints errors; counts what loaded.
bool ValidatePath(App& app, const std::string& path, int* dags, int* tasks) {
  std::vector<std::shared_ptr<const Dag>> loaded;
  std::vector<ImportError> errors;
  if (fs::is_directory(path)) {
    DagBag bag = LoadDagFolder(path, app.operators());
    loaded = bag.dags;
    errors = bag.errors;
  } else {
    Diagnostics diags(path);
    if (auto dag = LoadDagFile(path, app.operators(), diags))
      loaded.push_back(dag);
    else
      errors.push_back({path, diags.list()});
  }
  for (const ImportError& e : errors)
    for (const Diagnostic& d : e.diagnostics) fmt::print(stderr, "{}\n", d.ToString());
  for (const auto& d : loaded) {
    ++*dags;
    *tasks += static_cast<int>(d->tasks.size());
  }
  return errors.empty();
}

}  // namespace

int CmdValidate(App& app, const std::vector<std::string>& argv) {
  CommandSpec spec{"validate", "[PATH...]", {}, {}, 0, SIZE_MAX};
  auto args = ParseOrReport(spec, argv);
  if (!args) return kExitUsage;
  std::vector<std::string> paths = args->positional;
  if (paths.empty()) paths.push_back(app.dags_dir());
  bool ok = true;
  int dags = 0, tasks = 0;
  for (const std::string& p : paths) ok = ValidatePath(app, p, &dags, &tasks) && ok;
  if (!ok) return kExitUsage;
  fmt::print("OK: {} DAG{}, {} task{}\n", dags, dags == 1 ? "" : "s", tasks, tasks == 1 ? "" : "s");
  return kExitOk;
}

}  // namespace dagctl::cli
