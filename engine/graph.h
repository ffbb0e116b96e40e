// The task graph: cycle detection, topological order and layers (Boost.Graph
// stays inside graph.cc). Pure: no I/O.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace dagctl {

/// Edges run from upstream to downstream; vertices are task positions.
struct TaskGraph {
  std::vector<std::vector<size_t>> upstream;
  std::vector<std::vector<size_t>> downstream;
  std::vector<size_t> topo_order;  ///< Every task after all its upstreams.
  std::vector<int> layer;          ///< Longest path from a root; roots are layer 0.
};

/// A cycle as vertex positions, first == last (a -> b -> a is {a, b, a}).
using CyclePath = std::vector<size_t>;

/// Finds one cycle in the graph given by `upstream` lists, or nullopt.
std::optional<CyclePath> FindCycle(const std::vector<std::vector<size_t>>& upstream);

/// Builds the graph; requires that FindCycle found none.
TaskGraph BuildTaskGraph(const std::vector<std::vector<size_t>>& upstream);

/// For each vertex: its weight plus the weights of every vertex below it
/// (`downstream`) or above it, each counted once however many paths lead
/// there (Airflow's weight_rule sums).
std::vector<int64_t> ReachableWeightSums(const TaskGraph& g, bool downstream,
                                         const std::vector<int64_t>& weights);

}  // namespace dagctl
