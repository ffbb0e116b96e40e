#include "operators/redis.h"

#include <fmt/format.h>
#include <hiredis.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "engine/connection.h"
#include "engine/json_io.h"

namespace dagctl {

namespace {

struct Target {
  std::string host = "127.0.0.1";
  int port = 6379;
  std::string password;
  std::string db;
};

using Command = std::vector<std::string>;

// One line of a commands file, as redis-cli reads it: arguments split at
// spaces, "double quoted" ones may hold spaces and \" \\ \n escapes.
Result<Command> ParseLine(const std::string& line) {
  Command cmd;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && std::isspace(static_cast<unsigned char>(line[i]))) ++i;
    if (i >= line.size()) break;
    std::string arg;
    if (line[i] == '"') {
      ++i;
      bool closed = false;
      for (; i < line.size(); ++i) {
        if (line[i] == '"') {
          closed = true;
          ++i;
          break;
        }
        if (line[i] == '\\' && i + 1 < line.size()) {
          char e = line[++i];
          arg += e == 'n' ? '\n' : e == 't' ? '\t' : e;
        } else {
          arg += line[i];
        }
      }
      if (!closed) return Fail(Error::InvalidArgument("unclosed '\"'"));
    } else {
      while (i < line.size() && !std::isspace(static_cast<unsigned char>(line[i]))) arg += line[i++];
    }
    cmd.push_back(arg);
  }
  return cmd;
}

Result<std::vector<Command>> ReadCommandsFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Fail(Error::NotFound(fmt::format("redis: cannot read commands_file {}", path)));
  std::stringstream text;
  text << in.rdbuf();
  return ParseRedisCommands(text.str(), path);
}

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

// The reply to `cmd`, sent before; on an error reply or a broken connection
// prints why and returns nullopt.
std::optional<nlohmann::json> Receive(redisContext* ctx, const Command& cmd) {
  void* raw = nullptr;
  auto* reply = redisGetReply(ctx, &raw) == REDIS_OK ? static_cast<redisReply*>(raw) : nullptr;
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

// Sends the commands, `kBatch` at a time pipelined, and reads their replies
// in order; stops at the first error. Logs each command, or for long lists the
// first few and a count.
int Run(const Target& t, const std::vector<Command>& commands, const std::string& save_to,
        TryChannel& channel) {
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
  constexpr size_t kBatch = 1000, kShown = 20;
  nlohmann::json last;
  for (size_t start = 0; start < all.size(); start += kBatch) {
    size_t end = std::min(all.size(), start + kBatch);
    for (size_t i = start; i < end; ++i) {
      std::vector<const char*> argv;
      std::vector<size_t> lens;
      for (const auto& a : all[i]) {
        argv.push_back(a.data());
        lens.push_back(a.size());
      }
      redisAppendCommandArgv(ctx, static_cast<int>(argv.size()), argv.data(), lens.data());
    }
    for (size_t i = start; i < end; ++i) {
      auto reply = Receive(ctx, all[i]);
      if (!reply) {
        redisFree(ctx);
        return 1;
      }
      if (i >= setup && i - setup < kShown)
        fmt::print(stderr, "redis: {} -> {}\n", Shown(all[i]), DumpJson(*reply));
      last = *reply;
    }
  }
  if (commands.size() > kShown)
    fmt::print(stderr, "redis: ... {} commands in all, the last -> {}\n", commands.size(),
               DumpJson(last));
  redisFree(ctx);
  std::string reply = last.is_string() ? last.get<std::string>() : DumpJson(last);
  if (!save_to.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(std::filesystem::path(save_to).parent_path(), ec);
    std::ofstream out(save_to, std::ios::binary | std::ios::trunc);
    out << reply;
    if (!out) {
      fmt::print(stderr, "redis: cannot write {}\n", save_to);
      return 1;
    }
    fmt::print(stderr, "redis: the last reply ({} bytes) saved to {}\n", reply.size(), save_to);
  }
  channel.PushXCom("return_value", reply);
  return 0;
}

}  // namespace

Result<std::vector<std::vector<std::string>>> ParseRedisCommands(const std::string& text,
                                                                 const std::string& path) {
  std::vector<Command> out;
  std::istringstream in(text);
  int n = 0;
  for (std::string line; std::getline(in, line);) {
    ++n;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    auto cmd = ParseLine(line);
    if (!cmd)
      return Fail(
          Error::InvalidArgument(fmt::format("redis: {}:{}: {}", path, n, cmd.error().message())));
    if (!cmd->empty() && !cmd->front().starts_with('#')) out.push_back(std::move(*cmd));
  }
  return out;
}

const std::vector<ParamSpec>& RedisOperator::params() const {
  static const std::vector<ParamSpec> kParams = {
      {"commands", ParamType::kAny, false, true, "Commands: lists of arguments or strings."},
      {"commands_file", ParamType::kString, false, true, "A file of commands, one per line (redis-cli style)."},
      {"conn_id", ParamType::kString, false, false, "A redis connection (redis_default)."},
      {"save_to", ParamType::kString, false, true, "Write the last reply to this file."},
  };
  return kParams;
}

void RedisOperator::Validate(const Value& params, Diagnostics& diags) const {
  const Value* c = params.Find("commands");
  if (!c && !params.Find("commands_file"))
    diags.Error(params.mark, "operator 'redis' needs 'commands' or 'commands_file'");
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
  // The commands file is read in the try's own process, not here: however
  // big or broken it is, it can only fail this try.
  const Value* file = ctx.params.Find("commands_file");
  Launch launch;
  if (!target.password.empty()) launch.secrets.push_back(target.password);
  const Value* save_to = ctx.params.Find("save_to");
  launch.body = [target, file = file ? file->scalar : "", inline_commands = Commands(ctx.params),
                 save = save_to ? save_to->scalar : ""](TryChannel& channel) {
    std::vector<Command> commands;
    if (!file.empty()) {
      auto from_file = ReadCommandsFile(file);
      if (!from_file) {
        fmt::print(stderr, "{}\n", from_file.error().message());
        return 1;
      }
      commands = std::move(*from_file);
    }
    commands.insert(commands.end(), inline_commands.begin(), inline_commands.end());
    return Run(target, commands, save, channel);
  };
  return launch;
}

}  // namespace dagctl
