// Per-try log files, created when there is first something to write.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace dagctl {

/// Opens `path` for appending (O_APPEND, close-on-exec), creating it and its
/// folders if needed. Returns the fd, or -1 with errno set.
int OpenLogForAppend(const std::string& path);

/// Appends `[dagctl] LINE\n` to the log at `path`; errors are ignored (a log
/// line must never fail a try).
void AppendLogLine(const std::string& path, const std::string& line);

/// The log at `path` from byte `offset` on, but at most its last `max_bytes`:
/// past that, a `[dagctl]` line giving the size, then the tail from a line
/// start (a try that printed gigabytes must not fill a reader's memory).
/// "" when there is no such file.
std::string ReadLogTail(const std::string& path, int64_t offset, size_t max_bytes);

}  // namespace dagctl
