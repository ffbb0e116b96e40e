#include "engine/retry.h"

#include <algorithm>

namespace dagctl {

Duration RetryDelay(const Task& task, int try_number) {
  if (!task.retry_exponential_backoff) return task.retry_delay;
  Duration delay = task.retry_delay;
  for (int i = 1; i < try_number && delay < task.max_retry_delay; ++i) delay *= 2;
  return std::min(delay, task.max_retry_delay);
}

}  // namespace dagctl
