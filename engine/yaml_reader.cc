#include "engine/yaml_reader.h"

#include <yaml-cpp/yaml.h>

#include <set>

namespace dagctl {
namespace {

Mark MarkOf(const YAML::Mark& m) { return {m.line + 1, m.column + 1}; }

Value Convert(const YAML::Node& node, Diagnostics& diags) {
  Value v;
  v.mark = MarkOf(node.Mark());
  switch (node.Type()) {
    case YAML::NodeType::Scalar:
      v.kind = Value::Kind::kScalar;
      v.scalar = node.Scalar();
      break;
    case YAML::NodeType::Sequence:
      v.kind = Value::Kind::kSequence;
      for (const YAML::Node& item : node) v.items.push_back(Convert(item, diags));
      break;
    case YAML::NodeType::Map: {
      v.kind = Value::Kind::kMap;
      std::set<std::string> seen;
      for (const auto& kv : node) {
        MapEntry e;
        e.key_mark = MarkOf(kv.first.Mark());
        if (!kv.first.IsScalar()) {
          diags.Error(e.key_mark, "map keys must be plain strings");
          continue;
        }
        e.key = kv.first.Scalar();
        if (!seen.insert(e.key).second) {
          diags.Error(e.key_mark, "duplicate key '" + e.key + "'");
          continue;
        }
        e.value = Convert(kv.second, diags);
        if (e.value.mark.line == 0) e.value.mark = e.key_mark;
        v.entries.push_back(std::move(e));
      }
      break;
    }
    default:
      v.kind = Value::Kind::kNull;
      break;
  }
  return v;
}

}  // namespace

std::optional<Value> ReadYaml(const std::string& text, Diagnostics& diags) {
  try {
    YAML::Node root = YAML::Load(text);
    return Convert(root, diags);
  } catch (const YAML::Exception& e) {
    diags.Error(MarkOf(e.mark), "invalid YAML: " + e.msg);
  } catch (const std::exception& e) {
    diags.Error({1, 1}, std::string("invalid YAML: ") + e.what());
  }
  return std::nullopt;
}

}  // namespace dagctl
