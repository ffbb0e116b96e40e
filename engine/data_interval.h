// Airflow 2 data intervals from a DAG's schedule (SPEC §2 Data intervals).
#pragma once

#include <optional>
#include <vector>

#include "engine/dag.h"

namespace dagctl {

/// A run's interval [start, end); the run is due at `end` (run_after) and its
/// logical date is `start`.
struct DataInterval {
  Timestamp start;
  Timestamp end;
};

/// The interval of a manual run for logical date `d`: [d, next fire after d),
/// or [d, d + 1 day) when the DAG has no cron schedule.
DataInterval ManualInterval(const Dag& dag, Timestamp d);

/// Up to `n` scheduled intervals whose run_after is strictly after `after`,
/// honouring start_date (the first interval starts at the first fire at or
/// after it) and end_date (no interval starts after it).
std::vector<DataInterval> NextIntervals(const Dag& dag, Timestamp after, int n);

/// The first scheduled interval starting at or after `t` (at a fire time);
/// nullopt past end_date or for @once and unscheduled DAGs.
std::optional<DataInterval> IntervalStartingFrom(const Dag& dag, Timestamp t);

/// The latest interval that had ended by `now` (what the scheduler would have
/// run last); nullopt when none has (or the DAG is unscheduled).
std::optional<DataInterval> LatestCompleteInterval(const Dag& dag, Timestamp now);

}  // namespace dagctl
