// What a DAG object's `file_token` names: one version of one DAG, its dag_id
// and the hash of the file's text, written base64url so it fits a URL path
// segment. Airflow's token is a signed file path; this one names nothing but
// a stored version of a known DAG, so it needs no secret, and a client should
// treat it as opaque all the same.
#pragma once

#include <optional>
#include <string>

namespace dagctl::api {

/// A version of a DAG, as a file token names it.
struct VersionRef {
  std::string dag_id;
  std::string hash;
};

/// The token of version `hash` of `dag_id`.
std::string FileToken(const std::string& dag_id, const std::string& hash);

/// The version `token` names; nullopt when it is not a token FileToken made
/// (garbled, truncated, or another server's).
std::optional<VersionRef> ParseFileToken(const std::string& token);

}  // namespace dagctl::api
