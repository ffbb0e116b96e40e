// `elasticsearch_bulk`: indexes a JSON-lines file through _bulk, creating the
// index with a mapping when it is missing.
#pragma once

#include "operators/operator.h"

namespace dagctl {

/// Keys: `index` (required), `source` (required: a JSON-lines file), `conn_id`
/// (an elasticsearch connection: host, port 9200, login/password) or `url`,
/// `mapping` (map: the index's mappings, used when creating it), `id_field`
/// (a document field to use as _id), `chunk_size` (500 documents per
/// request). A response with `errors: true` fails the try with the first
/// failed item's reason. XCom `return_value`: the number of documents indexed.
class ElasticsearchBulkOperator : public Operator {
 public:
  std::string name() const override { return "elasticsearch_bulk"; }
  const std::vector<ParamSpec>& params() const override;
  void Validate(const Value& params, Diagnostics& diags) const override;
  Result<Launch> Prepare(const TryContext& ctx) const override;
};

}  // namespace dagctl
