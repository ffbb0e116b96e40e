// A clock that moves only when a test (or the fake runner) moves it.
#pragma once

#include "engine/clock.h"

namespace dagctl::testing {

class FakeClock : public Clock {
 public:
  explicit FakeClock(Timestamp start) : now_(start) {}
  Timestamp Now() const override { return now_; }
  void Advance(std::chrono::microseconds d) { now_ += d; }
  void Set(Timestamp t) { now_ = t; }

 private:
  Timestamp now_;
};

}  // namespace dagctl::testing
