#include "engine/task_groups.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <numeric>
#include <optional>
#include <unordered_set>

#include "engine/graph.h"
#include "engine/suggest.h"
#include "engine/text.h"

namespace dagctl {

const std::string& NodeId(const Dag& dag, NodeRef ref) {
  return ref.group ? dag.groups[ref.index].id : dag.tasks[ref.index].id;
}

bool IsInside(const std::string& id, const std::string& group) {
  return id.size() >= group.size() && id.compare(0, group.size(), group) == 0 &&
         (id.size() == group.size() || id[group.size()] == '.');
}

namespace {

std::optional<NodeRef> Lookup(const Dag& dag, const std::string& id) {
  if (auto it = dag.index.find(id); it != dag.index.end()) return NodeRef{false, it->second};
  if (auto it = dag.group_index.find(id); it != dag.group_index.end())
    return NodeRef{true, it->second};
  return std::nullopt;
}

}  // namespace

Result<NodeRef> ResolveNode(const Dag& dag, const std::string& scope, const std::string& name) {
  std::string beside = scope.empty() ? "" : scope + "." + name;
  std::optional<NodeRef> near = scope.empty() ? std::nullopt : Lookup(dag, beside);
  std::optional<NodeRef> full = Lookup(dag, name);
  if (near && full)
    return Fail(Error::InvalidArgument(
        fmt::format("'{}' names both '{}' (in the same group) and '{}'; rename one of them",
                    Shorten(name), Shorten(beside), Shorten(name))));
  if (near) return *near;
  if (full) return *full;
  return Fail(Error::NotFound(fmt::format(
      "unknown {} '{}'", dag.groups.empty() ? "task" : "task or group", Shorten(name))));
}

std::string NoSuchTaskMessage(const Dag& dag, const std::string& id) {
  std::vector<std::string> ids;
  for (const Task& t : dag.tasks) ids.push_back(t.id);
  for (const TaskGroup& g : dag.groups) ids.push_back(g.id);
  return fmt::format("DAG '{}' has no task {}'{}'{}", dag.dag_id,
                     dag.groups.empty() ? "" : "or group ", Shorten(id), DidYouMean(id, ids));
}

namespace {

// The task graph's edges as they are found: each edge once, ranked by the
// dependency that made it so every upstream list keeps the file's order.
class EdgeBuilder {
 public:
  explicit EdgeBuilder(size_t n) : up_(n), down_(n), seen_(n) {}

  void Add(size_t u, size_t v, size_t rank) {
    if (!seen_[v].insert(u).second) return;
    up_[v].push_back({rank, u});
    down_[u].push_back(v);
  }

  bool AnyUpstreamIn(size_t v, const std::vector<char>& inside) const {
    return std::any_of(up_[v].begin(), up_[v].end(), [&](auto& e) { return inside[e.second]; });
  }
  bool AnyDownstreamIn(size_t u, const std::vector<char>& inside) const {
    return std::any_of(down_[u].begin(), down_[u].end(), [&](size_t v) { return inside[v]; });
  }

  std::vector<std::vector<size_t>> UpstreamLists() {
    std::vector<std::vector<size_t>> out(up_.size());
    for (size_t v = 0; v < up_.size(); ++v) {
      std::stable_sort(up_[v].begin(), up_[v].end(),
                       [](auto& a, auto& b) { return a.first < b.first; });
      for (auto& [rank, u] : up_[v]) out[v].push_back(u);
    }
    return out;
  }

 private:
  std::vector<std::vector<std::pair<size_t, size_t>>> up_;  // (rank, upstream)
  std::vector<std::vector<size_t>> down_;
  std::vector<std::unordered_set<size_t>> seen_;
};

// The tasks a node stands for: a group upstream is its leaves, a group
// downstream its roots.
std::vector<size_t> Ends(const Dag& dag, NodeRef n, bool as_upstream) {
  if (!n.group) return {n.index};
  const TaskGroup& g = dag.groups[n.index];
  return as_upstream ? g.leaves : g.roots;
}

// Fills g's roots and leaves from the edges so far; `inside` is all zero
// before and after.
void FindEnds(TaskGroup& g, const EdgeBuilder& edges, std::vector<char>& inside) {
  for (size_t t : g.tasks) inside[t] = 1;
  g.roots.clear();
  g.leaves.clear();
  for (size_t t : g.tasks) {
    if (!edges.AnyUpstreamIn(t, inside)) g.roots.push_back(t);
    if (!edges.AnyDownstreamIn(t, inside)) g.leaves.push_back(t);
  }
  for (size_t t : g.tasks) inside[t] = 0;
}

long Depth(const std::string& group_id) {
  return std::count(group_id.begin(), group_id.end(), '.');
}

}  // namespace

std::vector<std::vector<size_t>> ExpandDependencies(Dag& dag, const std::vector<Dependency>& deps) {
  EdgeBuilder edges(dag.tasks.size());
  std::vector<char> done(dag.groups.size()), expanded(deps.size()), inside(dag.tasks.size());
  auto ready = [&](NodeRef n) { return !n.group || done[n.index]; };
  // Adds the edges of every dependency whose groups have their ends by now.
  auto sweep = [&] {
    for (size_t k = 0; k < deps.size(); ++k) {
      if (expanded[k] || !ready(deps[k].from) || !ready(deps[k].to)) continue;
      expanded[k] = 1;
      for (size_t u : Ends(dag, deps[k].from, true))
        for (size_t v : Ends(dag, deps[k].to, false)) edges.Add(u, v, k);
    }
  };
  sweep();
  // Deepest groups first; after each depth, what depends on those groups.
  std::vector<size_t> order(dag.groups.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return Depth(dag.groups[a].id) > Depth(dag.groups[b].id);
  });
  for (size_t i = 0; i < order.size(); ++i) {
    FindEnds(dag.groups[order[i]], edges, inside);
    done[order[i]] = 1;
    if (i + 1 == order.size() ||
        Depth(dag.groups[order[i + 1]].id) != Depth(dag.groups[order[i]].id))
      sweep();
  }
  return edges.UpstreamLists();
}

std::vector<std::string> BranchTargets(const Dag& dag, size_t t) {
  const std::vector<size_t>& below = dag.graph.downstream[t];
  std::vector<std::string> out;
  for (size_t d : below) out.push_back(dag.tasks[d].id);
  for (const TaskGroup& g : dag.groups)
    if (std::any_of(g.roots.begin(), g.roots.end(), [&](size_t r) {
          return std::find(below.begin(), below.end(), r) != below.end();
        }))
      out.push_back(g.id);
  return out;
}

std::vector<std::string> BranchSkips(const Dag& dag, size_t t,
                                     const std::vector<std::string>& not_named) {
  std::set<std::string> skipped(not_named.begin(), not_named.end());
  std::set<size_t> followed;  // the roots of the groups the branch named
  for (const std::string& id : BranchTargets(dag, t))
    if (const TaskGroup* g = dag.FindGroup(id); g && !skipped.count(id))
      followed.insert(g->roots.begin(), g->roots.end());
  std::vector<std::string> out;
  for (const std::string& id : not_named)
    if (auto it = dag.index.find(id); it != dag.index.end() && !followed.count(it->second))
      out.push_back(id);
  return out;
}

TaskState GroupState(const std::vector<TaskState>& states) {
  static const TaskState kPriority[] = {TaskState::kFailed,     TaskState::kUpstreamFailed,
                                        TaskState::kUpForRetry, TaskState::kUpForReschedule,
                                        TaskState::kQueued,     TaskState::kScheduled,
                                        TaskState::kRunning,    TaskState::kNone,
                                        TaskState::kSuccess,    TaskState::kSkipped};
  for (TaskState s : kPriority)
    if (std::find(states.begin(), states.end(), s) != states.end()) return s;
  return TaskState::kNone;
}

namespace {

// The groups task `t` is in, outermost first (positions in dag.groups).
std::vector<size_t> GroupChain(const Dag& dag, const Task& t) {
  std::vector<size_t> chain;
  for (std::string g = t.group; !g.empty(); g = dag.groups[chain.back()].parent)
    chain.push_back(dag.group_index.at(g));
  std::reverse(chain.begin(), chain.end());
  return chain;
}

void Flatten(const std::vector<NodeRef>& list, int depth,
             const std::vector<std::vector<NodeRef>>& children, std::vector<GridRow>& rows) {
  for (NodeRef n : list) {
    rows.push_back({n, depth});
    if (n.group) Flatten(children[n.index], depth + 1, children, rows);
  }
}

}  // namespace

std::vector<GridRow> GridRows(const Dag& dag) {
  std::vector<NodeRef> top;
  std::vector<std::vector<NodeRef>> children(dag.groups.size());
  std::vector<char> placed(dag.groups.size());
  auto members = [&](const std::string& group) -> std::vector<NodeRef>& {
    return group.empty() ? top : children[dag.group_index.at(group)];
  };
  for (size_t t : dag.graph.topo_order) {
    // A group goes where its first task (in topological order) comes.
    for (size_t g : GroupChain(dag, dag.tasks[t]))
      if (!placed[g]) {
        placed[g] = 1;
        members(dag.groups[g].parent).push_back({true, g});
      }
    members(dag.tasks[t].group).push_back({false, t});
  }
  std::vector<GridRow> rows;
  Flatten(top, 0, children, rows);
  return rows;
}

namespace {

// Where task `t` sorts so that the tasks of a group sit together: the first
// task of each group it is in, outermost first, then itself.
std::vector<size_t> TreeKey(const Dag& dag, size_t t) {
  std::vector<size_t> key;
  for (size_t g : GroupChain(dag, dag.tasks[t])) key.push_back(dag.groups[g].tasks.front());
  key.push_back(t);
  return key;
}

// Each node's column: its layer in the folded graph, or, when folding made
// a cycle (a task between two tasks of a folded group), its first task's.
std::vector<int> FoldedLayers(const Dag& dag, const std::vector<std::vector<size_t>>& upstream,
                              const std::vector<size_t>& first_task) {
  if (!FindCycle(upstream)) return BuildTaskGraph(upstream).layer;
  std::vector<int> layer;
  for (size_t t : first_task) layer.push_back(dag.graph.layer[t]);
  return layer;
}

}  // namespace

FoldedGraph FoldGraph(const Dag& dag, const std::set<std::string>& unfolded) {
  // Each task's node: the outermost folded group it is in, else itself.
  std::map<std::pair<bool, size_t>, size_t> position;
  std::vector<NodeRef> nodes;
  std::vector<size_t> node_of(dag.tasks.size()), first_task;
  for (size_t t = 0; t < dag.tasks.size(); ++t) {
    NodeRef ref{false, t};
    for (size_t g : GroupChain(dag, dag.tasks[t]))
      if (!unfolded.count(dag.groups[g].id)) {
        ref = {true, g};
        break;
      }
    auto [it, fresh] = position.emplace(std::pair{ref.group, ref.index}, nodes.size());
    if (fresh) {
      nodes.push_back(ref);
      first_task.push_back(t);
    }
    node_of[t] = it->second;
  }
  std::vector<std::vector<size_t>> upstream(nodes.size());
  std::set<std::pair<size_t, size_t>> seen;
  for (size_t v = 0; v < dag.tasks.size(); ++v)
    for (size_t u : dag.graph.upstream[v])
      if (node_of[u] != node_of[v] && seen.insert({node_of[u], node_of[v]}).second)
        upstream[node_of[v]].push_back(node_of[u]);
  std::vector<int> layer = FoldedLayers(dag, upstream, first_task);

  // Column by column; within one, the tree order keeps a group's nodes together.
  std::vector<size_t> sorted(nodes.size());
  std::iota(sorted.begin(), sorted.end(), 0);
  std::vector<std::vector<size_t>> keys;
  for (size_t t : first_task) keys.push_back(TreeKey(dag, t));
  std::sort(sorted.begin(), sorted.end(), [&](size_t a, size_t b) {
    return std::tie(layer[a], keys[a]) < std::tie(layer[b], keys[b]);
  });
  FoldedGraph out;
  std::vector<size_t> new_pos(nodes.size());
  std::map<int, int> rows;  // layer -> nodes placed so far
  for (size_t n : sorted) {
    new_pos[n] = out.nodes.size();
    out.nodes.push_back(nodes[n]);
    out.layer.push_back(layer[n]);
    out.order.push_back(rows[layer[n]]++);
  }
  for (size_t v = 0; v < nodes.size(); ++v)
    for (size_t u : upstream[v]) out.edges.push_back({new_pos[u], new_pos[v]});
  std::sort(out.edges.begin(), out.edges.end());
  return out;
}

}  // namespace dagctl
