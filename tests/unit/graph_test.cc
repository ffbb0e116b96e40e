#include "engine/graph.h"

#include <catch2/catch.hpp>

using namespace dagctl;

TEST_CASE("topological order puts every task after its upstreams and layers are longest paths") {
  // 0 -> 1 -> 3, 0 -> 2 -> 3, 4 alone
  std::vector<std::vector<size_t>> up = {{}, {0}, {0}, {1, 2}, {}};
  REQUIRE_FALSE(FindCycle(up));
  TaskGraph g = BuildTaskGraph(up);
  std::vector<size_t> pos(5);
  for (size_t i = 0; i < g.topo_order.size(); ++i) pos[g.topo_order[i]] = i;
  for (size_t v = 0; v < up.size(); ++v)
    for (size_t u : up[v]) CHECK(pos[u] < pos[v]);
  CHECK(g.layer == std::vector<int>{0, 1, 1, 2, 0});
  CHECK(g.downstream[0] == std::vector<size_t>{1, 2});
}

TEST_CASE("a cycle is found as a closed path") {
  std::vector<std::vector<size_t>> up = {{2}, {0}, {1}, {}};
  auto cycle = FindCycle(up);
  REQUIRE(cycle);
  CHECK(*cycle == CyclePath{0, 1, 2, 0});
}

TEST_CASE("a long chain does not overflow the stack") {
  std::vector<std::vector<size_t>> up(20000);
  for (size_t i = 1; i < up.size(); ++i) up[i] = {i - 1};
  REQUIRE_FALSE(FindCycle(up));
  CHECK(BuildTaskGraph(up).layer.back() == 19999);
}
