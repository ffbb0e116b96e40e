// dagctl's own read-only views of a DAG for the dashboard (/api/v1/ui/...):
// its grid (runs x tasks, groups summed up) and its graph (laid out by the
// engine, groups folded as asked). Not part of Airflow's API.
#include <fmt/format.h>

#include <map>
#include <optional>
#include <set>

#include "api/api_call.h"
#include "engine/task_groups.h"

namespace dagctl::api {

namespace {

json StateOrNull(TaskState s) {
  return s == TaskState::kNone ? json(nullptr) : json(TaskStateName(s));
}

// What the dashboard shows of a group: its id, its label, the group it is in.
json GroupJson(const TaskGroup& g) {
  return {{"id", g.id},           {"kind", "group"},
          {"label", g.Label()},   {"group", g.parent.empty() ? json(nullptr) : json(g.parent)},
          {"tooltip", g.tooltip}, {"tasks", g.tasks.size()}};
}

json TaskNodeJson(const Task& t) {
  return {{"id", t.id},
          {"kind", "task"},
          {"label", t.Label()},
          {"group", t.group.empty() ? json(nullptr) : json(t.group)},
          {"operator", t.operator_name},
          {"trigger_rule", TriggerRuleName(t.trigger_rule)}};
}

json NodeJson(const Dag& dag, NodeRef n) {
  return n.group ? GroupJson(dag.groups[n.index]) : TaskNodeJson(dag.tasks[n.index]);
}

// Per run, per group: Airflow's summary state of its tasks and how many of
// them are in each state. Runs and groups without task instances are left out.
json GroupInstances(const Dag& dag, const std::vector<TaskInstanceRecord>& tis) {
  std::map<std::string, std::vector<std::optional<TaskState>>> by_run;
  for (const auto& ti : tis) {
    auto it = dag.index.find(ti.task_id);
    if (it == dag.index.end() || dag.groups.empty()) continue;
    auto& states = by_run[ti.run_id];
    states.resize(dag.tasks.size());
    // A mapped task counts once, as its instances' summary.
    std::optional<TaskState>& s = states[it->second];
    s = ti.map_index < 0 || !s ? ti.state : GroupState({*s, ti.state});
  }
  json out = json::object();
  for (const auto& [run_id, states] : by_run)
    for (const TaskGroup& g : dag.groups) {
      std::vector<TaskState> mine;
      json counts = json::object();
      for (size_t t : g.tasks) {
        if (!states[t]) continue;
        mine.push_back(*states[t]);
        std::string name = TaskStateName(*states[t]);
        counts[name] = counts.value(name, 0) + 1;
      }
      if (!mine.empty())
        out[run_id][g.id] = {{"state", StateOrNull(GroupState(mine))}, {"states", counts}};
    }
  return out;
}

}  // namespace

Reply<Call::RunsWithInstances> Call::RunsAndInstances(Store& store, const RunQuery& q) {
  auto runs = store.ListDagRuns(q);
  if (!runs) return Internal(runs.error());
  RunsWithInstances out{json::array(), {}};
  std::vector<std::string> ids;
  for (const auto& r : *runs) {
    ids.push_back(r.run_id);
    out.runs.push_back(DagRunJson(r));
  }
  auto tis = store.ListTaskInstancesOfRuns(q.dag_id, ids);
  if (!tis) return Internal(tis.error());
  out.tis = std::move(*tis);
  return out;
}

// Runs x tasks for the dashboard's grid: newest runs first, one query for
// all their task instances. `rows` is the grid's tree of groups and tasks;
// `group_instances` each group's summary per run.
Reply<json> Call::Grid(const std::string& dag_id) {
  auto dag = FindDag(dag_id);
  if (!dag) return std::unexpected(dag.error());
  auto limit = IntParam("limit", 25, 1, 200);
  auto offset = IntParam("offset", 0, 0, INT32_MAX);
  if (!limit) return std::unexpected(limit.error());
  if (!offset) return std::unexpected(offset.error());
  auto store = Db();
  if (!store) return std::unexpected(store.error());
  RunQuery q{.dag_id = dag_id, .limit = *limit, .offset = *offset};
  auto listed = RunsAndInstances(**store, q);
  if (!listed) return std::unexpected(listed.error());
  auto total = (*store)->CountDagRuns(q);
  if (!total) return Internal(total.error());
  const auto& tis = listed->tis;
  // A mapped task is one cell: its instances' summary state (folded one
  // instance at a time), its latest try, and how many instances it has.
  struct Mapped {
    TaskState state = TaskState::kNone;
    int try_number = 0;
    size_t count = 0;
  };
  std::map<std::pair<std::string, std::string>, Mapped> mapped;
  json cells = json::object();
  for (const auto& ti : tis) {
    if (ti.map_index < 0) {
      cells[ti.run_id][ti.task_id] = {{"state", StateOrNull(ti.state)}, {"try_number", ti.try_number}};
      continue;
    }
    Mapped& m = mapped[{ti.run_id, ti.task_id}];
    m.state = m.count ? GroupState({m.state, ti.state}) : ti.state;
    m.try_number = std::max(m.try_number, ti.try_number);
    ++m.count;
  }
  for (const auto& [key, m] : mapped)
    cells[key.first][key.second] = {
        {"state", StateOrNull(m.state)}, {"try_number", m.try_number}, {"mapped", m.count}};
  const Dag& d = **dag;
  json tasks = json::array();
  for (size_t i : d.graph.topo_order) tasks.push_back(d.tasks[i].id);
  json rows = json::array();
  for (const GridRow& r : GridRows(d)) {
    json row = NodeJson(d, r.node);
    row["depth"] = r.depth;
    rows.push_back(std::move(row));
  }
  return json{{"tasks", tasks},
              {"rows", rows},
              {"dag_runs", listed->runs},
              {"task_instances", cells},
              {"group_instances", GroupInstances(d, tis)},
              {"total_entries", *total}};
}

// The task graph as the engine lays it out: a layer (column) and an order
// (row) per node, and the edges. Every group is folded into one node but
// those named by `unfolded` (a list; names that are not groups are ignored,
// so a page kept open across a DAG change still draws).
Reply<json> Call::Graph(const std::string& dag_id) {
  auto dag = FindDag(dag_id);
  if (!dag) return std::unexpected(dag.error());
  const Dag& d = **dag;
  std::vector<std::string> asked = Params("unfolded");
  std::set<std::string> unfolded(asked.begin(), asked.end());
  FoldedGraph g = FoldGraph(d, unfolded);
  json nodes = json::array();
  for (size_t n = 0; n < g.nodes.size(); ++n) {
    json node = NodeJson(d, g.nodes[n]);
    node["layer"] = g.layer[n];
    node["order"] = g.order[n];
    nodes.push_back(std::move(node));
  }
  json edges = json::array();
  for (auto [u, v] : g.edges) edges.push_back({NodeId(d, g.nodes[u]), NodeId(d, g.nodes[v])});
  json groups = json::array();
  for (const TaskGroup& grp : d.groups) {
    json j = GroupJson(grp);
    j["unfolded"] = unfolded.count(grp.id) > 0;
    groups.push_back(std::move(j));
  }
  return json{{"nodes", nodes}, {"edges", edges}, {"groups", groups}};
}

}  // namespace dagctl::api
