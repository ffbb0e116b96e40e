#include "operators/http_util.h"

#include <fmt/format.h>

#include <cctype>

namespace dagctl {

Result<std::pair<std::string, std::string>> SplitUrl(const std::string& url) {
  auto sep = url.find("://");
  if (sep == std::string::npos || (url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0))
    return Fail(Error::InvalidArgument(fmt::format("'{}' is not an http:// or https:// URL", url)));
  auto slash = url.find('/', sep + 3);
  if (slash == std::string::npos) return std::make_pair(url, std::string("/"));
  return std::make_pair(url.substr(0, slash), url.substr(slash));
}

std::string BaseUrl(const Connection& c, const std::string& default_scheme, int default_port) {
  std::string scheme = c.conn_type == "https" ? "https" : c.conn_type == "http" ? "http" : default_scheme;
  return fmt::format("{}://{}:{}", scheme, c.host.empty() ? "127.0.0.1" : c.host,
                     c.port.value_or(default_port));
}

std::string EncodePath(const std::string& path) { return PercentEncode(path, "/="); }

}  // namespace dagctl
