// A YAML-shaped value tree that remembers where each node came from. It is the
// "raw spec" of a DAG file (phase one of loading) and the form operator
// parameters keep in the model, so errors found later can still point at the file.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace dagctl {

/// A position in a source file; line and column count from 1 (0 = unknown).
struct Mark {
  int line = 0;
  int column = 0;
};

struct MapEntry;

/// One node: null, a scalar (kept as the text the file had), a sequence or a map.
/// Maps keep the file's key order.
struct Value {
  enum class Kind { kNull, kScalar, kSequence, kMap };

  Kind kind = Kind::kNull;
  std::string scalar;
  std::vector<Value> items;
  std::vector<MapEntry> entries;
  Mark mark;

  bool IsNull() const { return kind == Kind::kNull; }
  bool IsScalar() const { return kind == Kind::kScalar; }
  bool IsSequence() const { return kind == Kind::kSequence; }
  bool IsMap() const { return kind == Kind::kMap; }

  /// The value under `key` of a map, or nullptr (also for non-maps).
  const Value* Find(const std::string& key) const;
  Value* Find(const std::string& key);

  static Value Scalar(std::string text, Mark mark = {});

  /// Kind as a word for messages: "null", "a string", "a list", "a map".
  std::string KindName() const;
};

struct MapEntry {
  std::string key;
  Mark key_mark;
  Value value;
};

/// Scalar conversions used by the loader and operators. Each returns nullopt
/// when the text does not read as that type.
std::optional<bool> ScalarAsBool(const std::string& text);
/// The non-empty items of a comma-separated list ("a,b,,c" -> a, b, c).
std::vector<std::string> SplitCommaList(const std::string& text);

std::optional<int64_t> ScalarAsInt(const std::string& text);
std::optional<double> ScalarAsDouble(const std::string& text);

}  // namespace dagctl
