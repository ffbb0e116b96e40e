#include "engine/connection.h"

#include <catch2/catch.hpp>
#include <cstdlib>

using namespace dagctl;

TEST_CASE("connection URIs split into Airflow's fields") {
  auto c = ParseConnectionUri(
      "warehouse",
      "postgres://etl%40corp:p%2Fss@db.local:5433/analytics?sslmode=require&app=dagctl");
  REQUIRE(c);
  CHECK(c->conn_type == "postgres");
  CHECK(c->login == "etl@corp");
  CHECK(c->password == "p/ss");
  CHECK(c->host == "db.local");
  CHECK(c->port == 5433);
  CHECK(c->schema == "analytics");
  CHECK(c->Field("extra").value() == "{\"app\": \"dagctl\", \"sslmode\": \"require\"}");
  CHECK(c->Field("sslmode").value() == "require");
  CHECK(c->Field("extra__app").value() == "dagctl");
  CHECK(c->Field("port").value() == "5433");

  auto plain = ParseConnectionUri("lake", "file:///data/lake");
  REQUIRE(plain);
  CHECK(plain->host == "");
  CHECK(plain->schema == "data/lake");
  auto web = ParseConnectionUri("api", "http-secure://[::1]:8443");
  REQUIRE(web);
  CHECK(web->conn_type == "http_secure");
  CHECK(web->host == "::1");
}

TEST_CASE("bad connection URIs and unknown fields say what is wrong") {
  CHECK(ParseConnectionUri("x", "no-scheme").error().message() ==
        "connection 'x': expected a URI like scheme://user:pass@host:port/schema");
  CHECK(ParseConnectionUri("x", "redis://h:99999").error().message() ==
        "connection 'x': port '99999' is not a number from 0 to 65535");
  CHECK(ParseConnectionUri("x", "redis://h").value().Field("nope").error().message() ==
        "connection 'x' has no field 'nope' (fields: conn_type, host, port, login, password, "
        "schema, uri, extra, or a query parameter)");
}

TEST_CASE("connections come from DAGCTL_CONN_<ID>") {
  ::setenv("DAGCTL_CONN_CACHE_TEST", "redis://:secret@127.0.0.1:6379/0", 1);
  auto c = ConnectionFromEnv("cache_test");
  REQUIRE(c);
  CHECK(c->password == "secret");
  CHECK(c->schema == "0");
  ::unsetenv("DAGCTL_CONN_CACHE_TEST");
  CHECK(ConnectionFromEnv("cache_test").error().message() ==
        "connection 'cache_test' is not defined (set DAGCTL_CONN_CACHE_TEST)");
}

TEST_CASE("a connection renders back to its URI (conn.ID.uri)") {
  for (const char* uri : {"file:///data/lake", "postgres://etl:p%40ss@db.internal:5432/dw?sslmode=require",
                          "redis://127.0.0.1:6379/0", "webhdfs://hdfs@[::1]:9870", "spark://?master=local%5B%2A%5D"}) {
    INFO(uri);
    auto c = ParseConnectionUri("x", uri);
    REQUIRE(c);
    CHECK(c->Field("uri").value() == uri);
  }
  auto local = ParseConnectionUri("x", "spark://?master=local%5B%2A%5D");
  CHECK(local->extra.at("master") == "local[*]");
}
