// Instants, time zones and their text forms (ISO 8601 with an explicit offset).
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "engine/error.h"

namespace date {
class time_zone;
}

namespace dagctl {

/// An instant, in microseconds since the Unix epoch (UTC), as Airflow keeps them.
using Timestamp = std::chrono::sys_time<std::chrono::microseconds>;

/// A wall-clock time with no zone attached.
using LocalTime = std::chrono::local_time<std::chrono::seconds>;

/// An IANA time zone from the system's zoneinfo. Cheap to copy; never null.
class TimeZone {
 public:
  /// UTC.
  TimeZone();
  /// Looks `name` up; NotFound when the system has no such zone.
  static Result<TimeZone> Locate(const std::string& name);

  const std::string& name() const { return name_; }

  /// The instant a wall-clock time names in this zone. A time inside a
  /// spring-forward gap maps to the instant it would have had before the
  /// transition (02:30 -> 03:30); an ambiguous one to its first occurrence.
  Timestamp ToInstant(LocalTime local) const;
  /// The wall-clock time of `t` in this zone.
  LocalTime ToLocal(Timestamp t) const;
  /// UTC offset in effect at `t`.
  std::chrono::seconds OffsetAt(Timestamp t) const;

 private:
  TimeZone(const date::time_zone* zone, std::string name) : zone_(zone), name_(std::move(name)) {}
  const date::time_zone* zone_;
  std::string name_;
};

/// `2026-11-22T03:51:00+09:00` (fractional seconds only when non-zero), in `zone`.
std::string FormatIso(Timestamp t, const TimeZone& zone = TimeZone());

/// `2026-11-22 03:51:00` in `zone`, for tables.
std::string FormatShort(Timestamp t, const TimeZone& zone = TimeZone());

/// Reads a date (`2026-11-22`, midnight in `zone`) or a date-time
/// (`2026-11-22T03:51[:00[.123]]`, `T` or space) with an optional offset
/// (`Z`, `+09:00`, `+0900`); without an offset the time is read in `zone`.
Result<Timestamp> ParseDateTime(const std::string& text, const TimeZone& zone = TimeZone());

/// The current instant from the system clock.
Timestamp NowUtc();

}  // namespace dagctl
