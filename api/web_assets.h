// The dashboard's files, built into the binary from web/ (cmake/embed_web.cmake).
#pragma once

#include <cstddef>
#include <string_view>

namespace dagctl::api {

struct WebAsset {
  std::string_view name;  ///< "index.html", "app.js" ...
  const char* data;
  size_t size;
  const char* content_type;
};

/// The asset called `name`, or nullptr.
const WebAsset* FindWebAsset(std::string_view name);

}  // namespace dagctl::api
