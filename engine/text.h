// Small helpers for text that came from outside and may hold any bytes.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "engine/error.h"

namespace dagctl {

/// The contents of the file at `path`, if it holds at most `max_bytes`.
/// IOError names why it cannot be read (missing, a folder, a symlink loop);
/// InvalidArgument says "the file is N bytes, over the M MiB limit". Reads no
/// more than `max_bytes` + 1 bytes, so /dev/zero or a growing file is refused too.
Result<std::string> ReadFileLimited(const std::string& path, size_t max_bytes);

/// The offset of the first byte of `s` that does not start a well-formed
/// UTF-8 sequence (overlong forms, surrogates and code points past U+10FFFF
/// included), or nullopt when all of `s` is UTF-8.
std::optional<size_t> FindInvalidUtf8(std::string_view s);

/// `s` with control characters other than tab (NUL, ESC, CR...) and bytes
/// that are not UTF-8 written as `\xNN`: any bytes, shown as one line of text.
std::string PrintableText(std::string_view s);

/// `s` cut to at most `max` bytes at a character boundary, with "..." added
/// when it was cut; for quoting outside input in messages.
std::string Shorten(std::string_view s, size_t max = 80);

}  // namespace dagctl
