// Cron expressions and their fire times on a time zone's wall clock (SPEC §2 Cron).
#pragma once

#include <bitset>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "engine/error.h"
#include "engine/timeutil.h"

namespace dagctl {

/// A parsed 5-field cron expression (minute hour day-of-month month day-of-week)
/// or a preset (`@daily` ...). `@once` parses but has no fire times of its own:
/// its one run is at the DAG's start_date, which the scheduler handles.
class CronSchedule {
 public:
  /// Parses `text`; InvalidArgument with a message naming the field otherwise.
  static Result<CronSchedule> Parse(const std::string& text);

  const std::string& text() const { return text_; }
  bool once() const { return once_; }

  /// The first fire instant strictly after `after`, evaluated on `zone`'s wall
  /// clock; nullopt if none within the next 30 years (or for @once).
  std::optional<Timestamp> Next(Timestamp after, const TimeZone& zone) const;
  /// The last fire instant strictly before `before`; nullopt if none within 30 years.
  std::optional<Timestamp> Prev(Timestamp before, const TimeZone& zone) const;

  /// True when the wall-clock minute `local` matches every field.
  bool Matches(LocalTime local) const;

 private:
  bool DayMatches(int year, unsigned month, unsigned day, unsigned weekday) const;
  std::optional<LocalTime> NextLocal(LocalTime from) const;
  std::optional<LocalTime> PrevLocal(LocalTime from) const;

  std::string text_;
  bool once_ = false;
  std::bitset<60> minutes_;
  std::bitset<24> hours_;
  std::bitset<32> days_;                                     // 1..31
  std::bitset<13> months_;                                   // 1..12
  std::bitset<7> weekdays_;                                  // 0 = Sunday
  bool last_day_ = false;                                    // `L` in day-of-month
  std::vector<std::pair<unsigned, unsigned>> nth_weekdays_;  // (weekday, n) from `DOW#N`
  bool dom_restricted_ = false;
  bool dow_restricted_ = false;
};

}  // namespace dagctl
