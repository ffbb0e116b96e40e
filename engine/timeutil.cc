#include "engine/timeutil.h"

#include <date/date.h>
#include <date/tz.h>
#include <fmt/format.h>

#include <cstdio>

#include "engine/text.h"

namespace dagctl {

namespace chr = std::chrono;

namespace {

// A zone by name, the zone database loaded first through a static of our
// own: libdate-tz loads it behind a guard of its own, which ThreadSanitizer
// cannot see (the library is not instrumented), so the first loads by the
// scheduler's and the web server's threads looked like a race to it.
const date::time_zone* FindZone(const std::string& name) {
  [[maybe_unused]] static const date::tzdb& loaded = date::get_tzdb();
  return date::locate_zone(name);
}

const date::time_zone* Utc() {
  static const date::time_zone* utc = FindZone("UTC");
  return utc;
}

}  // namespace

TimeZone::TimeZone() : zone_(Utc()), name_("UTC") {}

Result<TimeZone> TimeZone::Locate(const std::string& name) {
  try {
    return TimeZone(FindZone(name), name);
  } catch (const std::exception&) {
    return Fail(Error::NotFound("unknown time zone '" + name + "'"));
  }
}

Timestamp TimeZone::ToInstant(LocalTime local) const {
  date::local_seconds ls{local.time_since_epoch()};
  date::local_info info = zone_->get_info(ls);
  // For a unique time, `first` is the only offset; for a gap it is the offset
  // before the transition (so 02:30 EST becomes 03:30 EDT); for a fold it is
  // the first occurrence.
  chr::sys_seconds s{ls.time_since_epoch() - info.first.offset};
  return chr::time_point_cast<chr::microseconds>(s);
}

LocalTime TimeZone::ToLocal(Timestamp t) const {
  auto secs = chr::floor<chr::seconds>(t);
  return LocalTime{secs.time_since_epoch() + OffsetAt(t)};
}

chr::seconds TimeZone::OffsetAt(Timestamp t) const {
  if (name_ == "UTC") return chr::seconds(0);  // the common case, without a zone lookup
  return zone_->get_info(chr::floor<chr::seconds>(t)).offset;
}

namespace {

std::string FormatLocal(Timestamp t, const TimeZone& zone, char sep) {
  auto secs = chr::floor<chr::seconds>(t);
  LocalTime local = zone.ToLocal(t);
  auto days = chr::floor<date::days>(local);
  date::year_month_day ymd{date::local_days{days.time_since_epoch()}};
  date::hh_mm_ss<chr::seconds> hms{local - days};
  std::string out = fmt::format("{:04}-{:02}-{:02}{}{:02}:{:02}:{:02}", int(ymd.year()),
                                unsigned(ymd.month()), unsigned(ymd.day()), sep,
                                hms.hours().count(), hms.minutes().count(), hms.seconds().count());
  auto micros = (t - secs).count();
  if (sep == 'T' && micros != 0) out += fmt::format(".{:06}", micros);
  return out;
}

// Parses exactly `n` digits at text[pos]; advances pos.
bool Digits(const std::string& text, size_t& pos, int n, int* out) {
  if (pos + n > text.size()) return false;
  int v = 0;
  for (int i = 0; i < n; ++i) {
    char c = text[pos + i];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  pos += n;
  *out = v;
  return true;
}

bool Expect(const std::string& text, size_t& pos, char c) {
  if (pos < text.size() && text[pos] == c) {
    ++pos;
    return true;
  }
  return false;
}

// Reads `Z`, `+HH:MM` or `+HHMM` at text[pos].
bool ParseOffset(const std::string& text, size_t& pos, chr::seconds* offset) {
  if (Expect(text, pos, 'Z') || Expect(text, pos, 'z')) {
    *offset = chr::seconds(0);
    return true;
  }
  if (pos >= text.size() || (text[pos] != '+' && text[pos] != '-')) return false;
  int sign = text[pos++] == '-' ? -1 : 1;
  int hh = 0, mm = 0;
  if (!Digits(text, pos, 2, &hh)) return false;
  Expect(text, pos, ':');
  if (!Digits(text, pos, 2, &mm)) return false;
  *offset = chr::seconds(sign * (hh * 3600 + mm * 60));
  return true;
}

}  // namespace

std::string FormatIso(Timestamp t, const TimeZone& zone) {
  auto offset = zone.OffsetAt(t).count();
  char sign = offset < 0 ? '-' : '+';
  offset = std::abs(offset);
  return FormatLocal(t, zone, 'T') +
         fmt::format("{}{:02}:{:02}", sign, offset / 3600, (offset % 3600) / 60);
}

std::string FormatShort(Timestamp t, const TimeZone& zone) { return FormatLocal(t, zone, ' '); }

Result<Timestamp> ParseDateTime(const std::string& text, const TimeZone& zone) {
  auto bad = [&] {
    return Fail(Error::InvalidArgument(
        "'" + Shorten(text) +
        "' is not a date or date-time (expected YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS)"));
  };
  size_t pos = 0;
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
  if (!Digits(text, pos, 4, &y) || !Expect(text, pos, '-') || !Digits(text, pos, 2, &mo) ||
      !Expect(text, pos, '-') || !Digits(text, pos, 2, &d))
    return bad();
  date::year_month_day ymd{date::year(y), date::month(mo), date::day(d)};
  if (!ymd.ok()) return bad();
  int64_t micros = 0;
  if (Expect(text, pos, 'T') || Expect(text, pos, ' ')) {
    if (!Digits(text, pos, 2, &h) || !Expect(text, pos, ':') || !Digits(text, pos, 2, &mi))
      return bad();
    if (Expect(text, pos, ':')) {
      if (!Digits(text, pos, 2, &s)) return bad();
      if (Expect(text, pos, '.')) {
        int64_t scale = 100000;
        size_t start = pos;
        while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
          if (scale > 0) micros += (text[pos] - '0') * scale;
          scale /= 10;
          ++pos;
        }
        if (pos == start) return bad();
      }
    }
    if (h > 23 || mi > 59 || s > 59) return bad();
  }
  chr::seconds tod = chr::hours(h) + chr::minutes(mi) + chr::seconds(s);
  LocalTime local{date::local_days(ymd).time_since_epoch() + tod};
  Timestamp result;
  if (pos < text.size()) {
    chr::seconds offset;
    if (!ParseOffset(text, pos, &offset) || pos != text.size()) return bad();
    result = Timestamp(chr::duration_cast<chr::microseconds>(local.time_since_epoch() - offset));
  } else {
    result = zone.ToInstant(local);
  }
  return result + chr::microseconds(micros);
}

Timestamp NowUtc() { return chr::time_point_cast<chr::microseconds>(chr::system_clock::now()); }

}  // namespace dagctl
