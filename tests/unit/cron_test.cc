// Cron parsing and fire times. (The scheduler issue extends this table.)
#include <catch2/catch.hpp>

#include "engine/cron.h"

using namespace dagctl;

namespace {

std::string NextAfter(const std::string& expr, const std::string& after, const std::string& zone) {
  auto tz = TimeZone::Locate(zone).value();
  auto cron = CronSchedule::Parse(expr);
  REQUIRE(cron);
  auto next = cron->Next(ParseDateTime(after, tz).value(), tz);
  return next ? FormatIso(*next, tz) : "none";
}

}  // namespace

TEST_CASE("next fire times on the zone's wall clock") {
  struct Case {
    const char* expr;
    const char* after;
    const char* zone;
    const char* next;
  };
  const Case cases[] = {
      {"0 2 * * 0", "2026-11-22T03:00", "Asia/Seoul", "2026-11-29T02:00:00+09:00"},
      {"0 2 * * SUN", "2026-11-21T12:00", "Asia/Seoul", "2026-11-22T02:00:00+09:00"},
      {"0 2 * * 7", "2026-11-21T12:00", "Asia/Seoul", "2026-11-22T02:00:00+09:00"},
      {"*/15 * * * *", "2026-01-01T10:07", "UTC", "2026-01-01T10:15:00+00:00"},
      {"0 0 L * *", "2026-02-10T00:00", "UTC", "2026-02-28T00:00:00+00:00"},
      {"0 0 * * MON#2", "2026-03-01T00:00", "UTC", "2026-03-09T00:00:00+00:00"},
      {"0 0 29 2 *", "2026-01-01T00:00", "UTC", "2028-02-29T00:00:00+00:00"},
      {"0 0 31 * *", "2026-04-01T00:00", "UTC", "2026-05-31T00:00:00+00:00"},
      {"0 0 13 * FRI", "2026-03-01T00:00", "UTC", "2026-03-06T00:00:00+00:00"},
      {"@daily", "2026-03-01T00:00", "UTC", "2026-03-02T00:00:00+00:00"},
      {"30 2 * * *", "2026-03-08T00:00", "America/New_York", "2026-03-08T03:30:00-04:00"},
      {"30 1 * * *", "2026-11-01T00:00", "America/New_York", "2026-11-01T01:30:00-04:00"},
      {"30 1 * * *", "2026-11-01T01:30-04:00", "America/New_York", "2026-11-02T01:30:00-05:00"},
  };
  for (const Case& c : cases) {
    INFO(c.expr << " after " << c.after << " in " << c.zone);
    CHECK(NextAfter(c.expr, c.after, c.zone) == c.next);
  }
}

TEST_CASE("bad cron expressions say which field is wrong") {
  struct Case {
    const char* expr;
    const char* error;
  };
  const Case cases[] = {
      {"61 * * * *", "invalid cron expression '61 * * * *': minute field: 61 is out of range 0-59"},
      {"* * *", "invalid cron expression '* * *': expected 5 fields (minute hour day-of-month month day-of-week), got 3"},
      {"0 0 * FOO *", "invalid cron expression '0 0 * FOO *': month field: 'FOO' is not a number"},
      {"0 0 30 2 *", "invalid cron expression '0 0 30 2 *': it never fires (no selected month has the selected days)"},
      {"@sometimes", "invalid cron expression '@sometimes': unknown preset (use @once, @hourly, @daily, @weekly, @monthly, @quarterly, @yearly or @annually)"},
      {"5-1 * * * *", "invalid cron expression '5-1 * * * *': minute field: range '5-1' runs backwards"},
  };
  for (const Case& c : cases) {
    auto r = CronSchedule::Parse(c.expr);
    REQUIRE_FALSE(r);
    CHECK(r.error().message() == c.error);
  }
}
