// The part of loading that comes after the tasks: task groups (the tasks'
// `group` keys and the DAG's `task_groups` map) and every `depends_on`,
// resolved to what it names (SPEC §7 Task groups).
#pragma once

#include <string>
#include <vector>

#include "engine/dag.h"
#include "engine/diagnostics.h"
#include "engine/task_groups.h"

namespace dagctl {

/// "" when `id` is a well-formed group id: parts of letters, digits, '_'
/// and '-' (Airflow's group keys), joined by '.' for nesting, at most
/// limits::kMaxIdLength long; else what is wrong with it.
std::string GroupIdProblem(const std::string& id);

/// Builds dag.groups from the tasks' `group` (already prefixed into their
/// ids) and from `task_groups` (the DAG file's map, or nullptr), then
/// resolves each task's and each group's depends_on. Every problem goes into
/// `diags`; the dependencies that resolved are returned, for
/// ExpandDependencies.
std::vector<Dependency> LoadGroupsAndDependencies(Dag& dag, const Value* task_groups,
                                                  Diagnostics& diags);

}  // namespace dagctl
