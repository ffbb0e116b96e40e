// dagctl graph / next / pause / unpause: one DAG's shape, schedule and flag.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <nlohmann/json.hpp>

#include "cli/app.h"
#include "cli/args.h"
#include "cli/output.h"
#include "engine/assets.h"
#include "engine/data_interval.h"
#include "engine/task_groups.h"

namespace dagctl::cli {

namespace {

void PrintGraphText(const Dag& dag) {
  int max_layer = 0;
  for (int l : dag.graph.layer) max_layer = std::max(max_layer, l);
  for (int l = 0; l <= max_layer; ++l) {
    std::string ids;
    for (size_t i : dag.graph.topo_order)
      if (dag.graph.layer[i] == l) ids += (ids.empty() ? "" : ", ") + dag.tasks[i].id;
    fmt::print("layer {}: {}\n", l, ids);
  }
  for (size_t i : dag.graph.topo_order) {
    const Task& t = dag.tasks[i];
    if (dag.graph.upstream[i].empty()) continue;
    std::string ups;
    for (size_t u : dag.graph.upstream[i]) ups += (ups.empty() ? "" : ", ") + dag.tasks[u].id;
    fmt::print("{} <- {} [{}]\n", t.id, ups, TriggerRuleName(t.trigger_rule));
  }
  for (const TaskGroup& g : dag.groups) {
    std::string ids;
    for (size_t i : g.tasks) ids += (ids.empty() ? "" : ", ") + dag.tasks[i].id;
    fmt::print("group {}: {}\n", g.id, ids);
  }
}

std::string Quoted(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

// Walks the DAG's tasks as a tree of groups (the grid's order): `open` and
// `close` around each group's members, `task` for each task, each given the
// depth to indent by. Inside a group, a task shows its label.
template <typename Open, typename Close, typename Each>
void WalkGroups(const Dag& dag, Open open, Close close, Each task) {
  int depth = 0;
  for (const GridRow& row : GridRows(dag)) {
    for (; depth > row.depth; --depth) close(depth - 1);
    if (!row.node.group) {
      task(row.node.index, depth);
      continue;
    }
    open(dag.groups[row.node.index], depth);
    ++depth;
  }
  for (; depth > 0; --depth) close(depth - 1);
}

std::string Indent(int depth) { return std::string(2 * (depth + 1), ' '); }

void PrintGraphDot(const Dag& dag) {
  fmt::print("digraph {} {{\n  rankdir=LR;\n", Quoted(dag.dag_id));
  WalkGroups(
      dag,
      [&](const TaskGroup& g, int d) {
        fmt::print("{}subgraph {} {{\n{}  label={};\n", Indent(d), Quoted("cluster_" + g.id),
                   Indent(d), Quoted(g.Label()));
      },
      [&](int d) { fmt::print("{}}}\n", Indent(d)); },
      [&](size_t i, int d) {
        const Task& t = dag.tasks[i];
        if (t.group.empty())
          fmt::print("{}{};\n", Indent(d), Quoted(t.id));
        else
          fmt::print("{}{} [label={}];\n", Indent(d), Quoted(t.id), Quoted(t.Label()));
      });
  for (size_t i : dag.graph.topo_order)
    for (size_t u : dag.graph.upstream[i])
      fmt::print("  {} -> {};\n", Quoted(dag.tasks[u].id), Quoted(dag.tasks[i].id));
  fmt::print("}}\n");
}

void PrintGraphMermaid(const Dag& dag) {
  fmt::print("flowchart LR\n");
  WalkGroups(
      dag,
      [&](const TaskGroup& g, int d) {
        fmt::print("{}subgraph g{} [{}]\n", Indent(d), dag.group_index.at(g.id), Quoted(g.Label()));
      },
      [&](int d) { fmt::print("{}end\n", Indent(d)); },
      [&](size_t i, int d) {
        fmt::print("{}t{}[{}]\n", Indent(d), i, Quoted(dag.tasks[i].Label()));
      });
  for (size_t i : dag.graph.topo_order)
    for (size_t u : dag.graph.upstream[i]) fmt::print("  t{} --> t{}\n", u, i);
}

}  // namespace

int CmdGraph(App& app, const std::vector<std::string>& argv) {
  auto args =
      ParseOrReport({"graph", "DAG [--format text|dot|mermaid]", {"--format"}, {}, 1, 1}, argv);
  if (!args) return kExitUsage;
  std::string format = args->Option("--format").value_or("text");
  if (format != "text" && format != "dot" && format != "mermaid") {
    PrintError(fmt::format("graph: unknown --format '{}' (use text, dot or mermaid)", format));
    return kExitUsage;
  }
  auto dag = app.FindDag(args->positional[0]);
  if (!dag) return kExitUsage;
  if (format == "dot")
    PrintGraphDot(*dag);
  else if (format == "mermaid")
    PrintGraphMermaid(*dag);
  else
    PrintGraphText(*dag);
  return kExitOk;
}

int CmdNext(App& app, const std::vector<std::string>& argv) {
  auto args = ParseOrReport(
      {"next", "DAG [-n N] [--after T] [--json]", {"-n", "--after"}, {"--json"}, 1, 1}, argv);
  if (!args) return kExitUsage;
  auto dag = app.FindDag(args->positional[0]);
  if (!dag) return kExitUsage;
  int n = 5;
  if (auto v = args->Option("-n")) {
    auto parsed = ScalarAsInt(*v);
    if (!parsed || *parsed < 1 || *parsed > 10000) {
      PrintError(fmt::format("next: -n '{}' must be a whole number from 1 to 10000", *v));
      return kExitUsage;
    }
    n = static_cast<int>(*parsed);
  }
  Timestamp after = NowUtc();
  if (auto a = args->Option("--after")) {
    auto t = ParseDateTime(*a, dag->timezone);
    if (!t) {
      PrintError("next: --after: " + t.error().message());
      return kExitUsage;
    }
    after = *t;
  }
  auto intervals = NextIntervals(*dag, after, n);
  if (args->Flag("--json")) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& i : intervals)
      out.push_back({{"run_after", FormatIso(i.end, dag->timezone)},
                     {"logical_date", FormatIso(i.start, dag->timezone)},
                     {"data_interval_start", FormatIso(i.start, dag->timezone)},
                     {"data_interval_end", FormatIso(i.end, dag->timezone)}});
    PrintJson(out);
    return kExitOk;
  }
  if (IsAssetScheduled(*dag)) {
    fmt::print("DAG '{}' runs on asset events: once each of {} has a new event\n", dag->dag_id,
               fmt::join(dag->schedule_assets, ", "));
    return kExitOk;
  }
  if (!dag->schedule) {
    fmt::print("DAG '{}' has no schedule: it runs only when triggered\n", dag->dag_id);
    return kExitOk;
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& i : intervals)
    rows.push_back({FormatIso(i.end, dag->timezone), FormatIso(i.start, dag->timezone),
                    FormatIso(i.start, dag->timezone), FormatIso(i.end, dag->timezone)});
  PrintTable({"run_after", "logical_date", "data_interval_start", "data_interval_end"}, rows);
  return kExitOk;
}

namespace {

int SetPaused(App& app, const std::vector<std::string>& argv, bool paused) {
  const char* name = paused ? "pause" : "unpause";
  auto args = ParseOrReport({name, "DAG", {}, {}, 1, 1}, argv);
  if (!args) return kExitUsage;
  auto dag = app.FindDag(args->positional[0]);
  if (!dag) return kExitUsage;
  Store* store = app.store();
  if (!store) return kExitFailed;
  if (auto st = store->SetPaused(dag->dag_id, paused); !st) {
    PrintError(st.error().message());
    return kExitFailed;
  }
  fmt::print("{} is {}\n", dag->dag_id, paused ? "paused" : "unpaused");
  return kExitOk;
}

}  // namespace

int CmdPause(App& app, const std::vector<std::string>& argv) { return SetPaused(app, argv, true); }
int CmdUnpause(App& app, const std::vector<std::string>& argv) {
  return SetPaused(app, argv, false);
}

}  // namespace dagctl::cli
