#include "engine/timeutil.h"

#include <catch2/catch.hpp>

using namespace dagctl;

TEST_CASE("dates and date-times read in a zone and print with their offset") {
  auto seoul = TimeZone::Locate("Asia/Seoul").value();
  CHECK(FormatIso(ParseDateTime("2026-03-01", seoul).value(), seoul) ==
        "2026-03-01T00:00:00+09:00");
  CHECK(FormatIso(ParseDateTime("2026-03-01", seoul).value()) == "2026-02-28T15:00:00+00:00");
  CHECK(FormatIso(ParseDateTime("2026-03-01T10:20:30Z", seoul).value()) ==
        "2026-03-01T10:20:30+00:00");
  CHECK(FormatIso(ParseDateTime("2026-03-01 10:20+02:00").value()) == "2026-03-01T08:20:00+00:00");
  CHECK(FormatIso(ParseDateTime("2026-03-01T10:20:30.5").value()) ==
        "2026-03-01T10:20:30.500000+00:00");
  for (const char* bad :
       {"2026-02-30", "2026-3-1", "yesterday", "2026-03-01T25:00", "2026-03-01X"}) {
    INFO(bad);
    CHECK_FALSE(ParseDateTime(bad));
  }
  CHECK_FALSE(TimeZone::Locate("Mars/Base"));
}

TEST_CASE("a wall time in a spring-forward gap maps to the instant it had before the shift") {
  auto ny = TimeZone::Locate("America/New_York").value();
  // 2026-03-08 02:30 does not exist in New York; it becomes 03:30 EDT.
  CHECK(FormatIso(ParseDateTime("2026-03-08T02:30", ny).value(), ny) ==
        "2026-03-08T03:30:00-04:00");
  // 2026-11-01 01:30 happens twice; the first (EDT) is taken.
  CHECK(FormatIso(ParseDateTime("2026-11-01T01:30", ny).value(), ny) ==
        "2026-11-01T01:30:00-04:00");
}
