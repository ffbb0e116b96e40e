#include "engine/json_io.h"

#include <fmt/format.h>

#include "engine/limits.h"
#include "engine/value.h"

namespace dagctl {

using nlohmann::json;

namespace {

std::unexpected<Error> TooDeep() {
  return Fail(Error::InvalidArgument(
      fmt::format("JSON nested more than {} levels deep", limits::kMaxJsonDepth)));
}

}  // namespace

json ValueToJson(const Value& v) {
  switch (v.kind) {
    case Value::Kind::kNull:
      return nullptr;
    case Value::Kind::kScalar:
      return v.scalar;
    case Value::Kind::kSequence: {
      auto arr = json::array();
      for (const Value& item : v.items) arr.push_back(ValueToJson(item));
      return arr;
    }
    case Value::Kind::kMap: {
      auto obj = json::object();
      for (const MapEntry& e : v.entries) obj[e.key] = ValueToJson(e.value);
      return obj;
    }
  }
  return nullptr;
}

std::string JsonToText(const json& j) {
  if (j.is_string()) return j.get<std::string>();
  if (j.is_null()) return "";
  return DumpJson(j);
}

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
