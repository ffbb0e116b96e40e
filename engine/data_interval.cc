#include "engine/data_interval.h"

namespace dagctl {

namespace {

constexpr std::chrono::microseconds kTick(1);

// The first fire at or after start_date: where the first interval starts.
std::optional<Timestamp> FirstFire(const Dag& dag) {
  if (!dag.schedule || !dag.start_date) return std::nullopt;
  return dag.schedule->Next(*dag.start_date - kTick, dag.timezone);
}

bool PastEnd(const Dag& dag, Timestamp start) { return dag.end_date && start > *dag.end_date; }

}  // namespace

DataInterval ManualInterval(const Dag& dag, Timestamp d) {
  if (dag.schedule && !dag.schedule->once())
    if (auto next = dag.schedule->Next(d, dag.timezone)) return {d, *next};
  return {d, d + std::chrono::hours(24)};
}

std::vector<DataInterval> NextIntervals(const Dag& dag, Timestamp after, int n) {
  std::vector<DataInterval> out;
  if (!dag.schedule || !dag.start_date || n <= 0) return out;
  if (dag.schedule->once()) {
    if (*dag.start_date > after) out.push_back({*dag.start_date, *dag.start_date});
    return out;
  }
  auto first = FirstFire(dag);
  if (!first) return out;
  auto end = dag.schedule->Next(after, dag.timezone);
  if (!end) return out;
  auto start = dag.schedule->Prev(*end, dag.timezone);
  if (!start || *start < *first) {
    start = *first;
    end = dag.schedule->Next(*first, dag.timezone);
  }
  while (end && static_cast<int>(out.size()) < n && !PastEnd(dag, *start)) {
    out.push_back({*start, *end});
    start = *end;
    end = dag.schedule->Next(*end, dag.timezone);
  }
  return out;
}

std::optional<DataInterval> IntervalStartingFrom(const Dag& dag, Timestamp t) {
  if (!dag.schedule || dag.schedule->once()) return std::nullopt;
  auto start = dag.schedule->Next(t - kTick, dag.timezone);
  if (!start || PastEnd(dag, *start)) return std::nullopt;
  auto end = dag.schedule->Next(*start, dag.timezone);
  if (!end) return std::nullopt;
  return DataInterval{*start, *end};
}

std::optional<DataInterval> LatestCompleteInterval(const Dag& dag, Timestamp now) {
  if (!dag.schedule || !dag.start_date) return std::nullopt;
  if (dag.schedule->once()) {
    if (*dag.start_date <= now) return DataInterval{*dag.start_date, *dag.start_date};
    return std::nullopt;
  }
  auto first = FirstFire(dag);
  auto end = dag.schedule->Prev(now + kTick, dag.timezone);
  if (!first || !end) return std::nullopt;
  if (dag.end_date) {
    // The last interval starts at or before end_date.
    while (end) {
      auto start = dag.schedule->Prev(*end, dag.timezone);
      if (!start || !PastEnd(dag, *start)) break;
      end = start;
    }
  }
  auto start = dag.schedule->Prev(*end, dag.timezone);
  if (!start || *start < *first) return std::nullopt;
  return DataInterval{*start, *end};
}

}  // namespace dagctl
