#include "engine/log_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <filesystem>

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

}  // namespace dagctl
