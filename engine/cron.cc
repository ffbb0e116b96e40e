#include "engine/cron.h"

#include <date/date.h>
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <sstream>

#include "engine/text.h"
#include "engine/value.h"

namespace dagctl {

namespace chr = std::chrono;

namespace {

struct FieldSpec {
  const char* name;
  int min;
  int max;
  const char* const* names;  // names[i] is value min+i, or nullptr
};

const char* const kMonthNames[] = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN",
                                   "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};
const char* const kDayNames[] = {"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"};

const FieldSpec kFields[] = {
    {"minute", 0, 59, nullptr},       {"hour", 0, 23, nullptr},
    {"day-of-month", 1, 31, nullptr}, {"month", 1, 12, kMonthNames},
    {"day-of-week", 0, 7, kDayNames},
};

const std::pair<const char*, const char*> kPresets[] = {
    {"@hourly", "0 * * * *"}, {"@daily", "0 0 * * *"},    {"@midnight", "0 0 * * *"},
    {"@weekly", "0 0 * * 0"}, {"@monthly", "0 0 1 * *"},  {"@quarterly", "0 0 1 */3 *"},
    {"@yearly", "0 0 1 1 *"}, {"@annually", "0 0 1 1 *"},
};

std::vector<std::string> Split(const std::string& s, char sep) {
  std::vector<std::string> parts;
  std::string cur;
  for (char c : s) {
    if (c == sep) {
      parts.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  parts.push_back(cur);
  return parts;
}

// One value of a field: a number or (for month and weekday) a name.
Result<int> ParseAtom(const std::string& atom, const FieldSpec& f) {
  if (f.names) {
    std::string upper = atom;
    for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    int count = f.names == kMonthNames ? 12 : 7;
    for (int i = 0; i < count; ++i)
      if (upper == f.names[i]) return f.min + i;
  }
  auto v = ScalarAsInt(atom);
  if (!v) return Fail(Error::InvalidArgument(fmt::format("'{}' is not a number", Shorten(atom))));
  if (*v < f.min || *v > f.max)
    return Fail(Error::InvalidArgument(fmt::format("{} is out of range {}-{}", *v, f.min, f.max)));
  return static_cast<int>(*v);
}

// Parses one comma-separated item (`*`, `a`, `a-b`, with an optional `/step`)
// and sets its values in `bits`.
template <size_t N>
Status ParseItem(const std::string& item, const FieldSpec& f, std::bitset<N>& bits) {
  std::string range = item;
  int step = 1;
  if (auto slash = item.find('/'); slash != std::string::npos) {
    range = item.substr(0, slash);
    auto s = ScalarAsInt(item.substr(slash + 1));
    if (!s || *s <= 0 || *s > f.max)
      return Fail(Error::InvalidArgument(
          fmt::format("bad step in '{}' (a step is a number from 1 to {})", Shorten(item), f.max)));
    step = static_cast<int>(*s);
  }
  int lo = f.min, hi = f.max;
  if (range == "*") {
    if (f.max == 7) hi = 6;  // `*` in day-of-week is 0-6; 7 only aliases Sunday
  } else if (auto dash = range.find('-'); dash != std::string::npos) {
    auto a = ParseAtom(range.substr(0, dash), f);
    if (!a) return Fail(a.error());
    auto b = ParseAtom(range.substr(dash + 1), f);
    if (!b) return Fail(b.error());
    lo = *a;
    hi = *b;
    if (lo > hi)
      return Fail(Error::InvalidArgument(fmt::format("range '{}' runs backwards", Shorten(range))));
  } else {
    auto a = ParseAtom(range, f);
    if (!a) return Fail(a.error());
    lo = *a;
    if (item.find('/') == std::string::npos) hi = lo;  // `5/15` means 5-max/15
  }
  for (int v = lo; v <= hi; v += step) bits.set(f.max == 7 ? v % 7 : static_cast<size_t>(v));
  return {};
}

}  // namespace

Result<CronSchedule> CronSchedule::Parse(const std::string& text) {
  CronSchedule c;
  c.text_ = text;
  auto bad = [&](const std::string& why) {
    return Fail(Error::InvalidArgument(
        fmt::format("invalid cron expression '{}': {}", Shorten(text), why)));
  };
  std::string expr = text;
  if (!text.empty() && text[0] == '@') {
    if (text == "@once") {
      c.once_ = true;
      return c;
    }
    auto it = std::find_if(std::begin(kPresets), std::end(kPresets),
                           [&](const auto& p) { return text == p.first; });
    if (it == std::end(kPresets))
      return bad(
          "unknown preset (use @once, @hourly, @daily, @weekly, @monthly, @quarterly, "
          "@yearly or @annually)");
    expr = it->second;
  }
  std::istringstream in(expr);
  std::vector<std::string> fields;
  for (std::string f; in >> f;) fields.push_back(f);
  if (fields.size() != 5)
    return bad(fmt::format("expected 5 fields (minute hour day-of-month month day-of-week), got {}",
                           fields.size()));
  c.dom_restricted_ = fields[2][0] != '*';
  c.dow_restricted_ = fields[4][0] != '*';
  for (int i = 0; i < 5; ++i) {
    const FieldSpec& f = kFields[i];
    for (const std::string& item : Split(fields[i], ',')) {
      Status st;
      if (i == 2 && item == "L") {
        c.last_day_ = true;
      } else if (i == 4 && item.find('#') != std::string::npos) {
        auto hash = item.find('#');
        auto dow = ParseAtom(item.substr(0, hash), f);
        auto n = ScalarAsInt(item.substr(hash + 1));
        if (!dow)
          st = Fail(dow.error());
        else if (!n || *n < 1 || *n > 5)
          st = Fail(
              Error::InvalidArgument(fmt::format("'{}': N in DOW#N must be 1-5", Shorten(item))));
        else
          c.nth_weekdays_.emplace_back(static_cast<unsigned>(*dow % 7), static_cast<unsigned>(*n));
      } else {
        switch (i) {
          case 0:
            st = ParseItem(item, f, c.minutes_);
            break;
          case 1:
            st = ParseItem(item, f, c.hours_);
            break;
          case 2:
            st = ParseItem(item, f, c.days_);
            break;
          case 3:
            st = ParseItem(item, f, c.months_);
            break;
          default:
            st = ParseItem(item, f, c.weekdays_);
            break;
        }
      }
      if (!st) return bad(fmt::format("{} field: {}", f.name, st.error().message()));
    }
  }
  // A day-of-month list that no selected month has (such as 30 in February only)
  // would never fire; say so now rather than schedule nothing.
  if (!c.Next(ParseDateTime("2000-01-01").value(), TimeZone()))
    return bad("it never fires (no selected month has the selected days)");
  return c;
}

bool CronSchedule::DayMatches(int year, unsigned month, unsigned day, unsigned weekday) const {
  if (!months_.test(month)) return false;
  auto last = unsigned(
      date::year_month_day_last(date::year(year), date::month_day_last(date::month(month))).day());
  bool dom = days_.test(day) || (last_day_ && day == last);
  bool dow = weekdays_.test(weekday);
  for (auto [wd, n] : nth_weekdays_)
    if (wd == weekday && (day - 1) / 7 + 1 == n) dow = true;
  if (dom_restricted_ && dow_restricted_) return dom || dow;
  return dom && dow;
}

namespace {

// date/tz has its own local_t; convert a whole day of ours to its form.
date::local_days DateDay(std::chrono::local_time<date::days> d) {
  return date::local_days{d.time_since_epoch()};
}

}  // namespace

bool CronSchedule::Matches(LocalTime local) const {
  auto days = chr::floor<date::days>(local);
  date::year_month_day ymd{DateDay(days)};
  date::hh_mm_ss<chr::seconds> hms{local - days};
  unsigned wd = date::weekday(DateDay(days)).c_encoding();
  return minutes_.test(hms.minutes().count()) && hours_.test(hms.hours().count()) &&
         DayMatches(int(ymd.year()), unsigned(ymd.month()), unsigned(ymd.day()), wd);
}

namespace {
constexpr int kSearchDays = 366 * 30;
}

// The first matching wall-clock minute at or after `from` (a whole minute).
std::optional<LocalTime> CronSchedule::NextLocal(LocalTime from) const {
  auto day = chr::floor<date::days>(from);
  auto minute_of_day = chr::duration_cast<chr::minutes>(from - day).count();
  for (int i = 0; i < kSearchDays; ++i, ++day, minute_of_day = 0) {
    date::year_month_day ymd{DateDay(day)};
    if (!DayMatches(int(ymd.year()), unsigned(ymd.month()), unsigned(ymd.day()),
                    date::weekday(DateDay(day)).c_encoding()))
      continue;
    for (auto m = minute_of_day; m < 24 * 60; ++m) {
      if (!hours_.test(m / 60)) {
        m = (m / 60) * 60 + 59;
        continue;
      }
      if (minutes_.test(m % 60)) return LocalTime{day.time_since_epoch() + chr::minutes(m)};
    }
  }
  return std::nullopt;
}

// The last matching wall-clock minute at or before `from` (a whole minute).
std::optional<LocalTime> CronSchedule::PrevLocal(LocalTime from) const {
  auto day = chr::floor<date::days>(from);
  auto minute_of_day = chr::duration_cast<chr::minutes>(from - day).count();
  for (int i = 0; i < kSearchDays; ++i, --day, minute_of_day = 24 * 60 - 1) {
    date::year_month_day ymd{DateDay(day)};
    if (!DayMatches(int(ymd.year()), unsigned(ymd.month()), unsigned(ymd.day()),
                    date::weekday(DateDay(day)).c_encoding()))
      continue;
    for (auto m = minute_of_day; m >= 0; --m) {
      if (!hours_.test(m / 60)) {
        m = (m / 60) * 60;
        continue;
      }
      if (minutes_.test(m % 60)) return LocalTime{day.time_since_epoch() + chr::minutes(m)};
    }
  }
  return std::nullopt;
}

std::optional<Timestamp> CronSchedule::Next(Timestamp after, const TimeZone& zone) const {
  if (once_) return std::nullopt;
  LocalTime cursor = chr::floor<chr::minutes>(zone.ToLocal(after));
  // Wall-clock order and instant order differ around DST transitions, so walk
  // matching wall-clock minutes until one maps to an instant after `after`.
  for (int guard = 0; guard < 100000; ++guard) {
    auto local = NextLocal(cursor);
    if (!local) return std::nullopt;
    Timestamp t = zone.ToInstant(*local);
    if (t > after) return t;
    cursor = *local + chr::minutes(1);
  }
  return std::nullopt;
}

std::optional<Timestamp> CronSchedule::Prev(Timestamp before, const TimeZone& zone) const {
  if (once_) return std::nullopt;
  // Start a little ahead in wall-clock time: around a fold the wall clock of
  // `before` can be behind wall times whose instants are earlier.
  LocalTime cursor = chr::floor<chr::minutes>(zone.ToLocal(before)) + chr::hours(3);
  for (int guard = 0; guard < 100000; ++guard) {
    auto local = PrevLocal(cursor);
    if (!local) return std::nullopt;
    Timestamp t = zone.ToInstant(*local);
    if (t < before) {
      // Among wall times that map before `before`, keep the latest instant: a
      // gap can map an earlier wall time to a later instant.
      Timestamp best = t;
      LocalTime probe = *local;
      for (int k = 0; k < 8; ++k) {
        auto earlier = PrevLocal(probe - chr::minutes(1));
        if (!earlier || *local - *earlier > chr::hours(4)) break;
        Timestamp et = zone.ToInstant(*earlier);
        if (et < before && et > best) best = et;
        probe = *earlier;
      }
      return best;
    }
    cursor = *local - chr::minutes(1);
  }
  return std::nullopt;
}

}  // namespace dagctl
