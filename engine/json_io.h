// JSON from and to outside text: bounded nesting in, valid UTF-8 out.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "engine/error.h"

namespace dagctl {

/// Parses `text` as one JSON value nested at most limits::kMaxJsonDepth
/// deep (printing a deeper one would recurse that deep). InvalidArgument
/// says what is wrong: "not valid JSON (syntax error at byte 7)" or "JSON
/// nested more than 64 levels deep". Never throws.
Result<nlohmann::json> ParseJson(const std::string& text);

/// `j` as text (`indent` as nlohmann's dump). Bytes of strings that are not
/// UTF-8 (a file name, a task's log, a key from a DAG file) come out as
/// U+FFFD rather than throwing.
std::string DumpJson(const nlohmann::json& j, int indent = -1);

struct Value;
/// A DAG file's value as JSON: scalars as strings, lists as arrays, maps as objects.
nlohmann::json ValueToJson(const Value& v);
/// A JSON value as template text: a string as itself, null as "", anything
/// else as compact JSON.
std::string JsonToText(const nlohmann::json& j);

}  // namespace dagctl
