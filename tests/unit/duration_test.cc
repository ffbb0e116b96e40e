#include "engine/duration.h"

#include <catch2/catch.hpp>

using namespace dagctl;
using namespace std::chrono;

TEST_CASE("durations read as DAG files write them") {
  CHECK(ParseDuration("45s") == seconds(45));
  CHECK(ParseDuration("5m") == minutes(5));
  CHECK(ParseDuration("1h30m") == minutes(90));
  CHECK(ParseDuration("2d") == hours(48));
  CHECK(ParseDuration("90") == seconds(90));
  CHECK(ParseDuration("1.5") == milliseconds(1500));
  CHECK(ParseDuration("250ms") == milliseconds(250));
  for (const char* bad : {"", "5x", "m5", "-3", "5m1h", "1h1h", "abc"}) {
    INFO(bad);
    CHECK_FALSE(ParseDuration(bad));
  }
  CHECK(FormatDuration(minutes(90)) == "1h30m");
  CHECK(FormatDuration(milliseconds(0)) == "0s");
}
