// The retry rule (SPEC §2 Retries). Pure.
#pragma once

#include "engine/dag.h"

namespace dagctl {

/// True when a task whose try `try_number` (from 1) failed may try again:
/// `retries: N` allows N+1 tries.
inline bool CanRetry(const Task& task, int try_number) { return try_number <= task.retries; }

/// The wait after failed try `try_number` before the next one: retry_delay,
/// or with exponential backoff retry_delay * 2^(try_number-1) capped at
/// max_retry_delay.
Duration RetryDelay(const Task& task, int try_number);

}  // namespace dagctl
