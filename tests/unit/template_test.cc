#include "engine/template.h"

#include <catch2/catch.hpp>
#include <map>

using namespace dagctl;

namespace {

class MapScope : public TemplateScope {
 public:
  std::map<std::string, std::string> values = {
      {"ds", "2026-03-01"}, {"params.table", "users"}, {"xcom.extract", "it's 42"}};
  Result<std::string> Lookup(const std::vector<std::string>& path) const override {
    std::string name;
    for (const auto& p : path) name += (name.empty() ? "" : ".") + p;
    auto it = values.find(name);
    if (it == values.end()) return Fail(Error::InvalidArgument("unknown name '" + name + "'"));
    return it->second;
  }
};

}  // namespace

TEST_CASE("templates render names, macros and filters") {
  MapScope scope;
  struct Case {
    const char* in;
    const char* out;
  };
  const Case cases[] = {
      {"plain text", "plain text"},
      {"{{ ds }}", "2026-03-01"},
      {"{{ds}}/{{ params.table }}", "2026-03-01/users"},
      {"{{ ds_add(ds, 1) }}", "2026-03-02"},
      {"{{ ds_add(ds, -1) }}", "2026-02-28"},
      {"{{ ds_add('2024-02-28', 1) }}", "2024-02-29"},
      {"{{ ds_format(ds, '%Y-%m-%d', '%Y%m%d') }}", "20260301"},
      {"echo {{ xcom.extract | quote }}", "echo 'it'\\''s 42'"},
      {"{{ params.table | upper }}", "USERS"},
  };
  for (const Case& c : cases) {
    INFO(c.in);
    auto r = RenderTemplate(c.in, scope);
    REQUIRE(r);
    CHECK(*r == c.out);
  }
}

TEST_CASE("template errors name what is wrong, never render empty") {
  MapScope scope;
  struct Case {
    const char* in;
    const char* error;
  };
  const Case cases[] = {
      {"{{ nope }}", "template '{{ nope }}': unknown name 'nope'"},
      {"a {{ params.x }} b", "template '{{ params.x }}': unknown name 'params.x'"},
      {"{{ ds | shout }}",
       "template '{{ ds | shout }}': unknown filter 'shout' (known: quote, upper, lower)"},
      {"{{ ds_add(ds) }}", "template '{{ ds_add(ds) }}': ds_add takes (ds, days)"},
      {"{{ macro(1) }}",
       "template '{{ macro(1) }}': unknown macro 'macro' (known: ds_add, ds_format)"},
      {"{{ ds", "template: '{{' at offset 0 is never closed with '}}'"},
      {"{{ }}", "template '{{  }}': empty expression"},
  };
  for (const Case& c : cases) {
    INFO(c.in);
    auto r = RenderTemplate(c.in, scope);
    REQUIRE_FALSE(r);
    CHECK(r.error().message() == c.error);
  }
}

TEST_CASE("shell quoting survives any text") {
  CHECK(ShellQuote("") == "''");
  CHECK(ShellQuote("a b") == "'a b'");
  CHECK(ShellQuote("$(rm -rf /)") == "'$(rm -rf /)'");
}
