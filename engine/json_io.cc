#include "engine/json_io.h"

#include <fmt/format.h>

#include "engine/limits.h"

namespace dagctl {

using nlohmann::json;

namespace {

std::unexpected<Error> TooDeep() {
  return Fail(Error::InvalidArgument(
      fmt::format("JSON nested more than {} levels deep", limits::kMaxJsonDepth)));
}

}  // namespace

Result<json> ParseJson(const std::string& text) {
  bool too_deep = false;
  // Values past the depth limit are dropped as they are read, so nothing deep
  // is ever built; the flag turns that into an error.
  // `depth` counts from 0 at the top level.
  json::parser_callback_t guard = [&](int depth, json::parse_event_t, json&) {
    if (depth < limits::kMaxJsonDepth) return true;
    too_deep = true;
    return false;
  };
  try {
    json j = json::parse(text, guard);
    if (!too_deep) return j;
  } catch (const json::parse_error& e) {
    if (too_deep) return TooDeep();
    return Fail(
        Error::InvalidArgument(fmt::format("not valid JSON (syntax error at byte {})", e.byte)));
  } catch (const std::exception& e) {
    return Fail(Error::InvalidArgument(fmt::format("not valid JSON ({})", e.what())));
  }
  return TooDeep();
}

std::string DumpJson(const json& j, int indent) {
  return j.dump(indent, ' ', false, json::error_handler_t::replace);
}

}  // namespace dagctl
