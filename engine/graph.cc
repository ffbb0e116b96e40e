#include "engine/graph.h"

#include <algorithm>
#include <bit>
#include <boost/graph/adjacency_list.hpp>
#include <boost/graph/depth_first_search.hpp>
#include <boost/graph/topological_sort.hpp>
#include <iterator>

namespace dagctl {
namespace {

using Graph = boost::adjacency_list<boost::vecS, boost::vecS, boost::directedS>;
using Vertex = boost::graph_traits<Graph>::vertex_descriptor;
using EdgeT = boost::graph_traits<Graph>::edge_descriptor;

Graph MakeGraph(const std::vector<std::vector<size_t>>& upstream) {
  Graph g(upstream.size());
  for (size_t v = 0; v < upstream.size(); ++v)
    for (size_t u : upstream[v]) boost::add_edge(u, v, g);
  return g;
}

// Records DFS tree parents and stops at the first back edge, which closes a cycle.
class CycleVisitor : public boost::default_dfs_visitor {
 public:
  CycleVisitor(std::vector<Vertex>* parent, std::optional<CyclePath>* cycle)
      : parent_(parent), cycle_(cycle) {}

  void tree_edge(EdgeT e, const Graph& g) { (*parent_)[boost::target(e, g)] = boost::source(e, g); }

  void back_edge(EdgeT e, const Graph& g) {
    if (cycle_->has_value()) return;
    Vertex from = boost::source(e, g), to = boost::target(e, g);
    CyclePath path{from};
    for (Vertex v = from; v != to;) {
      v = (*parent_)[v];
      path.push_back(v);
    }
    std::reverse(path.begin(), path.end());
    path.push_back(to);
    *cycle_ = std::move(path);
  }

 private:
  std::vector<Vertex>* parent_;
  std::optional<CyclePath>* cycle_;
};

}  // namespace

std::optional<CyclePath> FindCycle(const std::vector<std::vector<size_t>>& upstream) {
  Graph g = MakeGraph(upstream);
  std::vector<Vertex> parent(upstream.size());
  std::optional<CyclePath> cycle;
  boost::depth_first_search(g, boost::visitor(CycleVisitor(&parent, &cycle)));
  return cycle;
}

TaskGraph BuildTaskGraph(const std::vector<std::vector<size_t>>& upstream) {
  TaskGraph tg;
  const size_t n = upstream.size();
  tg.upstream = upstream;
  tg.downstream.resize(n);
  for (size_t v = 0; v < n; ++v)
    for (size_t u : upstream[v]) tg.downstream[u].push_back(v);

  Graph g = MakeGraph(upstream);
  std::vector<Vertex> reversed;
  boost::topological_sort(g, std::back_inserter(reversed));
  tg.layer.assign(n, 0);
  for (auto it = reversed.rbegin(); it != reversed.rend(); ++it)
    for (size_t u : upstream[*it]) tg.layer[*it] = std::max(tg.layer[*it], tg.layer[u] + 1);

  // Layer, then file order: still topological (edges go to higher layers),
  // and stable for people reading graphs and summaries.
  tg.topo_order.resize(n);
  for (size_t i = 0; i < n; ++i) tg.topo_order[i] = i;
  std::stable_sort(tg.topo_order.begin(), tg.topo_order.end(),
                   [&](size_t a, size_t b) { return tg.layer[a] < tg.layer[b]; });
  return tg;
}

std::vector<int64_t> ReachableWeightSums(const TaskGraph& g, bool downstream,
                                         const std::vector<int64_t>& weights) {
  const size_t n = weights.size(), words = (n + 63) / 64;
  const auto& next = downstream ? g.downstream : g.upstream;
  // One bit set per vertex of what lies below (or above) it, filled from
  // the far end of the order so each vertex's neighbours are done first.
  std::vector<uint64_t> below(n * words, 0);
  bool unit = std::all_of(weights.begin(), weights.end(), [](int64_t w) { return w == 1; });
  std::vector<int64_t> sums(n, 0);
  for (size_t k = 0; k < n; ++k) {
    size_t v = downstream ? g.topo_order[n - 1 - k] : g.topo_order[k];
    uint64_t* mine = &below[v * words];
    for (size_t u : next[v]) {
      const uint64_t* theirs = &below[u * words];
      for (size_t w = 0; w < words; ++w) mine[w] |= theirs[w];
      mine[u / 64] |= uint64_t{1} << (u % 64);
    }
    int64_t sum = weights[v];
    for (size_t w = 0; w < words; ++w) {
      if (unit) {
        sum += std::popcount(mine[w]);
        continue;
      }
      for (uint64_t bits = mine[w]; bits; bits &= bits - 1)
        sum += weights[w * 64 + static_cast<size_t>(std::countr_zero(bits))];
    }
    sums[v] = sum;
  }
  return sums;
}

}  // namespace dagctl
