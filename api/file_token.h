// What a DAG object's `file_token` names: one version of one DAG, its dag_id
// and the hash of the file's text, written base64url so it fits a URL path
// segment. Airflow's token is a signed file path; this one names nothing but
// a stored version of a known DAG, so it needs no secret, and a client should
// treat it as opaque all the same.
#pragma once

#include <cstdint>
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

/// Where a reader of a try's log stands: Airflow's log `continuation_token`
/// carries the same metadata (log_pos, end_of_log, download_logs), signed;
/// this one names only a byte offset into a log the caller may read anyway.
struct LogToken {
  int64_t log_pos = 0;         ///< Bytes of the log already returned.
  bool end_of_log = false;     ///< The try had ended and all of its log was returned.
  bool download_logs = false;  ///< full_content: read from the start, not the tail.
};

/// The opaque base64url text of `t`.
std::string LogContinuationToken(const LogToken& t);

/// What `token` says; nullopt when LogContinuationToken did not make it.
std::optional<LogToken> ParseLogToken(const std::string& token);

}  // namespace dagctl::api
