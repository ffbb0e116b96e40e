#include "engine/retry.h"

#include <catch2/catch.hpp>

using namespace dagctl;
using std::chrono::seconds;

TEST_CASE("retries N allows N+1 tries") {
  Task t;
  t.retries = 3;
  CHECK(CanRetry(t, 1));
  CHECK(CanRetry(t, 3));
  CHECK_FALSE(CanRetry(t, 4));
  t.retries = 0;
  CHECK_FALSE(CanRetry(t, 1));
}

TEST_CASE("retry delay is fixed, or doubles per try up to max_retry_delay") {
  Task t;
  t.retry_delay = seconds(30);
  CHECK(RetryDelay(t, 1) == seconds(30));
  CHECK(RetryDelay(t, 5) == seconds(30));
  t.retry_exponential_backoff = true;
  t.max_retry_delay = seconds(200);
  CHECK(RetryDelay(t, 1) == seconds(30));
  CHECK(RetryDelay(t, 2) == seconds(60));
  CHECK(RetryDelay(t, 3) == seconds(120));
  CHECK(RetryDelay(t, 4) == seconds(200));
  CHECK(RetryDelay(t, 60) == seconds(200));
}
