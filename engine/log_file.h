// Per-try log files, created when there is first something to write.
//
// Every line of a try's log reads `TIME [STREAM] TEXT`: TIME is UTC with
// milliseconds (2026-12-01T04:12:03.123Z), STREAM is `out` (the task's
// stdout), `err` (its stderr) or `dagctl` (the engine's own lines: the header,
// the footer, why a try was stopped).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "engine/timeutil.h"

namespace dagctl {

/// Where a line of a try's log came from.
enum class LogStream { kOut, kErr, kDagctl };

/// `2026-12-01T04:12:03.123Z`: a log line's time (UTC, milliseconds).
std::string FormatLogTime(Timestamp t);

/// One line of a log, with its newline: `TIME [STREAM] TEXT\n`. Control
/// characters other than tab, and bytes that are not UTF-8, are written as
/// `\xNN` (the log stays text whatever the task printed). A `text` holding
/// newlines becomes one line per part, each with the same time.
std::string FormatLogLine(Timestamp t, LogStream stream, std::string_view text);

/// Opens `path` for appending (O_APPEND, close-on-exec), creating it and its
/// folders if needed. Returns the fd, or -1 with errno set.
int OpenLogForAppend(const std::string& path);

/// Appends `TIME [dagctl] LINE\n` to the log at `path`, stamped now; errors
/// are ignored (a log line must never fail a try).
void AppendLogLine(const std::string& path, const std::string& line);

/// As AppendLogLine for several lines, in one write.
void AppendLogLines(const std::string& path, const std::vector<std::string>& lines);

/// The log at `path` from byte `offset` on, but at most its last `max_bytes`:
/// past that, a `[dagctl]` line giving the size, then the tail from a line
/// start (a try that printed gigabytes must not fill a reader's memory).
/// "" when there is no such file.
std::string ReadLogTail(const std::string& path, int64_t offset, size_t max_bytes);

/// `text` cut after its last newline when `more` follows it (a chunk of a
/// log that ends on a whole line); unchanged when it holds no newline.
std::string CutAtLastLine(std::string text, bool more);

}  // namespace dagctl
