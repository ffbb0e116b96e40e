#include "engine/value.h"

#include <charconv>

namespace dagctl {

const Value* Value::Find(const std::string& key) const {
  for (const MapEntry& e : entries)
    if (e.key == key) return &e.value;
  return nullptr;
}

Value* Value::Find(const std::string& key) {
  for (MapEntry& e : entries)
    if (e.key == key) return &e.value;
  return nullptr;
}

Value Value::Scalar(std::string text, Mark mark) {
  Value v;
  v.kind = Kind::kScalar;
  v.scalar = std::move(text);
  v.mark = mark;
  return v;
}

std::string Value::KindName() const {
  switch (kind) {
    case Kind::kNull:
      return "null";
    case Kind::kScalar:
      return "a scalar";
    case Kind::kSequence:
      return "a list";
    case Kind::kMap:
      return "a map";
  }
  return "?";
}

std::optional<bool> ScalarAsBool(const std::string& t) {
  if (t == "true" || t == "True" || t == "TRUE" || t == "yes" || t == "on") return true;
  if (t == "false" || t == "False" || t == "FALSE" || t == "no" || t == "off") return false;
  return std::nullopt;
}

std::optional<int64_t> ScalarAsInt(const std::string& t) {
  int64_t v = 0;
  const char* end = t.data() + t.size();
  auto [p, ec] = std::from_chars(t.data() + (!t.empty() && t[0] == '+'), end, v);
  if (ec != std::errc() || p != end || t.empty()) return std::nullopt;
  return v;
}

std::optional<double> ScalarAsDouble(const std::string& t) {
  double v = 0;
  const char* end = t.data() + t.size();
  auto [p, ec] = std::from_chars(t.data(), end, v);
  if (ec != std::errc() || p != end || t.empty()) return std::nullopt;
  return v;
}

std::vector<std::string> SplitCommaList(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    if (comma == std::string::npos) comma = text.size();
    if (comma > start) out.push_back(text.substr(start, comma - start));
    start = comma + 1;
  }
  return out;
}

}  // namespace dagctl
