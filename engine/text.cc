#include "engine/text.h"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

namespace dagctl {

Result<std::string> ReadFileLimited(const std::string& path, size_t max_bytes) {
  namespace fs = std::filesystem;
  auto too_big = [&](const std::string& size) {
    return Fail(Error::InvalidArgument(
        fmt::format("the file is {}, over the {} MiB limit", size, max_bytes >> 20)));
  };
  std::error_code ec;
  fs::file_status st = fs::status(path, ec);
  if (ec) return Fail(Error::IOError("cannot read file: " + ec.message()));
  if (fs::is_directory(st)) return Fail(Error::IOError("cannot read file: it is a folder"));
  size_t expected = 0;
  if (fs::is_regular_file(st)) {
    uintmax_t size = fs::file_size(path, ec);
    if (!ec && size > max_bytes) return too_big(fmt::format("{} bytes", size));
    if (!ec) expected = static_cast<size_t>(size);
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return Fail(Error::IOError("cannot read file: " + std::string(std::strerror(errno))));
  std::string text;
  text.reserve(expected);
  char chunk[1 << 16];
  // Stops once past the limit, however much more the file (or device) holds.
  while (in && text.size() <= max_bytes) {
    in.read(chunk, sizeof chunk);
    text.append(chunk, static_cast<size_t>(in.gcount()));
  }
  if (in.bad())
    return Fail(Error::IOError("cannot read file: " + std::string(std::strerror(errno))));
  if (text.size() > max_bytes) return too_big(fmt::format("more than {} bytes", max_bytes));
  return text;
}

namespace {

// The length of the UTF-8 sequence at s[i], or 0 when it is malformed.
size_t SequenceLength(std::string_view s, size_t i) {
  auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = byte(i);
  if (c < 0x80) return 1;
  size_t n = c >= 0xC2 && c <= 0xDF   ? 2
             : c >= 0xE0 && c <= 0xEF ? 3
             : c >= 0xF0 && c <= 0xF4 ? 4
                                      : 0;
  if (n == 0 || i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k)
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
  unsigned char c1 = byte(i + 1);
  if (c == 0xE0 && c1 < 0xA0) return 0;  // overlong
  if (c == 0xED && c1 > 0x9F) return 0;  // UTF-16 surrogates
  if (c == 0xF0 && c1 < 0x90) return 0;  // overlong
  if (c == 0xF4 && c1 > 0x8F) return 0;  // past U+10FFFF
  return n;
}

}  // namespace

std::optional<size_t> FindInvalidUtf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    size_t n = SequenceLength(s, i);
    if (n == 0) return i;
    i += n;
  }
  return std::nullopt;
}

std::string PrintableText(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    auto byte = static_cast<unsigned char>(s[i]);
    size_t n = SequenceLength(s, i);
    if (n == 0 || (byte < 0x20 && byte != '\t') || byte == 0x7F) {
      out += fmt::format("\\x{:02X}", byte);
      ++i;
      continue;
    }
    out.append(s.substr(i, n));
    i += n;
  }
  return out;
}

std::string Shorten(std::string_view s, size_t max) {
  if (s.size() <= max) return std::string(s);
  size_t cut = max;
  // Back up over continuation bytes so no character is split.
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
  return std::string(s.substr(0, cut)) + "...";
}

}  // namespace dagctl
