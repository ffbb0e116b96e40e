// Task groups in the model: Airflow's summary state of a group, the grid's
// rows and the graph with groups folded. Pure functions on loaded DAGs.
#include "engine/task_groups.h"

#include <catch2/catch.hpp>

#include "fakes/load.h"

using namespace dagctl;
using dagctl::testing::MustLoad;

TEST_CASE("a group's summary state is its tasks' first state in Airflow's grid priority") {
  using S = TaskState;
  struct Case {
    std::vector<S> states;
    S want;
  };
  const std::vector<Case> cases = {
      {{}, S::kNone},
      {{S::kSuccess, S::kSuccess}, S::kSuccess},
      {{S::kSkipped, S::kSuccess}, S::kSuccess},
      {{S::kSkipped, S::kSkipped}, S::kSkipped},
      {{S::kSuccess, S::kNone}, S::kNone},
      {{S::kSuccess, S::kNone, S::kRunning}, S::kRunning},
      {{S::kRunning, S::kScheduled}, S::kScheduled},
      {{S::kScheduled, S::kQueued}, S::kQueued},
      {{S::kQueued, S::kUpForReschedule}, S::kUpForReschedule},
      {{S::kUpForReschedule, S::kUpForRetry}, S::kUpForRetry},
      {{S::kUpForRetry, S::kUpstreamFailed}, S::kUpstreamFailed},
      {{S::kUpstreamFailed, S::kSuccess, S::kFailed}, S::kFailed},
  };
  for (const Case& c : cases) {
    std::string names;
    for (S s : c.states) names += std::string(TaskStateName(s)) + " ";
    INFO(names);
    CHECK(TaskStateName(GroupState(c.states)) == std::string(TaskStateName(c.want)));
  }
}

namespace {

const char* kDag = R"(tasks:
  - {id: start, command: x}
  - {id: a, group: g, command: x, depends_on: start}
  - {id: b, group: g.h, command: x, depends_on: g.a}
  - {id: c, group: g.h, command: x, depends_on: b}
  - {id: end, command: x, depends_on: g}
  - {id: side, command: x, depends_on: start}
)";

// "id@layer.order" per node, and "from>to" per edge.
std::pair<std::vector<std::string>, std::vector<std::string>> Describe(const Dag& dag,
                                                                       const FoldedGraph& g) {
  std::vector<std::string> nodes, edges;
  for (size_t n = 0; n < g.nodes.size(); ++n)
    nodes.push_back(NodeId(dag, g.nodes[n]) + "@" + std::to_string(g.layer[n]) + "." +
                    std::to_string(g.order[n]));
  for (auto [u, v] : g.edges)
    edges.push_back(NodeId(dag, g.nodes[u]) + ">" + NodeId(dag, g.nodes[v]));
  return {nodes, edges};
}

}  // namespace

TEST_CASE("the grid's rows: each group where its first task comes, its members below it") {
  auto dag = MustLoad(kDag);
  std::vector<std::string> rows;
  for (const GridRow& r : GridRows(*dag))
    rows.push_back(std::string(2 * r.depth, ' ') + (r.node.group ? "[" : "") +
                   NodeId(*dag, r.node) + (r.node.group ? "]" : ""));
  CHECK(rows == std::vector<std::string>{"start", "[g]", "  g.a", "  [g.h]", "    g.h.b",
                                         "    g.h.c", "side", "end"});
}

TEST_CASE("the folded graph: a folded group is one node, an unfolded one shows what is in it") {
  auto dag = MustLoad(kDag);
  struct Case {
    std::set<std::string> unfolded;
    std::vector<std::string> nodes, edges;
  };
  const std::vector<Case> cases = {
      {{}, {"start@0.0", "g@1.0", "side@1.1", "end@2.0"}, {"start>g", "start>side", "g>end"}},
      {{"g"},
       {"start@0.0", "g.a@1.0", "side@1.1", "g.h@2.0", "end@3.0"},
       {"start>g.a", "start>side", "g.a>g.h", "g.h>end"}},
      // An inner group unfolded inside a folded one stays hidden.
      {{"g.h"}, {"start@0.0", "g@1.0", "side@1.1", "end@2.0"}, {"start>g", "start>side", "g>end"}},
      {{"g", "g.h"},
       {"start@0.0", "g.a@1.0", "side@1.1", "g.h.b@2.0", "g.h.c@3.0", "end@4.0"},
       {"start>g.a", "start>side", "g.a>g.h.b", "g.h.b>g.h.c", "g.h.c>end"}},
  };
  for (const Case& c : cases) {
    auto [nodes, edges] = Describe(*dag, FoldGraph(*dag, c.unfolded));
    CHECK(nodes == c.nodes);
    CHECK(edges == c.edges);
  }
}

TEST_CASE("folding a group that a task sits between keeps every node, in its first task's column") {
  auto dag = MustLoad(R"(tasks:
  - {id: a, group: g, command: x}
  - {id: between, command: x, depends_on: g.a}
  - {id: b, group: g, command: x, depends_on: between}
)");
  auto [nodes, edges] = Describe(*dag, FoldGraph(*dag, {}));
  CHECK(nodes == std::vector<std::string>{"g@0.0", "between@1.0"});
  CHECK(edges == std::vector<std::string>{"g>between", "between>g"});
}
