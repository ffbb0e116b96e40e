#include "operators/redis.h"

#include <fmt/format.h>
#include <hiredis.h>

#include <algorithm>

#include <nlohmann/json.hpp>
#include <sstream>

#include "engine/connection.h"

namespace dagctl {

namespace {

struct Target {
  std::string host = "127.0.0.1";
  int port = 6379;
  std::string password;
  std::string db;
};

using Command = std::vector<std::string>;

std::vector<Command> Commands(const Value& params) {
  std::vector<Command> out;
  const Value* list = params.Find("commands");
  if (!list) return out;
  for (const Value& c : list->items) {
    Command cmd;
    if (c.IsScalar()) {
      std::istringstream in(c.scalar);
      for (std::string w; in >> w;) cmd.push_back(w);
    } else {
      for (const Value& a : c.items) cmd.push_back(a.scalar);
    }
    out.push_back(cmd);
  }
  return out;
}

std::string Shown(const Command& c) {
  std::string s;
  for (const auto& a : c) s += (s.empty() ? "" : " ") + a;
  return s;
}

nlohmann::json ReplyJson(const redisReply* r) {
  switch (r->type) {
    case REDIS_REPLY_STRING:
    case REDIS_REPLY_STATUS: return std::string(r->str, r->len);
    case REDIS_REPLY_INTEGER: return r->integer;
    case REDIS_REPLY_ARRAY: {
      nlohmann::json arr = nlohmann::json::array();
      for (size_t i = 0; i < r->elements; ++i) arr.push_back(ReplyJson(r->element[i]));
      return arr;
    }
    default: return nullptr;
  }
}

// Sends one command; on an error reply or a broken connection prints why and
// returns nullopt.
std::optional<nlohmann::json> Send(redisContext* ctx, const Command& cmd) {
  std::vector<const char*> argv;
  std::vector<size_t> lens;
  for (const auto& a : cmd) {
    argv.push_back(a.data());
    lens.push_back(a.size());
  }
  auto* reply = static_cast<redisReply*>(
      redisCommandArgv(ctx, static_cast<int>(argv.size()), argv.data(), lens.data()));
  if (!reply) {
    fmt::print(stderr, "redis: {}: {}\n", Shown(cmd), ctx->errstr);
    return std::nullopt;
  }
  if (reply->type == REDIS_REPLY_ERROR) {
    fmt::print(stderr, "redis: {}: {}\n", Shown(cmd), std::string(reply->str, reply->len));
    freeReplyObject(reply);
    return std::nullopt;
  }
  nlohmann::json j = ReplyJson(reply);
  freeReplyObject(reply);
  return j;
}

int Run(const Target& t, const std::vector<Command>& commands, TryChannel& channel) {
  timeval tv{10, 0};
  redisContext* ctx = redisConnectWithTimeout(t.host.c_str(), t.port, tv);
  if (!ctx || ctx->err) {
    fmt::print(stderr, "redis: cannot connect to {}:{}: {}\n", t.host, t.port,
               ctx ? ctx->errstr : "out of memory");
    if (ctx) redisFree(ctx);
    return 1;
  }
  std::vector<Command> all;
  if (!t.password.empty()) all.push_back({"AUTH", t.password});
  if (!t.db.empty()) all.push_back({"SELECT", t.db});
  size_t setup = all.size();
  all.insert(all.end(), commands.begin(), commands.end());
  nlohmann::json last;
  for (size_t i = 0; i < all.size(); ++i) {
    auto reply = Send(ctx, all[i]);
    if (!reply) {
      redisFree(ctx);
      return 1;
    }
    if (i >= setup) fmt::print(stderr, "redis: {} -> {}\n", Shown(all[i]), reply->dump());
    last = *reply;
  }
  redisFree(ctx);
  channel.PushXCom("return_value", last.is_string() ? last.get<std::string>() : last.dump());
  return 0;
}

}  // namespace

const std::vector<ParamSpec>& RedisOperator::params() const {
  static const std::vector<ParamSpec> kParams = {
      {"commands", ParamType::kAny, true, true, "Commands: lists of arguments or strings."},
      {"conn_id", ParamType::kString, false, false, "A redis connection (redis_default)."},
  };
  return kParams;
}

void RedisOperator::Validate(const Value& params, Diagnostics& diags) const {
  const Value* c = params.Find("commands");
  if (!c) return;
  if (!c->IsSequence() || c->items.empty()) {
    diags.Error(c->mark, "'commands' must be a non-empty list of commands");
    return;
  }
  for (const Value& cmd : c->items) {
    bool ok = (cmd.IsScalar() && !cmd.scalar.empty()) ||
              (cmd.IsSequence() && !cmd.items.empty() &&
               std::all_of(cmd.items.begin(), cmd.items.end(), [](const Value& a) { return a.IsScalar(); }));
    if (!ok) diags.Error(cmd.mark, "each command is a string or a list of arguments");
  }
}

Result<Launch> RedisOperator::Prepare(const TryContext& ctx) const {
  Target target;
  const Value* conn_id = ctx.params.Find("conn_id");
  std::string id = conn_id ? conn_id->scalar : "redis_default";
  auto conn = LookupConnection(id);
  if (conn) {
    if (!conn->host.empty()) target.host = conn->host;
    if (conn->port) target.port = *conn->port;
    target.password = conn->password;
    target.db = conn->schema;
  } else if (conn_id || !conn.error().IsNotFound()) {
    return Fail(conn.error());  // a named connection must exist
  }
  Launch launch;
  if (!target.password.empty()) launch.secrets.push_back(target.password);
  launch.body = [target, commands = Commands(ctx.params)](TryChannel& channel) {
    return Run(target, commands, channel);
  };
  return launch;
}

}  // namespace dagctl
