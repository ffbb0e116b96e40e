#include "engine/log_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

namespace dagctl {

int OpenLogForAppend(const std::string& path) {
  constexpr int kFlags = O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC;
  int fd = open(path.c_str(), kFlags, 0644);
  if (fd >= 0 || errno != ENOENT) return fd;
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
  return open(path.c_str(), kFlags, 0644);
}

void AppendLogLine(const std::string& path, const std::string& line) {
  int fd = OpenLogForAppend(path);
  if (fd < 0) return;
  std::string text = "[dagctl] " + line + "\n";
  [[maybe_unused]] auto n = write(fd, text.data(), text.size());
  close(fd);
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
