// dagctl variables set|get|list|delete: Airflow's variables, in the store.
#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "cli/app.h"
#include "cli/args.h"
#include "cli/output.h"

namespace dagctl::cli {

int CmdVariables(App& app, const std::vector<std::string>& argv) {
  auto args = ParseOrReport({"variables", "set KEY VALUE | get KEY | list [--json] | delete KEY", {},
                             {"--json"}, 1, 3},
                            argv);
  if (!args) return kExitUsage;
  const auto& pos = args->positional;
  const std::string& verb = pos[0];
  size_t want = verb == "set" ? 3 : verb == "list" ? 1 : 2;
  if ((verb != "set" && verb != "get" && verb != "list" && verb != "delete") || pos.size() != want) {
    PrintError("usage: dagctl variables set KEY VALUE | get KEY | list [--json] | delete KEY");
    return kExitUsage;
  }
  Store* store = app.store();
  if (!store) return kExitFailed;
  if (verb == "set") {
    if (auto st = store->SetVariable(pos[1], pos[2]); !st) {
      PrintError(st.error().message());
      return kExitFailed;
    }
    return kExitOk;
  }
  if (verb == "get") {
    auto v = store->GetVariable(pos[1]);
    if (!v) {
      PrintError(v.error().message());
      return kExitFailed;
    }
    fmt::print("{}\n", *v);
    return kExitOk;
  }
  if (verb == "delete") {
    if (auto st = store->DeleteVariable(pos[1]); !st) {
      PrintError(st.error().message());
      return kExitFailed;
    }
    return kExitOk;
  }
  auto vars = store->ListVariables();
  if (!vars) {
    PrintError(vars.error().message());
    return kExitFailed;
  }
  if (args->Flag("--json")) {
    nlohmann::json out = {{"variables", nlohmann::json::array()}, {"total_entries", vars->size()}};
    for (const auto& [k, v] : *vars) out["variables"].push_back({{"key", k}, {"value", v}});
    PrintJson(out);
    return kExitOk;
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& [k, v] : *vars) rows.push_back({k, v});
  PrintTable({"key", "value"}, rows);
  return kExitOk;
}

}  // namespace dagctl::cli
