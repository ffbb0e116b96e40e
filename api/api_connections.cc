// /connections: Airflow's connection CRUD over the store's connection table.
// The password is written, never read back (Airflow's schema has it
// write-only); an extra's sensitive keys come back masked, as Airflow's
// redact() masks them.
#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "api/api_call.h"
#include "engine/text.h"

namespace dagctl::api {

namespace {

// Airflow's answer for a connection id it does not have.
std::unexpected<Problem> ConnectionNotFound(const std::string& id) {
  return NotFound("Connection not found",
                  fmt::format("The Connection with connection_id: `{}` was not found", id));
}

// The stored connection `id`; Airflow's 404 when there is none.
Reply<ConnectionRecord> FindConnection(Store& store, const std::string& id) {
  auto c = store.GetConnection(id);
  if (c) return *c;
  if (c.error().IsNotFound()) return ConnectionNotFound(id);
  return Internal(c.error());
}

// Airflow's DEFAULT_SENSITIVE_FIELDS: keys whose values are masked.
bool Sensitive(std::string key) {
  for (char& c : key) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (const char* word :
       {"access_token", "api_key", "apikey", "authorization", "passphrase", "passwd", "password",
        "private_key", "secret", "token", "keyfile_dict", "service_account"})
    if (key.find(word) != std::string::npos) return true;
  return false;
}

void Redact(json& j) {
  if (j.is_object()) {
    for (auto& [key, value] : j.items()) {
      if (Sensitive(key) && !value.is_object() && !value.is_array())
        value = "***";
      else
        Redact(value);
    }
  } else if (j.is_array()) {
    for (json& v : j) Redact(v);
  }
}

json OrNull(const std::string& s) { return s.empty() ? json(nullptr) : json(s); }

json ItemJson(const ConnectionRecord& c) {
  return {{"connection_id", c.conn_id},
          {"conn_type", c.conn_type},
          {"description", OrNull(c.description)},
          {"host", OrNull(c.host)},
          {"login", OrNull(c.login)},
          {"schema", OrNull(c.schema)},
          {"port", c.port ? json(*c.port) : json(nullptr)}};
}

json ConnectionJson(const ConnectionRecord& c) {
  json j = ItemJson(c);
  if (c.extra.empty()) {
    j["extra"] = nullptr;
  } else {
    json extra = json::parse(c.extra, nullptr, false);
    if (extra.is_discarded()) {
      j["extra"] = c.extra;
    } else {
      Redact(extra);
      j["extra"] = extra.dump();
    }
  }
  return j;
}

// Airflow's validate_key: letters, digits, '-', '.', '_', at most 200.
bool ValidConnId(const std::string& id) {
  if (id.empty() || id.size() > 200) return false;
  for (char c : id)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '.' && c != '_')
      return false;
  return true;
}

const std::set<std::string> kFields = {"connection_id", "conn_type", "description", "host", "login",
                                       "schema",        "port",      "password",    "extra"};

// Applies the body's fields (those in `mask`, when one is given) to `c`.
Reply<bool> Apply(const json& body, ConnectionRecord& c, const std::vector<std::string>& mask) {
  for (auto& [key, value] : body.items())
    if (!kFields.count(key))
      return BadRequest(fmt::format("{{'{}': ['Unknown field.']}}", Shorten(key)));
  for (const std::string& f : mask)
    if (!kFields.count(f) || f == "connection_id")
      return BadRequest(fmt::format("'{}' is unknown or cannot be updated.", Shorten(f)));
  for (auto& [key, value] : body.items()) {
    if (key == "connection_id") continue;
    if (!mask.empty() && std::find(mask.begin(), mask.end(), key) == mask.end()) continue;
    if (key == "port") {
      if (value.is_null())
        c.port.reset();
      else if (value.is_number_integer())
        c.port = value.get<int>();
      else
        return BadRequest("{'port': ['Not a valid integer.']}");
      continue;
    }
    if (!value.is_null() && !value.is_string())
      return BadRequest(fmt::format("{{'{}': ['Not a valid string.']}}", key));
    std::string text = value.is_null() ? "" : value.get<std::string>();
    if (key == "conn_type")
      c.conn_type = text;
    else if (key == "description")
      c.description = text;
    else if (key == "host")
      c.host = text;
    else if (key == "login")
      c.login = text;
    else if (key == "schema")
      c.schema = text;
    else if (key == "password")
      c.password = text;
    else if (key == "extra") {
      if (!text.empty() && !json::parse(text, nullptr, false).is_object())
        return BadRequest("{'extra': ['Not a valid JSON object.']}");
      c.extra = text;
    }
  }
  return true;
}

}  // namespace

Reply<json> Call::ListConnections() {
  auto limit = IntParam("limit", 100, 0, kMaxLimit);
  auto offset = IntParam("offset", 0, 0, INT32_MAX);
  if (!limit) return std::unexpected(limit.error());
  if (!offset) return std::unexpected(offset.error());
  auto order = req_.query.count("order_by") ? req_.query.find("order_by")->second : "connection_id";
  bool desc = !order.empty() && order[0] == '-';
  std::string field = desc ? order.substr(1) : order;
  static const std::set<std::string> kSortable = {"connection_id", "conn_type", "description",
                                                  "host",          "port",      "id"};
  if (!kSortable.count(field))
    return BadRequest(
        fmt::format("Ordering with '{}' is disallowed or the attribute does not exist "
                    "on the model",
                    Shorten(order)));
  auto store = Db();
  if (!store) return std::unexpected(store.error());
  auto conns = (*store)->ListConnections();
  if (!conns) return Internal(conns.error());
  auto key = [&](const ConnectionRecord& c) -> std::string {
    if (field == "conn_type") return c.conn_type;
    if (field == "description") return c.description;
    if (field == "host") return c.host;
    if (field == "port") return fmt::format("{:08d}", c.port.value_or(-1) + 1);
    return c.conn_id;
  };
  std::stable_sort(conns->begin(), conns->end(), [&](const auto& a, const auto& b) {
    return desc ? key(b) < key(a) : key(a) < key(b);
  });
  json items = json::array();
  for (size_t i = *offset; i < conns->size() && items.size() < static_cast<size_t>(*limit); ++i)
    items.push_back(ItemJson((*conns)[i]));
  return json{{"connections", items}, {"total_entries", conns->size()}};
}

Reply<json> Call::PostConnection() {
  auto body = Body();
  if (!body) return std::unexpected(body.error());
  for (const char* f : {"connection_id", "conn_type"})
    if (!body->contains(f) || !(*body)[f].is_string())
      return BadRequest(fmt::format("{{'{}': ['Missing data for required field.']}}", f));
  ConnectionRecord c;
  c.conn_id = (*body)["connection_id"].get<std::string>();
  if (!ValidConnId(c.conn_id))
    return BadRequest(
        fmt::format("The key '{}' has to be made of alphanumeric characters, dashes, "
                    "dots and underscores exclusively",
                    Shorten(c.conn_id)));
  if (auto ok = Apply(*body, c, {}); !ok) return std::unexpected(ok.error());
  auto store = Db();
  if (!store) return std::unexpected(store.error());
  auto st = (*store)->CreateConnection(c);
  if (!st) {
    if (st.error().code() == Error::Code::kAlreadyExists)
      return std::unexpected(Problem{409, "Connection already exists",
                                     fmt::format("Connection already exist. ID: {}", c.conn_id)});
    return Internal(st.error());
  }
  return ConnectionJson(c);
}

Reply<json> Call::GetConnection(const std::string& id) {
  auto store = Db();
  if (!store) return std::unexpected(store.error());
  auto c = FindConnection(**store, id);
  if (!c) return std::unexpected(c.error());
  return ConnectionJson(*c);
}

Reply<json> Call::PatchConnection(const std::string& id) {
  auto body = Body();
  if (!body) return std::unexpected(body.error());
  auto store = Db();
  if (!store) return std::unexpected(store.error());
  auto c = FindConnection(**store, id);
  if (!c) return std::unexpected(c.error());
  if (body->contains("connection_id") &&
      (!(*body)["connection_id"].is_string() || (*body)["connection_id"].get<std::string>() != id))
    return BadRequest("The connection_id cannot be updated.");
  if (auto ok = Apply(*body, *c, Params("update_mask")); !ok) return std::unexpected(ok.error());
  if (auto st = (*store)->UpdateConnection(*c); !st) return Internal(st.error());
  return ConnectionJson(*c);
}

Reply<json> Call::DeleteConnection(const std::string& id) {
  auto store = Db();
  if (!store) return std::unexpected(store.error());
  auto st = (*store)->DeleteConnection(id);
  if (!st) {
    if (st.error().IsNotFound()) return ConnectionNotFound(id);
    return Internal(st.error());
  }
  status_ = 204;
  return json(nullptr);
}

// Airflow answers 403 unless [core] test_connection is Enabled; dagctl has
// no such switch: testing a connection from the server is off.
Reply<json> Call::TestConnection() {
  return std::unexpected(Problem{
      403, "Forbidden",
      "Testing connections is disabled in Airflow configuration. Contact your deployment admin to "
      "enable it."});
}

}  // namespace dagctl::api
