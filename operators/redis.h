// `redis`: runs Redis commands through hiredis (SET ... EX, ZINCRBY, EXPIRE,
// XADD ...), in the try's own process.
#pragma once

#include "operators/operator.h"

namespace dagctl {

/// Keys: `commands` (required): a list of commands, each a list of arguments
/// or a string split at spaces; every argument is a template. `conn_id`
/// (default `redis_default`; without such a connection, 127.0.0.1:6379):
/// host, port, password (AUTH), schema (the database number, SELECT).
/// An error reply fails the try and names the command. XCom `return_value`:
/// the last command's reply (a string, a number, or a JSON list).
/// The commands of a `commands_file`, one per line as redis-cli reads them:
/// arguments split at spaces, "double quoted" ones may hold spaces and \" \\
/// \n \t escapes; blank lines and lines starting with '#' are skipped.
/// InvalidArgument names `path` and the line ("redis: PATH:3: unclosed '\"'").
Result<std::vector<std::vector<std::string>>> ParseRedisCommands(const std::string& text,
                                                                 const std::string& path);

class RedisOperator : public Operator {
 public:
  std::string name() const override { return "redis"; }
  const std::vector<ParamSpec>& params() const override;
  void Validate(const Value& params, Diagnostics& diags) const override;
  Result<Launch> Prepare(const TryContext& ctx) const override;
};

}  // namespace dagctl
