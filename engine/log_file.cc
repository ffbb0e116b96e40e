#include "engine/log_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <fmt/format.h>
#include <fmt/chrono.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "engine/text.h"

namespace dagctl {

std::string CutAtLastLine(std::string text, bool more) {
  if (!more) return text;
  size_t nl = text.rfind('\n');
  // A single line longer than the chunk goes out in pieces.
  if (nl != std::string::npos) text.resize(nl + 1);
  return text;
}

std::string FormatLogTime(Timestamp t) {
  auto secs = std::chrono::floor<std::chrono::seconds>(t);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t - secs).count();
  return fmt::format("{:%Y-%m-%dT%H:%M:%S}.{:03}Z", secs, ms);
}

std::string FormatLogLine(Timestamp t, LogStream stream, std::string_view text) {
  const char* name = stream == LogStream::kOut   ? "out"
                     : stream == LogStream::kErr ? "err"
                                                 : "dagctl";
  std::string time = FormatLogTime(t);
  std::string out;
  while (true) {
    size_t nl = text.find('\n');
    out += fmt::format("{} [{}] {}\n", time, name, PrintableText(text.substr(0, nl)));
    if (nl == std::string_view::npos) return out;
    text.remove_prefix(nl + 1);
  }
}

int OpenLogForAppend(const std::string& path) {
  constexpr int kFlags = O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC;
  int fd = open(path.c_str(), kFlags, 0644);
  if (fd >= 0 || errno != ENOENT) return fd;
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
  return open(path.c_str(), kFlags, 0644);
}

void AppendLogLines(const std::string& path, const std::vector<std::string>& lines) {
  Timestamp now = NowUtc();
  std::string text;
  for (const std::string& line : lines) text += FormatLogLine(now, LogStream::kDagctl, line);
  int fd = OpenLogForAppend(path);
  if (fd < 0) return;
  [[maybe_unused]] auto n = write(fd, text.data(), text.size());
  close(fd);
}

void AppendLogLine(const std::string& path, const std::string& line) {
  AppendLogLines(path, {line});
}

std::string ReadLogTail(const std::string& path, int64_t offset, size_t max_bytes) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) return "";
  int64_t size = std::max<int64_t>(0, in.tellg());
  int64_t from = std::clamp<int64_t>(offset, 0, size);
  int64_t start = from;  // (max_bytes may be SIZE_MAX: compare before converting)
  if (static_cast<uint64_t>(size - from) > max_bytes) start = size - static_cast<int64_t>(max_bytes);
  in.seekg(start);
  std::string text(static_cast<size_t>(size - start), '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<size_t>(in.gcount()));
  if (start == from) return text;
  size_t nl = text.find('\n');
  text.erase(0, nl == std::string::npos ? 0 : nl + 1);
  return fmt::format("[dagctl] this log is {} bytes; here are its last {}", size, text.size()) +
         " ('dagctl logs' prints all of it)\n" + text;
}

}  // namespace dagctl
