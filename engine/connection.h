// Airflow-style connections, given as URIs (SPEC §2 Templates: conn.ID.FIELD).
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "engine/error.h"
#include "engine/store/store.h"

namespace dagctl {

/// A connection's parts: `scheme://login:password@host:port/schema?k=v`.
struct Connection {
  std::string conn_id;
  std::string conn_type;  ///< The scheme, with '-' read as '_' (Airflow's rule).
  std::string host;
  std::optional<int> port;
  std::string login;
  std::string password;
  std::string schema;
  std::map<std::string, std::string> extra;  ///< The query parameters.

  /// A field by its Airflow name: conn_type, host, port, login, password,
  /// schema, uri, extra (as JSON), or extra__KEY / one query parameter by name.
  Result<std::string> Field(const std::string& name) const;

  /// The connection as a URI again (Airflow's `get_uri()`): `file:///data/lake`,
  /// `postgres://etl:pw@db:5432/dw?sslmode=require`.
  std::string Uri() const;
};

/// `s` with every byte but letters, digits, `-_.~` and those in `keep`
/// written as %XX.
std::string PercentEncode(const std::string& s, const std::string& keep = "");

/// Parses an Airflow connection URI; InvalidArgument says what is wrong.
Result<Connection> ParseConnectionUri(const std::string& conn_id, const std::string& uri);

/// The connection `conn_id` from the environment (`DAGCTL_CONN_<ID>`, the id
/// upper-cased); NotFound when unset.
Result<Connection> ConnectionFromEnv(const std::string& conn_id);

/// Where LookupConnection reads connections besides the environment, in
/// order: YAML files mapping ids to URIs or to maps of the fields, where
/// `${NAME}` is the environment variable NAME (`$DAGCTL_HOME/connections.yaml`,
/// then the defaults shipped in the DAGs folder's `connections.yaml`). Set
/// once at start-up.
void SetConnectionsFiles(const std::vector<std::string>& paths);

/// The connection `conn_id` from the text of a connections file (`file`
/// names it in messages): NotFound when the file has no such id;
/// InvalidArgument, as `FILE:LINE:COL: error: ...`, when the file is not a
/// YAML map within the limits of DAG files, or the entry is malformed.
Result<Connection> ConnectionFromYaml(const std::string& text, const std::string& file,
                                      const std::string& conn_id);

/// A connection kept in the store, as templates and operators see it: its
/// extra (a JSON object) as the query parameters. InvalidArgument when the
/// extra is not a JSON object.
Result<Connection> ConnectionFromRecord(const ConnectionRecord& r);

/// Where LookupConnection reads the store's connections (those created
/// through the REST API): `fn` answers NotFound when the store has none by
/// that id. Set once at start-up; none = the store is not read.
void SetConnectionStore(std::function<Result<ConnectionRecord>(const std::string&)> fn);

/// The connection `conn_id`: `DAGCTL_CONN_<ID>` first, then the store's
/// connections, then the connections files in order. NotFound names the
/// variable and the first file; InvalidArgument for a malformed entry.
/// Thread-safe.
Result<Connection> LookupConnection(const std::string& conn_id);

}  // namespace dagctl
