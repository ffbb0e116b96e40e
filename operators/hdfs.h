// HDFS over WebHDFS REST (or a local lake folder through file://):
// `hdfs_put`, `hdfs_mkdir` and the sensor `hdfs_sensor`.
#pragma once

#include "operators/operator.h"

namespace dagctl {

/// Where the keys `conn_id` (webhdfs: host, port 9870, login = user.name;
/// conn_type file with schema = a local folder) or `url`
/// (http(s)://namenode:9870, or file:///folder) point.
struct HdfsTarget {
  bool local = false;
  std::string base;  ///< http(s)://host:port, or the local root folder
  std::string user;
};

Result<HdfsTarget> ResolveHdfs(const Value& params);

/// `hdfs_put`: `source` (a local file, a glob or a list; templates) to
/// `destination` (a file, or a folder when it ends with '/' or several files
/// match), `overwrite` (false). WebHDFS CREATE's 307 redirect to the datanode
/// is followed with the data. XCom `return_value`: the written paths (JSON list).
class HdfsPutOperator : public Operator {
 public:
  std::string name() const override { return "hdfs_put"; }
  const std::vector<ParamSpec>& params() const override;
  void Validate(const Value& params, Diagnostics& diags) const override;
  Result<Launch> Prepare(const TryContext& ctx) const override;
};

/// `hdfs_mkdir`: `path` (template), with its parents.
class HdfsMkdirOperator : public Operator {
 public:
  std::string name() const override { return "hdfs_mkdir"; }
  const std::vector<ParamSpec>& params() const override;
  void Validate(const Value& params, Diagnostics& diags) const override;
  Result<Launch> Prepare(const TryContext& ctx) const override;
};

/// `hdfs_sensor`: pokes until `path` exists.
class HdfsSensor : public Operator {
 public:
  std::string name() const override { return "hdfs_sensor"; }
  const std::vector<ParamSpec>& params() const override;
  void Validate(const Value& params, Diagnostics& diags) const override;
  bool IsSensor() const override { return true; }
  Result<Launch> Prepare(const TryContext& ctx) const override;
};

}  // namespace dagctl
