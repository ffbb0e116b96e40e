// Dynamic task mapping (SPEC §7): what a mapped task expands into, and the
// names each of its instances sees. Pure but for the template scope the
// `expand` lists are rendered in.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "engine/dag.h"
#include "engine/error.h"
#include "engine/template.h"

namespace dagctl {

/// True for the names templates already have (`ds`, `params`, `xcom`,
/// `map_index` ...): an `expand` name may not be one of them.
bool IsBuiltinTemplateName(const std::string& name);

/// A mapped task's lists, in `expand` order.
struct Expansion {
  std::vector<std::string> names;
  std::vector<std::vector<std::string>> lists;
  size_t count = 0;  ///< Instances: the product of the lists' lengths (0 if one is empty).
};

/// Resolves every list of `task.expand`, rendering templates in `scope`.
/// InvalidArgument saying which name and why: its template does not render,
/// or does not render a JSON list, or there would be more instances than
/// `task.max_map_length`.
Result<Expansion> Expand(const Task& task, const TemplateScope& scope);

/// Instance `map_index`'s element of each name, as a JSON object (the cross
/// product in Airflow's order: the last name varies fastest).
std::string InstanceValues(const Expansion& e, size_t map_index);

/// The names an instance's templates see: each of its values, and `map_index`.
std::map<std::string, std::string> InstanceNames(const std::string& values_json, int map_index);

/// "name=value, name=value" for people (the API's rendered_map_index); ""
/// for a task instance that is not mapped.
std::string DescribeInstance(const std::string& values_json);

}  // namespace dagctl
