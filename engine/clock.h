// The clock, as an interface so tests can drive time.
#pragma once

#include "engine/timeutil.h"

namespace dagctl {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual Timestamp Now() const = 0;
};

/// The system's real-time clock.
class SystemClock : public Clock {
 public:
  Timestamp Now() const override { return NowUtc(); }
};

}  // namespace dagctl
