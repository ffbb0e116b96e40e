// Durations as DAG files write them: `45s`, `5m`, `1h30m`, `2d`, or plain seconds.
#pragma once

#include <chrono>
#include <optional>
#include <string>

namespace dagctl {

using Duration = std::chrono::milliseconds;

/// Parses `45s`, `5m`, `1h30m`, `2d`, `500ms`, `90` or `1.5` (seconds).
/// Units may be combined largest first; returns nullopt on anything else, a
/// negative value, or one over limits::kMaxDurationMillis (3650 days).
std::optional<Duration> ParseDuration(const std::string& text);

/// The shortest form ParseDuration reads back: `1h30m`, `45s`, `250ms`, `0s`.
std::string FormatDuration(Duration d);

}  // namespace dagctl
