#include "fakes/openapi.h"

#include <yaml-cpp/yaml.h>

#include <stdexcept>

namespace dagctl::testing {

using nlohmann::json;

namespace {

json FromYaml(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Map: {
      json obj = json::object();
      for (const auto& kv : n) obj[kv.first.as<std::string>()] = FromYaml(kv.second);
      return obj;
    }
    case YAML::NodeType::Sequence: {
      json arr = json::array();
      for (const auto& item : n) arr.push_back(FromYaml(item));
      return arr;
    }
    case YAML::NodeType::Scalar: {
      const std::string& s = n.Scalar();
      if (n.Tag() != "!" && (s == "true" || s == "false")) return s == "true";
      return s;
    }
    default:
      return nullptr;
  }
}

bool IsTrue(const json& schema, const char* key) {
  return schema.contains(key) && schema[key].is_boolean() && schema[key].get<bool>();
}

bool HasType(const json& v, const std::string& type) {
  if (type == "object") return v.is_object();
  if (type == "array") return v.is_array();
  if (type == "string") return v.is_string();
  if (type == "integer") return v.is_number_integer();
  if (type == "number") return v.is_number();
  if (type == "boolean") return v.is_boolean();
  return true;
}

}  // namespace

OpenApi::OpenApi(const std::string& path) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const std::exception& e) {
    throw std::runtime_error("cannot load the OpenAPI document " + path + ": " + e.what());
  }
  doc_ = FromYaml(root);
}

const json& OpenApi::Resolve(const json& node) const {
  const json* cur = &node;
  while (cur->is_object() && cur->contains("$ref")) {
    std::string ref = (*cur)["$ref"].get<std::string>();  // "#/components/schemas/X"
    cur = &doc_[json::json_pointer(ref.substr(1))];
  }
  return *cur;
}

const json& OpenApi::ResponseSchema(const std::string& path_template, const std::string& method,
                                    int status) const {
  const json& op = doc_["paths"][path_template][method];
  const json& responses = op["responses"];
  std::string code = std::to_string(status);
  if (!responses.contains(code)) {
    if (status >= 400 && status != 500) {
      // Airflow documents some errors on some endpoints only; the shape is Error.
      return doc_["components"]["schemas"]["Error"];
    }
    throw std::runtime_error("no " + code + " response for " + method + " " + path_template);
  }
  const json& resp = Resolve(responses[code]);
  const json& content = resp["content"];
  for (auto it = content.begin(); it != content.end(); ++it)
    if (it.value().contains("schema")) return it.value()["schema"];
  throw std::runtime_error("no schema for " + code + " of " + method + " " + path_template);
}

std::vector<std::string> OpenApi::Check(const json& schema, const json& value) const {
  std::vector<std::string> out;
  CheckAt(schema, value, "$", out);
  return out;
}

void OpenApi::CheckAt(const json& raw, const json& v, const std::string& where,
                      std::vector<std::string>& out) const {
  const json& s = Resolve(raw);
  if (v.is_null() && (IsTrue(s, "nullable") || IsTrue(raw, "nullable"))) return;
  if (s.contains("allOf"))
    for (const json& part : s["allOf"]) CheckAt(part, v, where, out);
  if (s.contains("anyOf")) {
    bool any = false;
    for (const json& part : s["anyOf"]) {
      std::vector<std::string> errs;
      CheckAt(part, v, where, errs);
      any = any || errs.empty();
    }
    if (!any) out.push_back("at " + where + ": matches none of anyOf");
  }
  if (s.contains("enum")) {
    bool found = false;
    for (const json& e : s["enum"]) found = found || e == v;
    if (!found) out.push_back("at " + where + ": " + v.dump() + " is not in the enum");
    return;
  }
  if (s.contains("type")) {
    std::string type = s["type"].get<std::string>();
    if (!HasType(v, type)) {
      out.push_back("at " + where + ": " + v.dump() + " is not of type " + type);
      return;
    }
  }
  if (v.is_object()) {
    if (s.contains("required"))
      for (const json& r : s["required"])
        if (!v.contains(r.get<std::string>())) out.push_back("at " + where + ": missing " + r.dump());
    if (s.contains("properties"))
      for (auto it = s["properties"].begin(); it != s["properties"].end(); ++it)
        if (v.contains(it.key())) CheckAt(it.value(), v[it.key()], where + "." + it.key(), out);
  }
  if (v.is_array() && s.contains("items"))
    for (size_t i = 0; i < v.size(); ++i) CheckAt(s["items"], v[i], where + "[" + std::to_string(i) + "]", out);
}

}  // namespace dagctl::testing
