// Dynamic task mapping's pure part: lists from YAML and templates, the cross
// product's order, the limit, and the names each instance sees.
#include "engine/mapping.h"

#include <catch2/catch.hpp>
#include <map>

#include "fakes/load.h"

using namespace dagctl;
using dagctl::testing::MustLoad;

namespace {

// Template names from a map; anything else is unknown.
class MapScope : public TemplateScope {
 public:
  explicit MapScope(std::map<std::string, std::string> values) : values_(std::move(values)) {}
  Result<std::string> Lookup(const std::vector<std::string>& path) const override {
    std::string name;
    for (const auto& p : path) name += (name.empty() ? "" : ".") + p;
    auto it = values_.find(name);
    if (it == values_.end()) return Fail(Error::InvalidArgument("unknown name '" + name + "'"));
    return it->second;
  }

 private:
  std::map<std::string, std::string> values_;
};

const Task& Mapped(const std::string& expand, int max = 1024) {
  static std::shared_ptr<Dag> dag;
  dag = MustLoad("tasks:\n  - {id: t, command: x, max_map_length: " + std::to_string(max) +
                 ", expand: " + expand + "}\n");
  return dag->tasks[0];
}

}  // namespace

TEST_CASE("mapping: the cross product of several lists, the last name varying fastest") {
  MapScope scope(std::map<std::string, std::string>{{"xcom.src", R"(["a.csv", 3, {"k": [1]}])"}});
  auto e = Expand(Mapped(R"({f: "{{ xcom.src }}", size: [s, m]})"), scope);
  REQUIRE(e);
  CHECK(e->count == 6);
  CHECK(e->names == std::vector<std::string>{"f", "size"});
  CHECK(e->lists[0] == std::vector<std::string>{"a.csv", "3", R"({"k":[1]})"});
  CHECK(InstanceValues(*e, 0) == R"({"f":"a.csv","size":"s"})");
  CHECK(InstanceValues(*e, 1) == R"({"f":"a.csv","size":"m"})");
  CHECK(InstanceValues(*e, 5) == R"({"f":"{\"k\":[1]}","size":"m"})");
  auto names = InstanceNames(InstanceValues(*e, 3), 3);
  CHECK(names == std::map<std::string, std::string>{{"f", "3"}, {"size", "m"}, {"map_index", "3"}});
  CHECK(DescribeInstance(InstanceValues(*e, 2)) == "f=3, size=s");
  CHECK(InstanceNames("", -1).empty());
  CHECK(DescribeInstance("").empty());
}

TEST_CASE("mapping: an empty list makes no instance; the limit and bad lists are errors") {
  MapScope scope(std::map<std::string, std::string>{{"params.none", "[]"}, {"params.big", "[1, 2, 3]"}, {"params.text", "hello"}});
  auto empty = Expand(Mapped(R"({a: "{{ params.none }}", b: [1, 2]})"), scope);
  REQUIRE(empty);
  CHECK(empty->count == 0);

  auto over = Expand(Mapped(R"({a: "{{ params.big }}", b: [1, 2]})", 5), scope);
  REQUIRE(!over);
  CHECK(over.error().message() ==
        "expand: 3 a x 2 b would make more task instances than max_map_length (5)");
  auto text = Expand(Mapped(R"({a: "{{ params.text }}"})"), scope);
  REQUIRE(!text);
  CHECK(text.error().message() ==
        "expand: 'a' must render a JSON list, but '{{ params.text }}' rendered 'hello', not valid "
        "JSON (syntax error at byte 1)");
  auto unknown = Expand(Mapped(R"({a: "{{ params.nope }}"})"), scope);
  REQUIRE(!unknown);
  CHECK(unknown.error().message().rfind("expand: 'a': ", 0) == 0);
  CHECK(unknown.error().message().find("unknown name 'params.nope'") != std::string::npos);
}

TEST_CASE("mapping: the product of huge lists is capped, never overflows") {
  // 100,000 x 100,000 x 100,000 elements would overflow 32 bits many times over.
  std::string list = "[";
  for (int i = 0; i < 100000; ++i) list += (i ? "," : "") + std::to_string(i);
  list += "]";
  MapScope scope(std::map<std::string, std::string>{{"params.l", list}});
  auto e = Expand(Mapped(R"({a: "{{ params.l }}", b: "{{ params.l }}", c: "{{ params.l }}"})", 100000),
                  scope);
  REQUIRE(!e);
  CHECK(e.error().message() ==
        "expand: 100000 a x 100000 b x 100000 c would make more task instances than "
        "max_map_length (100000)");
  CHECK(IsBuiltinTemplateName("xcom"));
  CHECK(!IsBuiltinTemplateName("file"));
}
