// Per-try log files, created when there is first something to write.
#pragma once

#include <string>

namespace dagctl {

/// Opens `path` for appending (O_APPEND, close-on-exec), creating it and its
/// folders if needed. Returns the fd, or -1 with errno set.
int OpenLogForAppend(const std::string& path);

/// Appends `[dagctl] LINE\n` to the log at `path`; errors are ignored (a log
/// line must never fail a try).
void AppendLogLine(const std::string& path, const std::string& line);

}  // namespace dagctl
