// Cron parsing and fire times. (The scheduler issue extends this table.)
#include "engine/cron.h"

#include <catch2/catch.hpp>

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
      // Hourly across New York's spring-forward gap: 02:00 maps onto 03:00 EDT, once.
      {"0 * * * *", "2026-03-08T01:00-05:00", "America/New_York", "2026-03-08T03:00:00-04:00"},
      {"0 * * * *", "2026-03-08T03:00-04:00", "America/New_York", "2026-03-08T04:00:00-04:00"},
      // Hourly across the fall-back fold: 01:00 fires at its first occurrence only.
      {"0 * * * *", "2026-11-01T00:30-04:00", "America/New_York", "2026-11-01T01:00:00-04:00"},
      {"0 * * * *", "2026-11-01T01:00-04:00", "America/New_York", "2026-11-01T02:00:00-05:00"},
      // Berlin: 2026-03-29 02:00 -> 03:00, 2026-10-25 03:00 -> 02:00.
      {"30 2 * * *", "2026-03-28T12:00", "Europe/Berlin", "2026-03-29T03:30:00+02:00"},
      {"30 2 * * *", "2026-03-29T03:30+02:00", "Europe/Berlin", "2026-03-30T02:30:00+02:00"},
      {"30 2 * * *", "2026-10-24T12:00", "Europe/Berlin", "2026-10-25T02:30:00+02:00"},
      {"30 2 * * *", "2026-10-25T02:30+02:00", "Europe/Berlin", "2026-10-26T02:30:00+01:00"},
      {"*/30 * * * *", "2026-10-25T02:30+02:00", "Europe/Berlin", "2026-10-25T03:00:00+01:00"},
      // Lord Howe shifts by 30 minutes: 2026-10-04 02:00 -> 02:30, 2026-04-05 02:00 -> 01:30.
      {"15 2 * * *", "2026-10-03T12:00", "Australia/Lord_Howe", "2026-10-04T02:45:00+11:00"},
      {"45 1 * * *", "2026-04-04T12:00", "Australia/Lord_Howe", "2026-04-05T01:45:00+11:00"},
      {"45 1 * * *", "2026-04-05T01:45+11:00", "Australia/Lord_Howe", "2026-04-06T01:45:00+10:30"},
      // 29 February and months without a 31st.
      {"0 12 29 2 *", "2024-02-29T12:00", "UTC", "2028-02-29T12:00:00+00:00"},
      {"0 0 31 * *", "2026-01-31T00:00", "UTC", "2026-03-31T00:00:00+00:00"},
      {"0 0 L 2 *", "2027-01-01T00:00", "UTC", "2027-02-28T00:00:00+00:00"},
      {"0 0 L 2 *", "2028-01-01T00:00", "UTC", "2028-02-29T00:00:00+00:00"},
      {"0 0 1,15 * MON", "2026-06-01T00:00", "UTC", "2026-06-08T00:00:00+00:00"},
      {"0 9 * JAN-MAR/2 FRI#1", "2026-02-01T00:00", "UTC", "2026-03-06T09:00:00+00:00"},
      {"@quarterly", "2026-02-15T00:00", "UTC", "2026-04-01T00:00:00+00:00"},
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
      {"* * *",
       "invalid cron expression '* * *': expected 5 fields (minute hour day-of-month month "
       "day-of-week), got 3"},
      {"0 0 * FOO *", "invalid cron expression '0 0 * FOO *': month field: 'FOO' is not a number"},
      {"0 0 30 2 *",
       "invalid cron expression '0 0 30 2 *': it never fires (no selected month has the selected "
       "days)"},
      {"@sometimes",
       "invalid cron expression '@sometimes': unknown preset (use @once, @hourly, @daily, @weekly, "
       "@monthly, @quarterly, @yearly or @annually)"},
      {"5-1 * * * *",
       "invalid cron expression '5-1 * * * *': minute field: range '5-1' runs backwards"},
  };
  for (const Case& c : cases) {
    auto r = CronSchedule::Parse(c.expr);
    REQUIRE_FALSE(r);
    CHECK(r.error().message() == c.error);
  }
}

TEST_CASE("fire instants strictly increase through DST transitions") {
  for (const char* zone : {"America/New_York", "Europe/Berlin", "Australia/Lord_Howe"}) {
    for (const char* expr : {"*/15 * * * *", "0 * * * *", "30 2 * * *", "45 1 * * *"}) {
      INFO(expr << " in " << zone);
      auto tz = TimeZone::Locate(zone).value();
      auto cron = CronSchedule::Parse(expr).value();
      Timestamp t = ParseDateTime("2026-01-01T00:00Z").value();
      Timestamp end = ParseDateTime("2027-01-01T00:00Z").value();
      int fires = 0;
      while (t < end) {
        auto next = cron.Next(t, tz);
        REQUIRE(next);
        REQUIRE(*next > t);
        // Prev inverts Next.
        auto prev = cron.Prev(*next, tz);
        REQUIRE(prev);
        CHECK(*prev <= t);
        t = *next;
        ++fires;
      }
      CHECK(fires > 300);
    }
  }
}
