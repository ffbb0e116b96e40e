// dagctl pools set|list|delete: the pools whose slots cap running tries.
#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "api/airflow_json.h"
#include "cli/app.h"
#include "cli/args.h"
#include "cli/output.h"
#include "engine/value.h"

namespace dagctl::cli {

namespace {

constexpr char kPoolsUsage[] =
    "usage: dagctl pools set NAME SLOTS [--description D] | list [--json] | delete NAME";

int ListPools(Store& store, bool json) {
  auto pools = store.ListPools();
  auto usage = pools ? store.CountPoolUsage() : Result<std::map<std::string, PoolUsage>>();
  if (!pools || !usage) {
    PrintError(!pools ? pools.error().message() : usage.error().message());
    return kExitFailed;
  }
  if (json) {
    nlohmann::json list = nlohmann::json::array();
    for (const PoolRecord& p : *pools) list.push_back(api::PoolJson(p, (*usage)[p.name]));
    PrintJson({{"pools", list}, {"total_entries", list.size()}});
    return kExitOk;
  }
  std::vector<std::vector<std::string>> rows;
  for (const PoolRecord& p : *pools) {
    const PoolUsage& u = (*usage)[p.name];
    rows.push_back({p.name, std::to_string(p.slots), std::to_string(u.running),
                    std::to_string(u.queued), std::to_string(u.scheduled),
                    std::to_string(p.slots - u.running - u.queued), p.description});
  }
  PrintTable({"pool", "slots", "running", "queued", "scheduled", "open", "description"}, rows);
  return kExitOk;
}

}  // namespace

int CmdPools(App& app, const std::vector<std::string>& argv) {
  auto args = ParseOrReport({"pools", "set NAME SLOTS [--description D] | list [--json] | delete NAME",
                             {"--description"}, {"--json"}, 1, 3},
                            argv);
  if (!args) return kExitUsage;
  const auto& pos = args->positional;
  const std::string& verb = pos[0];
  size_t want = verb == "set" ? 3 : verb == "list" ? 1 : 2;
  if ((verb != "set" && verb != "list" && verb != "delete") || pos.size() != want) {
    PrintError(kPoolsUsage);
    return kExitUsage;
  }
  if (verb != "set" && args->Option("--description")) {
    PrintError(fmt::format("--description is for 'pools set'\n{}", kPoolsUsage));
    return kExitUsage;
  }
  if (verb == "set") {
    auto slots = ScalarAsInt(pos[2]);
    if (!slots || *slots < 0 || *slots > INT32_MAX) {
      PrintError(fmt::format("pool slots must be a whole number from 0, not '{}'", pos[2]));
      return kExitUsage;
    }
    if (pos[1].empty() || pos[1].size() > 256) {
      PrintError("a pool name must be 1 to 256 characters long");
      return kExitUsage;
    }
  }
  Store* store = app.store();
  if (!store) return kExitFailed;
  if (verb == "list") return ListPools(*store, args->Flag("--json"));
  if (verb == "delete") {
    if (auto st = store->DeletePool(pos[1]); !st) {
      PrintError(st.error().message());
      return kExitFailed;
    }
    fmt::print("Pool {} deleted\n", pos[1]);
    return kExitOk;
  }
  PoolRecord pool{pos[1], static_cast<int>(*ScalarAsInt(pos[2])),
                  args->Option("--description").value_or("")};
  // A pool set again without --description keeps the one it has.
  if (!args->Option("--description")) {
    auto pools = store->ListPools();
    if (!pools) {
      PrintError(pools.error().message());
      return kExitFailed;
    }
    for (const PoolRecord& p : *pools)
      if (p.name == pool.name) pool.description = p.description;
  }
  if (auto st = store->SetPool(pool); !st) {
    PrintError(st.error().message());
    return kExitFailed;
  }
  fmt::print("Pool {} set to {} slot{}\n", pool.name, pool.slots, pool.slots == 1 ? "" : "s");
  return kExitOk;
}

}  // namespace dagctl::cli
