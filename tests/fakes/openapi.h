// Checks JSON against the schemas of an OpenAPI document (Airflow's
// airflow-v1.yaml), loaded as data: the subset of OpenAPI 3 those schemas use
// ($ref, allOf, anyOf, type, nullable, enum, properties, required, items).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace dagctl::testing {

class OpenApi {
 public:
  /// Loads the document at `path`; throws std::runtime_error if unreadable.
  explicit OpenApi(const std::string& path);

  /// The schema of the `status` response of `method` on `path_template`
  /// (e.g. "/dags/{dag_id}"); throws if the document has none.
  const nlohmann::json& ResponseSchema(const std::string& path_template, const std::string& method,
                                       int status) const;

  /// The whole document, as loaded.
  const nlohmann::json& Document() const { return doc_; }

  /// Every way `value` breaks `schema`, as "at PATH: PROBLEM"; empty = valid.
  std::vector<std::string> Check(const nlohmann::json& schema, const nlohmann::json& value) const;

 private:
  const nlohmann::json& Resolve(const nlohmann::json& node) const;
  void CheckAt(const nlohmann::json& schema, const nlohmann::json& value, const std::string& where,
               std::vector<std::string>& out) const;

  nlohmann::json doc_;
};

}  // namespace dagctl::testing
