// Task groups (Airflow's TaskGroup) in the loaded model: what a name in
// depends_on refers to, the task-level edges a dependency on or of a group
// stands for, and the views that fold groups (the grid's rows, the graph with
// a folded group as one node). Pure: no I/O.
#pragma once

#include <set>
#include <string>
#include <utility>
#include <vector>

#include "engine/dag.h"
#include "engine/error.h"
#include "engine/task_state.h"

namespace dagctl {

/// A task or a group of a DAG.
struct NodeRef {
  bool group = false;
  size_t index = 0;  ///< Position in dag.tasks, or in dag.groups.

  bool operator==(const NodeRef&) const = default;
};

/// The id of the task or group `ref` names.
const std::string& NodeId(const Dag& dag, NodeRef ref);

/// True when `id` is the group `group` or inside it: "etl.load" is inside
/// "etl", "etl" is inside "etl", "etlx" is not.
bool IsInside(const std::string& id, const std::string& group);

/// True when task `t` is in group `group` or in a group nested in it.
inline bool InGroup(const Task& t, const std::string& group) {
  return !t.group.empty() && IsInside(t.group, group);
}

/// Resolves `name` as written inside group `scope` ("" = at the top): first
/// as `scope.name` (a task or group beside the writer), then as a full id.
/// NotFound ("unknown task 'x'", or "unknown task or group 'x'" when the
/// DAG has groups) when it is neither; InvalidArgument when it is both.
/// Uses dag.index and dag.group_index only.
Result<NodeRef> ResolveNode(const Dag& dag, const std::string& scope, const std::string& name);

/// "DAG 'd' has no task 'x'" (or "no task or group" when the DAG has
/// groups), with a "did you mean" among its task and group ids.
std::string NoSuchTaskMessage(const Dag& dag, const std::string& id);

/// One dependency as written: `from` is upstream of `to`. A group upstream
/// stands for its leaves, a group downstream for its roots (Airflow's
/// `group >> task` and `task >> group`).
struct Dependency {
  NodeRef from;
  NodeRef to;
};

/// Turns `deps` into the task graph's upstream lists (positions; each edge
/// once, in the order of `deps`, then of the file), and fills every group's
/// roots and leaves. Inner groups are done first: the edges inside a group
/// come only from dependencies among its own tasks and inner groups, so a
/// group's roots and leaves are those of the finished graph. Requires that
/// no dependency joins a group to a task or group inside it.
std::vector<std::vector<size_t>> ExpandDependencies(Dag& dag, const std::vector<Dependency>& deps);

/// What a branch (task `t`) may name: its direct downstream task ids, then
/// the groups one of them is a root of (branching to a group follows its
/// roots, as Airflow's branch operators do).
std::vector<std::string> BranchTargets(const Dag& dag, size_t t);

/// The tasks a branch skips, given the targets it did not name: those that
/// are tasks, but for the roots of a group it named.
std::vector<std::string> BranchSkips(const Dag& dag, size_t t,
                                     const std::vector<std::string>& not_named);

/// Airflow's summary state of a group in one run: the first of its tasks'
/// states in the grid's priority order (failed, upstream_failed,
/// up_for_retry, up_for_reschedule, queued, scheduled, running, none,
/// success, skipped). kNone for no states at all.
TaskState GroupState(const std::vector<TaskState>& states);

/// A row of the grid: a group, or a task, `depth` groups deep.
struct GridRow {
  NodeRef node;
  int depth = 0;
};

/// The grid's rows: tasks in topological order, each group placed where its
/// first task comes and followed by its members (a tree, flattened).
std::vector<GridRow> GridRows(const Dag& dag);

/// The graph with some groups folded: each folded group whose enclosing
/// groups are all unfolded is one node; edges join the nodes the task
/// edges run between, once each.
struct FoldedGraph {
  std::vector<NodeRef> nodes;                    ///< Layer by layer, each layer top to bottom.
  std::vector<int> layer;                        ///< Per node: its column.
  std::vector<int> order;                        ///< Per node: its row within its column.
  std::vector<std::pair<size_t, size_t>> edges;  ///< (upstream, downstream) node positions.
};

/// Lays the DAG out with every group folded but those in `unfolded`.
/// Within a column, nodes of one group sit together.
FoldedGraph FoldGraph(const Dag& dag, const std::set<std::string>& unfolded);

}  // namespace dagctl
