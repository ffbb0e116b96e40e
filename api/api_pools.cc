// /pools: Airflow's pool endpoints (list, create, get, patch, delete), with
// the slots each pool's task instances hold.
#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "api/api_call.h"
#include "engine/text.h"

namespace dagctl::api {

namespace {

const std::set<std::string> kPoolFields = {"name", "slots", "description", "include_deferred"};

// Python's repr of a sorted list of names, as Airflow's messages print it.
std::string PyList(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& n : names) out += (out.empty() ? "'" : ", '") + n + "'";
  return "[" + out + "]";
}

Reply<json> MissingFields(const json& body) {
  std::vector<std::string> missing;
  for (const char* f : {"name", "slots"})
    if (!body.contains(f)) missing.push_back(f);
  if (missing.empty()) return json(nullptr);
  return BadRequest(fmt::format("Missing required property(ies): {}", PyList(missing)));
}

}  // namespace

// Validates a Pool body and applies it to `base`: every field it has, or
// only those of `mask` when one is given.
Reply<PoolRecord> Call::PoolFromBody(const json& body, PoolRecord base,
                                     const std::vector<std::string>& mask) {
  for (auto& [key, value] : body.items())
    if (!kPoolFields.count(key)) return BadRequest(fmt::format("{{'{}': ['Unknown field.']}}", Shorten(key)));
  if (body.contains("name") && (!body["name"].is_string() || body["name"].get<std::string>().empty() ||
                                body["name"].get<std::string>().size() > 256))
    return BadRequest("{'name': ['Not a valid string of 1 to 256 characters.']}");
  if (body.contains("slots") && (!body["slots"].is_number_integer() || body["slots"].get<int64_t>() < 0 ||
                                 body["slots"].get<int64_t>() > INT32_MAX))
    return BadRequest("{'slots': ['Not a valid whole number of 0 or more.']}");
  if (body.contains("description") && !body["description"].is_string() && !body["description"].is_null())
    return BadRequest("{'description': ['Not a valid string.']}");
  if (body.contains("include_deferred") && !body["include_deferred"].is_boolean())
    return BadRequest("{'include_deferred': ['Not a valid boolean.']}");
  auto wanted = [&](const char* f) {
    return body.contains(f) && (mask.empty() || std::find(mask.begin(), mask.end(), f) != mask.end());
  };
  for (const std::string& f : mask)
    if (!body.contains(f)) return BadRequest(fmt::format("'{}' is in update_mask but not in the body", f));
  if (wanted("name")) base.name = body["name"].get<std::string>();
  if (wanted("slots")) base.slots = static_cast<int>(body["slots"].get<int64_t>());
  if (wanted("description"))
    base.description = body["description"].is_null() ? "" : body["description"].get<std::string>();
  return base;
}

Reply<json> Call::ListPools() {
  auto limit = IntParam("limit", 100, 0, kMaxLimit);
  auto offset = IntParam("offset", 0, 0, INT32_MAX);
  if (!limit) return std::unexpected(limit.error());
  if (!offset) return std::unexpected(offset.error());
  std::string order = Params("order_by").empty() ? "id" : Params("order_by")[0];
  bool desc = order.starts_with("-");
  std::string field = desc ? order.substr(1) : order;
  if (field != "id" && field != "name" && field != "slots")
    return BadRequest(fmt::format("Ordering with '{}' is disallowed or the attribute does not exist "
                                  "on the model (use name, slots or id)",
                                  Shorten(field)));
  auto store = Db();
  if (!store) return std::unexpected(store.error());
  auto pools = (*store)->ListPools();
  if (!pools) return Internal(pools.error());
  auto usage = (*store)->CountPoolUsage();
  if (!usage) return Internal(usage.error());
  // Pools have no id here: "id" is the name order, with default_pool first (as it is Airflow's pool 1).
  std::stable_sort(pools->begin(), pools->end(), [&](const PoolRecord& a, const PoolRecord& b) {
    if (field == "slots") return desc ? a.slots > b.slots : a.slots < b.slots;
    if (field == "id" && (a.name == "default_pool") != (b.name == "default_pool"))
      return (a.name == "default_pool") != desc;
    return desc ? a.name > b.name : a.name < b.name;
  });
  json items = json::array();
  for (size_t i = *offset; i < pools->size() && items.size() < static_cast<size_t>(*limit); ++i)
    items.push_back(PoolJson((*pools)[i], (*usage)[(*pools)[i].name]));
  return json{{"pools", items}, {"total_entries", pools->size()}};
}

Reply<json> Call::GetPool(const std::string& name) {
  auto store = Db();
  if (!store) return std::unexpected(store.error());
  auto pools = (*store)->ListPools();
  if (!pools) return Internal(pools.error());
  for (const PoolRecord& p : *pools) {
    if (p.name != name) continue;
    auto usage = (*store)->CountPoolUsage();
    if (!usage) return Internal(usage.error());
    return PoolJson(p, (*usage)[p.name]);
  }
  return NotFound("Not Found", fmt::format("Pool with name:'{}' not found", Shorten(name)));
}

Reply<json> Call::PostPool() {
  auto body = Body();
  if (!body) return std::unexpected(body.error());
  if (auto missing = MissingFields(*body); !missing) return missing;
  auto pool = PoolFromBody(*body, PoolRecord{}, {});
  if (!pool) return std::unexpected(pool.error());
  auto store = Db();
  if (!store) return std::unexpected(store.error());
  if (auto st = (*store)->CreatePool(*pool); !st) {
    if (st.error().code() == Error::Code::kAlreadyExists)
      return std::unexpected(Problem{409, "Conflict", st.error().message()});
    return Internal(st.error());
  }
  return GetPool(pool->name);
}

Reply<json> Call::PatchPool(const std::string& name) {
  auto body = Body();
  if (!body) return std::unexpected(body.error());
  std::vector<std::string> mask;
  for (std::string f : Params("update_mask")) {
    f.erase(0, f.find_first_not_of(' '));
    f.erase(f.find_last_not_of(' ') + 1);
    if (!kPoolFields.count(f)) return BadRequest(fmt::format("Invalid field: {} in update mask", Shorten(f)));
    mask.push_back(f);
  }
  // Only slots (and include_deferred) of default_pool can change.
  bool slots_only = !mask.empty() && std::all_of(mask.begin(), mask.end(), [](const std::string& f) {
    return f == "slots" || f == "include_deferred";
  });
  bool keeps_name = body->contains("name") && (*body)["name"] == name;
  if (name == "default_pool" && !keeps_name && !slots_only)
    return BadRequest("Default Pool's name can't be modified");
  auto store = Db();
  if (!store) return std::unexpected(store.error());
  auto pools = (*store)->ListPools();
  if (!pools) return Internal(pools.error());
  auto it = std::find_if(pools->begin(), pools->end(), [&](const PoolRecord& p) { return p.name == name; });
  if (it == pools->end())
    return NotFound("Not Found", fmt::format("Pool with name:'{}' not found", Shorten(name)));
  if (mask.empty())
    if (auto missing = MissingFields(*body); !missing) return missing;
  auto pool = PoolFromBody(*body, *it, mask);
  if (!pool) return std::unexpected(pool.error());
  if (auto st = (*store)->UpdatePool(name, *pool); !st) {
    if (st.error().code() == Error::Code::kAlreadyExists)
      return std::unexpected(Problem{409, "Conflict", st.error().message()});
    if (st.error().IsNotFound()) return NotFound("Not Found", st.error().message());
    return Internal(st.error());
  }
  return GetPool(pool->name);
}

Reply<json> Call::DeletePool(const std::string& name) {
  if (name == "default_pool") return BadRequest("Default Pool can't be deleted");
  auto store = Db();
  if (!store) return std::unexpected(store.error());
  if (auto st = (*store)->DeletePool(name); !st) {
    if (st.error().IsNotFound())
      return NotFound("Not Found", fmt::format("Pool with name:'{}' not found", Shorten(name)));
    return Internal(st.error());
  }
  status_ = 204;
  return json(nullptr);
}

}  // namespace dagctl::api
