#include "engine/connection.h"

#include <fmt/format.h>

#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <nlohmann/json.hpp>

#include "engine/limits.h"
#include "engine/text.h"
#include "engine/value.h"
#include "engine/yaml_reader.h"

namespace dagctl {

namespace {

std::string PercentDecode(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out += static_cast<char>(std::strtol(s.substr(i + 1, 2).c_str(), nullptr, 16));
      i += 2;
    } else if (s[i] == '+') {
      out += ' ';
    } else {
      out += s[i];
    }
  }
  return out;
}

std::string JsonEscape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (static_cast<unsigned char>(c) < 0x20) {
      out += fmt::format("\\u{:04x}", c);
      continue;
    }
    out += c;
  }
  return out;
}

// Splits `host:port` (or `[v6]:port`) into conn.host and conn.port.
Status ParseHostPort(const std::string& hostport, Connection& conn) {
  std::string host = hostport;
  std::string port;
  if (!host.empty() && host[0] == '[') {
    auto close = host.find(']');
    if (close == std::string::npos) return Fail(Error::InvalidArgument("unclosed '[' in host"));
    if (close + 1 < host.size() && host[close + 1] == ':') port = host.substr(close + 2);
    host = host.substr(1, close - 1);
  } else if (auto colon = host.rfind(':'); colon != std::string::npos) {
    port = host.substr(colon + 1);
    host = host.substr(0, colon);
  }
  conn.host = PercentDecode(host);
  if (!port.empty()) {
    auto p = ScalarAsInt(port);
    if (!p || *p < 0 || *p > 65535)
      return Fail(
          Error::InvalidArgument(fmt::format("port '{}' is not a number from 0 to 65535", port)));
    conn.port = static_cast<int>(*p);
  }
  return {};
}

}  // namespace

Result<std::string> Connection::Field(const std::string& name) const {
  if (name == "conn_type") return conn_type;
  if (name == "host") return host;
  if (name == "port") return port ? std::to_string(*port) : std::string();
  if (name == "login") return login;
  if (name == "password") return password;
  if (name == "schema") return schema;
  if (name == "uri") return Uri();
  if (name == "extra") {
    std::string json = "{";
    for (const auto& [k, v] : extra)
      json += fmt::format("{}\"{}\": \"{}\"", json.size() > 1 ? ", " : "", JsonEscape(k),
                          JsonEscape(v));
    return json + "}";
  }
  std::string key = name.rfind("extra__", 0) == 0 ? name.substr(7) : name;
  if (auto it = extra.find(key); it != extra.end()) return it->second;
  return Fail(Error::InvalidArgument(fmt::format(
      "connection '{}' has no field '{}' (fields: conn_type, host, port, login, password, schema, "
      "uri, extra, or a query parameter)",
      conn_id, name)));
}

std::string PercentEncode(const std::string& s, const std::string& keep) {
  std::string out;
  for (unsigned char ch : s) {
    if (std::isalnum(ch) || std::string("-_.~").find(static_cast<char>(ch)) != std::string::npos ||
        keep.find(static_cast<char>(ch)) != std::string::npos)
      out += static_cast<char>(ch);
    else
      out += fmt::format("%{:02X}", ch);
  }
  return out;
}

std::string Connection::Uri() const {
  std::string uri = fmt::format("{}://", conn_type);
  if (!login.empty() || !password.empty())
    uri += fmt::format("{}{}{}@", PercentEncode(login), password.empty() ? "" : ":", PercentEncode(password));
  // Reserved characters are encoded, so the URI parses back to the same parts;
  // an IPv6 address goes in brackets as it is.
  bool ipv6 = host.find(':') != std::string::npos &&
              host.find_first_not_of("0123456789abcdefABCDEF:.") == std::string::npos;
  uri += ipv6 ? fmt::format("[{}]", host) : PercentEncode(host);
  if (port) uri += fmt::format(":{}", *port);
  if (!schema.empty()) uri += fmt::format("/{}", PercentEncode(schema, "/"));
  char sep = '?';
  for (const auto& [k, v] : extra) {
    uri += fmt::format("{}{}={}", sep, PercentEncode(k), PercentEncode(v));
    sep = '&';
  }
  return uri;
}

Result<Connection> ParseConnectionUri(const std::string& conn_id, const std::string& uri) {
  auto bad = [&](const std::string& why) {
    return Fail(Error::InvalidArgument(fmt::format("connection '{}': {}", conn_id, why)));
  };
  Connection c;
  c.conn_id = conn_id;
  auto sep = uri.find("://");
  if (sep == std::string::npos || sep == 0)
    return bad("expected a URI like scheme://user:pass@host:port/schema");
  c.conn_type = uri.substr(0, sep);
  for (char& ch : c.conn_type)
    if (ch == '-') ch = '_';
  std::string rest = uri.substr(sep + 3);
  if (auto q = rest.find('?'); q != std::string::npos) {
    std::string query = rest.substr(q + 1);
    rest = rest.substr(0, q);
    size_t pos = 0;
    while (pos <= query.size()) {
      size_t amp = query.find('&', pos);
      std::string kv = query.substr(pos, amp == std::string::npos ? std::string::npos : amp - pos);
      if (!kv.empty()) {
        auto eq = kv.find('=');
        c.extra[PercentDecode(kv.substr(0, eq))] =
            eq == std::string::npos ? "" : PercentDecode(kv.substr(eq + 1));
      }
      if (amp == std::string::npos) break;
      pos = amp + 1;
    }
  }
  if (auto slash = rest.find('/'); slash != std::string::npos) {
    c.schema = PercentDecode(rest.substr(slash + 1));
    rest = rest.substr(0, slash);
  }
  if (auto at = rest.rfind('@'); at != std::string::npos) {
    std::string userinfo = rest.substr(0, at);
    rest = rest.substr(at + 1);
    auto colon = userinfo.find(':');
    c.login = PercentDecode(userinfo.substr(0, colon));
    if (colon != std::string::npos) c.password = PercentDecode(userinfo.substr(colon + 1));
  }
  if (auto st = ParseHostPort(rest, c); !st) return bad(st.error().message());
  return c;
}

namespace {

std::mutex g_file_mu;
std::vector<std::string> g_files;  // looked through in order

// ${NAME} in a connections file is the environment variable NAME ("" if unset).
std::string ExpandEnv(const std::string& text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    size_t close = text[i] == '$' && i + 1 < text.size() && text[i + 1] == '{' ? text.find('}', i) : std::string::npos;
    if (close == std::string::npos) {
      out += text[i];
      continue;
    }
    const char* v = std::getenv(text.substr(i + 2, close - i - 2).c_str());
    out += v ? v : "";
    i = close;
  }
  return out;
}

// One entry of connections.yaml: a URI, or a map of the fields.
Result<Connection> FromYaml(const std::string& id, const Value& node) {
  auto bad = [&](const std::string& why) {
    return Fail(Error::InvalidArgument(fmt::format("connection '{}': {}", Shorten(id), why)));
  };
  if (node.IsScalar()) return ParseConnectionUri(id, ExpandEnv(node.scalar));
  if (!node.IsMap()) return bad("expected a URI or a map");
  Connection c;
  c.conn_id = id;
  for (const MapEntry& kv : node.entries) {
    const std::string& key = kv.key;
    if (key == "extra" && kv.value.IsMap()) {
      for (const MapEntry& e : kv.value.entries) {
        if (!e.value.IsScalar())
          return bad(fmt::format("extra '{}' must be a string", Shorten(e.key)));
        c.extra[e.key] = ExpandEnv(e.value.scalar);
      }
      continue;
    }
    std::string value = kv.value.IsScalar() ? ExpandEnv(kv.value.scalar) : "";
    if (key == "conn_type") c.conn_type = value;
    else if (key == "host") c.host = value;
    else if (key == "login") c.login = value;
    else if (key == "password") c.password = value;
    else if (key == "schema") c.schema = value;
    else if (key == "port") {
      auto p = ScalarAsInt(value);
      if (!p || *p < 0 || *p > 65535)
        return bad(fmt::format("port '{}' is not a number from 0 to 65535", Shorten(value)));
      c.port = static_cast<int>(*p);
    } else {
      return bad(fmt::format(
          "unknown field '{}' (use conn_type, host, port, login, password, schema, extra)",
          Shorten(key)));
    }
  }
  return c;
}

}  // namespace

namespace {
std::function<Result<ConnectionRecord>(const std::string&)> g_store_lookup;
}  // namespace

void SetConnectionStore(std::function<Result<ConnectionRecord>(const std::string&)> fn) {
  std::lock_guard<std::mutex> lock(g_file_mu);
  g_store_lookup = std::move(fn);
}

Result<Connection> ConnectionFromRecord(const ConnectionRecord& r) {
  Connection c;
  c.conn_id = r.conn_id;
  c.conn_type = r.conn_type;
  for (char& ch : c.conn_type)
    if (ch == '-') ch = '_';
  c.host = r.host;
  c.port = r.port;
  c.login = r.login;
  c.password = r.password;
  c.schema = r.schema;
  if (r.extra.empty()) return c;
  auto extra = nlohmann::json::parse(r.extra, nullptr, false);
  if (!extra.is_object())
    return Fail(Error::InvalidArgument(
        fmt::format("connection '{}': extra is not a JSON object", Shorten(r.conn_id))));
  for (auto& [key, value] : extra.items())
    c.extra[key] = value.is_string() ? value.get<std::string>() : value.dump();
  return c;
}

void SetConnectionsFiles(const std::vector<std::string>& paths) {
  std::lock_guard<std::mutex> lock(g_file_mu);
  g_files = paths;
}

Result<Connection> ConnectionFromYaml(const std::string& text, const std::string& file,
                                      const std::string& conn_id) {
  Diagnostics diags(file);
  auto root = ReadYaml(text, diags);
  if (!diags.empty()) return Fail(Error::InvalidArgument(diags.list().front().ToString()));
  if (!root->IsMap() && !root->IsNull())
    return Fail(Error::InvalidArgument(
        fmt::format("{}:1:1: error: expected a map of connection ids", file)));
  const Value* node = root->Find(conn_id);
  if (!node)
    return Fail(Error::NotFound(fmt::format("no connection '{}' in {}", Shorten(conn_id), file)));
  return FromYaml(conn_id, *node);
}

Result<Connection> LookupConnection(const std::string& conn_id) {
  auto env = ConnectionFromEnv(conn_id);
  if (env || !env.error().IsNotFound()) return env;
  std::vector<std::string> files;
  std::function<Result<ConnectionRecord>(const std::string&)> from_store;
  {
    std::lock_guard<std::mutex> lock(g_file_mu);
    files = g_files;
    from_store = g_store_lookup;
  }
  if (from_store) {
    auto stored = from_store(conn_id);
    // A store that cannot be read leaves the files to answer.
    if (stored) return ConnectionFromRecord(*stored);
  }
  for (const std::string& file : files) {
    std::error_code ec;
    if (file.empty() || !std::filesystem::exists(file, ec)) continue;
    auto text = ReadFileLimited(file, limits::kMaxDagFileBytes);
    if (!text)
      return Fail(Error::InvalidArgument(fmt::format("{}: {}", file, text.error().message())));
    auto conn = ConnectionFromYaml(*text, file, conn_id);
    if (conn || !conn.error().IsNotFound()) return conn;
  }
  std::string var = "DAGCTL_CONN_";
  for (char ch : conn_id) var += static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  std::string where = files.empty() ? "" : ", or add it to " + files.front();
  return Fail(Error::NotFound(fmt::format("connection '{}' is not defined (set {}{})",
                                          Shorten(conn_id), Shorten(var), where)));
}

Result<Connection> ConnectionFromEnv(const std::string& conn_id) {
  std::string var = "DAGCTL_CONN_";
  for (char ch : conn_id) var += static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  const char* uri = std::getenv(var.c_str());
  if (!uri)
    return Fail(
        Error::NotFound(fmt::format("connection '{}' is not defined (set {})", conn_id, var)));
  return ParseConnectionUri(conn_id, uri);
}

}  // namespace dagctl
