// Small pieces the HTTP-speaking operators share (http, webhdfs, elasticsearch).
#pragma once

#include <string>
#include <utility>

#include "engine/connection.h"
#include "engine/error.h"

namespace dagctl {

/// Splits an absolute http(s) URL into scheme://host[:port] and the path
/// with its query ("/" when none).
Result<std::pair<std::string, std::string>> SplitUrl(const std::string& url);

/// scheme://host[:port] of a connection, `default_scheme` and `default_port`
/// filling in what it leaves out (conn_type https means https).
std::string BaseUrl(const Connection& c, const std::string& default_scheme, int default_port);

/// Percent-encodes a URL path, keeping '/'.
std::string EncodePath(const std::string& path);

}  // namespace dagctl
