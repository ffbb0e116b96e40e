// `sql` and `sql_sensor`: statements against SQLite (built in), PostgreSQL
// (libpq) or MariaDB/MySQL (libmariadb), one transaction per try.
#pragma once

#include "operators/operator.h"

namespace dagctl {

/// Keys: `conn_id` (required; conn_type sqlite with schema = the database
/// file, postgres/postgresql, or mysql/mariadb), `sql` (a string of
/// statements separated by ';', or a list of statements; templates) or
/// `sql_file` (a file of statements, read as is). All statements run in one
/// transaction: an error rolls everything back and fails the try, naming the
/// statement. XCom `return_value`: the first row of the last statement (its
/// only value, or a JSON object of columns).
class SqlOperator : public Operator {
 public:
  std::string name() const override { return "sql"; }
  const std::vector<ParamSpec>& params() const override;
  void Validate(const Value& params, Diagnostics& diags) const override;
  Result<Launch> Prepare(const TryContext& ctx) const override;
};

/// `sql_sensor`: `conn_id` and `sql` (a query); pokes until the first value
/// of its first row is truthy (not NULL, 0, '', 'false' or 'f').
class SqlSensor : public SqlOperator {
 public:
  std::string name() const override { return "sql_sensor"; }
  bool IsSensor() const override { return true; }
  Result<Launch> Prepare(const TryContext& ctx) const override;
};

/// Splits SQL text at ';' outside quotes and comments; drops empty statements.
std::vector<std::string> SplitStatements(const std::string& sql);

}  // namespace dagctl
